// `npm run bench`: berth vs CNCF Distribution side by side, in one run, on this machine.
//   --quick            small sizes for a fast check
//   --only=a,b         run some benchmarks: blob, skopeo, cli, manifest, listing, scale, gc, console, search, clients (memory is always reported)
//   --json FILE        also write the report as JSON
//   --berth=MODE       compiled (dist/, default when built), tsx, or none
// Progress goes to stderr, the table to stdout and bench/results/latest.md. Exits 0 even when targets fail.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../test/helpers/processes.ts';
import { blobThroughput } from './blob-throughput.ts';
import { cliTransfer } from './cli-transfer.ts';
import { cliStart } from './cli-start.ts';
import { cpuSnapshot, foreignCores } from './cpu.ts';
import { gcBench } from './gc.ts';
import { killChildren, log, run } from './client.ts';
import { MiB, TARGETS, type Bench, type Ctx, type Sizes, type Target } from './context.ts';
import { listing } from './listing.ts';
import { metadataScale } from './metadata-bench.ts';
import { consoleScale } from './console-scale.ts';
import { searchBench } from './search.ts';
import { manifestLoad } from './manifest-load.ts';
import { manyClients } from './many-clients.ts';
import { renderMarkdown, renderText, type Report, type Row } from './report.ts';
import { RssSampler, type RssResult } from './rss.ts';
import { defaultBerthMode, staleBuild, startBerth, startDistribution, stopAll, type BerthMode } from './servers.ts';
import { skopeoCopy } from './skopeo-copy.ts';

const BENCHES: Record<string, Bench> = { blob: blobThroughput, skopeo: skopeoCopy, cli: cliTransfer, clistart: cliStart, manifest: manifestLoad, listing, scale: metadataScale, gc: gcBench, console: consoleScale, search: searchBench, clients: manyClients };

