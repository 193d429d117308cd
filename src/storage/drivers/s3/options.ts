// Options of the S3 driver, named after distribution's `storage.s3` keys (camelCase) so the config
// layer can map them one to one, plus their defaults and limits. Validation happens once, here;
// the rest of the driver works from ResolvedS3Settings, which deliberately holds no credentials so
// that logging or inspecting a store can never print a secret.

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** S3's smallest part (every part of a multipart upload except the last must be at least this). */
export const MIN_PART_SIZE = 5 * MiB;
/** S3's largest part, and the largest object a single PutObject/CopyObject may write. */
export const MAX_PART_SIZE = 5 * GiB;
/** S3's limit on the number of parts of one multipart upload. */
export const MAX_PARTS = 10_000;

export interface S3StorageOptions {
  /** With secretKey: static credentials. When both are absent the SDK's standard chain is used (AWS_* env, profile, instance role...). */
  accessKey?: string;
  secretKey?: string;
  region: string;
  /** An S3-compatible endpoint (Ceph RGW, MinIO...): `host:port` or a full URL. Absent: AWS. */
  regionEndpoint?: string;
  bucket: string;
  /** Key prefix under which everything is stored (distribution's `rootdirectory`). */
  rootDirectory?: string;
  /** Path-style addressing (`endpoint/bucket/key`). Default: true with a regionEndpoint, false on AWS. */
  forcePathStyle?: boolean;
  /** https when the endpoint has no scheme (and on AWS). Default true. */
  secure?: boolean;
  /** Accept any TLS certificate from the endpoint (self-signed test setups only). Default false. */
  skipVerify?: boolean;
  /** Part size of streamed uploads, and so the memory one upload in progress holds. Default 10 MiB, at least 5 MiB. */
  chunkSize?: number;
  /** Above this size a committed blob is copied with multipart UploadPartCopy instead of one CopyObject. Default 32 MiB. */
  multipartCopyThresholdSize?: number;
  /** Part size of multipart copies. Default 32 MiB, at least 5 MiB. */
  multipartCopyChunkSize?: number;
  /** Parts copied at once during a multipart copy. Default 100. */
  multipartCopyMaxConcurrency?: number;
}

export interface ResolvedS3Settings {
  bucket: string;
  region: string;
  /** Full URL with scheme, or undefined for AWS's own endpoints. */
  endpoint: string | undefined;
  forcePathStyle: boolean;
  secure: boolean;
  skipVerify: boolean;
  /** Normalised (normalizeRootDirectory): no leading, trailing or doubled slash; '' for the bucket root. */
  rootDirectory: string;
  chunkSize: number;
  multipartCopyThresholdSize: number;
  multipartCopyChunkSize: number;
  multipartCopyMaxConcurrency: number;
  /** Whether static keys were given (true) or the SDK's default chain is used (false). Never the keys. */
  staticCredentials: boolean;
}

/**
 * The key prefix as used for every key: `/registry/`, `registry` and `registry//` are one prefix,
 * and `a//b` is `a/b` (an empty path segment is never meant, and S3 consoles show it as a folder
 * with no name). The start line and the driver both use this, so what is logged is where keys go.
 */
export function normalizeRootDirectory(rootDirectory: string | undefined): string {
  return (rootDirectory ?? '').split('/').filter(Boolean).join('/');
}

/** `s3://bucket/prefix` for logs: where blobs live, never how to reach them (no endpoint, no keys). */
export function s3Location(bucket: string, rootDirectory: string | undefined): string {
  return `s3://${bucket}/${normalizeRootDirectory(rootDirectory)}`;
}

export class S3OptionsError extends Error {
  constructor(message: string) {
    super(`storage.s3: ${message}`);
  }
}

function sizeOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new S3OptionsError(`${name} must be an integer number of bytes between ${min} and ${max}, got ${String(value)}`);
  }
  return value;
}

/** Adds the scheme distribution implies (`secure`) to a bare `host:port` endpoint. */
function endpointURL(raw: string, secure: boolean): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `${secure ? 'https' : 'http'}://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new S3OptionsError(`regionEndpoint is not a valid URL or host:port`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new S3OptionsError('regionEndpoint must use http or https');
  // Credentials belong in accessKey/secretKey; a user:password in the URL would end up in error messages.
  if (url.username || url.password) throw new S3OptionsError('regionEndpoint must not contain credentials');
  return url.href.replace(/\/$/, '');
}

export function resolveS3Options(o: S3StorageOptions): ResolvedS3Settings {
  if (!o.bucket) throw new S3OptionsError('bucket is required');
  if (!o.region) throw new S3OptionsError('region is required');
  if (Boolean(o.accessKey) !== Boolean(o.secretKey)) {
    throw new S3OptionsError('accessKey and secretKey must be given together (or both left out to use the AWS credential chain)');
  }
  const secure = o.secure ?? true;
  const endpoint = o.regionEndpoint ? endpointURL(o.regionEndpoint, secure) : undefined;
  const concurrency = o.multipartCopyMaxConcurrency ?? 100;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new S3OptionsError(`multipartCopyMaxConcurrency must be a positive integer, got ${String(concurrency)}`);
  }
  return {
    bucket: o.bucket,
    region: o.region,
    endpoint,
    forcePathStyle: o.forcePathStyle ?? endpoint !== undefined,
    secure,
    skipVerify: o.skipVerify ?? false,
    rootDirectory: normalizeRootDirectory(o.rootDirectory),
    chunkSize: sizeOption('chunkSize', o.chunkSize, 10 * MiB, MIN_PART_SIZE, MAX_PART_SIZE),
    multipartCopyThresholdSize: sizeOption('multipartCopyThresholdSize', o.multipartCopyThresholdSize, 32 * MiB, 0, MAX_PART_SIZE),
    multipartCopyChunkSize: sizeOption('multipartCopyChunkSize', o.multipartCopyChunkSize, 32 * MiB, MIN_PART_SIZE, MAX_PART_SIZE),
    multipartCopyMaxConcurrency: concurrency,
    staticCredentials: Boolean(o.accessKey),
  };
}
