// Row "gc" (issue 10, "Benchmark"): garbage collection of the same content in both registries, and
// what a running collection costs the traffic berth serves meanwhile.
//
// 1. One registry:2 filesystem tree (test/import/dist-tree.ts) with 10,000 manifests and 50,000
//    blobs (--quick 1,000 / 5,000) of 1-4 KiB in 100 repositories: 30% of the manifests untagged
//    (revision link, no tag: what a tag DELETE leaves), 5% of the non-manifest blobs linked into a
//    repository but referenced by no manifest. No indexes (distribution's bug #3178 would delete
//    untagged children of tagged indexes). The tree is copied (cp -a) for distribution and imported
//    into berth (`berth import`, timed on its own, not part of the GC time).
// 2. `docker-registry garbage-collect --delete-untagged` (offline: no server on its copy) against
//    `berth gc --delete-untagged --delay 0s --json` while a berth server serves the same store.
//    Wall time of each process; reclaimed bytes from the blob directories before/after (and
//    berth's report), compared digest by digest.
// 3. berth's manifest GET (wrk) and push (blob POST+PUT, manifest PUT) throughput on that store,
//    idle and while `berth gc --delete-untagged --delay 1h` runs back to back (a full sweep that
//    finds nothing older than the delay, so the content stays).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DistTree, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST } from '../test/import/dist-tree.ts';
import { hasCommand, repoRoot } from '../test/helpers/processes.ts';
import { log, pool, pushBlob, putManifest, run } from './client.ts';
import { MiB, type Bench, type Ctx } from './context.ts';
import { processCpuSeconds } from './cpu.ts';
import { nodeLoad, wrkLoad, type LoadResult } from './loadgen.ts';
import { lower, type Row, type Verdict } from './report.ts';
import { staleBuild, startBerth, type BerthMode, type Server } from './servers.ts';

const REPOS = 100;
const UNTAGGED_PER_10 = 3; // manifest i of a repository's round (i / REPOS) is untagged when round % 10 < 3
const UNREFERENCED_SHARE = 0.05; // of the non-manifest blobs
const PUSH_WORKERS = 8;
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

const repoName = (r: number) => `gc/team-${String(r % 10)}/app-${String(r).padStart(3, '0')}`;

interface Generated {
  manifests: number;
  blobs: number;
  bytes: number;
  /** Expected garbage (what both collectors should remove). */
  garbageBlobs: number;
  garbageBytes: number;
  untagged: number;
  /** A tagged manifest to GET under load. */
  probe: { repo: string; tag: string };
}

const rand = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

/** Writes the tree: per repository a shared base layer, per manifest a config and 2-3 own layers. */
async function generate(tree: DistTree, manifests: number, blobs: number): Promise<Generated> {
  const contentBlobs = blobs - manifests; // every manifest is a blob too
  const unreferenced = Math.round(contentBlobs * UNREFERENCED_SHARE);
  const own = contentBlobs - REPOS - manifests - unreferenced; // layers owned by one manifest
  if (own < 2 * manifests) throw new Error(`gc: ${blobs} blobs are too few for ${manifests} manifests`);
  const extra = own - 2 * manifests; // manifests i < extra get a third layer
  const g: Generated = { manifests, blobs, bytes: 0, garbageBlobs: 0, garbageBytes: 0, untagged: 0, probe: { repo: repoName(0), tag: '' } };
  const blob = async (repo: string, size: number, garbage: boolean) => {
    const data = randomBytes(size);
    const digest = await tree.blob(data);
    await tree.linkLayer(repo, digest);
    g.bytes += size;
    if (garbage) {
      g.garbageBlobs++;
      g.garbageBytes += size;
    }
    return { mediaType: OCI_LAYER, digest, size };
  };
  const base = new Map<number, { mediaType: string; digest: string; size: number }>();
  await pool(Array.from({ length: REPOS }, (_, r) => r), 32, async (r) => void base.set(r, await blob(repoName(r), rand(1024, 4096), false)));
  await pool(Array.from({ length: unreferenced }, (_, i) => i), 32, async (i) => void (await blob(repoName(i % REPOS), rand(1024, 4096), true)));
  let done = 0;
  await pool(Array.from({ length: manifests }, (_, i) => i), 32, async (i) => {
    const r = i % REPOS;
    const repo = repoName(r);
    // Every repository keeps tags: distribution's GC fails outright on a repository without any
    // ("failed to retrieve tags unknown repository").
    const untagged = Math.floor(i / REPOS) % 10 < UNTAGGED_PER_10;
    const layers = [base.get(r)!];
    for (let k = 0; k < (i < extra ? 3 : 2); k++) layers.push(await blob(repo, rand(1024, 4096), untagged));
    const configBytes = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: randomBytes(rand(512, 3000)).toString('base64') }),
    );
    const config = await tree.blob(configBytes);
    await tree.linkLayer(repo, config);
    const bytes = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: config, size: configBytes.length }, layers }),
    );
    const tag = untagged ? undefined : `v${i}`;
    await tree.manifest(repo, bytes, tag);
    g.bytes += configBytes.length + bytes.length;
    if (untagged) {
      g.untagged++;
      g.garbageBlobs += 2;
      g.garbageBytes += configBytes.length + bytes.length;
    } else if (r === 0 && !g.probe.tag) g.probe.tag = tag!;
    if (++done % 2000 === 0) log(`  gc: ${done} manifests written`);
  });
  return g;
}

