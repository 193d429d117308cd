// One large blob, uploaded monolithically (POST, then PUT ?digest= streamed by curl from a file)
// and in 8 MiB PATCH chunks (bench/chunked-upload.mjs), then downloaded (curl to /dev/null),
// against each registry. Uploads report MB/s and the registry process's CPU seconds per GiB, with
// `openssl dgst -sha256` on the same file as the hashing ceiling; nginx serving the file with
// sendfile is the download reference, nginx discarding a PUT body shows curl's own ceiling, and
// bench/chunked-sink.mjs (discarding, or only hashing) that of the chunked client.
import { spawn } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { log, median, prewarmPageCache, run, startUpload, withDigest } from './client.ts';
import { processUserSystemSeconds } from './cpu.ts';
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

interface UploadRun {
  /** MB/s from the POST to the final PUT's answer. */
  mbps: number;
  /** CPU seconds (user + system) the registry process spent per GiB uploaded. */
  cpuPerGiB: number;
  /** The system (kernel) part of it: on this VM mostly page-cache growth (docs/benchmark.md). */
  systemPerGiB: number;
}

const CHUNK = 8 * MiB;
const chunkedClient = join(dirname(fileURLToPath(import.meta.url)), 'chunked-upload.mjs');

/** POST, then the whole file as the body of PUT ?digest= (curl streams it from disk). */
async function monolithic(s: Server, file: string, digest: string, bytes: number): Promise<number> {
  const t0 = performance.now();
  const { location } = await startUpload(s.url, REPO);
  const post = (performance.now() - t0) / 1000;
  const r = await curl([...W, '-X', 'PUT', '-T', file, '-H', 'Content-Type: application/octet-stream', withDigest(location, digest)]);
  if (r.code !== 201) throw new Error(`${s.name}: PUT blob answered ${r.code}`);
  if (r.bytes !== bytes) throw new Error(`${s.name}: curl sent ${r.bytes} of ${bytes} bytes`);
  return post + r.seconds;
}

/** POST, 8 MiB PATCHes with Content-Range, PUT ?digest= (bench/chunked-upload.mjs, its own process). */
async function chunked(baseUrl: string, file: string, digest: string): Promise<number> {
  const out = await run(process.execPath, [chunkedClient, baseUrl, `${REPO}-chunked`, file, digest, String(CHUNK)]);
  return Number(out.trim());
}

const chunkedSinkScript = join(dirname(fileURLToPath(import.meta.url)), 'chunked-sink.mjs');
type SinkMode = 'discard' | 'hash';

/**
 * The chunked client's MB/s into bench/chunked-sink.mjs, `reps` times. The sink runs only for
 * these uploads, so that nothing it does afterwards (collecting the garbage of the 1 GiB it just
 * took, say) lands in a registry's timed upload: with the sinks left running between repetitions,
 * berth's chunked CPU per GiB measured 1.49-1.89 s in two runs, against 1.45-1.48 without them.
 */
