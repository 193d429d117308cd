// `--only=clients` (issue 14): many clients at once, as a cluster deploy pulls and CI pushes.
// Pull: N fresh clients (1, 8, 32, 64) pull the same multi-layer image at once (GET /v2/, manifest,
// config, every layer). Push: N fresh clients (1, 8, 32) each push a different image at once
// (POST + monolithic PUT per blob, then the manifest), into fresh repositories every round. Per
// registry and N: aggregate MiB/s, p50/p99 of the time each client took, failed clients, the
// server's peak RSS and CPU, and the client threads' CPU (to see when the client was the limit).
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { MEDIA, sha256 } from '../test/helpers/images.ts';
import { log, percentile, run } from './client.ts';
import { MiB, TARGETS, type Bench, type Ctx, type Target } from './context.ts';
import { processCpuSeconds } from './cpu.ts';
import { ClientThreads, type ClientResult, type PushBlob, type PushClient } from './many-clients-threads.ts';
import { atLeast, fmt, type Row, type Table, type Verdict } from './report.ts';
import { RssSampler, rssParts } from './rss.ts';

const PULL_CLIENTS = [1, 8, 32, 64];
const PUSH_CLIENTS = [1, 8, 32];
const PULL_REPO = 'bench/clients-pull';
const ACCEPT = [MEDIA.ociManifest, MEDIA.ociIndex, MEDIA.dockerManifest, MEDIA.dockerList].join(', ');
/** The memory target for berth: peak RSS under load, and RSS once idle again. */
const PEAK_RSS_MIB = 80;
const IDLE_RSS_MIB = 50;
const IDLE_WAIT_MS = 5000;

type Direction = 'pull' | 'push';

interface Round {
  dir: Direction;
  n: number;
  target: Target;
  /** MiB/s: bytes moved by successful clients / (last client's end - first client's start). */
  aggregate?: number;
  /** Seconds per client, over successful clients. */
  p50?: number;
  p99?: number;
  failed: number;
  /** Cores (CPU seconds / wall seconds) the server and this process (the client threads) used. */
  serverCores: number;
  clientCores: number;
  rssPeak?: number;
}

interface Image {
  blobs: PushBlob[];
  manifest: string;
  bytes: number;
}

/** An OCI image of `layers` generated layers totalling `bytes`; seeds make every image distinct. */
async function makeImage(threads: ClientThreads, name: string, bytes: number, layers: number): Promise<Image> {
  const size = Math.floor(bytes / layers);
  const specs = Array.from({ length: layers }, (_, i) => ({ seed: `${name}/layer-${i}`, size }));
  const digests = await threads.digests(specs);
  const layerBlobs = specs.map((s, i) => ({ ...s, digest: digests[i] }));
  return imageOf(name, layerBlobs);
}

function imageOf(name: string, layers: PushBlob[]): Image {
  const text = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Labels: { 'bench.image': name } },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
  });
  const config: PushBlob = { text, digest: sha256(text), size: Buffer.byteLength(text) };
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: MEDIA.ociConfig, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: MEDIA.ociLayerGzip, digest: l.digest, size: l.size })),
  });
  const bytes = [config, ...layers].reduce((n, b) => n + b.size, 0) + Buffer.byteLength(manifest);
  return { blobs: [config, ...layers], manifest, bytes };
}

const pushClient = (repo: string, img: Image): PushClient => ({
  repo,
  tag: 'v1',
  blobs: img.blobs,
  manifest: img.manifest,
  manifestType: MEDIA.ociManifest,
});

