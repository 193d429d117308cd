// Closed-loop HTTP load with N connections over T worker threads (see loadgen-worker.mjs); and a
// wrapper that runs wrk and parses its output.
import { writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { run } from './client.ts';

export interface LoadResult {
  tool: string;
  requests: number;
  rps: number;
  p50ms: number;
  p99ms: number;
  /** Responses outside 2xx/3xx plus socket errors. */
  bad: number;
  detail: string;
}

interface WorkerResult {
  count: number;
  non2xx: number;
  errors: number;
  statuses: Record<string, number>;
  elapsedMs: number;
  hist: Uint32Array;
  binUs: number;
}

export async function nodeLoad(opts: {
  url: string;
  method: 'GET' | 'HEAD';
  headers: Record<string, string>;
  connections: number;
  threads: number;
  seconds: number;
}): Promise<LoadResult> {
  const u = new URL(opts.url);
  const per = Math.ceil(opts.connections / opts.threads);
  const results = await Promise.all(
    Array.from(
      { length: opts.threads },
      (_, i) =>
        new Promise<WorkerResult>((ok, fail) => {
          const w = new Worker(new URL('./loadgen-worker.mjs', import.meta.url), {
            execArgv: [],
            workerData: {
              host: u.hostname,
              port: Number(u.port),
              path: u.pathname + u.search,
              method: opts.method,
              headers: opts.headers,
              connections: Math.min(per, opts.connections - i * per),
              durationMs: opts.seconds * 1000,
            },
          });
          w.once('message', (m: WorkerResult) => {
            ok(m);
            void w.terminate();
          });
          w.once('error', fail);
        }),
    ),
  );
  const bins = results[0].hist.length;
  const hist = new Float64Array(bins);
  let count = 0;
  let bad = 0;
  const statuses: Record<string, number> = {};
  for (const r of results) {
    for (let i = 0; i < bins; i++) hist[i] += r.hist[i];
    count += r.count;
    bad += r.non2xx + r.errors;
    for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  }
  const pct = (p: number) => {
    const want = Math.ceil(count * p);
    let acc = 0;
    for (let i = 0; i < bins; i++) {
      acc += hist[i];
      if (acc >= want) return ((i + 1) * results[0].binUs) / 1000;
    }
    return NaN;
  };
  const elapsed = Math.max(...results.map((r) => r.elapsedMs)) / 1000;
  return {
    tool: `node loadgen -c${opts.connections} -t${opts.threads}`,
    requests: count,
    rps: count / elapsed,
    p50ms: pct(0.5),
    p99ms: pct(0.99),
    bad,
    detail: Object.keys(statuses).length ? `statuses ${JSON.stringify(statuses)}` : '',
  };
}

function toMs(v: string, unit: string): number {
  const n = Number(v);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

/** Runs wrk with a Lua script that sets the method and headers; parses req/s and latency percentiles. */
export async function wrkLoad(opts: {
  url: string;
  method: 'GET';
  headers: Record<string, string>;
  connections: number;
  threads: number;
  seconds: number;
  scriptPath: string;
}): Promise<LoadResult> {
  const lua = [
    `wrk.method = "${opts.method}"`,
    ...Object.entries(opts.headers).map(([k, v]) => `wrk.headers["${k}"] = "${v}"`),
    '',
  ].join('\n');
  writeFileSync(opts.scriptPath, lua);
  const out = await run('wrk', [
    `-c${opts.connections}`,
    `-t${opts.threads}`,
    `-d${opts.seconds}s`,
    '--latency',
    '--timeout',
    '10s',
    '-s',
    opts.scriptPath,
    opts.url,
  ]);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const total = /(\d+) requests in/.exec(out);
  const lat = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m ? toMs(m[1], m[2]) : NaN;
  };
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const sockErrors = sock ? sock.slice(1).reduce((n, x) => n + Number(x), 0) : 0;
  if (!rps || !total) throw new Error(`could not parse wrk output:\n${out}`);
  return {
    tool: `wrk -c${opts.connections} -t${opts.threads}`,
    requests: Number(total[1]),
    rps: Number(rps[1]),
    p50ms: lat('50'),
    p99ms: lat('99'),
    bad: (non2xx ? Number(non2xx[1]) : 0) + sockErrors,
    detail: sock ? sock[0] : '',
  };
}
