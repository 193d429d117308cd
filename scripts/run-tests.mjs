// Runs every test file under test/ with Node's built-in runner, TypeScript through tsx.
// Node 20's --test does not expand globs or pick up .ts files by itself, so we list them here.
//
// A hung test must fail the run with a name, not eat CI's whole time budget in silence:
// - --test-timeout fails any single test that runs longer than TEST_TIMEOUT_MS (default 10 min);
// - test/helpers/exit-when-done.ts ends a file's process soon after its tests are done, even if a
//   stray handle (a socket, a timer) would keep it alive, and names that handle;
// - a watchdog names every test file still running after each HEARTBEAT_MIN minutes, and after
//   TEST_DEADLINE_MIN minutes (default 60) it stops the run, listing the files that never ended.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

function find(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (entry.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2);
const files = (only.length ? only : find('test')).sort();
const timeoutMs = Number(process.env.TEST_TIMEOUT_MS ?? 600_000);
const deadlineMin = Number(process.env.TEST_DEADLINE_MIN ?? 60);
const heartbeatMin = Number(process.env.HEARTBEAT_MIN ?? 5);

// Servers that tests start as processes (test/helpers/processes.ts) run as installed: bin/berth.js
// with the server bundle, which is what users run. The bundle is built afresh from src for every
// run (esbuild, seconds), so a run never judges a stale one: the TypeScript through tsx once hid a
// server that exited at start in the bundle (CommonJS packages loaded with import()).
// BERTH_TEST_SERVER=source runs src through tsx instead; so does a tree that was never built.
const env = { ...process.env };
if (!env.BERTH_TEST_SERVER) {
  if (existsSync('dist/cli/main.js')) {
    const out = resolve('.test-server-bundle-run');
    const built = spawnSync(process.execPath, ['scripts/build-server.mjs', '--out', out], { stdio: 'inherit' });
    if (built.status !== 0) process.exit(1);
    env.BERTH_TEST_SERVER = 'bundle';
    env.BERTH_SERVER_BUNDLE = join(out, 'serve.mjs');
  } else {
    process.stderr.write('[run-tests] no build (npm run build): servers run from src through tsx\n');
    env.BERTH_TEST_SERVER = 'source';
  }
}

const runner = spawn(
  process.execPath,
  [
    '--import', 'tsx', '--import', './test/helpers/exit-when-done.ts', '--test', '--test-reporter=spec',
    `--test-timeout=${timeoutMs}`, `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
    ...files,
  ],
  { stdio: 'inherit', detached: true, env },
);

/** The test files the runner's child processes are running now, with how long each has run. */
function runningFiles() {
  const clockTicks = 100;
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const out = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== runner.pid) continue;
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const file = argv.find((a) => a.endsWith('.test.ts'));
      const minutes = (uptime - Number(fields[19]) / clockTicks) / 60;
      if (file) out.push(`${file} (${minutes.toFixed(1)} min)`);
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

const started = Date.now();
const heartbeat = setInterval(() => {
  const running = runningFiles();
  const elapsed = ((Date.now() - started) / 60_000).toFixed(0);
  if (running.length) process.stderr.write(`[run-tests] ${elapsed} min in; running: ${running.join(', ')}\n`);
}, heartbeatMin * 60_000);
heartbeat.unref();

const deadline = setTimeout(() => {
  process.stderr.write(`[run-tests] the run passed its ${deadlineMin} min deadline; these files never ended: ${runningFiles().join(', ') || '(none found)'}\n`);
  try {
    process.kill(-runner.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
  process.exit(1);
}, deadlineMin * 60_000);
deadline.unref();

runner.on('exit', (code, signal) => {
  clearTimeout(deadline);
  process.exit(code ?? (signal ? 1 : 0));
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    try {
      process.kill(-runner.pid, sig);
    } catch {
      // Already gone.
    }
  });
}
