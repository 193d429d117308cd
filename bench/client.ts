// Small registry client for setting up benchmark data (not for timing large transfers: those use curl).
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { MEDIA, sha256 } from '../test/helpers/images.ts';

export class HttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

async function expectStatus(res: Response, ok: number[], what: string): Promise<void> {
  if (!ok.includes(res.status)) {
    const body = await res.text().catch(() => '');
    throw new HttpError(`${what}: HTTP ${res.status} ${body.slice(0, 300)}`, res.status);
  }
}

/** POST /blobs/uploads/ and return the absolute upload URL (Location may be relative). */
export async function startUpload(base: string, repo: string, query = ''): Promise<{ status: number; location: string }> {
  const res = await fetch(`${base}/v2/${repo}/blobs/uploads/${query}`, { method: 'POST', headers: { 'Content-Length': '0' } });
  await res.arrayBuffer();
  const loc = res.headers.get('location');
  if (!(res.status === 202 || res.status === 201) || !loc) throw new HttpError(`POST upload ${repo}: HTTP ${res.status}`, res.status);
  return { status: res.status, location: new URL(loc, base).toString() };
}

export function withDigest(location: string, digest: string): string {
  const u = new URL(location);
  u.searchParams.set('digest', digest);
  return u.toString();
}

/** Monolithic upload of a small in-memory blob (POST, then PUT ?digest=). */
export async function pushBlob(base: string, repo: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const { location } = await startUpload(base, repo);
  const res = await fetch(withDigest(location, digest), {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: bytes(data),
  });
  await expectStatus(res, [201], `PUT blob ${repo}`);
  await res.arrayBuffer();
  return digest;
}

const bytes = (b: Buffer): Uint8Array<ArrayBuffer> => new Uint8Array(b);

/** Cross-repository mount; falls back to a real upload if the server answers 202 (no mount). True if mounted. */
export async function mountBlob(base: string, repo: string, digest: string, from: string, data?: Buffer): Promise<boolean> {
  const q = `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
  const res = await fetch(`${base}/v2/${repo}/blobs/uploads/${q}`, { method: 'POST', headers: { 'Content-Length': '0' } });
  await res.arrayBuffer();
  if (res.status === 201) return true;
  if (res.status === 202 && data) {
    const loc = new URL(res.headers.get('location')!, base).toString();
    const put = await fetch(withDigest(loc, digest), { method: 'PUT', body: bytes(data), headers: { 'Content-Type': 'application/octet-stream' } });
    await expectStatus(put, [201], `PUT blob after refused mount ${repo}`);
    await put.arrayBuffer();
    return false;
  }
  throw new HttpError(`mount ${digest} into ${repo}: HTTP ${res.status}`, res.status);
}

export async function putManifest(base: string, repo: string, ref: string, body: string, mediaType = MEDIA.ociManifest): Promise<void> {
  const res = await fetch(`${base}/v2/${repo}/manifests/${ref}`, {
    method: 'PUT',
    headers: { 'Content-Type': mediaType },
    body,
  });
  await expectStatus(res, [201], `PUT manifest ${repo}:${ref}`);
  await res.arrayBuffer();
}

export interface TinyImage {
  config: Buffer;
  layer: Buffer;
  configDigest: string;
  layerDigest: string;
  manifest: string;
}

/** A minimal valid OCI image: a JSON config and one small (not really tar) layer. */
export function tinyImage(): TinyImage {
  const layer = randomBytes(1024);
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }),
  );
  const configDigest = sha256(config);
  const layerDigest = sha256(layer);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: MEDIA.ociConfig, digest: configDigest, size: config.length },
    layers: [{ mediaType: MEDIA.ociLayerGzip, digest: layerDigest, size: layer.length }],
  });
  return { config, layer, configDigest, layerDigest, manifest };
}

export async function pushTinyImage(base: string, repo: string, tag: string, img: TinyImage): Promise<void> {
  await pushBlob(base, repo, img.config);
  await pushBlob(base, repo, img.layer);
  await putManifest(base, repo, tag, img.manifest);
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T>(items: Iterable<T>, limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const it = items[Symbol.iterator]();
  let failure: unknown;
  const worker = async () => {
    for (;;) {
      if (failure) return;
      const next = it.next();
      if (next.done) return;
      try {
        await fn(next.value);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  if (failure) throw failure;
}

const children = new Set<ChildProcess>();

/** Kills the commands run() started that are still running (on Ctrl-C). */
export function killChildren(): void {
  for (const c of children) c.kill('SIGTERM');
}

/** Runs a command, resolving with its stdout; rejects with stderr on a non-zero exit. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<string> {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    child.on('exit', () => children.delete(child));
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b));
    child.stderr.on('data', (b: Buffer) => (err += b));
    child.on('error', fail);
    child.on('close', (code, sig) =>
      code === 0 ? ok(out) : fail(new Error(`${cmd} ${args.join(' ')} -> ${code ?? sig}: ${err.slice(-2000)}`)),
    );
  });
}

export const median = (xs: number[]): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const percentile = (xs: number[], p: number): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};

export const log = (msg: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

/**
 * Writes and deletes `bytes` of scratch data. On this machine (a VM whose memory the host backs
 * lazily) page cache that grows into memory not touched recently costs 4-16 s of system time per
 * GiB in the writing process, while reusing just-freed pages costs 0.4 s (dd, measured): without
 * this, whichever registry's upload happens to grow the page cache is charged for the VM, not for
 * its own work. Every server gets the same treatment before every timed write (docs/benchmark.md).
 */
export async function prewarmPageCache(dir: string, bytes: number): Promise<void> {
  const scratch = join(dir, 'prewarm.bin');
  await run('dd', ['if=/dev/zero', `of=${scratch}`, 'bs=1M', `count=${Math.ceil(bytes / (1024 * 1024))}`, 'status=none']);
  await rm(scratch, { force: true });
  await run('sync', []);
}
