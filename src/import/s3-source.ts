// DistributionSource over S3: distribution's `s3` (s3-aws) storage driver keeps the same tree as the
// filesystem driver, as object keys under `<rootdirectory>/docker/registry/v2/`. Directories exist
// only as key prefixes, so a directory listing is ListObjectsV2 with Delimiter '/'. There is no local
// path: the importer streams every blob through its digest check into berth's store.
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, type S3SdkLogger } from '../storage/drivers/s3/client.ts';
import { isNotFound, s3Error, statusOf } from '../storage/drivers/s3/errors.ts';
import { resolveS3Options, type S3StorageOptions } from '../storage/drivers/s3/options.ts';
import { SourceReadError, type DistributionSource } from './source.ts';

const TREE_PREFIX = 'docker/registry/v2/';
// Link files hold one digest; reading a few bytes more than that is enough to see a bad one.
const MAX_LINK_BYTES = 1024;

export class S3Source implements DistributionSource {
  /** `prefix` is the key prefix of the `docker/registry/v2/` directory ('' or ending in '/'). */
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    readonly prefix: string,
  ) {}

  get location(): string {
    return `s3://${this.bucket}/${this.prefix.replace(/\/$/, '')}`;
  }

  private key(path: string): string {
    return `${this.prefix}${path}`;
  }

  // Every message names the object by bucket and key only: nothing of the credentials or endpoint.
  private fail(e: unknown, operation: string, path: string): SourceReadError {
    return new SourceReadError(path, s3Error(e, `${operation} s3://${this.bucket}/${this.key(path)}`));
  }

  async listDirectories(dir: string): Promise<string[]> {
    const prefix = dir ? this.key(`${dir.replace(/\/$/, '')}/`) : this.prefix;
    const names: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
        for (const p of page.CommonPrefixes ?? []) {
          const name = p.Prefix?.slice(prefix.length).replace(/\/$/, '');
          if (name) names.push(name);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      throw this.fail(e, 'ListObjectsV2', dir);
    }
    // A missing "directory" is just an empty listing, as the filesystem source's [] for ENOENT.
    return names.sort();
  }

  async readLink(path: string): Promise<string | undefined> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path), Range: `bytes=0-${MAX_LINK_BYTES}` }));
      // Returned as read (trimmed); the caller checks it is the digest it should be.
      return ((await res.Body?.transformToString('utf8')) ?? '').trim();
    } catch (e) {
      if (isNotFound(e)) return undefined;
      // A range on an empty object is unsatisfiable: the link exists and holds nothing.
      if (statusOf(e) === 416) return '';
      throw this.fail(e, 'GetObject', path);
    }
  }

  async stat(path: string): Promise<{ size: number } | undefined> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      return { size: res.ContentLength ?? 0 };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw this.fail(e, 'HeadObject', path);
    }
  }

  async open(path: string): Promise<Readable> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      // In Node the SDK's body is an http.IncomingMessage (a Readable).
      if (!res.Body) throw new Error('GetObject returned no body');
      return res.Body as Readable;
    } catch (e) {
      throw this.fail(e, 'GetObject', path);
    }
  }

  /** Closes the client's sockets. */
  close(): void {
    this.client.destroy();
  }
}

async function hasTreeDirs(client: S3Client, bucket: string, prefix: string): Promise<boolean> {
  const dirs = await new S3Source(client, bucket, prefix).listDirectories('');
  return dirs.includes('repositories') || dirs.includes('blobs');
}

/**
 * Opens the registry:2 tree in the bucket. Like locateDistributionTree, accepts the registry's
 * `rootdirectory` or its `docker/registry/v2` prefix; throws when neither holds the tree, or when
 * the bucket cannot be listed at all (wrong endpoint, credentials, bucket).
 */
export async function openS3Source(options: S3StorageOptions, logger?: S3SdkLogger): Promise<S3Source> {
  const settings = resolveS3Options(options);
  const client = createS3Client(options, settings, logger);
  const root = settings.rootDirectory ? `${settings.rootDirectory}/` : '';
  const shown = (prefix: string) => `s3://${settings.bucket}/${prefix}`;
  try {
    if (await hasTreeDirs(client, settings.bucket, `${root}${TREE_PREFIX}`)) return new S3Source(client, settings.bucket, `${root}${TREE_PREFIX}`);
    if (root.endsWith(TREE_PREFIX) && (await hasTreeDirs(client, settings.bucket, root))) return new S3Source(client, settings.bucket, root);
  } catch (e) {
    client.destroy();
    // The underlying S3 error (code, status, hint) is what the operator needs here.
    throw e instanceof SourceReadError ? e.cause : e;
  }
  client.destroy();
  throw new Error(`${shown(root)} does not look like registry:2 storage: expected ${shown(`${root}${TREE_PREFIX}`)} (with repositories/ and blobs/)`);
}
