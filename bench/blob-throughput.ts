// Rows 1 and 2: one large blob, uploaded monolithically (POST, then PUT ?digest= streamed by curl
// from a file) and downloaded (curl to /dev/null), against each registry; nginx serving the same
// file with sendfile is the download reference, and nginx discarding a PUT body is the upload
// client's ceiling.
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { log, median, run, startUpload, withDigest } from './client.ts';
import { MiB, TARGETS, type Bench, type Ctx } from './context.ts';
import { atLeast, type Row, type Verdict } from './report.ts';
import { startNginx, type Server } from './servers.ts';

const REPO = 'bench/blob';

/** Writes `bytes` of incompressible data (AES-CTR keystream) and returns its sha256 digest. */
export function makeRandomFile(path: string, bytes: number): string {
  const cipher = createCipheriv('aes-128-ctr', randomBytes(16), randomBytes(16));
  const zeros = Buffer.alloc(16 * MiB);
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  try {
    for (let left = bytes; left > 0; ) {
      const n = Math.min(left, zeros.length);
      const chunk = cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n));
      hash.update(chunk);
      for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
  return `sha256:${hash.digest('hex')}`;
}

interface CurlResult {
  code: number;
  seconds: number;
  bytes: number;
}

async function curl(args: string[]): Promise<CurlResult> {
  const out = await run('curl', ['-sS', '-o', '/dev/null', '-H', 'Expect:', ...args]);
  const [code, seconds, up, down] = out.trim().split(/\s+/).map(Number);
  return { code, seconds, bytes: Math.max(up, down) };
}

const W = ['-w', '%{http_code} %{time_total} %{size_upload} %{size_download}'];

async function upload(s: Server, file: string, digest: string, bytes: number): Promise<number> {
  await run('sync', []);
  const t0 = performance.now();
  const { location } = await startUpload(s.url, REPO);
  const post = (performance.now() - t0) / 1000;
  const r = await curl([...W, '-X', 'PUT', '-T', file, '-H', 'Content-Type: application/octet-stream', withDigest(location, digest)]);
  if (r.code !== 201) throw new Error(`${s.name}: PUT blob answered ${r.code}`);
  if (r.bytes !== bytes) throw new Error(`${s.name}: curl sent ${r.bytes} of ${bytes} bytes`);
  return bytes / 1e6 / (post + r.seconds);
}

async function download(url: string, name: string, bytes: number): Promise<number> {
  await run('sync', []);
  const r = await curl([...W, '-L', url]);
  if (r.code !== 200) throw new Error(`${name}: GET blob answered ${r.code}`);
  if (r.bytes !== bytes) throw new Error(`${name}: GET blob returned ${r.bytes} of ${bytes} bytes`);
  return bytes / 1e6 / r.seconds;
}

async function verify(url: string, digest: string): Promise<void> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`GET ${url}: ${res.status}`);
  const h = createHash('sha256');
  for await (const c of res.body) h.update(c as Uint8Array);
  const got = `sha256:${h.digest('hex')}`;
  if (got !== digest) throw new Error(`GET ${url} returned content with digest ${got}, expected ${digest}`);
}

export const blobThroughput: Bench = async (ctx: Ctx) => {
  const bytes = ctx.sizes.blobBytes;
  const file = join(ctx.work, 'blob.bin');
  log(`blob: writing ${bytes / MiB} MiB of random data`);
  const digest = makeRandomFile(file, bytes);
  const nginx = await startNginx(join(ctx.work, 'nginx'), file);
  const up: Record<string, number[]> = {};
  const down: Record<string, number[]> = {};
  const live = TARGETS.filter((t) => ctx.servers[t]);
  const failed = new Set<string>();
  const getReps = Math.max(5, ctx.sizes.reps);
  try {
    ctx.phase('blob-upload');
    for (let i = 0; i < ctx.sizes.reps; i++) {
      for (const t of live) {
        if (failed.has(t)) continue;
        try {
          (up[t] ??= []).push(await upload(ctx.servers[t]!, file, digest, bytes));
          log(`blob upload ${t} #${i + 1}: ${up[t].at(-1)!.toFixed(0)} MB/s`);
        } catch (e) {
          failed.add(t);
          ctx.error(`blob upload ${t}: ${(e as Error).message}`);
        }
      }
      const r = await curl([...W, '-X', 'PUT', '-T', file, '-H', 'Content-Type: application/octet-stream', nginx.url + '/sink']);
      (up.nginx ??= []).push(bytes / 1e6 / r.seconds);
    }
    for (const t of live) {
      if (failed.has(t)) continue;
      try {
        await verify(`${ctx.servers[t]!.url}/v2/${REPO}/blobs/${digest}`, digest);
      } catch (e) {
        failed.add(t);
        ctx.error(`blob GET ${t} content check: ${(e as Error).message}`);
      }
    }
    ctx.phase('blob-get');
    // Downloads take about a second each and vary more (nginx above all): take more of them.
    for (let i = 0; i < getReps; i++) {
      for (const t of live) {
        if (failed.has(t)) continue;
        try {
          (down[t] ??= []).push(await download(`${ctx.servers[t]!.url}/v2/${REPO}/blobs/${digest}`, t, bytes));
          log(`blob GET ${t} #${i + 1}: ${down[t].at(-1)!.toFixed(0)} MB/s`);
        } catch (e) {
          failed.add(t);
          ctx.error(`blob GET ${t}: ${(e as Error).message}`);
        }
      }
      (down.nginx ??= []).push(await download(`${nginx.url}/blob`, 'nginx', bytes));
      log(`blob GET nginx #${i + 1}: ${down.nginx.at(-1)!.toFixed(0)} MB/s`);
    }
  } finally {
    await nginx.stop();
  }
  // A server that failed any repetition gets no number (its error is in the report).
  const m = (xs: number[] | undefined, n: number) => (xs?.length === n ? median(xs) : undefined);
  const get: Row = {
    bench: 'blob',
    metric: `GET ${bytes / MiB} MiB blob (median of ${getReps})`,
    unit: 'MB/s',
    better: 'higher',
    distribution: m(down.distribution, getReps),
    berth: m(down.berth, getReps),
    reference: m(down.nginx, getReps),
    referenceName: 'nginx',
    target: '>= dist and >= 80% nginx',
  };
  const v1 = atLeast(get, 1);
  const v2: Verdict = get.berth === undefined || get.reference === undefined ? 'n/a' : get.berth >= 0.8 * get.reference ? 'PASS' : 'FAIL';
  get.verdict = v1 === 'FAIL' || v2 === 'FAIL' ? 'FAIL' : v1 === 'n/a' || v2 === 'n/a' ? 'n/a' : 'PASS';
  if (get.berth !== undefined && get.reference) get.note = `berth is ${((100 * get.berth) / get.reference).toFixed(0)}% of nginx`;
  const put: Row = {
    bench: 'blob',
    metric: `monolithic upload ${bytes / MiB} MiB (median of ${ctx.sizes.reps})`,
    unit: 'MB/s',
    better: 'higher',
    distribution: m(up.distribution, ctx.sizes.reps),
    berth: m(up.berth, ctx.sizes.reps),
    reference: m(up.nginx, ctx.sizes.reps),
    referenceName: 'client max',
    target: '>= 2x dist',
  };
  put.verdict = atLeast(put, 2);
  return [get, put];
};
