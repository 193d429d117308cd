// Pushing one blob so that nothing is sent twice: skip it when the registry has it (HEAD), mount
// it from another repository of the same registry, else upload it as one streamed PATCH. The
// session URL is kept on disk while the PATCH runs; a re-run (or a retry after a dropped
// connection) asks the registry how much it holds (GET on the session: `Range: 0-N`) and sends
// only the rest. The source is re-read from the start to keep the digest over every byte, so a
// source must be reproducible (files are; gzip/zstd of the same input at the same level are).
import { Transform, type Readable } from 'node:stream';
import { headBlob, mountBlob, RegistryHttpError, type RegistryClient } from '../client/index.ts';
import { header, isBrokenConnection } from '../client/transport.ts';
import { digestingStream } from '../images/index.ts';
import type { BlobInfoCache, UploadSessions } from './blob-cache.ts';
import { short, type BlobTask, type BlobOutcome, type Progress } from './progress.ts';

export interface BlobToPush {
  /** Identity of the upload for resuming: the digest when known, else e.g. `<diff_id>|gzip`. */
  key: string;
  /** Known up front (configs, already-compressed layers); else learnt while uploading. */
  digest?: string;
  size?: number;
  /**
   * The exact bytes to store, from the first byte. Called again on resume and retry. A source that
   * compresses on the fly reports the uncompressed bytes it reads through `onInput` (and sets
   * `inputSize`), so progress has a known total.
   */
  open(onInput?: (bytes: number) => void): Readable;
  inputSize?: number;
  /** For a layer compressed on the fly: remembered so that a re-push can skip it without compressing. */
  diffId?: string;
  compression?: string;
  label?: string;
}

export interface PushTarget {
  client: RegistryClient;
  host: string;
  repo: string;
  cache: BlobInfoCache;
  sessions: UploadSessions;
  progress: Progress;
}

export interface PushedBlob {
  digest: string;
  size: number;
  outcome: BlobOutcome;
  /** Bytes actually sent (less than size after a resume). */
  sent: number;
}

const MAX_ATTEMPTS = 4;

export async function pushBlob(t: PushTarget, blob: BlobToPush): Promise<PushedBlob> {
  const known = blob.digest
    ? { digest: blob.digest, size: blob.size }
    : blob.diffId && blob.compression
      ? t.cache.compressedOf(blob.diffId, blob.compression)
      : undefined;
  const task = t.progress.blob(known?.digest ?? blob.label ?? blob.key, blob.inputSize ?? known?.size ?? blob.size, 'push');
  try {
    if (known) {
      const skipped = await skipOrMount(t, known.digest, task);
      if (skipped) return { digest: known.digest, size: skipped.size ?? known.size ?? 0, outcome: skipped.outcome, sent: 0 };
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await uploadOnce(t, blob, task);
        t.cache.recordLocation(t.host, t.repo, r.digest);
        if (blob.diffId && blob.compression) t.cache.recordCompressed(blob.diffId, blob.compression, { digest: r.digest, size: r.size });
        // Saved per blob, not at the end: a push killed midway must still know what it finished.
        t.cache.save();
        if (blob.inputSize === undefined) task.setTotal(r.size);
        task.done('pushed');
        return { ...r, outcome: 'pushed' };
      } catch (err) {
        if (attempt >= MAX_ATTEMPTS || !retryable(err)) throw err;
        if (sessionBroken(err)) t.sessions.delete(t.host, t.repo, blob.key);
        t.progress.line(`${short(known?.digest ?? blob.diffId ?? blob.key)}: ${(err as Error).message}; retrying (${attempt}/${MAX_ATTEMPTS - 1})`);
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
      }
    }
  } catch (err) {
    task.fail(err as Error);
    throw err;
  }
}

/** HEAD in the target repository, then a mount from repositories known to hold it. */
async function skipOrMount(t: PushTarget, digest: string, task: BlobTask): Promise<{ outcome: BlobOutcome; size?: number } | undefined> {
  const size = await headBlob(t.client, t.repo, digest);
  if (size !== undefined) {
    t.cache.recordLocation(t.host, t.repo, digest);
    task.setTotal(size);
    task.done('exists');
    return { outcome: 'exists', size };
  }
  for (const from of t.cache.repositoriesWith(t.host, digest).filter((r) => r !== t.repo).slice(0, 3)) {
    const mounted = await mountBlob(t.client, t.repo, digest, from).catch(() => false);
    if (mounted) {
      t.cache.recordLocation(t.host, t.repo, digest);
      task.done('mounted');
      return { outcome: 'mounted' };
    }
    t.cache.forgetLocation(t.host, from, digest);
  }
  return undefined;
}

const pushScope = (repo: string) => `repository:${repo}:pull,push`;