async function chunkedIntoSink(mode: SinkMode, file: string, digest: string, bytes: number, reps: number): Promise<number[]> {
  const child = spawn(process.execPath, [chunkedSinkScript, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const port = await new Promise<string>((resolve, reject) => {
      child.once('error', reject);
      void exited.then(() => reject(new Error(`chunked-sink.mjs ${mode} exited before listening`)));
      child.stdout.once('data', (b: Buffer) => resolve(b.toString().trim()));
    });
    const mbps: number[] = [];
    for (let i = 0; i < reps; i++) mbps.push(bytes / 1e6 / (await chunked(`http://127.0.0.1:${port}`, file, digest)));
    return mbps;
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function upload(ctx: Ctx, s: Server, kind: 'monolithic' | 'chunked', file: string, digest: string, bytes: number): Promise<UploadRun> {
  await prewarmPageCache(ctx.work, bytes);
  const cpu0 = processUserSystemSeconds(s.pid);
  const seconds = kind === 'monolithic' ? await monolithic(s, file, digest, bytes) : await chunked(s.url, file, digest);
  const cpu1 = processUserSystemSeconds(s.pid);
  const gib = bytes / (1024 * MiB);
  const system = cpu1.system - cpu0.system;
  return { mbps: bytes / 1e6 / seconds, cpuPerGiB: (cpu1.user - cpu0.user + system) / gib, systemPerGiB: system / gib };
}

/** `openssl dgst -sha256` on the file (in the page cache): the hashing ceiling an upload has. */
async function opensslMBps(file: string, bytes: number, reps: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run('openssl', ['dgst', '-sha256', file]);
    times.push((performance.now() - t0) / 1000);
  }
  return bytes / 1e6 / median(times);
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
  const cpu: Record<string, number[]> = {};
  const sys: Record<string, number[]> = {};
  let hashing: number | undefined;
  const down: Record<string, number[]> = {};
  const live = TARGETS.filter((t) => ctx.servers[t]);
  const failed = new Set<string>();
  const getReps = Math.max(5, ctx.sizes.reps);
  try {
    ctx.phase('blob-upload');
    for (let i = 0; i < ctx.sizes.reps; i++) {
      for (const kind of ['monolithic', 'chunked'] as const) {
        for (const t of live) {
          if (failed.has(t)) continue;
          try {
            const r = await upload(ctx, ctx.servers[t]!, kind, file, digest, bytes);
            (up[`${kind}:${t}`] ??= []).push(r.mbps);
            (cpu[`${kind}:${t}`] ??= []).push(r.cpuPerGiB);
            (sys[`${kind}:${t}`] ??= []).push(r.systemPerGiB);
            log(`blob ${kind} upload ${t} #${i + 1}: ${r.mbps.toFixed(0)} MB/s, ${r.cpuPerGiB.toFixed(2)} CPU s/GiB (${r.systemPerGiB.toFixed(2)} of it system)`);
          } catch (e) {
            failed.add(t);
            ctx.error(`blob ${kind} upload ${t}: ${(e as Error).message}`);
          }
        }
      }
      await run('sync', []);
      const r = await curl([...W, '-X', 'PUT', '-T', file, '-H', 'Content-Type: application/octet-stream', nginx.url + '/sink']);
      (up.nginx ??= []).push(bytes / 1e6 / r.seconds);
    }
    for (const mode of ['discard', 'hash'] as const) up[`sink:${mode}`] = await chunkedIntoSink(mode, file, digest, bytes, ctx.sizes.reps);
    const openssl = await opensslMBps(file, bytes, ctx.sizes.reps);
    log(`blob: openssl dgst -sha256 hashes the file at ${openssl.toFixed(0)} MB/s`);
    hashing = openssl;
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
  const n = ctx.sizes.reps;
  const rows: Row[] = [get];
  for (const kind of ['monolithic', 'chunked'] as const) {
    const label = kind === 'monolithic' ? `monolithic upload ${bytes / MiB} MiB (median of ${n})` : `chunked upload ${bytes / MiB} MiB, ${CHUNK / MiB} MiB PATCHes (median of ${n})`;
    const put: Row = {
      bench: 'blob',
      metric: label,
      unit: 'MB/s',
      better: 'higher',
      distribution: m(up[`${kind}:distribution`], n),
      berth: m(up[`${kind}:berth`], n),
      reference: hashing,
      referenceName: 'openssl sha256',
      target: '>= 3x dist and >= 60% openssl',
    };
    const vDist = atLeast(put, 3);
    const vHash: Verdict = put.berth === undefined || put.reference === undefined ? 'n/a' : put.berth >= 0.6 * put.reference ? 'PASS' : 'FAIL';
    put.verdict = vDist === 'FAIL' || vHash === 'FAIL' ? 'FAIL' : vDist === 'n/a' || vHash === 'n/a' ? 'n/a' : 'PASS';
    const notes: string[] = [];
    if (put.berth !== undefined && put.reference) notes.push(`berth is ${((100 * put.berth) / put.reference).toFixed(0)}% of openssl's hashing speed`);
    if (kind === 'monolithic' && up.nginx?.length) notes.push(`the client (curl -T) reaches ${median(up.nginx).toFixed(0)} MB/s into nginx discarding the body`);
    if (kind === 'chunked' && up['sink:discard']?.length && up['sink:hash']?.length) {
      const hashOnly = median(up['sink:hash']);
      const share = put.reference ? ` (${((100 * hashOnly) / put.reference).toFixed(0)}% of openssl)` : '';
      notes.push(`the client (bench/chunked-upload.mjs) reaches ${median(up['sink:discard']).toFixed(0)} MB/s into a server that discards the body, and ${hashOnly.toFixed(0)} MB/s${share} into one that only hashes it (node:crypto on its event loop) and stores nothing (bench/chunked-sink.mjs)`);
    }
    put.note = notes.join('; ') || undefined;
    rows.push(put);
    const cost: Row = {
      bench: 'blob',
      metric: `${kind} upload: registry CPU per GiB (median of ${n})`,
      unit: 's',
      better: 'lower',
      distribution: m(cpu[`${kind}:distribution`], n),
      berth: m(cpu[`${kind}:berth`], n),
      target: 'berth <= 1.5 s',
    };
    cost.verdict = cost.berth === undefined ? 'n/a' : cost.berth <= 1.5 ? 'PASS' : 'FAIL';
    const sysB = m(sys[`${kind}:berth`], n);
    const sysD = m(sys[`${kind}:distribution`], n);
    if (sysB !== undefined && sysD !== undefined) cost.note = `system (kernel) part, median: berth ${sysB.toFixed(2)} s, distribution ${sysD.toFixed(2)} s (page-cache growth on this VM lands there; see docs/benchmark.md)`;
    rows.push(cost);
  }
  return rows;
};
