// Memory after a burst of uploads (src/http/idle-trim.ts): once the registry goes idle, what 32
// concurrent uploads used goes back. An ordinary full collection left the finished requests'
// buffers alive (28-38 MiB, measured) until V8's memory reducer ran some 8-10 s later, and then
// nothing gave glibc's pages back; the idle trim's memory-reducing collection frees them at once.
// The compiled server, started as installed, so its heap settings and the server bundle apply.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { nativeAddon } from '../../src/native/addon.ts';
import { startBerth, type RunningServer } from '../helpers/processes.ts';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? NaN) / 1024;
}

/** POST, then the whole blob as the body of PUT ?digest=; resolves with the PUT's status. */
async function upload(base: string, repo: string, data: Buffer, digest: string): Promise<number> {
  const post = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  const location = new URL(post.headers.get('location')!, base);
  location.searchParams.set('digest', digest);
  return new Promise((resolve, reject) => {
    const req = request(location, { method: 'PUT', headers: { 'Content-Length': String(data.length), 'Content-Type': 'application/octet-stream' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(data);
  });
}

describe('memory after concurrent uploads', { skip: !nativeAddon()?.memoryPressure && 'native addon not built' }, () => {
  let server: RunningServer;
  before(async () => {
    server = await startBerth({ compiled: true });
  });
  after(async () => {
    await server?.stop();
  });

  it('goes back to about where it was once the registry is idle', { timeout: 60_000 }, async () => {
    // The start-up trim runs about a second after start.
    await sleep(2500);
    const idle = rssMiB(server.pid);
    const data = randomBytes(16 * MiB);
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const statuses = await Promise.all(Array.from({ length: 32 }, (_, i) => upload(server.url, `mem/r${i}`, data, digest)));
    assert.deepEqual(new Set(statuses), new Set([201]));
    const busy = rssMiB(server.pid);
    // The trim waits a second of idleness, and at least 5 s after the previous one.
    let now = busy;
    for (let waited = 0; waited < 12_000 && now > idle + 12; waited += 250) {
      await sleep(250);
      now = rssMiB(server.pid);
    }
    assert.ok(now <= idle + 12, `RSS ${now.toFixed(1)} MiB after the uploads, ${idle.toFixed(1)} MiB before them (${busy.toFixed(1)} right after)`);
  });
});
