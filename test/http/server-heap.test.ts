// The server's heap settings (src/http/server-heap.ts), in a child process because V8 flags are
// process-wide: after configureServerHeap() the young generation stays small however node was
// started (no flags here), even when many young objects survive (what module loading does), and
// the collector the upload path calls is reachable; BERTH_V8_DEFAULTS=1 leaves V8's own sizing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

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
