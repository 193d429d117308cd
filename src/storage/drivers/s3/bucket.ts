// The S3 calls the driver makes, on one bucket. Every request goes through `call`, so every failure
// comes out as an S3StorageError with an actionable message (see errors.ts), and "not found" is
// answered as undefined where the caller has a use for it.
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { isNotFound, s3Error, S3StorageError } from './errors.ts';

export interface ObjectInfo {
  key: string;
  size: number;
  modifiedAt: Date;
}

export interface OpenMultipart {
  key: string;
  uploadId: string;
  initiatedAt: Date;
}

export interface CompletedPart {
  PartNumber: number;
  ETag: string;
}

/** Inclusive byte range inside an object. */
export interface ObjectRange {
  start: number;
  end: number;
}

const DELETE_BATCH = 1000; // DeleteObjects' limit

export class Bucket {
  constructor(
    readonly client: S3Client,
    readonly name: string,
  ) {}

  private async call<T>(what: string, key: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw s3Error(e, `${what} s3://${this.name}/${key ?? ''}`);
    }
  }

  /** The bucket is reachable with these credentials. */
  async verify(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.name }));
    } catch (e) {
      // A HEAD has no error body: a 404 here can only mean the bucket.
      const err = s3Error(e, `HeadBucket s3://${this.name}/`);
      if (err.status === 404) throw new S3StorageError(`S3 HeadBucket s3://${this.name}/ failed (HTTP 404): the bucket does not exist`, 'NoSuchBucket', 404);
      throw err;
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.call('HeadObject', key, () => this.client.send(new HeadObjectCommand({ Bucket: this.name, Key: key })));
      return { key, size: out.ContentLength ?? 0, modifiedAt: out.LastModified ?? new Date(0) };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** The object's bytes (or a range of them); undefined when the key does not exist. */
  async get(key: string, range?: ObjectRange): Promise<Readable | undefined> {
    try {
      const out = await this.call('GetObject', key, () =>
        this.client.send(new GetObjectCommand({ Bucket: this.name, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined })),
      );
      // In Node the SDK's body is the http.IncomingMessage itself: a Readable.
      return out.Body as Readable;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async put(key: string, body: Buffer | Readable, length: number): Promise<void> {
    await this.call('PutObject', key, () => this.client.send(new PutObjectCommand({ Bucket: this.name, Key: key, Body: body, ContentLength: length })));
  }

  async copy(from: string, to: string): Promise<void> {
    await this.call('CopyObject', `${to} from ${from}`, () =>
      this.client.send(new CopyObjectCommand({ Bucket: this.name, Key: to, CopySource: this.copySource(from) })),
    );
  }

  async delete(key: string): Promise<void> {
    await this.call('DeleteObject', key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.name, Key: key })));
  }

  async deleteMany(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      if (batch.length === 1) {
        await this.delete(batch[0]!);
        continue;
      }
      const out = await this.call('DeleteObjects', batch[0], () =>
        this.client.send(new DeleteObjectsCommand({ Bucket: this.name, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
      );
      const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length) {
        const first = failed[0]!;
        throw new S3StorageError(`S3 DeleteObjects s3://${this.name}/${first.Key ?? ''} failed for ${failed.length} keys (${first.Code ?? 'unknown'})`, first.Code, undefined);
      }
    }
  }

  /** Every object under `prefix`, in key order, across result pages. */
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      const out = await this.call('ListObjectsV2', prefix, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.name, Prefix: prefix, ContinuationToken: token })),
      );
      for (const o of out.Contents ?? []) {
        if (o.Key) yield { key: o.Key, size: o.Size ?? 0, modifiedAt: o.LastModified ?? new Date(0) };
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  async *listMultipart(prefix: string): AsyncIterable<OpenMultipart> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const out = await this.call('ListMultipartUploads', prefix, () =>
        this.client.send(new ListMultipartUploadsCommand({ Bucket: this.name, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker })),
      );
      for (const u of out.Uploads ?? []) {
        if (u.Key && u.UploadId) yield { key: u.Key, uploadId: u.UploadId, initiatedAt: u.Initiated ?? new Date(0) };
      }
      if (!out.IsTruncated) return;
      keyMarker = out.NextKeyMarker;
      uploadIdMarker = out.NextUploadIdMarker;
    }
  }

  async createMultipart(key: string): Promise<string> {
    const out = await this.call('CreateMultipartUpload', key, () => this.client.send(new CreateMultipartUploadCommand({ Bucket: this.name, Key: key })));
    if (!out.UploadId) throw new S3StorageError(`S3 CreateMultipartUpload s3://${this.name}/${key} returned no upload id`, undefined, undefined);
    return out.UploadId;
  }

  async uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer | Readable, length: number): Promise<CompletedPart> {
    const out = await this.call(`UploadPart ${partNumber}`, key, () =>
      this.client.send(new UploadPartCommand({ Bucket: this.name, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: length })),
    );
    return { PartNumber: partNumber, ETag: out.ETag ?? '' };
  }

  async uploadPartCopy(key: string, uploadId: string, partNumber: number, source: string, range: ObjectRange): Promise<CompletedPart> {
    const out = await this.call(`UploadPartCopy ${partNumber}`, `${key} from ${source}`, () =>
      this.client.send(
        new UploadPartCopyCommand({
          Bucket: this.name,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          CopySource: this.copySource(source),
          CopySourceRange: `bytes=${range.start}-${range.end}`,
        }),
      ),
    );
    return { PartNumber: partNumber, ETag: out.CopyPartResult?.ETag ?? '' };
  }

  async completeMultipart(key: string, uploadId: string, parts: CompletedPart[]): Promise<void> {
    const sorted = [...parts].sort((a, b) => a.PartNumber - b.PartNumber);
    await this.call('CompleteMultipartUpload', key, () =>
      this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.name, Key: key, UploadId: uploadId, MultipartUpload: { Parts: sorted } })),
    );
  }

  /** Best effort is not enough here: an unaborted upload keeps its parts (and their storage) forever. */
  async abortMultipart(key: string, uploadId: string): Promise<void> {
    try {
      await this.call('AbortMultipartUpload', key, () => this.client.send(new AbortMultipartUploadCommand({ Bucket: this.name, Key: key, UploadId: uploadId })));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async presign(key: string, method: 'GET' | 'HEAD', expiresInSeconds: number): Promise<string> {
    const command = method === 'GET' ? new GetObjectCommand({ Bucket: this.name, Key: key }) : new HeadObjectCommand({ Bucket: this.name, Key: key });
    return this.call(`presign ${method}`, key, () => getSignedUrl(this.client, command, { expiresIn: expiresInSeconds }));
  }

  private copySource(key: string): string {
    return `${this.name}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }
}
