// Appends a request body to a file with few, large writes, in one stage.
//
// Why not pipeline(body, hashTransform, createWriteStream(...)): an upload arrives as one Buffer
// per socket read (64 KiB, or less with chunked encoding: Go clients such as skopeo send 32 KiB
// pieces), and every stream stage costs per-chunk bookkeeping on the main thread (callbacks,
// buffering state, one fs.write and one thread-pool round trip per chunk). Here each chunk is
// copied into a batch buffer; a full batch is hashed (the upload's SHA-256, on the thread pool:
// src/util/sha256.ts) and written with one write(2) in the thread pool, both at once, while the
// other buffer fills.
//
// Why copy instead of keeping references to the chunks: a chunk held until its batch is written
// survives a scavenge or two of the small young generation (src/http/server-heap.ts) and is
// promoted, and then only a full mark-compact frees it and the memory behind it. Profiles of a
// skopeo push of a 1 GiB layer put those collections at a third of the registry's CPU. Copied,
// every chunk is garbage at once: an HTTP/1 request's chunk is freed right there (ownsChunks()),
// any other dies young; the two batch buffers are reused, and pooled between appends.
//
// Memory stays bounded: two buffers per append, the budget shared by the appends in progress
// (never below 64 KiB each, resized as appends start and end), and when both are busy the body is
// paused, so TCP flow control slows the client instead of our heap growing. Dropped buffers are
// freed at once (releaseMemory()): with 32 pushes at once, freeing body chunks and batch buffers
// this way took the glibc heap at the peak from 30-34 MiB to 17-21 and the server's peak RSS from
// 81-111 MiB to 67-73.
//
// With a second handle opened with O_DIRECT (src/storage/drivers/direct-io.ts), batches that start
// on a block boundary go to the disk directly in whole blocks. A batch that would start off the
// grid (the upload's existing size, a tail written early for a stalling client) holds only the
// bytes up to the next boundary and goes through the page cache, so the next one is aligned again.
import type { FileHandle } from 'node:fs/promises';
import { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { nativeAddon } from '../../native/addon.ts';
import type { BodyTap } from '../blob-store.ts';
import { batchBuffer, DIRECT_ALIGN } from './direct-io.ts';

/**
 * Bytes per batch buffer for an append that runs alone. Each batch is a trip to the thread pool
 * for its hash and its write, and the body pauses while both buffers are busy: 1 GiB `curl -T`
 * uploads measured 850-880 MB/s with 1 MiB batches, about 940 with 2 MiB and 1,000-1,070 with
 * 4 MiB (docs/benchmark.md).
 */
const ALONE_BATCH = 4 * 1024 * 1024;
/**
 * Bytes per batch buffer shared by the appends in progress when there are several: together they
 * hold about as much as one, and each gets its share (32 pushes at once would otherwise pin 256
 * MiB). Smaller than ALONE_BATCH because concurrent uploads split the CPU anyway, and memory does
 * not: four parallel streams of 8 MiB uploads peaked at 98 MiB RSS with a 1 MiB budget, 108 with
 * 2 and 120 with 4.
 */
const SHARED_BUDGET = 1024 * 1024;
const MIN_BATCH = 64 * 1024;
/**
 * The first batch of an append holds at most this much. A docker-style chunked push is a series of
 * PATCHes, and each waits for its last batch to be hashed and written before the next begins:
 * starting that work after 512 KiB instead of 4 MiB took an 8 MiB PATCH from 9.5 to 8.0 ms inside
 * the registry (1 GiB: 630 -> 690 MB/s).
 */
const FIRST_BATCH = 512 * 1024;
/**
 * A partly filled batch is written once it has waited this long: a client that stalls or sends
 * slowly still has what it sent stored (a resumed upload starts from the size GET reports).
 */
const WRITE_AFTER_MS = 10;
/**
 * Batch buffers, in use and pooled together, that the pool keeps memory for: a lone append's two.
 * Beyond that a buffer given back is released at once (see releaseMemory()).
 */
const POOL_BYTES = 2 * ALONE_BATCH;
/**
 * The pool is emptied once no append has started for this long: a push is many appends in a row
 * (layers, then configs) and reuses warm memory, but an idle server should not hold 8 MiB of it.
 */
const POOL_IDLE_MS = 500;

/** Appends in progress in this process. */
let active = 0;
const pool = new Map<number, Buffer[]>();
let pooledBytes = 0;
/** Bytes of batch buffers held by appends in progress. */
let inUseBytes = 0;
let poolTimer: NodeJS.Timeout | undefined;

/**
 * The batch size for the appends in progress now: ALONE_BATCH for one, else its share of
 * SHARED_BUDGET rounded down to a power of two, so that buffers given back fit the next appends
 * (with exact shares, 32 pushes at once allocated 170 buffers in 192 appends and reused almost none).
 */
function batchSize(): number {
  if (active <= 1) return ALONE_BATCH;
  let size = SHARED_BUDGET;
  while (size > MIN_BATCH && size * active > SHARED_BUDGET) size /= 2;
  return size;
}

function takeBuffer(size: number): Buffer {
  inUseBytes += size;
  const free = pool.get(size)?.pop();
  if (free) {
    pooledBytes -= size;
    return free;
  }
  return batchBuffer(size);
}

function giveBack(buffer: Buffer): void {
  inUseBytes -= buffer.length;
  if (pooledBytes + inUseBytes + buffer.length > POOL_BYTES) return releaseMemory(buffer);
  const list = pool.get(buffer.length) ?? [];
  list.push(buffer);
  pool.set(buffer.length, list);
  pooledBytes += buffer.length;
  poolTimer?.refresh();
  poolTimer ??= setTimeout(emptyPool, POOL_IDLE_MS).unref();
}

const freeNow = nativeAddon()?.freeNow;

/**
 * Frees a batch buffer's memory now. A buffer lives as long as an append, so its JS object is in
 * the old generation by the time it is dropped, and only a full collection would free what is
 * behind it: 32 pushes at once held 21 MiB of batch buffers, most of them dropped ones.
 * batchBuffer() gives every buffer an ArrayBuffer of its own, so nothing else loses its bytes.
 * Without the addon, the memory moves to a new (young) ArrayBuffer that nothing keeps, which the
 * next scavenge frees (src/http/memory-pressure.ts forces one every few MiB of body).
 */
function releaseMemory(buffer: Buffer): void {
  if (!freeNow?.(buffer.buffer)) structuredClone(buffer.buffer, { transfer: [buffer.buffer] });
}

/**
 * Whether a body's chunks may be freed once copied: those of an HTTP/1 request are copies Node's
 * parser makes for each 'data' event, in an ArrayBuffer of their own, and nothing else reads them
 * (the upload handlers give the request to the driver alone). Any other Readable could hand out a
 * buffer it still uses, or the same one twice.
 */
function ownsChunks(body: Readable): boolean {
  return freeNow !== undefined && body instanceof IncomingMessage;
}

function emptyPool(): void {
  poolTimer = undefined;
  // Appends in progress hold their own buffers; what is pooled is free.
  for (const list of pool.values()) list.forEach(releaseMemory);
  pool.clear();
  pooledBytes = 0;
}

/** A buffer of the current batch size: `buffer` itself, or a new one when the number of appends changed. */
function fitted(buffer: Buffer): Buffer {
  const size = batchSize();
  if (buffer.length === size) return buffer;
  giveBack(buffer);
  return takeBuffer(size);
}

/** Bytes of batch buffers held by appends in progress, and free in the pool for the next ones (tests). */
export function batchBufferBytes(): { inUse: number; pooled: number } {
  return { inUse: inUseBytes, pooled: pooledBytes };
}

const ignore = (): void => undefined;

/**
 * Settles once both have, rejecting with the first one's failure before the second's: the buffer
 * and the file must outlive whichever is still running.
 */
async function bothSettled(first: Promise<void>, second: Promise<void>): Promise<void> {
  const [a, b] = await Promise.allSettled([first, second]);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
}

/** Writes buffer[from, to) at the file's end (O_APPEND), looping over short writes. */
async function writeAll(handle: FileHandle, buffer: Buffer, from: number, to: number): Promise<void> {
  for (let offset = from; offset < to; ) {
    const { bytesWritten } = await handle.write(buffer, offset, to - offset, null);
    if (bytesWritten <= 0) throw new Error('the file system accepted no bytes');
    offset += bytesWritten;
  }
}

/**
 * O_DIRECT writes to the same file: `open` gives a handle opened with O_DIRECT (or undefined when
 * the file system refuses it; the caller opens it at most once and closes it), `position` is the
 * file's size when the append starts.
 */
export interface DirectTarget {
  open(): Promise<FileHandle | undefined>;
  position: number;
}

/**
 * Appends every byte of `body` at the end of `handle` (opened for appending); resolves with the
 * byte count once every batch is written and hashed. `tap` sees each chunk, and its hash each
 * batch. With `direct`, whole aligned blocks are written through its O_DIRECT handle.
 */
export function appendStream(handle: FileHandle, body: Readable, tap?: BodyTap, direct?: DirectTarget): Promise<number> {
  // A body that ended or broke before the caller got here (the file is opened first) emits no
  // more events: settle now rather than wait for them.
  if (body.destroyed && !body.readableEnded) return Promise.reject(body.errored ?? new Error('the request body ended early: the client closed the connection'));
  if (body.readableEnded) return Promise.resolve(0);
  active++;
  // The batch size follows the number of appends in progress: set now, and again each time a
  // buffer comes back from its write (fitted()), so an append that began alone shrinks its buffers
  // when others start, and grows them when it is left alone.
  const size = batchSize();
  return new Promise<number>((resolve, reject) => {
    let fill: Buffer = takeBuffer(size);
    let fillLength = 0;
    /** Where the batch being filled will start in the file (known: one write at a time, in order). */
    let fillStart = direct?.position ?? 0;
    let useDirect = direct !== undefined;
    /** How much the batch being filled takes: off the block grid, only the bytes up to the next boundary. */
    const capacityAt = (start: number): number => (useDirect && start % DIRECT_ALIGN !== 0 ? DIRECT_ALIGN - (start % DIRECT_ALIGN) : fill.length);
    // The first batch is small, so hashing and writing start while most of the body is still arriving.
    let capacity = Math.min(capacityAt(fillStart), FIRST_BATCH);
    /** The other buffer, or undefined while it is being written. */
    let spare: Buffer | undefined = takeBuffer(size);
    /** A chunk whose bytes from `pendingFrom` on did not fit while both buffers were busy (the body is paused). */
    let pending: Buffer | undefined;
    let pendingFrom = 0;
    let written = 0;
    let ended = false;
    let settled = false;
    let failure: Error | undefined;
    let timer: NodeJS.Timeout | undefined;
    const freeChunks = ownsChunks(body);
    /** A chunk whose bytes are all in a batch: freed now when it may be, else reported for the collector's pace. */
    const copied = (chunk: Buffer): void => {
      const own = freeChunks && chunk.byteOffset === 0 && chunk.buffer.byteLength === chunk.length;
      if (!(own && freeNow!(chunk.buffer))) tap?.chunk(chunk);
    };

    const release = (): void => {
      active--;
      if (timer) clearTimeout(timer);
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', fail);
      body.off('close', onClose);
      // A late error (the client leaves after a failed write) must not become an uncaught one.
      body.on('error', ignore);
    };
    const fail = (e: unknown): void => {
      if (settled) return;
      settled = true;
      release();
      failure = e instanceof Error ? e : new Error(String(e));
      // The caller closes the file when this settles: never while a write still uses it.
      if (spare) finish();
    };
    /** Settles once no write is in flight; the buffers go back to the pool. */
    const finish = (): void => {
      giveBack(fill);
      if (spare) giveBack(spare);
      if (failure) reject(failure);
      else resolve(written);
    };

    /** Writes one batch: its whole blocks through O_DIRECT when it starts on the grid, the rest buffered. */
    const writeBatch = async (buffer: Buffer, length: number, start: number): Promise<void> => {
      const blocks = length - (length % DIRECT_ALIGN);
      let done = 0;
      let target: FileHandle | undefined;
      if (useDirect && blocks > 0 && start % DIRECT_ALIGN === 0) {
        // Opened on the first whole block: a small blob (a config, a manifest) never pays for it.
        target = await direct!.open();
        if (!target) useDirect = false; // refused at open (tmpfs, some FUSE)
      }
      while (target && useDirect && done < blocks) {
        const n = await target.write(buffer, done, blocks - done, null).then(
          (r) => r.bytesWritten,
          (e: unknown) => {
            // EINVAL before any byte: this file system (or this kernel) refuses it; buffered from now on.
            if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
            useDirect = false;
            return 0;
          },
        );
        if (!useDirect) break;
        if (n <= 0) throw new Error('the file system accepted no bytes');
        done += n;
        // A short write off the block grid: the rest of this append goes through the page cache.
        if (done % DIRECT_ALIGN !== 0) useDirect = false;
      }
      await writeAll(handle, buffer, done, length);
    };

    const write = (): void => {
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
      }
      const buffer = fill;
      const length = fillLength;
      const start = fillStart;
      fill = fitted(spare!);
      spare = undefined;
      fillLength = 0;
      fillStart = start + length;
      capacity = capacityAt(fillStart);
      // One batch in flight at a time, so the hash sees the batches in order; it runs beside the write.
      const hash = tap?.hash;
      const stored = writeBatch(buffer, length, start);
      (hash ? bothSettled(stored, Promise.resolve().then(() => hash.updateBatch(buffer, length))) : stored).then(
        () => {
          spare = buffer;
          written += length;
          if (failure) return finish();
          if (pending) {
            const rest = pending;
            pending = undefined;
            take(rest, pendingFrom);
            if (!pending && !ended) body.resume();
          }
          if (!spare) return; // take() started the next write
          if (ended && !pending) {
            if (fillLength > 0) write();
            else {
              settled = true;
              release();
              finish();
            }
          } else if (fillLength > 0) {
            timer ??= setTimeout(writeLate, WRITE_AFTER_MS);
          }
        },
        (e: unknown) => {
          spare = buffer;
          if (!failure) fail(e);
          else finish();
        },
      );
    };

    const writeLate = (): void => {
      timer = undefined;
      if (spare && !settled && fillLength > 0) write();
    };

    /**
     * Copies `chunk` from `from` on into the batch, writing full buffers; keeps the chunk in `pending`
     * when both are busy.
     */
    const take = (chunk: Buffer, from = 0): void => {
      for (let offset = from; offset < chunk.length; ) {
        if (fillLength === capacity) {
          if (!spare) {
            pending = chunk;
            pendingFrom = offset;
            body.pause();
            return;
          }
          write();
        }
        const n = chunk.copy(fill, fillLength, offset, offset + Math.min(chunk.length - offset, capacity - fillLength));
        fillLength += n;
        offset += n;
      }
      copied(chunk);
      if (fillLength === capacity && spare) write();
      // One timer per batch, not per chunk; a fast body fills the batch long before it fires.
      else if (fillLength > 0) timer ??= setTimeout(writeLate, WRITE_AFTER_MS);
    };

    const onData = (chunk: Buffer): void => take(chunk);
    const onEnd = (): void => {
      ended = true;
      if (!spare || pending) return; // the write in flight takes the rest when it completes
      if (fillLength > 0) write();
      else {
        settled = true;
        release();
        finish();
      }
    };
    // A client that disconnects mid-body: 'close' without 'end' (IncomingMessage also emits an error).
    const onClose = (): void => {
      if (!ended) fail(new Error('the request body ended early: the client closed the connection'));
    };

    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', fail);
    body.once('close', onClose);
    body.resume();
  });
}
