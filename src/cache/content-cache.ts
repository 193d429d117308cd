// A second-level cache for manifest bytes by digest, shared by replicas: the first level is the
// in-process ManifestCache, the source is the blob store (slow on S3). This file is only the
// contract the registry codes against; redis-content-cache.ts implements it.
export interface ContentCache {
  /** The bytes stored under `digest`, verified against it; undefined on a miss or when the cache is unavailable. Never rejects. */
  get(digest: string): Promise<Buffer | undefined>;
  /** Best effort, returns at once, never throws. */
  set(digest: string, bytes: Buffer): void;
}
