// `clistart`: how long the berth CLI takes for a command that does almost nothing, i.e. its
// start-up, against skopeo on the same machine (issue 14: at most 80 ms).
//   berth --version                 skopeo --version
//   berth tags B/REPO --insecure    skopeo list-tags --tls-verify=false docker://B/REPO
//   berth tags B/REPO               the same
// B is the bench's berth server on 127.0.0.1 (plain HTTP). With --insecure berth speaks plain HTTP
// at once; without, it tries HTTPS first on a loopback registry and falls back to plain HTTP when
// that is what answers, as docker does, and as skopeo does with --tls-verify=false. The berth
// column runs bin/berth.js, the installed entry point (its shebang's V8 flags included), whatever
// --berth says about the server.
//
// Each value is the median wall time of REPS runs (spawnSync: fork, exec, exit), the clients
// alternating run by run so that all see the same machine. Every invocation gets an empty HOME (no
// stored logins, no credential helper) and a minimal environment: PATH, HOME and XDG dirs only, so
// nothing like NODE_OPTIONS or NODE_EXTRA_CA_CERTS (node reads that CA file at every start: about
// 28 ms on this machine, where it is set globally) is timed. The note gives the floor: node itself,
// running an empty ES module with and without the shebang's flags.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { repoRoot } from '../test/helpers/processes.ts';
import { log, median, pushTinyImage, tinyImage } from './client.ts';
import type { Bench } from './context.ts';
import type { Row } from './report.ts';

const REPS = 21;
const TARGET_MS = 80;
const TAGS = ['1.0', '1.1', '2.0'];

interface Cmd {
  cmd: string;
  args: string[];
}

/** Runs `c` once, returning the wall time in ms; throws with stderr when it fails or prints `expect` nowhere. */
function timeOnce(c: Cmd, env: NodeJS.ProcessEnv, expect: string): number {
  const t0 = performance.now();
  const r = spawnSync(c.cmd, c.args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  const ms = performance.now() - t0;
  if (r.error) throw r.error;
  if (r.status !== 0 || !r.stdout.includes(expect)) {
    throw new Error(`${c.cmd} ${c.args.join(' ')} -> exit ${r.status ?? r.signal}, expected "${expect}" in its output: ${(r.stderr || r.stdout).slice(-1000)}`);
  }
  return ms;
}

/** Medians of the commands, run alternately REPS times after one warm-up run each. */
function medians(cmds: Cmd[], env: NodeJS.ProcessEnv, expect: string): number[] {
  const times: number[][] = cmds.map(() => []);
  cmds.forEach((c) => timeOnce(c, env, expect));
  for (let i = 0; i < REPS; i++) cmds.forEach((c, j) => times[j].push(timeOnce(c, env, expect)));
  return times.map(median);
}

/** The V8 flags of bin/berth.js's shebang (`#!/usr/bin/env -S node FLAGS`). */
function shebangFlags(bin: string): string[] {
  const first = readFileSync(bin, 'utf8').split('\n', 1)[0];
  return first.split(/\s+/).filter((a) => a.startsWith('--'));
}

/** Why the berth column may not show the bundled CLI: missing, or older than the sources. */
function bundleState(): string {
  const bundle = join(repoRoot, 'dist', 'bundle', 'berth.mjs');
  if (!existsSync(bundle)) return 'dist/bundle/berth.mjs is missing (run `npm run build`): bin/berth.js ran the unbundled tsc output';
  const src = join(repoRoot, 'src', 'cli', 'program.ts');
  return statSync(src).mtimeMs > statSync(bundle).mtimeMs ? 'dist/bundle/ is older than src/cli/program.ts (run `npm run build`)' : 'bin/berth.js ran the bundle (dist/bundle/)';
}

export const cliStart: Bench = async (ctx) => {
  const server = ctx.servers.berth;
  const bin = join(repoRoot, 'bin', 'berth.js');
  if (!existsSync(join(repoRoot, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is not built (npm run build): bin/berth.js cannot run');

  const home = join(ctx.work, 'clistart-home');
  mkdirSync(home, { recursive: true });
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_RUNTIME_DIR: home,
    TMPDIR: home,
    REGISTRY_AUTH_FILE: join(home, 'auth.json'),
  };

  const rows: Row[] = [];
  const row = (metric: string, berth: number | undefined, skopeo: number | undefined): Row => ({
    bench: 'clistart',
    metric,
    unit: 'ms',
    better: 'lower',
    berth,
    reference: skopeo,
    referenceName: 'skopeo',
    target: `berth <= ${TARGET_MS} ms`,
    verdict: berth === undefined ? 'n/a' : berth <= TARGET_MS ? 'PASS' : 'FAIL',
  });

  log(`clistart: --version, ${REPS} runs each`);
  const [berthVersion, skopeoVersion] = medians([{ cmd: bin, args: ['--version'] }, { cmd: 'skopeo', args: ['--version'] }], env, '.');
  rows.push(row('berth --version', berthVersion, skopeoVersion));

  if (server) {
    await Promise.all(TAGS.map((t) => pushTinyImage(server.url, 'clistart/app', t, tinyImage())));
    const repo = `${server.host}/clistart/app`;
    log(`clistart: tags ${repo}, ${REPS} runs each`);
    const [insecure, skopeoTags, probing] = medians(
      [
        { cmd: bin, args: ['tags', repo, '--insecure'] },
        { cmd: 'skopeo', args: ['list-tags', '--tls-verify=false', `docker://${repo}`] },
        { cmd: bin, args: ['tags', repo] },
      ],
      env,
      TAGS[2],
    );
    rows.push(row(`berth tags HOST/REPO --insecure (${TAGS.length} tags, plain HTTP)`, insecure, skopeoTags));
    const probed = row('berth tags HOST/REPO (the same, HTTPS tried first)', probing, skopeoTags);
    probed.note = "berth's HTTPS attempt loads node:https and builds the TLS root store before the server's plain-HTTP answer ends it; skopeo's reference is the same run in both rows";
    rows.push(probed);
  } else {
    ctx.error('clistart: no berth server, so no `berth tags` row');
  }

  // The floor: node itself on an empty ES module, with and without the shebang's V8 flags.
  const empty = join(ctx.work, 'clistart-empty.mjs');
  writeFileSync(empty, "process.stdout.write('.');\n");
  const flags = shebangFlags(bin);
  const [plain, flagged] = medians([{ cmd: process.execPath, args: [empty] }, { cmd: process.execPath, args: [...flags, empty] }], env, '.');
  rows[0].note =
    `median of ${REPS} runs, wall time of the whole process (spawn to exit); ${bundleState()}. ` +
    `Floor: node running an empty ES module takes ${plain.toFixed(1)} ms, ${flagged.toFixed(1)} ms with the shebang's ${flags.join(' ') || '(no flags)'} ` +
    `(with V8 flags on its command line node cannot use the code cache of its own built-in modules, so the http, tls and crypto modules a command loads cost about 3 times more).`;
  return rows;
};