/** An untimed pull that hashes everything: the timed pulls only count bytes. */
async function verifyPull(base: string, img: Image): Promise<void> {
  const m = await fetch(`${base}/v2/${PULL_REPO}/manifests/v1`, { headers: { Accept: ACCEPT } });
  const text = await m.text();
  if (m.status !== 200 || text !== img.manifest) throw new Error(`GET manifest: HTTP ${m.status}, ${text === img.manifest ? 'same' : 'different'} bytes`);
  for (const b of img.blobs) {
    const res = await fetch(`${base}/v2/${PULL_REPO}/blobs/${b.digest}`);
    if (res.status !== 200 || !res.body) throw new Error(`GET blob ${b.digest}: HTTP ${res.status}`);
    const h = createHash('sha256');
    for await (const c of res.body) h.update(c as Uint8Array);
    const got = `sha256:${h.digest('hex')}`;
    if (got !== b.digest) throw new Error(`GET blob ${b.digest} returned content with digest ${got}`);
  }
}

function summarize(results: ClientResult[]): Pick<Round, 'aggregate' | 'p50' | 'p99' | 'failed'> {
  const ok = results.filter((r) => r.ok);
  if (!ok.length) return { failed: results.length };
  const span = (Math.max(...ok.map((r) => r.end)) - Math.min(...ok.map((r) => r.start))) / 1000;
  const times = ok.map((r) => (r.end - r.start) / 1000);
  return {
    aggregate: ok.reduce((n, r) => n + r.bytes, 0) / MiB / span,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    failed: results.length - ok.length,
  };
}

export const manyClients: Bench = async (ctx: Ctx) => {
  const { imageBytes, imageLayers } = ctx.sizes;
  const pushBytes = (ctx.quick ? 16 : 64) * MiB;
  const live = TARGETS.filter((t) => ctx.servers[t]);
  // Two threads on two cores: enough to keep 64 connections busy without starving the servers.
  const threads = new ClientThreads(Math.max(2, Math.min(4, availableParallelism())));
  // Our own samplers, 100 ms apart: a 1-client round can be over in a fraction of a second.
  const samplers = Object.fromEntries(live.map((t) => [t, new RssSampler(ctx.servers[t]!.pid, 100)])) as Record<Target, RssSampler>;
  const idleBefore = Object.fromEntries(live.map((t) => [t, samplers[t].sample()])) as Record<Target, number>;
  const rounds: Round[] = [];
  try {
    log(`clients: generating a ${imageBytes / MiB} MiB ${imageLayers}-layer image and pushing it to each registry`);
    const pullImage = await makeImage(threads, 'pull', imageBytes, imageLayers);
    const canPull: Target[] = [];
    for (const t of live) {
      const base = ctx.servers[t]!.url;
      try {
        const [r] = await threads.push(base, [pushClient(PULL_REPO, pullImage)]);
        if (!r.ok) throw new Error(r.error);
        await verifyPull(base, pullImage);
        canPull.push(t);
      } catch (e) {
        ctx.error(`clients: pushing and checking the pull image on ${t}: ${(e as Error).message}`);
      }
    }

    const timed = async (dir: Direction, n: number, t: Target, go: () => Promise<ClientResult[]>) => {
      const s = ctx.servers[t]!;
      await run('sync', []);
      ctx.phase(`clients-${dir}-${n}`);
      samplers[t].setPhase(`${dir}-${n}`);
      const c0 = process.cpuUsage();
      const s0 = processCpuSeconds(s.pid);
      const t0 = performance.now();
      const results = await go();
      const wall = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      const serverCores = (processCpuSeconds(s.pid) - s0) / wall;
      samplers[t].setPhase('between');
      const round: Round = { dir, n, target: t, ...summarize(results), serverCores, clientCores: (c.user + c.system) / 1e6 / wall };
      rounds.push(round);
      const failures = results.filter((r) => !r.ok);
      if (failures.length) ctx.error(`clients ${dir} ${n} ${t}: ${failures.length} of ${n} clients failed; first: ${failures[0].error}`);
      log(
        `clients ${dir} ${n} ${t}: ${fmt(round.aggregate)} MiB/s, p50 ${fmt(round.p50)} s, p99 ${fmt(round.p99)} s, ` +
          `${round.failed} failed, server ${serverCores.toFixed(2)} cores, client ${round.clientCores.toFixed(2)} cores`,
      );
    };

    // Interleaved: each N runs on both registries before the next N, and who goes first alternates.
    const order = (i: number, ts: Target[]) => (i % 2 ? [...ts].reverse() : ts);
    for (const [i, n] of PULL_CLIENTS.entries()) {
      for (const t of order(i, canPull)) {
        const clients = Array.from({ length: n }, () => ({ repo: PULL_REPO, tag: 'v1', accept: ACCEPT }));
        await timed('pull', n, t, () => threads.pull(ctx.servers[t]!.url, clients));
      }
    }
    for (const [i, n] of PUSH_CLIENTS.entries()) {
      // Distinct content per client and round; both registries get the same images (each its own copy).
      log(`clients: generating ${n} distinct ${pushBytes / MiB} MiB images`);
      const images = await Promise.all(Array.from({ length: n }, (_, k) => makeImage(threads, `push-${n}-${k}`, pushBytes, imageLayers)));
      for (const t of order(i, live)) {
        const clients = images.map((img, k) => pushClient(`bench/clients-push-${n}-${k}`, img));
        await timed('push', n, t, () => threads.push(ctx.servers[t]!.url, clients));
      }
    }
    ctx.phase('clients-idle');
    await new Promise((r) => setTimeout(r, IDLE_WAIT_MS));
  } finally {
    await threads.close();
  }
  const idleAfter = Object.fromEntries(live.map((t) => [t, samplers[t].sample()])) as Record<Target, number>;
  const idleParts = Object.fromEntries(live.map((t) => [t, rssParts(ctx.servers[t]!.pid)])) as Partial<Record<Target, { anon: number; file: number }>>;
  for (const t of live) {
    const byPhase = samplers[t].finish().byPhase;
    for (const r of rounds) if (r.target === t) r.rssPeak = byPhase[`${r.dir}-${r.n}`];
  }
  return rows(rounds, { pullMiB: imageBytes / MiB, pushMiB: pushBytes / MiB, layers: imageLayers, idleBefore, idleAfter, idleParts });
};

