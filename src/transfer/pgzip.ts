// Parallel gzip, in the manner of Go's klauspost/pgzip: the input is cut into fixed-size blocks
// that are deflated concurrently in libuv's threadpool (zlib.deflateRaw is async), and the raw
// DEFLATE outputs are concatenated into ONE gzip member (RFC 1952) that any gunzip reads.
//
// How blocks concatenate: every block but the last is ended with Z_SYNC_FLUSH, which closes the
// current deflate block and byte-aligns the output with an empty stored block (00 00 ff ff), so
// the next block's bytes can follow directly. The last block is ended with Z_FINISH, which sets
// BFINAL. Each block is compressed with the previous 32 KiB of input as its dictionary: the
// decoder's window holds exactly those bytes at that point, so back-references into them are
// valid, and the ratio stays close to a single stream's.
//
// Determinism: block boundaries depend only on the input bytes and blockSize (never on how the
// source chunks its data), each block's deflate parameters depend only on (level, blockSize), and
// outputs are emitted in block order whatever order the threadpool finishes them in. So the same
// input, level and blockSize give the same bytes, which a resumed upload relies on.
//
// Note: libuv's threadpool has 4 threads unless UV_THREADPOOL_SIZE is set at process start, which
// caps the useful concurrency (and fs work shares that pool).
import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { constants, crc32, deflateRaw, type ZlibOptions } from 'node:zlib';

export interface ParallelGzipOptions {
  /** zlib level, -1 (default, = 6) or 0..9. */
  level?: number;
  /** Uncompressed bytes per independently compressed block; default 1 MiB. */
  blockSize?: number;
  /** Blocks compressed at once; default os.availableParallelism(), at least 2. */
  concurrency?: number;
}

export const DEFAULT_BLOCK_SIZE = 1 << 20;
const WINDOW = 32 * 1024; // DEFLATE's maximum back-reference distance.
const EMPTY = Buffer.alloc(0);

/**
 * `source` gzipped as one gzip member, compressed block by block on several threads.
 * Holds at most `concurrency` blocks in flight (plus the one being gathered), reads the source
 * only as fast as the output is consumed, and errors if the source errors. Destroying the output
 * destroys the source.
 */
export function parallelGzip(source: Readable, opts: ParallelGzipOptions = {}): Readable {
  const level = opts.level ?? constants.Z_DEFAULT_COMPRESSION;
  const blockSize = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
  const concurrency = opts.concurrency ?? Math.max(2, availableParallelism());
  if (!Number.isInteger(level) || level < -1 || level > 9) throw new RangeError(`gzip level must be -1..9, got ${level}`);
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new RangeError(`blockSize must be a positive integer, got ${blockSize}`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);

  // Byte mode, so consumers see an ordinary byte stream; each yielded block exceeds the small
  // highWaterMark, so the generator is only resumed once the consumer has taken what it had.
  const out = Readable.from(gzipMember(source, level, blockSize, concurrency), { objectMode: false });
  // The generator (and so its for-await over the source) only starts on the first read: listen
  // now so that an early source error fails the output instead of being an uncaught 'error'.
  const onError = (err: Error) => out.destroy(err);
  source.on('error', onError);
  out.once('close', () => {
    source.off('error', onError);
    if (!source.destroyed && !source.readableEnded) source.destroy();
  });
  return out;
}

async function* gzipMember(source: Readable, level: number, blockSize: number, concurrency: number): AsyncGenerator<Buffer> {
  yield header(level);

  // deflate output bound for one block (stored blocks cost 5 bytes per 64 KiB), so each block is
  // normally one pass in the threadpool. Fixed per blockSize: at level 0 zlib's stored-block
  // sizes depend on the output buffer size, and the output must not vary.
  const chunkSize = Math.max(64 * 1024, blockSize + (blockSize >>> 10) + 1024);
  const inFlight: Promise<Buffer>[] = [];
  let crc = 0;
  let size = 0;
  let window: Buffer = EMPTY; // the last (up to) 32 KiB of input before the current block
  for await (const { data, last } of blocks(source, blockSize)) {
    crc = crc32(data, crc);
    size = (size + data.length) % 0x1_0000_0000;
    const p = deflateBlock(data, {
      level,
      chunkSize,
      finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
      ...(window.length ? { dictionary: window } : {}),
    });
    // Marked handled: if we bail out early (another error, consumer gone), a later rejection of
    // this one must not become an unhandled rejection. We still await `p` itself below.
    p.catch(() => {});
    inFlight.push(p);
    window = data.length >= WINDOW ? data.subarray(data.length - WINDOW) : tail(Buffer.concat([window, data]));
    // Bounded memory: wait for the oldest block (outputs go out in order) before reading more.
    if (inFlight.length >= concurrency) yield await inFlight.shift()!;
  }
  while (inFlight.length) yield await inFlight.shift()!;

  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(size, 4);
  yield trailer;
}

/** The 10-byte header Node's createGzip writes: no name or mtime, XFL as zlib sets it, OS = unix. */
function header(level: number): Buffer {
  const effective = level === constants.Z_DEFAULT_COMPRESSION ? 6 : level;
  // zlib's deflate.c: 2 = maximum compression (level 9), 4 = fastest (levels 0 and 1).
  const xfl = effective === 9 ? 2 : effective < 2 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3]);
}

function tail(buf: Buffer): Buffer {
  return buf.length > WINDOW ? buf.subarray(buf.length - WINDOW) : buf;
}

function deflateBlock(data: Buffer, options: ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => deflateRaw(data, options, (err, res) => (err ? reject(err) : resolve(res))));
}

/**
 * The source re-cut into blocks of exactly `size` bytes (the last one 0..size bytes). A block is
 * only handed out once at least one more byte has arrived, so the one marked `last` is known;
 * an empty source gives one empty last block (which deflates to an empty final block).
 */
async function* blocks(source: AsyncIterable<unknown>, size: number): AsyncGenerator<{ data: Buffer; last: boolean }> {
  let parts: Buffer[] = [];
  let head = 0; // parts[head..] are pending; an index rather than shift() for many tiny chunks
  let have = 0;

  const take = (n: number): Buffer => {
    if (head > 1024 && head * 2 > parts.length) {
      parts = parts.slice(head); // drop consumed entries now and then
      head = 0;
    }
    have -= n;
    const first = parts[head];
    // The common case with big source chunks: a view, no copy.
    if (first && first.length >= n) {
      if (first.length === n) head++;
      else parts[head] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const p = parts[head];
      const k = Math.min(p.length, n - off);
      p.copy(out, off, 0, k);
      off += k;
      if (k === p.length) head++;
      else parts[head] = p.subarray(k);
    }
    return out;
  };

  for await (const chunk of source) {
    const buf = toBuffer(chunk);
    if (!buf.length) continue;
    parts.push(buf);
    have += buf.length;
    while (have > size) yield { data: take(size), last: false };
  }
  yield { data: have ? take(have) : EMPTY, last: true };
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk);
  throw new TypeError(`parallelGzip: source chunks must be bytes, got ${typeof chunk}`);
}