/** digest -> size of every blob under a registry:2 tree (v2/blobs/sha256/xx/HEX/data) or berth's store (blobs/sha256/xx/HEX). */
async function listBlobs(dir: string, layout: 'distribution' | 'berth'): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const prefixes = await readdir(dir).catch(() => [] as string[]);
  await pool(prefixes, 16, async (p) => {
    for (const hex of await readdir(join(dir, p))) {
      const file = layout === 'distribution' ? join(dir, p, hex, 'data') : join(dir, p, hex);
      const s = await stat(file).catch(() => undefined);
      if (s?.isFile()) out.set(`sha256:${hex}`, s.size);
    }
  });
  return out;
}

function removed(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [d, s] of before) if (!after.has(d)) out.set(d, s);
  return out;
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/** Runs a command to completion: exit code, output and wall seconds (no rejection on failure). */
function exec(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string; seconds: number }> {
  return new Promise((ok, fail) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: repoRoot, env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b));
    child.stderr.on('data', (b: Buffer) => {
      stderr += b;
      if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19));
    });
    child.on('error', fail);
    child.on('close', (code, sig) => ok({ code: code ?? (sig ? 128 : 1), stdout, stderr, seconds: (performance.now() - t0) / 1000 }));
  });
}

/**
 * How berth runs. The server: the compiled build when dist/ is current, else src/ through tsx (as
 * --berth=tsx). The CLI (import, gc), whose wall time is measured: dist/ when current, else a
 * private build of src/ in the work dir (tsx would add about a second of transpiling to every
 * run), else tsx.
 */
interface BerthRun {
  server: BerthMode;
  cli: string;
  argv(args: string[]): [string, string[]];
}

