// One blob from a registry to a file, resumable across runs and across dropped connections.
//
// In `dir`, `<hex>` is a complete blob whose digest was checked, `<hex>.part` a download in
// progress. A `.part` left by an earlier (killed) run is resumed with `Range: bytes=N-`; its prefix
// is hashed from disk first, so the final digest check covers every byte of the file, old or new.
// A registry answering 200 to the Range request gets a fresh start; a prefix that turns out wrong
// (digest mismatch at the end) is thrown away and the blob fetched once more from byte 0.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RegistryHttpError, type RegistryClient } from '../client/index.ts';
import { header } from '../client/transport.ts';
import type { BlobTask } from './progress.ts';

export interface BlobRef {
  digest: string;
  size: number;
}

export interface DownloadOptions {
  client: RegistryClient;
  repo: string;
  desc: BlobRef;
  /** Directory of complete blobs (`<hex>`) and partial ones (`<hex>.part`). */
  dir: string;
  task?: BlobTask;
  /** Attempts per blob on connection errors and 5xx answers; default 5. */
  attempts?: number;
  /** No byte for this long means a dead connection: retried like one. Default 60 s. */
  idleTimeoutMs?: number;
  /** Called when something worth telling the user happens (resume, retry, corrupt partial). */
  note?: (msg: string) => void;
}

export interface DownloadResult {
  path: string;
  outcome: 'pulled' | 'cached';
  /** Bytes that crossed the network for this blob. */
  transferred: number;
  /** Bytes of an earlier partial download that were kept (0 when none). */
  resumedFrom: number;
}

/** A blob whose bytes do not hash to its digest (or are too many). */
export class DigestMismatchError extends Error {}

export function blobFileName(digest: string): string {
  const colon = digest.indexOf(':');
  const alg = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if ((alg !== 'sha256' && alg !== 'sha512') || !/^[a-f0-9]+$/.test(hex)) throw new Error(`unsupported blob digest ${digest}`);
  return hex;
}

function newHashFor(digest: string): Hash {
  return createHash(digest.startsWith('sha512:') ? 'sha512' : 'sha256');
}

async function fileSize(path: string): Promise<number | undefined> {
  return stat(path).then(
    (s) => (s.isFile() ? s.size : undefined),
    () => undefined,
  );
}

async function hashInto(path: string, hash: Hash): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    n += (chunk as Buffer).length;
  }
  return n;
}

/** Whether the complete file at `path` has exactly the blob's size and digest. */
export async function verifyFile(path: string, desc: BlobRef): Promise<boolean> {
  if ((await fileSize(path)) !== desc.size) return false;
  const h = newHashFor(desc.digest);
  await hashInto(path, h);
  return `${desc.digest.slice(0, desc.digest.indexOf(':'))}:${h.digest('hex')}` === desc.digest;
}