function rows(
  rounds: Round[],
  o: { pullMiB: number; pushMiB: number; layers: number; idleBefore: Partial<Record<Target, number>>; idleAfter: Partial<Record<Target, number>>; idleParts: Partial<Record<Target, { anon: number; file: number }>> },
): Row[] {
  const get = (dir: Direction, n: number, t: Target) => rounds.find((r) => r.dir === dir && r.n === n && r.target === t);
  const out: Row[] = [];
  const curve = (dir: Direction, ns: number[], what: string, targetN: number) => {
    for (const n of ns) {
      const label = `${dir} ${n} client${n > 1 ? 's' : ''}`;
      const pick = (k: 'aggregate' | 'p99' | 'failed' | 'rssPeak', scale = 1) => ({
        distribution: scaled(get(dir, n, 'distribution')?.[k], scale),
        berth: scaled(get(dir, n, 'berth')?.[k], scale),
      });
      const agg: Row = { bench: 'clients', metric: `${label} x ${what}: aggregate`, unit: 'MiB/s', better: 'higher', ...pick('aggregate') };
      const p99: Row = { bench: 'clients', metric: `${label}: p99 time per client`, unit: 's', better: 'lower', ...pick('p99') };
      out.push(agg, p99);
      if (n !== targetN) continue;
      agg.target = '>= dist';
      agg.verdict = atLeast(agg, 1);
      p99.target = '<= dist';
      p99.verdict = notAbove(p99);
      const b = get(dir, n, 'berth');
      if (b) agg.note = `client threads used ${b.clientCores.toFixed(2)} cores and berth ${b.serverCores.toFixed(2)} (distribution's run: ${fmtCores(get(dir, n, 'distribution'))})`;
      const failed: Row = { bench: 'clients', metric: `${label}: failed clients`, unit: 'clients', better: 'lower', ...pick('failed'), target: 'berth 0' };
      failed.verdict = failed.berth === undefined ? 'n/a' : failed.berth === 0 ? 'PASS' : 'FAIL';
      const rss: Row = { bench: 'clients', metric: `${label}: server peak RSS`, unit: 'MiB', better: 'lower', ...pick('rssPeak', 1 / MiB) };
      rss.target = `berth <= ${PEAK_RSS_MIB} MiB`;
      rss.verdict = rss.berth === undefined ? 'n/a' : rss.berth <= PEAK_RSS_MIB ? 'PASS' : 'FAIL';
      out.push(failed, rss);
    }
  };
  curve('pull', PULL_CLIENTS, `${o.pullMiB} MiB ${o.layers}-layer image`, 64);
  curve('push', PUSH_CLIENTS, `distinct ${o.pushMiB} MiB ${o.layers}-layer images`, 32);
  const idle: Row = {
    bench: 'clients',
    metric: `server RSS ${IDLE_WAIT_MS / 1000} s after the last round`,
    unit: 'MiB',
    better: 'lower',
    distribution: scaled(o.idleAfter.distribution, 1 / MiB),
    berth: scaled(o.idleAfter.berth, 1 / MiB),
    target: `berth <= ${IDLE_RSS_MIB} MiB`,
  };
  idle.verdict = idle.berth === undefined ? 'n/a' : idle.berth <= IDLE_RSS_MIB ? 'PASS' : 'FAIL';
  const parts = (t: Target) => {
    const p = o.idleParts[t];
    return p ? ` (${fmt(p.anon / MiB)} anonymous + ${fmt(p.file / MiB)} file-backed: the executable's and libraries' pages)` : '';
  };
  idle.note = `before the first round: distribution ${fmt(scaled(o.idleBefore.distribution, 1 / MiB))} MiB, berth ${fmt(scaled(o.idleBefore.berth, 1 / MiB))} MiB; after: distribution${parts('distribution')}, berth${parts('berth')}`;
  out.push(idle);
  out[0].table = table(rounds, o.pullMiB, o.pushMiB);
  return out;
}

