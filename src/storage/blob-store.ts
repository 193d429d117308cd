// The storage driver contract: content-addressed blobs plus upload sessions. Everything above it
// (registry handlers, GC, import) speaks only this interface, so a filesystem, S3 or in-memory
// driver can sit underneath. The contract test suite in test/storage runs against every driver.
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Sha256 } from '../util/sha256.ts';

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface BlobInfo {
  digest: string;
  size: number;
  /** When the bytes were last written (walk() fills it in; GC spares recently written files). */
  modifiedAt?: Date;
}

export interface UploadInfo {
  id: string;
  size: number;
  modifiedAt: Date;
}

/** What an append hands the body's bytes to on their way to storage. */
export interface BodyTap {
  /**
   * Every chunk whose memory is left to the garbage collector once the driver has taken its bytes
   * (memory accounting: src/http/memory-pressure.ts). A chunk the driver frees itself is not reported.
   */
  chunk(chunk: Buffer): void;
  /**
   * The upload's hash, when it is being computed. A driver gives it every byte in order, either
   * chunk by chunk (update) or in the batches it writes (updateBatch, which may run off the event
   * loop: await it before reusing the batch, and before the append resolves).
   */
  hash?: Sha256;
}

/** Upload sessions: bytes appended in order, made visible under a digest only by commit(). */
export interface UploadArea {
  create(id: string): Promise<void>;
  /**
   * Appends a stream at the current end and resolves with the new total size. A failed append may
   * leave a partial write; size() is the truth. `tap` sees the bytes on their way (the upload's hash
   * is computed there, without another stream stage); after a failed append it may have seen bytes
   * that were not stored.
   */
  append(id: string, body: Readable, tap?: BodyTap): Promise<number>;
  /** Current size in bytes, or undefined when no such upload exists. */
  size(id: string): Promise<number | undefined>;
  /** Reads the bytes written so far (used to re-hash after a restart or on another replica). */
  read(id: string): Promise<Readable>;
  /** Atomically makes the upload's bytes the blob `digest`, then removes the upload. The caller has verified the digest. */
  commit(id: string, digest: string): Promise<void>;
  abort(id: string): Promise<void>;
  list(): AsyncIterable<UploadInfo>;
}

export interface BlobStore {
  readonly driverName: string;
  stat(digest: string): Promise<BlobInfo | undefined>;
  /** Streams a blob, or a byte range of it. Rejects with BlobNotFoundError when absent. */
  read(digest: string, range?: ByteRange): Promise<Readable>;
  /**
   * For drivers on a local filesystem: the blob as an open file, so HTTP can hand it to the kernel
   * (sendfile) instead of streaming it through JavaScript. The caller closes the handle.
   * Rejects with BlobNotFoundError when absent.
   */
  openFile?(digest: string): Promise<FileHandle>;
  /** Writes a small blob (a manifest) atomically; a no-op when it already exists. */
  put(digest: string, data: Buffer): Promise<void>;
  /**
   * For drivers on a local filesystem: makes the file at `path` the blob `digest` without copying
   * its bytes (a hard link; `berth import` uses it). The caller has verified the digest. Resolves
   * false when that is impossible here (another filesystem, links not permitted); the caller then
   * streams the bytes through `uploads` instead.
   */
  importFile?(digest: string, path: string): Promise<boolean>;
  delete(digest: string): Promise<void>;
  walk(): AsyncIterable<BlobInfo>;
  /**
   * The digests stored, without their sizes or times, when the driver can list them more cheaply
   * than walk() (the filesystem: one readdir per directory instead of a stat per file).
   */
  listDigests?(): AsyncIterable<string>;
  /** A URL the client may fetch the blob from directly (presigned object storage), when the driver offers one. */
  redirectURL?(digest: string, opts: { method: 'GET' | 'HEAD'; expiresInSeconds: number }): Promise<string | undefined>;
  /** Health probe: throws when the backing store cannot be read and written. */
  check(): Promise<void>;
  readonly uploads: UploadArea;
}

export class BlobNotFoundError extends Error {
  constructor(readonly digest: string) {
    super(`blob ${digest} not found in storage`);
  }
}

export class UploadNotFoundError extends Error {
  constructor(readonly id: string) {
    super('upload not found in storage');
  }
}