async function berthRun(dir: string): Promise<BerthRun> {
  const fresh = existsSync(join(repoRoot, 'dist', 'cli', 'gc.js')) && !staleBuild();
  const server: BerthMode = fresh ? 'compiled' : 'tsx';
  if (fresh) return { server, cli: 'compiled (dist/)', argv: (args) => [join(repoRoot, 'bin', 'berth.js'), args] };
  const build = join(dir, 'build');
  try {
    await mkdir(build, { recursive: true });
    writeFileSync(join(build, 'package.json'), '{ "type": "module" }\n');
    symlinkSync(join(repoRoot, 'node_modules'), join(build, 'node_modules'));
    const t0 = performance.now();
    await run(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', join(build, 'dist'), '--sourceMap', 'false']);
    log(`gc: dist/ is not current; compiled src/ for the berth CLI into ${build} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    // As bin/berth.js runs it: no V8 flags (the server sets its heap up itself, src/http/server-heap.ts).
    const main = join(build, 'dist', 'cli', 'main.js');
    return { server, cli: 'compiled (src/ built for the bench)', argv: (args) => [process.execPath, [main, ...args]] };
  } catch (e) {
    log(`gc: could not compile src/ (${(e as Error).message.slice(0, 300)}); the berth CLI runs through tsx`);
    return { server, cli: 'tsx', argv: (args) => [process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), ...args]] };
  }
}

interface GcJson {
  status: string;
  manifests: unknown[];
  blobs: { digest: string; size: number }[];
  linksRemoved: number;
  orphansRemoved: number;
  bytesRemoved: number;
  startedAt: string;
  finishedAt: string;
  errors: string[];
}

/** Images pushed per second by PUSH_WORKERS loops (2 monolithic blob uploads + 1 manifest PUT each). */
async function pushLoad(base: string, seconds: number, label: string): Promise<{ rps: number; images: number; failures: number }> {
  const end = performance.now() + seconds * 1000;
  let images = 0;
  let failures = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: PUSH_WORKERS }, async (_, w) => {
      const repo = `gc/push-${label}/w${w}`;
      for (let i = 0; performance.now() < end; i++) {
        try {
          const layer = randomBytes(2048);
          const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: randomBytes(8).toString('hex') }));
          const [cd, ld] = [await pushBlob(base, repo, config), await pushBlob(base, repo, layer)];
          await putManifest(
            base,
            repo,
            `t${i}`,
            JSON.stringify({
              schemaVersion: 2,
              mediaType: OCI_MANIFEST,
              config: { mediaType: OCI_CONFIG, digest: cd, size: config.length },
              layers: [{ mediaType: OCI_LAYER, digest: ld, size: layer.length }],
            }),
          );
          images++;
        } catch {
          failures++;
        }
      }
    }),
  );
  return { rps: images / ((performance.now() - t0) / 1000), images, failures };
}

export const gcBench: Bench = async (ctx: Ctx) => {
  const manifests = ctx.quick ? 1_000 : 10_000;
  const blobs = ctx.quick ? 5_000 : 50_000;
  const dir = join(ctx.work, 'gc');
  const source = join(dir, 'source');
  const distRoot = join(dir, 'distribution');
  const berthRoot = join(dir, 'berth');
  await mkdir(berthRoot, { recursive: true });
  const size = `${manifests.toLocaleString('en-US')} manifests, ${blobs.toLocaleString('en-US')} blobs`;
  const rows: Row[] = [];

  const berth = await berthRun(dir);

  // 1. Content.
  ctx.phase('gc-generate');
  let t0 = performance.now();
  const g = await generate(new DistTree(source), manifests, blobs);
  log(
    `gc: wrote ${size} (${(g.bytes / MiB).toFixed(1)} MiB) in ${REPOS} repositories in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
      `garbage: ${g.untagged} untagged manifests, ${g.garbageBlobs} blobs, ${g.garbageBytes} bytes`,
  );
  await run('cp', ['-a', source, distRoot]);
  const berthCfg = join(dir, 'berth.yml');
  // The server's own background collector is off: only the timed `berth gc` collects.
  writeFileSync(
    berthCfg,
    `version: 0.1\nlog: { level: warn }\nstorage: { filesystem: { rootdirectory: ${berthRoot} }, delete: { enabled: true } }\nberth: { gc: { enabled: false } }\n`,
  );
  ctx.phase('gc-import');
  const imp = await exec(...berth.argv(['import', source, '--config', berthCfg, '--quiet']));
  if (imp.code !== 0) throw new Error(`berth import exited ${imp.code}: ${(imp.stderr + imp.stdout).slice(-2000)}`);
  log(`gc: berth import (${berth.cli}) took ${imp.seconds.toFixed(1)} s`);
  ctx.note(`gc: \`berth import\` of the ${size} tree took ${imp.seconds.toFixed(1)} s (not part of the GC time)`);

  // 2. Distribution, offline on its copy.
  ctx.phase('gc-distribution');
  const distBlobs = join(distRoot, 'docker', 'registry', 'v2', 'blobs', 'sha256');
  const distBefore = await listBlobs(distBlobs, 'distribution');
  const distCfg = join(dir, 'distribution.yml');
  writeFileSync(distCfg, `version: 0.1\nlog: { level: warn }\nstorage: { filesystem: { rootdirectory: ${distRoot} }, delete: { enabled: true } }\n`);
  await run('sync', []);
  const dgc = await exec('docker-registry', ['garbage-collect', '--delete-untagged', distCfg]);
  if (dgc.code !== 0) throw new Error(`docker-registry garbage-collect exited ${dgc.code}: ${(dgc.stderr + dgc.stdout).slice(-2000)}`);
  const distRemoved = removed(distBefore, await listBlobs(distBlobs, 'distribution'));
  const summary = /(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion/.exec(dgc.stdout + dgc.stderr);
  log(`gc: distribution took ${dgc.seconds.toFixed(2)} s: ${summary?.[0] ?? '(no summary line)'}; removed ${distRemoved.size} blobs, ${sum(distRemoved)} bytes`);

  // 2b. berth, online: a server on the same store while `berth gc` runs.
  ctx.phase('gc-berth');
  let server: Server | undefined;
  try {
    server = await startBerth(berthRoot, berth.server);
    // The generated content's probe tag is served before the collection (a sanity check of the import).
    const probeUrl = `${server.url}/v2/${g.probe.repo}/manifests/${g.probe.tag}`;
    const pre = await fetch(probeUrl, { headers: { Accept: ACCEPT } });
    await pre.arrayBuffer();
    if (pre.status !== 200) throw new Error(`GET ${probeUrl} before GC: HTTP ${pre.status}`);
    const berthBlobs = join(berthRoot, 'blobs', 'sha256');
    const berthBefore = await listBlobs(berthBlobs, 'berth');
    await run('sync', []);
    const bgc = await exec(...berth.argv(['gc', berthCfg, '--delete-untagged', '--delay', '0s', '--json']));
    if (bgc.code !== 0) throw new Error(`berth gc exited ${bgc.code}: ${(bgc.stderr + bgc.stdout).slice(-2000)}`);
    const rep = JSON.parse(bgc.stdout) as GcJson;
    const inProcess = (Date.parse(rep.finishedAt) - Date.parse(rep.startedAt)) / 1000;
    const berthRemoved = removed(berthBefore, await listBlobs(berthBlobs, 'berth'));
    log(
      `gc: berth took ${bgc.seconds.toFixed(2)} s (collection ${inProcess.toFixed(2)} s): ${rep.manifests.length} manifests, ${rep.blobs.length} blobs, ` +
        `${rep.linksRemoved} links, ${rep.bytesRemoved} bytes; ${berthRemoved.size} blob files (${sum(berthRemoved)} bytes) gone from disk`,
    );
    const post = await fetch(probeUrl, { headers: { Accept: ACCEPT } });
    await post.arrayBuffer();
    if (post.status !== 200) ctx.error(`gc: GET ${probeUrl} after berth gc: HTTP ${post.status} (a tagged manifest must survive)`);

    // Where do the two disagree, digest by digest?
    const reported = new Map(rep.blobs.map((b) => [b.digest, b.size] as const));
    const onlyDist = [...distRemoved].filter(([d]) => !reported.has(d));
    const onlyBerth = [...reported].filter(([d]) => !distRemoved.has(d));
    const sizeDiff = [...reported].filter(([d, s]) => distRemoved.has(d) && distRemoved.get(d) !== s);
    const diskVsReport = sum(berthRemoved) - rep.bytesRemoved;
    const differences: string[] = [];
    if (onlyDist.length) differences.push(`${onlyDist.length} blobs (${sum(new Map(onlyDist))} bytes) removed by distribution only, e.g. ${onlyDist[0][0]}`);
    if (onlyBerth.length) differences.push(`${onlyBerth.length} blobs (${sum(new Map(onlyBerth))} bytes) removed by berth only, e.g. ${onlyBerth[0][0]}`);
    if (sizeDiff.length) differences.push(`${sizeDiff.length} blobs removed by both with different sizes`);
    if (diskVsReport) differences.push(`berth's report says ${rep.bytesRemoved} bytes, its blob directory shrank by ${sum(berthRemoved)}`);
    if (sum(distRemoved) !== g.garbageBytes || distRemoved.size !== g.garbageBlobs)
      differences.push(`the generator planted ${g.garbageBlobs} garbage blobs (${g.garbageBytes} bytes); distribution removed ${distRemoved.size} (${sum(distRemoved)} bytes)`);
    for (const d of differences) ctx.note(`gc: ${d}`);

    const time: Row = {
      bench: 'gc',
      metric: `GC --delete-untagged, ${size}`,
      unit: 's',
      better: 'lower',
      distribution: dgc.seconds,
      berth: bgc.seconds,
      target: 'berth < dist',
      note:
        `process wall time (start-up included; berth CLI ${berth.cli}, server ${berth.server}); berth's collection itself (report startedAt..finishedAt) ${inProcess.toFixed(2)} s; ` +
        `distribution offline (no server), berth with its server serving the store. distribution: ${summary?.[0] ?? '-'}; ` +
        `berth: ${rep.manifests.length} manifests, ${rep.blobs.length} blobs, ${rep.linksRemoved} repository links`,
    };
    time.verdict = lower(time);
    const bytes: Row = {
      bench: 'gc',
      metric: 'bytes reclaimed (blob files)',
      unit: 'bytes',
      better: 'higher',
      distribution: sum(distRemoved),
      berth: rep.bytesRemoved,
      reference: g.garbageBytes,
      referenceName: 'planted',
      target: 'berth = dist',
      verdict: sum(distRemoved) === rep.bytesRemoved && !onlyDist.length && !onlyBerth.length ? 'PASS' : 'FAIL',
      note: differences.length ? differences.join('; ') : `same ${distRemoved.size} blobs on both sides, digest by digest`,
    };
    const count: Row = {
      bench: 'gc',
      metric: 'blobs removed',
      unit: 'blobs',
      better: 'higher',
      distribution: distRemoved.size,
      berth: rep.blobs.length,
      reference: g.garbageBlobs,
      referenceName: 'planted',
    };
    rows.push(time, bytes, count);

    // 3. Throughput idle and while collections run back to back.
    try {
      const secs = ctx.sizes.wrkSeconds;
      const load = { url: probeUrl, method: 'GET' as const, headers: { Accept: ACCEPT }, connections: 64, threads: 2, seconds: secs };
      const useWrk = hasCommand('wrk');
      if (!useWrk) ctx.note('gc: wrk is not installed; manifest GET load from bench/loadgen.ts instead');
      const get = () => (useWrk ? wrkLoad({ ...load, scriptPath: join(dir, 'accept.lua') }) : nodeLoad(load));
      ctx.phase('gc-load-warmup');
      await get();
      await pushLoad(server.url, 2, 'warmup');
      const measure = async (label: string) => {
        ctx.phase(`gc-load-${label}`);
        const g1: LoadResult = await get();
        const cpu0 = processCpuSeconds(server!.pid);
        const p1 = await pushLoad(server!.url, secs, label);
        // Server CPU per pushed image tells contention inside the server (locks, a slower store)
        // from CPU the collector takes away from it.
        const cpuMs = ((processCpuSeconds(server!.pid) - cpu0) * 1000) / Math.max(1, p1.images);
        log(`gc: ${label}: manifest GET ${g1.rps.toFixed(0)} req/s (bad ${g1.bad}), push ${p1.rps.toFixed(1)} images/s (failures ${p1.failures}), server ${cpuMs.toFixed(2)} CPU ms per image`);
        return { get: g1, push: p1, cpuMs };
      };
      const idle = await measure('idle');
      // The collections run back to back in one shell loop started once: spawning each run from
      // this process would stall its event loop, which is also the push client's, and charge the
      // client's fork cost to the server's throughput.
      const runsFile = join(dir, 'gc-loop-runs.txt');
      const stopFile = join(dir, 'gc-loop-stop');
      const gcLog = join(dir, 'gc-loop.log');
      writeFileSync(runsFile, '');
      const sq = (a: string) => `'${a.replaceAll("'", `'\\''`)}'`;
      const [gcBin, gcArgs] = berth.argv(['gc', berthCfg, '--delete-untagged', '--delay', '1h', '--quiet']);
      const gcCmd = [gcBin, ...gcArgs].map(sq).join(' ');
      rmSync(stopFile, { force: true });
      const script = `while [ ! -e ${sq(stopFile)} ]; do t=$EPOCHREALTIME; ${gcCmd} >>${sq(gcLog)} 2>&1; rc=$?; echo "$rc $t $EPOCHREALTIME" >>${sq(runsFile)}; [ $rc -eq 0 ] || sleep 0.5; done`;
      const loop = exec('bash', ['-c', script]);
      // Let the first collection get past process start-up before measuring.
      await new Promise((ok) => setTimeout(ok, berth.cli === 'tsx' ? 2000 : 800));
      const busy = await measure('during-gc');
      writeFileSync(stopFile, '');
      await loop;
      const runs: number[] = [];
      let gcFailures = 0;
      for (const line of readFileSync(runsFile, 'utf8').split('\n').filter(Boolean)) {
        const [rc, t0, t1] = line.split(' ').map(Number);
        if (rc === 0) runs.push(t1 - t0);
        else gcFailures++;
      }
      if (gcFailures) ctx.error(`gc: ${gcFailures} \`berth gc\` runs in the load loop failed: ${readFileSync(gcLog, 'utf8').slice(-1000)}`);
      const meanRun = runs.length ? runs.reduce((a, b) => a + b, 0) / runs.length : NaN;

      // The server's own collector, as it runs by default (berth.gc.pace), started back to back
      // through the lifecycle API: one request at a time, each answered when its run ends.
      let apiLooping = true;
      let apiRuns = 0;
      let apiFailures = 0;
      const apiLoop = (async () => {
        while (apiLooping) {
          const r = await fetch(`${server!.url}/api/v1/gc`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ deleteUntagged: true, delay: '1h' }),
          });
          await r.arrayBuffer();
          if (r.ok) apiRuns++;
          else {
            if (++apiFailures === 1) ctx.error(`gc: POST /api/v1/gc answered ${r.status}`);
            await new Promise((ok) => setTimeout(ok, 500));
          }
        }
      })();
      const inProcess = await measure('during-server-gc');
      apiLooping = false;
      await apiLoop;
      // A second idle window after the loads: the idle reference is the mean of both.
      const idle2 = await measure('idle-again');
      const idleGet = (idle.get.rps + idle2.get.rps) / 2;
      const idlePush = (idle.push.rps + idle2.push.rps) / 2;
      const idleCpu = (idle.cpuMs + idle2.cpuMs) / 2;

      const verdict = (during: number, idleV: number, bad: number): Verdict => (bad ? 'FAIL' : during >= 0.9 * idleV ? 'PASS' : 'FAIL');
      const pct = (v: number, ref: number) => `${((v / ref) * 100).toFixed(0)}% of idle`;
      const idleNote = `idle = mean of a window before (${idle.get.rps.toFixed(0)} req/s, ${idle.push.rps.toFixed(1)} images/s) and after (${idle2.get.rps.toFixed(0)}, ${idle2.push.rps.toFixed(1)}) the loads`;
      const cliNote = `${runs.length} \`berth gc --delete-untagged --delay 1h\` runs back to back (mean ${meanRun.toFixed(2)} s each, process included; full speed at the lowest CPU priority: nice 19 and SCHED_IDLE on every thread, --pace 1)`;
      const serverNote = `${apiRuns} runs of the server's collector back to back (POST /api/v1/gc, deleteUntagged, delay 1h; berth.gc.pace default)`;
      const getRow = (m: typeof busy, metric: string, note: string, withTarget: boolean): Row => ({
        bench: 'gc',
        metric: `manifest GET during ${metric} (${m.get.tool})`,
        unit: 'req/s',
        better: 'higher',
        berth: m.get.rps,
        reference: idleGet,
        referenceName: 'idle',
        ...(withTarget && { target: '>= 90% of idle', verdict: verdict(m.get.rps, idleGet, m.get.bad) }),
        note: `${pct(m.get.rps, idleGet)}; p99 idle ${idle.get.p99ms.toFixed(2)} ms, during ${m.get.p99ms.toFixed(2)} ms; ${note}; ${idleNote}`,
      });
      const pushRow = (m: typeof busy, metric: string, note: string, withTarget: boolean): Row => ({
        bench: 'gc',
        metric: `push during ${metric} (${PUSH_WORKERS} loops: 2 blobs + manifest)`,
        unit: 'images/s',
        better: 'higher',
        berth: m.push.rps,
        reference: idlePush,
        referenceName: 'idle',
        ...(withTarget && { target: '>= 90% of idle', verdict: verdict(m.push.rps, idlePush, m.push.failures) }),
        note: `${pct(m.push.rps, idlePush)}; failed pushes during ${m.push.failures}; server CPU per image idle ${idleCpu.toFixed(2)} ms, during ${m.cpuMs.toFixed(2)} ms; ${note}`,
      });
      // The target applies to the collection berth runs by itself (the server's, paced); an
      // operator's `berth gc` runs at full speed and is reported beside it.
      rows.push(
        getRow(inProcess, "the server's GC", serverNote, true),
        pushRow(inProcess, "the server's GC", serverNote, true),
        getRow(busy, '`berth gc` (CLI)', cliNote, false),
        pushRow(busy, '`berth gc` (CLI)', cliNote, false),
      );
    } catch (e) {
      ctx.error(`gc: throughput during GC: ${(e as Error).stack ?? e}`);
    }
  } finally {
    await server?.stop();
  }
  return rows;
};
