// The server's heap settings (src/http/server-heap.ts), in a child process because V8 flags are
// process-wide: after configureServerHeap() the young generation stays small however node was
// started (no flags here), even when many young objects survive (what module loading does), and
// the collector the upload path calls is reachable; BERTH_V8_DEFAULTS=1 leaves V8's own sizing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, startBerth, type StartOptions } from '../helpers/processes.ts';

const heapModule = fileURLToPath(new URL('../../src/http/server-heap.ts', import.meta.url));
const script = `
import { getHeapSpaceStatistics } from 'node:v8';
const { configureServerHeap, serverGc } = await import(${JSON.stringify(heapModule)});
configureServerHeap();
const keep = [];
for (let i = 0; i < 1_500_000; i++) keep.push({ a: i, b: [i] });
const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
const gc = serverGc();
if (gc) gc({ type: 'minor' });
console.log(JSON.stringify({ newSpaceMiB: newSpace.space_size / 1048576, gc: typeof gc, kept: keep.length }));
`;

async function run(env: NodeJS.ProcessEnv = {}): Promise<{ newSpaceMiB: number; gc: string }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, ...env } });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('server heap settings', () => {
  it('stop the young generation growing (it stays at the few MiB it had; V8 alone grows it to 16 MiB semi-spaces) and expose the collector, without command-line flags', async () => {
    const r = await run({ BERTH_V8_DEFAULTS: '' });
    assert.ok(r.newSpaceMiB <= 4, `new space ${r.newSpaceMiB} MiB`);
    assert.equal(r.gc, 'function');
  });

  it('BERTH_V8_DEFAULTS=1 leaves V8 its own sizing (the young generation grows)', async () => {
    const r = await run({ BERTH_V8_DEFAULTS: '1' });
    assert.ok(r.newSpaceMiB >= 16, `new space ${r.newSpaceMiB} MiB`);
    assert.equal(r.gc, 'undefined');
  });
});

/**
 * glibc's thread arenas in a running process: each is a 64 MiB-aligned heap of 64 MiB
 * (read-write part plus reserved rest) in /proc/PID/maps; the main arena is `[heap]`.
 */
function threadArenas(pid: number): number {
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [range, perms, , , , path] = line.split(/\s+/);
      const [start, end] = range.split('-').map((x) => BigInt(`0x${x}`));
      return { start, end, perms, path };
    });
  const heap = 64n << 20n;
  return maps.filter((m, i) => {
    if (m.perms !== 'rw-p' || m.path || m.start % heap !== 0n) return false;
    const next = maps[i + 1];
    const end = next && next.start === m.end && next.perms === '---p' ? next.end : m.end;
    return end - m.start === heap;
  }).length;
}

const built = existsSync(join(repoRoot, 'dist', 'cli', 'main.js'));
describe('malloc arenas however berth is started', { skip: !built && 'needs the build (npm run build)' }, () => {
  const arenasAfterStart = async (opts: StartOptions) => {
    const server = await startBerth({ compiled: true, ...opts });
    try {
      await (await fetch(`${server.url}/v2/`)).arrayBuffer();
      return threadArenas(server.pid);
    } finally {
      await server.stop();
    }
  };

  // The one-arena cap set before the CLI's modules load (src/cli/serve-early.ts): at most the arena
  // Node's own start-up thread took, where glibc's default let V8's and libuv's threads take one
  // each (five here), each keeping memory malloc_trim cannot give back.
  for (const entry of ['bin/berth.js', 'node dist/cli/main.js'] as const) {
    it(`${entry} serve: at most one thread arena, fewer than with glibc's defaults`, async () => {
      const tuned = await arenasAfterStart({ entry });
      const defaults = await arenasAfterStart({ entry, env: { BERTH_MALLOC_DEFAULTS: '1' } });
      assert.ok(tuned <= 1, `${tuned} thread arenas (glibc's defaults: ${defaults})`);
      assert.ok(defaults > tuned, `glibc's defaults gave ${defaults} thread arenas, the cap ${tuned}`);
    });
  }
});