async function uploadOnce(t: PushTarget, blob: BlobToPush, task: BlobTask): Promise<{ digest: string; size: number; sent: number }> {
  const c = t.client;
  let offset = 0;
  let location: string | undefined;
  const saved = t.sessions.get(t.host, t.repo, blob.key);
  if (saved) {
    const st = await c.request(saved.location, { scope: pushScope(t.repo), ok: [200, 204, 400, 404, 416] }).catch(() => undefined);
    if (st && (st.status === 204 || st.status === 200)) {
      // `Range: 0-N` means N+1 bytes held; registry:2 also says 0-0 for an empty session, and
      // appending from a too-low offset is caught by the digest check at commit.
      const m = /^(?:bytes=)?0-(\d+)$/.exec(header(st.headers, 'range') ?? '');
      offset = m && m[1] !== '0' ? Number(m[1]) + 1 : 0;
      location = new URL(header(st.headers, 'location') ?? saved.location, saved.location).toString();
    } else {
      t.sessions.delete(t.host, t.repo, blob.key);
    }
  }
  if (!location) {
    const opened = await c.request(`/v2/${t.repo}/blobs/uploads/`, { method: 'POST', scope: pushScope(t.repo), body: Buffer.alloc(0), ok: [202] });
    location = resolveLocation(c.base, opened.headers);
    t.sessions.put(t.host, t.repo, blob.key, { location });
  } else if (offset > 0) {
    t.progress.line(`${short(blob.digest ?? blob.diffId ?? blob.key)}: resuming at byte ${offset} (the registry holds the rest)`);
  }

  const hashed = digestingStream();
  let sent = 0;
  const countInput = blob.inputSize !== undefined;
  const body = blob.open(countInput ? (n) => task.add(n) : undefined);
  const rest = skipFirst(offset, (n) => {
    sent += n;
    if (!countInput) task.add(n);
  });
  body.on('error', (e) => hashed.stream.destroy(e));
  hashed.stream.on('error', (e) => rest.destroy(e));
  body.pipe(hashed.stream).pipe(rest);

  const patched = await c.request(location, {
    method: 'PATCH',
    scope: pushScope(t.repo),
    headers: { 'Content-Type': 'application/octet-stream' },
    body: rest,
    ok: [202, 204],
  });
  location = resolveLocation(location, patched.headers, location);
  t.sessions.put(t.host, t.repo, blob.key, { location });
  const { digest, size } = await hashed.result;
  if (blob.digest && digest !== blob.digest) {
    throw new SourceError(`blob ${blob.digest}: the source produced ${digest} instead (the file changed while pushing?)`);
  }
  const commit = new URL(location);
  commit.searchParams.set('digest', digest);
  await c.request(commit.toString(), { method: 'PUT', scope: pushScope(t.repo), body: Buffer.alloc(0), ok: [201] });
  t.sessions.delete(t.host, t.repo, blob.key);
  return { digest, size, sent };
}

/** Drops the first `n` bytes (the registry holds them already) and counts what passes. */
function skipFirst(n: number, onPass: (bytes: number) => void): Transform {
  let toSkip = n;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (toSkip >= chunk.length) {
        toSkip -= chunk.length;
        return cb();
      }
      const out = toSkip > 0 ? chunk.subarray(toSkip) : chunk;
      toSkip = 0;
      onPass(out.length);
      cb(null, out);
    },
    flush(cb) {
      cb(toSkip > 0 ? new ResumeMismatch(`the registry holds ${n} bytes of this blob, more than the source has: starting it over`) : null);
    },
  });
}

function resolveLocation(base: string, headers: Record<string, unknown>, fallback?: string): string {
  const loc = header(headers as never, 'location') ?? fallback;
  if (!loc) throw new Error('the registry answered an upload request without a Location header');
  return new URL(loc, base).toString();
}

/** An error of the source (digest mismatch, changed file): retrying cannot help. */
export class SourceError extends Error {}

/** The registry's session does not fit the source: start a fresh session. */
class ResumeMismatch extends Error {}

function sessionBroken(err: unknown): boolean {
  if (err instanceof ResumeMismatch) return true;
  if (err instanceof RegistryHttpError) return [400, 404, 416].includes(err.status) || err.codes.some((c) => /BLOB_UPLOAD|DIGEST_INVALID|SIZE_INVALID/.test(c));
  return false;
}

function retryable(err: unknown): boolean {
  if (err instanceof SourceError) return false;
  if (err instanceof ResumeMismatch) return true;
  if (err instanceof RegistryHttpError) return err.status >= 500 || sessionBroken(err);
  // A push also waits out a registry that refuses connections while it restarts.
  return isBrokenConnection(err) || (err as { code?: string }).code === 'ECONNREFUSED' || /socket hang up|aborted/i.test((err as Error).message);
}