const scaled = (v: number | undefined, k: number) => (v === undefined ? undefined : v * k);
const fmtCores = (r?: Round) => (r ? `client ${r.clientCores.toFixed(2)}, server ${r.serverCores.toFixed(2)}` : '-');

/** "At most distribution's" on a lower-is-better row (report.ts's lower() is strict). */
function notAbove(row: Row): Verdict {
  if (row.berth === undefined || row.distribution === undefined) return 'n/a';
  return row.berth <= row.distribution ? 'PASS' : 'FAIL';
}

function table(rounds: Round[], pullMiB: number, pushMiB: number): Table {
  const key = (r: Round) => [r.dir === 'pull' ? 0 : 1, r.n, TARGETS.indexOf(r.target)];
  const sorted = [...rounds].sort((a, b) => key(a).reduce((d, v, i) => d || v - key(b)[i], 0));
  return {
    title: `Many clients (clients): per registry and client count (pull: the same ${pullMiB} MiB image; push: a distinct ${pushMiB} MiB image per client)`,
    head: ['direction', 'clients', 'registry', 'aggregate MiB/s', 'p50 s', 'p99 s', 'failed', 'peak RSS MiB', 'server cores', 'client cores'],
    numeric: [1, 3, 4, 5, 6, 7, 8, 9],
    rows: sorted.map((r) => [
      r.dir,
      String(r.n),
      r.target,
      fmt(r.aggregate),
      fmt(r.p50),
      fmt(r.p99),
      String(r.failed),
      fmt(scaled(r.rssPeak, 1 / MiB)),
      r.serverCores.toFixed(2),
      r.clientCores.toFixed(2),
    ]),
  };
}