function retryable(e: unknown): boolean {
  if (e instanceof DigestMismatchError) return false;
  if (e instanceof RegistryHttpError) return e.status >= 500 || e.status === 408 || e.status === 429;
  return true; // connection reset, refused, premature close, idle timeout
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Downloads `desc` into `dir`, reusing a verified complete file and resuming a partial one. */
export async function downloadBlob(o: DownloadOptions): Promise<DownloadResult> {
  const { desc } = o;
  const hex = blobFileName(desc.digest);
  const final = join(o.dir, hex);
  const part = `${final}.part`;
  if ((await fileSize(final)) !== undefined) {
    if (await verifyFile(final, desc)) return { path: final, outcome: 'cached', transferred: 0, resumedFrom: 0 };
    o.note?.(`${desc.digest}: the stored copy is corrupt; downloading it again`);
    await rm(final, { force: true });
  }
  const attempts = o.attempts ?? 5;
  let transferred = 0;
  let resumedFrom = -1;
  let restartedAfterMismatch = false;
  for (let attempt = 1; ; attempt++) {
    const had = (await fileSize(part)) ?? 0;
    try {
      const r = await attemptOnce(o, part, (n) => (transferred += n));
      if (resumedFrom < 0) resumedFrom = r.resumedFrom;
      await rename(part, final);
      return { path: final, outcome: 'pulled', transferred, resumedFrom: Math.max(resumedFrom, 0) };
    } catch (e) {
      if (resumedFrom < 0) resumedFrom = 0;
      if (e instanceof DigestMismatchError && had > 0 && !restartedAfterMismatch) {
        // The kept prefix was bad (a corrupt or foreign .part file): start over, once.
        restartedAfterMismatch = true;
        o.note?.(`${desc.digest}: the partial download was corrupt (${(e as Error).message}); downloading it again from the start`);
        await rm(part, { force: true });
        attempt--;
        continue;
      }
      if (e instanceof DigestMismatchError) await rm(part, { force: true });
      if (!retryable(e) || attempt >= attempts) throw e;
      o.note?.(`${desc.digest}: ${(e as Error).message}; retrying (${attempt}/${attempts - 1})`);
      await sleep(Math.min(250 * 2 ** (attempt - 1), 4000));
    }
  }
}

/** One request: hashes the kept prefix, fetches the rest, verifies. Leaves a complete `.part`. */
async function attemptOnce(o: DownloadOptions, part: string, count: (n: number) => void): Promise<{ resumedFrom: number }> {
  const { desc } = o;
  let offset = (await fileSize(part)) ?? 0;
  if (offset > desc.size) {
    await rm(part, { force: true });
    offset = 0;
  }
  let hash = newHashFor(desc.digest);
  if (offset > 0) await hashInto(part, hash);
  const resumedFrom = offset;
  if (offset < desc.size) {
    const res = await o.client.request(`/v2/${o.repo}/blobs/${desc.digest}`, {
      scope: `repository:${o.repo}:pull`,
      headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
      stream: true,
    });
    if (offset > 0) {
      const start = /^bytes\s+(\d+)-/.exec(header(res.headers, 'content-range') ?? '')?.[1];
      if (res.status !== 206 || Number(start) !== offset) {
        // The registry ignored the Range (200) or answered another one: take the body from byte 0
        // when it is the whole blob, else drop it and let the retry start over.
        if (res.status !== 200) {
          res.stream.destroy();
          await rm(part, { force: true });
          throw new Error(`the registry answered Range bytes=${offset}- with ${res.status} ${header(res.headers, 'content-range') ?? ''}`.trim());
        }
        o.note?.(`${desc.digest}: the registry does not resume (Range ignored); restarting this blob`);
        offset = 0;
        hash = newHashFor(desc.digest);
      }
    }
    const idleMs = o.idleTimeoutMs ?? 60_000;
    let written = offset;
    const src = res.stream;
    // One timer checking the time of the last chunk, not a timer re-armed per 64 KiB chunk.
    let lastData = Date.now();
    const timer = setInterval(() => {
      if (Date.now() - lastData > idleMs) src.destroy(new Error(`no data for ${Math.round(idleMs / 1000)}s`));
    }, Math.min(1000, idleMs));
    const h = hash;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        lastData = Date.now();
        written += chunk.length;
        if (written > desc.size) {
          cb(new DigestMismatchError(`more bytes than the ${desc.size} the manifest declares`));
          return;
        }
        h.update(chunk);
        count(chunk.length);
        o.task?.add(chunk.length);
        cb(null, chunk);
      },
    });
    try {
      // A deep write queue lets fs.WriteStream coalesce the socket's 64 KiB chunks into one writev.
      await pipeline(src, meter, createWriteStream(part, { flags: offset > 0 ? 'a' : 'w', highWaterMark: 4 << 20 }));
    } finally {
      clearInterval(timer);
    }
    if (written < desc.size) throw new Error(`connection ended after ${written} of ${desc.size} bytes`);
  }
  const got = `${desc.digest.slice(0, desc.digest.indexOf(':'))}:${hash.digest('hex')}`;
  if (got !== desc.digest) throw new DigestMismatchError(`digest mismatch: expected ${desc.digest}, got ${got}`);
  return { resumedFrom };
}
