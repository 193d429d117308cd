// Builds the SDK client from the options. The only place the keys are read: they go straight into
// the SDK's credential provider and are not kept anywhere else.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import type { ResolvedS3Settings, S3StorageOptions } from './options.ts';

/** Where the SDK's own warnings go (e.g. "non-retryable streaming request"); default: console. */
export interface S3SdkLogger {
  debug(...content: unknown[]): void;
  info(...content: unknown[]): void;
  warn(...content: unknown[]): void;
  error(...content: unknown[]): void;
}

export function createS3Client(options: S3StorageOptions, settings: ResolvedS3Settings, logger?: S3SdkLogger): S3Client {
  // Enough sockets for a full multipart copy fan-out next to ordinary traffic.
  const maxSockets = Math.max(50, settings.multipartCopyMaxConcurrency + 16);
  return new S3Client({
    region: settings.region,
    logger,
    endpoint: settings.endpoint,
    tls: settings.secure,
    forcePathStyle: settings.forcePathStyle,
    credentials: options.accessKey && options.secretKey ? { accessKeyId: options.accessKey, secretAccessKey: options.secretKey } : undefined,
    // The SDK's default (WHEN_SUPPORTED) sends streamed bodies as aws-chunked with a trailing CRC;
    // Ceph RGW and other S3 implementations reject that (MissingContentLength). Our bodies always
    // carry a Content-Length, and integrity is the registry's digest check.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets, rejectUnauthorized: !settings.skipVerify }),
      connectionTimeout: 10_000,
    },
  });
}
