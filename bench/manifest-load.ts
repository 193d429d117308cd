// Row 4: manifest GET and HEAD by tag under 64 concurrent keep-alive connections.
// GET uses wrk (-c64 -t2, Lua script for the Accept header). wrk 4.1 cannot do HEAD (it waits for a
// body of Content-Length bytes and never completes a request), so HEAD, and GET again for a like-for-like
// comparison, use the raw-socket node load generator in loadgen.ts.
import { join } from 'node:path';
import { log, pushTinyImage, tinyImage } from './client.ts';
import { TARGETS, type Bench, type Target } from './context.ts';
import { atLeast, lower, type Row } from './report.ts';
import { nodeLoad, wrkLoad, type LoadResult } from './loadgen.ts';
import { manifestPolicyRows } from './manifest-policy.ts';

const REPO = 'bench/manifest';
const ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export const manifestLoad: Bench = async (ctx) => {
  const img = tinyImage();
  const live: Target[] = [];
  for (const t of TARGETS) {
    const s = ctx.servers[t];
    if (!s) continue;
    try {
      await pushTinyImage(s.url, REPO, 'latest', img);
      for (const method of ['GET', 'HEAD']) {
        const res = await fetch(`${s.url}/v2/${REPO}/manifests/latest`, { method, headers: { Accept: ACCEPT } });
        const body = await res.text();
        if (res.status !== 200) throw new Error(`${method} manifest: HTTP ${res.status} ${body.slice(0, 200)}`);
        if (method === 'GET' && body !== img.manifest) throw new Error('GET manifest returned different bytes');
        if (!res.headers.get('docker-content-digest')) ctx.note(`${t}: ${method} manifest has no Docker-Content-Digest header`);
      }
      live.push(t);
    } catch (e) {
      ctx.error(`manifest setup ${t}: ${(e as Error).message}`);
    }
  }
  const secs = ctx.sizes.wrkSeconds;
  const res: Record<string, Partial<Record<Target, LoadResult>>> = { wrkGet: {}, nodeGet: {}, nodeHead: {} };
  const runs: [keyof typeof res, (url: string) => Promise<LoadResult>][] = [
    [
      'wrkGet',
      (url) =>
        wrkLoad({ url, method: 'GET', headers: { Accept: ACCEPT }, connections: 64, threads: 2, seconds: secs, scriptPath: join(ctx.work, 'accept.lua') }),
    ],
    ['nodeHead', (url) => nodeLoad({ url, method: 'HEAD', headers: { Accept: ACCEPT }, connections: 64, threads: 2, seconds: secs })],
    ['nodeGet', (url) => nodeLoad({ url, method: 'GET', headers: { Accept: ACCEPT }, connections: 64, threads: 2, seconds: secs })],
  ];
  // Warm-up, not measured: JIT, caches and connection set-up should not land in the first run only.
  for (const t of live) {
    await nodeLoad({ url: `${ctx.servers[t]!.url}/v2/${REPO}/manifests/latest`, method: 'GET', headers: { Accept: ACCEPT }, connections: 64, threads: 2, seconds: 2 }).catch(
      () => undefined,
    );
  }
  for (const [key, fn] of runs) {
    for (const t of live) {
      ctx.phase(`manifest-${key}`);
      try {
        const r = await fn(`${ctx.servers[t]!.url}/v2/${REPO}/manifests/latest`);
        res[key][t] = r;
        log(`manifest ${key} ${t}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50ms.toFixed(2)} ms, p99 ${r.p99ms.toFixed(2)} ms, bad ${r.bad}`);
        if (r.bad) ctx.error(`manifest ${key} ${t}: ${r.bad} of ${r.requests} requests failed or were not 2xx ${r.detail}`);
      } catch (e) {
        ctx.error(`manifest ${key} ${t}: ${(e as Error).message}`);
      }
    }
  }
  const rows: Row[] = [];
  const add = (key: string, name: string, gated: boolean) => {
    const r = res[key];
    const rps: Row = {
      bench: 'manifest',
      metric: `${name} req/s`,
      unit: 'req/s',
      better: 'higher',
      distribution: r.distribution?.rps,
      berth: r.berth?.rps,
    };
    const p99: Row = {
      bench: 'manifest',
      metric: `${name} p99`,
      unit: 'ms',
      better: 'lower',
      distribution: r.distribution?.p99ms,
      berth: r.berth?.p99ms,
    };
    const p50 = (x?: LoadResult) => (x ? x.p50ms.toFixed(2) : '-');
    p99.note = `p50 ms: distribution ${p50(r.distribution)}, berth ${p50(r.berth)}; tool ${r.distribution?.tool ?? r.berth?.tool ?? '-'}`;
    if (gated) {
      rps.target = '>= 1.5x dist';
      rps.verdict = r.berth?.bad ? 'FAIL' : atLeast(rps, 1.5);
      p99.target = '< dist';
      p99.verdict = lower(p99);
    }
    rows.push(rps, p99);
  };
  add('wrkGet', 'GET by tag (wrk -c64)', true);
  add('nodeHead', 'HEAD by tag (node -c64)', true);
  add('nodeGet', 'GET by tag (node -c64)', false);
  // The server-side pull policy's cost, against the same GET without one (manifest-policy.ts).
  if (live.includes('berth')) rows.push(...(await manifestPolicyRows(ctx, REPO, ACCEPT)));
  return rows;
};
