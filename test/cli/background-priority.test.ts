// Maintenance commands (berth gc, berth retention run) give way to the registries serving beside
// them: every thread of the process, those V8 and libuv started before the call and those started
// after it, runs at nice 19, and under SCHED_IDLE when the native addon is built. Checked in a
// child process (the change cannot be undone) from /proc/<pid>/task/<tid>/stat.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { run, repoRoot } from '../helpers/processes.ts';
import { nativeAddon } from '../../src/native/addon.ts';

const SCHED_IDLE = 5;

const child = `
import { readdirSync, readFileSync } from 'node:fs';
import { pbkdf2Sync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { runAsBackgroundJob } from './src/util/background-priority.ts';
await readFile('package.json'); // libuv's pool is running
runAsBackgroundJob();
const worker = new Worker('setTimeout(() => {}, 500)', { eval: true }); // a thread started after
await new Promise((r) => worker.once('online', r));
const threads = readdirSync('/proc/self/task').map((tid) => {
  const stat = readFileSync('/proc/self/task/' + tid + '/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { tid, nice: Number(f[16]), policy: Number(f[38]) };
});
process.stdout.write(JSON.stringify(threads));
await worker.terminate();
`;

describe('maintenance commands run at the lowest CPU priority', { skip: process.platform !== 'linux' && 'Linux keeps priorities per thread' }, () => {
  it('every thread, started before or after, is at nice 19 (and SCHED_IDLE with the addon)', async () => {
    const r = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], { cwd: repoRoot, timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    const threads = JSON.parse(r.stdout) as { tid: string; nice: number; policy: number }[];
    assert.ok(threads.length >= 6, `expected node's helper threads too, saw ${threads.length}`);
    for (const t of threads) {
      assert.equal(t.nice, 19, `thread ${t.tid} at nice ${t.nice}`);
      if (nativeAddon()?.idleScheduling) assert.equal(t.policy, SCHED_IDLE, `thread ${t.tid} under policy ${t.policy}`);
    }
  });
});
