// What Prometheus metrics (http.debug.prometheus.enabled) cost a manifest GET: two berth servers
// side by side on the same machine, one without metrics and one with them (scraped during the
// load, as Prometheus would), loaded alternately with GET by tag (node -c64, as the manifest row
// of `npm run bench`), several rounds each, so that drift on a busy machine hits both.
//
//   node --import tsx bench/manifest-metrics.ts               # 4 rounds of 10 s each way
//   BERTH_BENCH_ROUNDS=6 BERTH_BENCH_SECONDS=5 node --import tsx bench/manifest-metrics.ts
import { pathToFileURL } from 'node:url';
import { freePort, startBerth, type RunningServer } from '../test/helpers/processes.ts';
import { pushTinyImage, tinyImage } from './client.ts';
import { nodeLoad, type LoadResult } from './loadgen.ts';

const REPO = 'bench/manifest';
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
const QUIET = 'log: { level: warn, accesslog: { disabled: true } }\n';

export interface MetricsCost {
  off: LoadResult[];
  on: LoadResult[];
  /** Mean req/s with metrics over mean req/s without. */
  share: number;
}

export async function measureMetricsCost(options: { rounds?: number; seconds?: number; compiled?: boolean; log?: (l: string) => void } = {}): Promise<MetricsCost> {
  const rounds = options.rounds ?? 4;
  const seconds = options.seconds ?? 10;
  const say = options.log ?? (() => undefined);
  const servers: RunningServer[] = [];
  try {
    const env = { NODE_ENV: 'production' };
    const off = await startBerth({ configYaml: QUIET, env, compiled: options.compiled, startTimeoutMs: 60_000 });
    servers.push(off);
    const debugPort = await freePort();
    const on = await startBerth({ configYaml: `${QUIET}http: { debug: { addr: "127.0.0.1:${debugPort}", prometheus: { enabled: true } } }\n`, env, compiled: options.compiled, startTimeoutMs: 60_000 });
    servers.push(on);
    const img = tinyImage();
    for (const s of servers) await pushTinyImage(s.url, REPO, 'latest', img);
    const load = (s: RunningServer) => nodeLoad({ url: `${s.url}/v2/${REPO}/manifests/latest`, method: 'GET', headers: { Accept: ACCEPT }, connections: 64, threads: 2, seconds });
    // A scrape every second during the loads, as a Prometheus server would (every 15 s or so).
    let scraping = true;
    const scraper = (async () => {
      while (scraping) {
        await fetch(`http://127.0.0.1:${debugPort}/metrics`).then((r) => r.text(), () => undefined);
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    // Warm-up: JIT and caches on both.
    await load(off);
    await load(on);
    const result: MetricsCost = { off: [], on: [], share: 0 };
    try {
      for (let round = 0; round < rounds; round++) {
        // Alternate which goes first, so neither always follows the other.
        const order = round % 2 === 0 ? ([off, on] as const) : ([on, off] as const);
        for (const s of order) (s === off ? result.off : result.on).push(await load(s));
        say(`round ${round + 1}: without metrics ${result.off.at(-1)!.rps.toFixed(0)} req/s, with metrics ${result.on.at(-1)!.rps.toFixed(0)} req/s`);
      }
    } finally {
      scraping = false;
      await scraper;
    }
    for (const r of [...result.off, ...result.on]) if (r.bad) throw new Error(`${r.bad} of ${r.requests} requests failed ${r.detail}`);
    const mean = (rs: LoadResult[]) => rs.reduce((a, r) => a + r.rps, 0) / rs.length;
    result.share = mean(result.on) / mean(result.off);
    return result;
  } finally {
    for (const s of servers) await s.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  measureMetricsCost({
    rounds: process.env.BERTH_BENCH_ROUNDS ? Number(process.env.BERTH_BENCH_ROUNDS) : undefined,
    seconds: process.env.BERTH_BENCH_SECONDS ? Number(process.env.BERTH_BENCH_SECONDS) : undefined,
    compiled: process.env.BERTH_BENCH_COMPILED === '1',
    log: (l) => process.stderr.write(`${l}\n`),
  }).then(
    (r) => {
      const line = (name: string, rs: LoadResult[]) => {
        const rps = rs.map((x) => x.rps);
        const p99 = rs.map((x) => x.p99ms);
        return `${name}: mean ${(rps.reduce((a, b) => a + b, 0) / rps.length).toFixed(0)} req/s (${rps.map((x) => x.toFixed(0)).join(', ')}), p99 ms ${p99.map((x) => x.toFixed(1)).join(', ')}`;
      };
      process.stdout.write(`${line('without metrics', r.off)}\n${line('with metrics   ', r.on)}\nwith / without: ${(r.share * 100).toFixed(1)}%\n`);
    },
    (err: unknown) => {
      process.stderr.write(`manifest-metrics failed: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
