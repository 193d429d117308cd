// What the pull policy reads from the registry itself: manifest bytes (through the same caches
// the manifest GET uses) and small blobs (cosign payloads), each bounded in size.
import type { ContentCache } from '../../cache/content-cache.ts';
import type { MetadataStore } from '../../metadata/store.ts';
import type { ManifestCache } from '../../registry/manifest-cache.ts';
import type { BlobStore } from '../../storage/blob-store.ts';

/** A cosign payload is a few hundred bytes; cosign itself refuses more than 128 MiB, berth reads 1 MiB. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;
const MAX_MANIFEST = 4 * 1024 * 1024;

export interface StoreDeps {
  metadata: MetadataStore;
  blobs: BlobStore;
  manifestCache: ManifestCache;
  contentCache?: ContentCache;
}

async function readAll(deps: StoreDeps, digest: string, max: number): Promise<Buffer | undefined> {
  const info = await deps.blobs.stat(digest);
  if (!info || info.size > max) return undefined;
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of await deps.blobs.read(digest)) {
    total += (chunk as Buffer).length;
    if (total > max) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A manifest's bytes, undefined when they cannot be read. */
export async function manifestBytes(deps: StoreDeps, digest: string): Promise<Buffer | undefined> {
  const cached = deps.manifestCache.get(digest) ?? (await deps.contentCache?.get(digest));
  if (cached) return cached;
  try {
    const bytes = await readAll(deps, digest, MAX_MANIFEST);
    if (bytes) deps.manifestCache.set(digest, bytes);
    return bytes;
  } catch {
    return undefined;
  }
}

/** A small blob's bytes (a signature payload), undefined when missing or too large. */
export async function smallBlob(deps: StoreDeps, digest: string, max = MAX_PAYLOAD_BYTES): Promise<Buffer | undefined> {
  try {
    return await readAll(deps, digest, max);
  } catch {
    return undefined;
  }
}
