// Appends a request body to a file with few, large writes, in one stage.
//
// Why not pipeline(body, hashTransform, createWriteStream(...)): an upload arrives as one 64 KiB
// Buffer per socket read, and every stream stage costs per-chunk bookkeeping on the main thread
// (callbacks, buffering state, one fs.write and one thread-pool round trip per chunk). Profiles of
// a 1 GiB upload put that plumbing at about a third of the registry's CPU, more than the disk. Here
// the body's chunks go, in order, to `onChunk` (the upload's SHA-256) and into a batch, and each
// batch becomes a single writev(2) in the thread pool while the next batch fills: one syscall and
// one thread hop per ~1 MiB instead of per 64 KiB, and nothing else in between.
//
// Memory stays bounded: at most one write is in flight and the batch waiting behind it is capped;
// when it is full the body is paused, so TCP flow control slows the client instead of our heap.
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/**
 * A batch is written once it holds this much, or when the body ends. The budget is shared by the
 * appends in progress (never below one socket read each), so many concurrent uploads together
 * hold about as much as one: 32 pushes at once would otherwise pin up to 96 MiB of batches.
 */
const BATCH_BUDGET = 1024 * 1024;
const MIN_BATCH = 64 * 1024;
/** Appends in progress in this process. */
let active = 0;
/**
 * A smaller batch is written once it has waited this long: a client that stalls or sends slowly
 * still has what it sent stored (a resumed upload starts from the size GET reports).
 */
const WRITE_AFTER_MS = 10;

const ignore = (): void => undefined;

/** Appends every byte of `body` at the end of `handle` (opened for appending); resolves with the byte count. */
export function appendStream(handle: FileHandle, body: Readable, onChunk?: (chunk: Buffer) => void): Promise<number> {
  // A body that ended or broke before the caller got here (the file is opened first) emits no
  // more events: settle now rather than wait for them.
  if (body.destroyed && !body.readableEnded) return Promise.reject(body.errored ?? new Error('the request body ended early: the client closed the connection'));
  if (body.readableEnded) return Promise.resolve(0);
  active++;
  // Fixed for this append: what it may batch given the appends already running.
  const WRITE_AT = Math.max(MIN_BATCH, Math.floor(BATCH_BUDGET / active));
  // Bytes waiting behind the write in flight before the body is paused.
  const PAUSE_AT = 2 * WRITE_AT;
  return new Promise<number>((resolve, reject) => {
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let written = 0;
    let writing = false;
    let ended = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;

    let failure: Error | undefined;
    const fail = (e: unknown): void => {
      if (settled) return;
      settled = true;
      detach();
      failure = e instanceof Error ? e : new Error(String(e));
      // The caller closes the file when this settles: never while a write still uses it.
      if (!writing) reject(failure);
    };
    const done = (): void => {
      if (settled) return;
      settled = true;
      detach();
      resolve(written);
    };

    const write = (): void => {
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
      }
      const buffers = batch;
      const bytes = batchBytes;
      batch = [];
      batchBytes = 0;
      writing = true;
      // libuv writes the whole vector (it loops over short writes and IOV_MAX), or fails.
      handle.writev(buffers).then(() => {
        writing = false;
        written += bytes;
        if (failure) return reject(failure);
        if (settled) return;
        if (batchBytes >= WRITE_AT || (ended && batchBytes > 0)) write();
        else if (ended) done();
        else if (batchBytes > 0) timer ??= setTimeout(writeLate, WRITE_AFTER_MS); // its timer may have fired during the write
        if (body.isPaused() && !ended && batchBytes < PAUSE_AT) body.resume();
      }, (e: unknown) => {
        writing = false;
        if (failure) return reject(failure);
        fail(e);
      });
    };

    const writeLate = (): void => {
      timer = undefined;
      if (!writing && !settled && batchBytes > 0) write();
    };

    const onData = (chunk: Buffer): void => {
      onChunk?.(chunk);
      batch.push(chunk);
      batchBytes += chunk.length;
      // One timer per batch, not per chunk; a fast body fills the batch long before it fires.
      timer ??= setTimeout(writeLate, WRITE_AFTER_MS);
      if (writing) {
        if (batchBytes >= PAUSE_AT) body.pause();
      } else if (batchBytes >= WRITE_AT) {
        write();
      }
    };
    const onEnd = (): void => {
      ended = true;
      if (writing) return; // the write in flight takes the rest when it completes
      if (batchBytes > 0) write();
      else done();
    };
    // A client that disconnects mid-body: 'close' without 'end' (IncomingMessage also emits an error).
    const onClose = (): void => {
      if (!ended) fail(new Error('the request body ended early: the client closed the connection'));
    };
    const detach = (): void => {
      active--;
      if (timer) clearTimeout(timer);
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', fail);
      body.off('close', onClose);
      // A late error (the client leaves after a failed write) must not become an uncaught one.
      body.on('error', ignore);
    };

    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', fail);
    body.once('close', onClose);
    body.resume();
  });
}
