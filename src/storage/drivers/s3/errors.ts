// Turns SDK failures into errors an operator can act on. Ceph and other S3 implementations often
// answer without an error message (the SDK then says "UnknownError") and HEAD errors have no body
// at all, so the message is built from the error code and HTTP status, plus a hint for the usual
// misconfigurations. Nothing from the credentials is ever part of the message.

export class S3StorageError extends Error {
  constructor(
    message: string,
    /** S3 error code (NoSuchKey, SignatureDoesNotMatch...) or the network error code. */
    readonly code: string | undefined,
    /** HTTP status of the S3 response, when there was one. */
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = 'S3StorageError';
  }
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const HINTS: Record<string, string> = {
  SignatureDoesNotMatch: 'the secret key does not match the access key (check secretKey)',
  InvalidAccessKeyId: 'the access key is unknown to the endpoint (check accessKey)',
  AccessDenied: 'access denied (check the credentials and the bucket policy)',
  NoSuchBucket: 'the bucket does not exist',
  CredentialsProviderError: 'no S3 credentials found: set accessKey and secretKey, or provide AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, an instance role)',
  ECONNREFUSED: 'connection refused (check regionEndpoint)',
  ENOTFOUND: 'host not found (check regionEndpoint and region)',
  TimeoutError: 'the endpoint did not answer in time',
};

const STATUS_HINTS: Record<number, string> = {
  301: 'the bucket is in another region (check region)',
  400: 'bad request (a region mismatch gives this too)',
  403: 'forbidden (check accessKey, secretKey and the bucket policy)',
  404: 'not found',
};

function codeOf(e: SdkErrorShape): string | undefined {
  // SDK service errors carry the S3 code as `name`; Node network errors carry `code`.
  if (e.code && /^E[A-Z]+$/.test(e.code)) return e.code;
  // HEAD errors have no body to take a code from: the SDK then names them Unknown/UnknownError.
  if (e.name && !['Error', 'Unknown', 'UnknownError'].includes(e.name)) return e.name;
  return e.code;
}

export function statusOf(e: unknown): number | undefined {
  if (e instanceof S3StorageError) return e.status;
  return (e as SdkErrorShape | undefined)?.$metadata?.httpStatusCode;
}

/** True for a missing key or a missing multipart upload (not for a missing bucket: that is a configuration error). */
export function isNotFound(e: unknown): boolean {
  const code = e instanceof S3StorageError ? e.code : codeOf((e ?? {}) as SdkErrorShape);
  if (code === 'NoSuchBucket') return false;
  return code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchUpload' || statusOf(e) === 404;
}

/** `what` names the operation and object, e.g. `GetObject s3://bucket/key`; it must not contain secrets. */
export function s3Error(e: unknown, what: string): S3StorageError {
  if (e instanceof S3StorageError) return e;
  const shape = (e ?? {}) as SdkErrorShape;
  const code = codeOf(shape);
  const status = statusOf(e);
  const hint = (code && HINTS[code]) ?? (status !== undefined ? STATUS_HINTS[status] : undefined);
  const sdkMessage = shape.message && shape.message !== 'UnknownError' && shape.message !== code ? shape.message : undefined;
  const parts = [code, status !== undefined ? `HTTP ${status}` : undefined].filter(Boolean).join(', ');
  const detail = [hint, sdkMessage].filter(Boolean).join(': ');
  return new S3StorageError(`S3 ${what} failed${parts ? ` (${parts})` : ''}${detail ? `: ${detail}` : ''}`, code, status);
}