function parseArgs(argv: string[]) {
  const opts = { quick: false, only: Object.keys(BENCHES), json: undefined as string | undefined, berth: defaultBerthMode() as BerthMode | 'none' };
  for (let i = 0; i < argv.length; i++) {
    const [k, inline] = argv[i].split(/=(.*)/s, 2);
    const val = () => inline ?? argv[++i];
    if (k === '--quick') opts.quick = true;
    else if (k === '--only') opts.only = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (k === '--json') opts.json = resolve(val());
    else if (k === '--berth') opts.berth = val() as BerthMode | 'none';
    else if (k === '--help' || k === '-h') {
      process.stdout.write('usage: npm run bench -- [--quick] [--only=blob,skopeo,cli,manifest,listing,scale,gc,console,search,clients] [--json out.json] [--berth=compiled|tsx|none]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${argv[i]}`);
  }
  const bad = opts.only.filter((n) => !BENCHES[n] && n !== 'rss');
  if (bad.length) throw new Error(`unknown benchmark(s) ${bad.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  if (!['compiled', 'tsx', 'none'].includes(opts.berth)) throw new Error(`--berth must be compiled, tsx or none`);
  return opts;
}

function sizesFor(quick: boolean): Sizes {
  return quick
    ? { blobBytes: 128 * MiB, imageBytes: 64 * MiB, imageLayers: 5, repos: 1000, manyTags: 200, wrkSeconds: 3, reps: 3 }
    : { blobBytes: 1024 * MiB, imageBytes: 256 * MiB, imageLayers: 5, repos: 10_000, manyTags: 1000, wrkSeconds: 10, reps: 3 };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = new Date();
  const sizes = sizesFor(opts.quick);
  const work = await tempDir('berth-bench');
  const errors: string[] = [];
  const notes: string[] = [];
  const samplers: Partial<Record<Target, RssSampler>> = {};
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await stopAll();
      // rm(1) is much faster than fs.rm on distribution's ~20 entries per repository.
      await run('rm', ['-rf', work.path]).catch(() => work.cleanup().catch(() => {}));
    })());
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      log(`${sig}: stopping servers and removing ${work.path}`);
      killChildren();
      void cleanup().finally(() => process.exit(130));
    });
  }

  const ctx: Ctx = {
    work: work.path,
    sizes,
    quick: opts.quick,
    servers: {},
    phase: (name) => Object.values(samplers).forEach((s) => s.setPhase(name)),
    error: (msg) => {
      log(`ERROR ${msg}`);
      errors.push(msg);
    },
    note: (msg) => notes.push(msg),
  };
  const rows: Row[] = [];
  const foreignLoad: Record<string, number> = {};
  const rss: Partial<Record<Target, RssResult>> = {};
  try {
    log(`work dir ${work.path}, sizes ${JSON.stringify(sizes)}`);
    try {
      ctx.servers.distribution = await startDistribution(join(work.path, 'distribution'));
      log(`distribution on ${ctx.servers.distribution.url} (pid ${ctx.servers.distribution.pid})`);
    } catch (e) {
      ctx.error(`distribution did not start: ${(e as Error).message.slice(0, 2000)}`);
    }
    if (opts.berth === 'compiled') {
      const stale = staleBuild();
      if (stale) {
        const msg = `dist/ is older than ${stale}: berth is benchmarked as last built (run \`npm run build\`, or use --berth=tsx)`;
        log(`WARNING ${msg}`);
        notes.push(msg);
      }
    }
    if (opts.berth !== 'none') {
      try {
        ctx.servers.berth = await startBerth(join(work.path, 'berth'), opts.berth);
        log(`berth (${opts.berth}) on ${ctx.servers.berth.url} (pid ${ctx.servers.berth.pid})`);
      } catch (e) {
        ctx.error(`berth did not start: ${(e as Error).message.slice(0, 2000)}`);
      }
    }
    for (const t of TARGETS) if (ctx.servers[t]) samplers[t] = new RssSampler(ctx.servers[t]!.pid);

    for (const name of opts.only) {
      if (!BENCHES[name]) continue;
      const t0 = Date.now();
      log(`=== ${name}`);
      ctx.phase(name);
      const pids = () => TARGETS.flatMap((t) => (ctx.servers[t] ? [ctx.servers[t]!.pid] : []));
      const c0 = cpuSnapshot(pids());
      try {
        rows.push(...(await BENCHES[name](ctx)));
      } catch (e) {
        ctx.error(`${name}: ${(e as Error).stack ?? e}`);
      }
      const foreign = foreignCores(c0, cpuSnapshot(pids()));
      foreignLoad[name] = Number(foreign.toFixed(2));
      log(`=== ${name} done in ${((Date.now() - t0) / 1000).toFixed(0)} s; other processes used ${foreign.toFixed(2)} cores meanwhile`);
      if (foreign > 0.15) {
        notes.push(`while "${name}" ran, processes outside the benchmark used ${foreign.toFixed(2)} of ${cpus().length} cores on average: its numbers are unreliable, run it again on a quiet machine`);
      }
    }
    for (const t of TARGETS) {
      if (samplers[t]) rss[t] = samplers[t]!.finish();
      const s = ctx.servers[t];
      if (s && s.pid > 0) {
        try {
          process.kill(s.pid, 0);
        } catch {
          ctx.error(`${t} (pid ${s.pid}) is no longer running at the end of the run:\n${s.logs().slice(-2000)}`);
        }
      }
    }
  } finally {
    await cleanup();
  }

  const asMiB = (b?: number) => (b === undefined ? undefined : b / MiB);
  const hwm: Row = {
    bench: 'memory',
    metric: 'peak RSS (VmHWM)',
    unit: 'MiB',
    better: 'lower',
    distribution: asMiB(rss.distribution?.hwm),
    berth: asMiB(rss.berth?.hwm),
    target: 'berth < 128 MiB',
    verdict: rss.berth?.hwm === undefined ? 'n/a' : rss.berth.hwm < 128 * MiB ? 'PASS' : 'FAIL',
  };
  const sampled: Row = {
    bench: 'memory',
    metric: 'max sampled RSS, process tree',
    unit: 'MiB',
    better: 'lower',
    distribution: asMiB(rss.distribution?.peakSampled),
    berth: asMiB(rss.berth?.peakSampled),
  };
  const phases = (r?: RssResult) =>
    r ? Object.entries(r.byPhase).map(([p, b]) => `${p} ${(b / MiB).toFixed(0)}`).join(', ') : '-';
  sampled.note = `peak per phase (MiB): distribution: ${phases(rss.distribution)}; berth: ${phases(rss.berth)}`;
  rows.push(hwm, sampled);

  const finished = new Date();
  const report: Report = {
    started: started.toISOString(),
    finished: finished.toISOString(),
    durationSec: (finished.getTime() - started.getTime()) / 1000,
    quick: opts.quick,
    berthMode: opts.berth,
    host: { cpus: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, kernel: release() },
    sizes: { ...sizes, blobBytes: `${sizes.blobBytes / MiB} MiB`, imageBytes: `${sizes.imageBytes / MiB} MiB` },
    foreignLoad,
    rows,
    notes,
    errors,
  };
  process.stdout.write('\n' + renderText(report));
  const here = dirname(fileURLToPath(import.meta.url));
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', 'latest.md'), renderMarkdown(report));
  if (opts.json) writeFileSync(opts.json, JSON.stringify(report, null, 2) + '\n');
  log(`done in ${report.durationSec.toFixed(0)} s; wrote bench/results/latest.md${opts.json ? ` and ${opts.json}` : ''}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    log(`fatal: ${(e as Error).stack ?? e}`);
    void stopAll().finally(() => process.exit(1));
  },
);
