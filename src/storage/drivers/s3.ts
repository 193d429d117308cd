// S3 driver (AWS S3, Ceph RADOS Gateway, MinIO...), configured like distribution's `storage.s3`.
// Blobs are content-addressed objects under rootDirectory (layout in s3/keys.ts); uploads are
// segment objects that any replica sharing the bucket can continue (s3/uploads.ts). Blob GETs can
// be redirected to presigned URLs so blob bytes need not flow through the registry.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { BlobNotFoundError, type BlobInfo, type BlobStore, type ByteRange, type UploadArea } from '../blob-store.ts';
import { Bucket } from './s3/bucket.ts';
import { createS3Client, type S3SdkLogger } from './s3/client.ts';
import { S3StorageError } from './s3/errors.ts';
import { S3Keys } from './s3/keys.ts';
import { resolveS3Options, type ResolvedS3Settings, type S3StorageOptions } from './s3/options.ts';
import { S3Uploads } from './s3/uploads.ts';

export { S3OptionsError, type S3StorageOptions, type ResolvedS3Settings } from './s3/options.ts';
export { S3StorageError } from './s3/errors.ts';
export type { S3SdkLogger } from './s3/client.ts';

export interface S3OpenOptions {
  /** Check at open that the bucket is reachable with the credentials (HeadBucket). Default true. */
  verify?: boolean;
  /** Receives the SDK's own warnings, so they end up in the JSON log rather than on the console. */
  logger?: S3SdkLogger;
}

export class S3BlobStore implements BlobStore {
  readonly driverName = 's3';
  readonly uploads: UploadArea;
  private readonly bucket: Bucket;
  private readonly keys: S3Keys;

  private constructor(
    /** The effective settings, without credentials (safe to log). */
    readonly settings: ResolvedS3Settings,
    client: S3Client,
  ) {
    this.bucket = new Bucket(client, settings.bucket);
    this.keys = new S3Keys(settings.rootDirectory);
    this.uploads = new S3Uploads(this.bucket, this.keys, settings);
  }

  /**
   * Validates the options (throws S3OptionsError) and, unless `verify: false`, checks the bucket is
   * reachable so a wrong endpoint, bucket or key fails at start with a clear S3StorageError.
   */
  static async open(options: S3StorageOptions, openOptions: S3OpenOptions = {}): Promise<S3BlobStore> {
    const settings = resolveS3Options(options);
    const store = new S3BlobStore(settings, createS3Client(options, settings, openOptions.logger));
    if (openOptions.verify ?? true) await store.bucket.verify();
    return store;
  }

  /** The SDK client, e.g. to add middleware for metrics. */
  get client(): S3Client {
    return this.bucket.client;
  }

  /** The object key of a blob (for operators and tests). */
  keyOf(digest: string): string {
    return this.keys.blob(digest);
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    const info = await this.bucket.head(this.keys.blob(digest));
    return info && { digest, size: info.size };
  }

  async read(digest: string, range?: ByteRange): Promise<Readable> {
    // GetObject answers before the body flows, so a missing blob is an error here, not mid-stream.
    const body = await this.bucket.get(this.keys.blob(digest), range);
    if (!body) throw new BlobNotFoundError(digest);
    return body;
  }

  async put(digest: string, data: Buffer): Promise<void> {
    if (await this.stat(digest)) return;
    // A PutObject is atomic: readers see the previous state or the whole object.
    await this.bucket.put(this.keys.blob(digest), data, data.length);
  }

  async delete(digest: string): Promise<void> {
    await this.bucket.delete(this.keys.blob(digest)); // S3 answers 204 for a missing key too
  }

  async *walk(): AsyncIterable<BlobInfo> {
    for await (const o of this.bucket.list(this.keys.blobsPrefix)) {
      const digest = this.keys.digestOf(o.key);
      if (digest) yield { digest, size: o.size, modifiedAt: o.modifiedAt };
    }
  }

  async redirectURL(digest: string, opts: { method: 'GET' | 'HEAD'; expiresInSeconds: number }): Promise<string> {
    // Signing is local (no request): the registry has already checked the blob exists.
    return this.bucket.presign(this.keys.blob(digest), opts.method, opts.expiresInSeconds);
  }

  async check(): Promise<void> {
    const key = this.keys.health(randomUUID());
    const probe = Buffer.from('ok');
    await this.bucket.put(key, probe, probe.length);
    try {
      const back = await this.bucket.head(key);
      if (back?.size !== probe.length) throw new S3StorageError(`S3 health probe s3://${this.bucket.name}/${key} could not be read back`, undefined, undefined);
    } finally {
      await this.bucket.delete(key);
    }
  }
}
