// Streams that hash what passes through them, so digest and size are known the moment the data
// has been written somewhere (an upload, a file) without a second read.
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { zstdDecompress } from './zstd.ts';
import { createGunzip, createGzip, constants as zlib } from 'node:zlib';

export interface DigestResult {
  digest: string;
  size: number;
}

/** A pass-through that resolves `result` with sha256 + byte count once the stream has ended. */
export function digestingStream(): { stream: Transform; result: Promise<DigestResult> } {
  const hash = createHash('sha256');
  let size = 0;
  let settle!: (r: DigestResult) => void;
  let fail!: (e: Error) => void;
  const result = new Promise<DigestResult>((res, rej) => {
    settle = res;
    fail = rej;
  });
  result.catch(() => {}); // callers may only look at it on success
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      settle({ digest: `sha256:${hash.digest('hex')}`, size });
      cb();
    },
  });
  stream.on('error', fail);
  stream.on('close', () => fail(new Error('stream closed before it ended')));
  return { stream, result };
}

/**
 * Wraps `source` so that it errors at its end if its sha256 differs from `expected` — a reader
 * sees every byte but cannot mistake a corrupted blob for a good one.
 */
export function verifying(source: Readable, expected: string, what: string): Readable {
  const hash = createHash('sha256');
  let size = 0;
  const out = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      const got = `sha256:${hash.digest('hex')}`;
      cb(got === expected ? null : new Error(`${what}: digest mismatch: expected ${expected}, got ${got} (${size} bytes)`));
    },
  });
  source.on('error', (e) => out.destroy(e));
  return source.pipe(out);
}

/**
 * gzip-compresses `source`, hashing the *compressed* bytes: pipe `stream` into an upload, then
 * await `result` for the digest and size the manifest and the final PUT need.
 */
export function gzipWithDigest(source: Readable): { stream: Readable; result: Promise<DigestResult> } {
  const gzip = createGzip({ level: zlib.Z_DEFAULT_COMPRESSION });
  const d = digestingStream();
  source.on('error', (e) => gzip.destroy(e));
  gzip.on('error', (e) => d.stream.destroy(e));
  source.pipe(gzip).pipe(d.stream);
  return { stream: d.stream, result: d.result };
}

/**
 * A pulled layer blob as an uncompressed tar. gzip vs plain is decided by the magic bytes (some
 * registries serve plain tars under a gzip media type and vice versa); zstd (media type `+zstd`)
 * goes through the `zstd` command because Node 20's zlib has no zstd decoder.
 */
export function decompressLayer(source: Readable, mediaType: string): Readable {
  if (/zstd/.test(mediaType)) return zstdDecompress(source);
  return autoGunzip(source);
}

/**
 * Passes plain bytes through and gunzips a stream that starts with the gzip magic: docker load
 * accepts gzipped layer tars inside a save archive, and some tools write them that way.
 */
export function autoGunzip(source: Readable): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let head = Buffer.alloc(0);
    while (head.length < 2) {
      const r = await it.next();
      if (r.done) {
        if (head.length) yield head;
        return;
      }
      head = Buffer.concat([head, r.value]);
    }
    async function* rest(): AsyncGenerator<Buffer> {
      yield head;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    }
    if (head[0] !== 0x1f || head[1] !== 0x8b) {
      yield* rest();
      return;
    }
    const raw = Readable.from(rest());
    const gunzip = createGunzip();
    raw.on('error', (e) => gunzip.destroy(e));
    raw.pipe(gunzip);
    yield* gunzip as AsyncIterable<Buffer>;
  }
  return Readable.from(gen(), { objectMode: false });
}
