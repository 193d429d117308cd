// Operations: abandoned-upload purging, readiness from the storage probe, the access log, and a
// server-side failure after a request's body was read (answered and logged, not a dropped connection).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { defaultConfig } from '../../src/config/index.ts';
import { startRegistry } from '../../src/http/server.ts';
import { firstPurgeDelayMs, UploadPurger } from '../../src/maintenance/upload-purger.ts';
import { jsonLineSink, startTestRegistry } from './harness.ts';

describe('storage.maintenance.uploadpurging', () => {
  it('purges uploads idle for longer than age, from storage and metadata, and keeps fresh ones', async () => {
    const r = await startTestRegistry();
    try {
      const old = await fetch(`${r.url}/v2/purge/a/blobs/uploads/`, { method: 'POST' });
      const oldLocation = old.headers.get('location')!;
      const settings = { enabled: true, ageMs: 60_000, intervalMs: 60_000, dryrun: false };
      const purger = new UploadPurger(r.services, settings, pino({ level: 'silent' }));
      // Nothing is old yet.
      assert.deepEqual(await purger.purgeOnce(), []);
      // An hour later the session is abandoned.
      const purged = await purger.purgeOnce(Date.now() + 3_600_000);
      assert.deepEqual(purged, [old.headers.get('docker-upload-uuid')]);
      assert.deepEqual(await readdir(join(r.root, 'uploads')), []);
      const status = await fetch(oldLocation);
      assert.equal(status.status, 404);
    } finally {
      await r.stop();
    }
  });

  it('only reports in dry-run mode', async () => {
    const r = await startTestRegistry();
    try {
      const res = await fetch(`${r.url}/v2/purge/b/blobs/uploads/`, { method: 'POST' });
      const purger = new UploadPurger(r.services, { enabled: true, ageMs: 1, intervalMs: 60_000, dryrun: true }, pino({ level: 'silent' }));
      assert.equal((await purger.purgeOnce(Date.now() + 10_000)).length, 1);
      assert.equal((await fetch(res.headers.get('location')!)).status, 204);
    } finally {
      await r.stop();
    }
  });
});

describe('storage.maintenance.uploadpurging schedule', () => {
  it('purges for the first time within an hour of the start, as registry:2, then every interval', async () => {
    // A registry restarted more often than `interval` (a day by default) must still purge.
    type Scheduled = { kind: 'timeout' | 'interval'; ms: number; fn: () => void };
    const scheduled: Scheduled[] = [];
    const realTimeout = globalThis.setTimeout;
    const realInterval = globalThis.setInterval;
    const fake = (kind: Scheduled['kind']) => ((fn: () => void, ms: number) => {
      scheduled.push({ kind, ms, fn });
      return { unref() {}, ref() {} } as unknown as NodeJS.Timeout;
    }) as unknown as typeof setTimeout;
    let runs = 0;
    const day = 24 * 3_600_000;
    const purger = new UploadPurger({} as never, { enabled: true, ageMs: 7 * day, intervalMs: day, dryrun: false }, pino({ level: 'silent' }), () => 0.999);
    purger.purgeOnce = async () => {
      runs++;
      return [];
    };
    globalThis.setTimeout = fake('timeout');
    globalThis.setInterval = fake('interval') as unknown as typeof setInterval;
    try {
      purger.start();
    } finally {
      globalThis.setTimeout = realTimeout;
      globalThis.setInterval = realInterval;
    }
    assert.equal(scheduled.length, 1);
    const first = scheduled[0]!;
    assert.ok(first.ms > 0 && first.ms <= 3_600_000, `first purge after ${first.ms} ms`);
    globalThis.setInterval = fake('interval') as unknown as typeof setInterval;
    try {
      first.fn();
    } finally {
      globalThis.setInterval = realInterval;
    }
    assert.equal(runs, 1);
    assert.deepEqual(scheduled.slice(1).map((s) => [s.kind, s.ms]), [['interval', day]]);
    // Never later than a short interval.
    assert.equal(firstPurgeDelayMs(10_000, () => 0.5), 10_000);
  });
});

describe('readiness (health.storagedriver)', () => {
  it('turns 503 when the storage root disappears and recovers when it is back', async () => {
    const { rename } = await import('node:fs/promises');
    const r = await startTestRegistry((c) => {
      c.health.storagedriver = { enabled: true, intervalMs: 100, threshold: 2 };
    });
    try {
      assert.equal((await fetch(`${r.url}/readyz`)).status, 200);
      await rename(join(r.root, 'tmp'), join(r.root, 'tmp-away'));
      await new Promise((res) => setTimeout(res, 600));
      const down = await fetch(`${r.url}/readyz`);
      assert.equal(down.status, 503);
      assert.ok(((await down.json()) as { failing: Record<string, string> }).failing.storagedriver);
      await rename(join(r.root, 'tmp-away'), join(r.root, 'tmp'));
      await new Promise((res) => setTimeout(res, 400));
      assert.equal((await fetch(`${r.url}/readyz`)).status, 200);
    } finally {
      await r.stop();
    }
  });
});

describe('access log', () => {
  it('writes one JSON line per request with method, path, status, bytes, duration and request id, never the query', async () => {
    const { lines, sink } = jsonLineSink();
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const root = await mkdtemp(join(tmpdir(), 'berth-log-'));
    const config = defaultConfig();
    config.http.addr = '127.0.0.1:0';
    config.storage.filesystem.rootdirectory = root;
    config.log.fields = { service: 'registry' };
    const registry = await startRegistry(config, pino({ level: 'info', base: { service: 'registry' } }, sink));
    try {
      await (await fetch(`${registry.url}/v2/_catalog?n=5&secret=hunter2`)).arrayBuffer();
      await new Promise((res) => setTimeout(res, 50));
      const line = lines.find((l) => l.msg === 'request')!;
      assert.equal(line.method, 'GET');
      assert.equal(line.path, '/v2/_catalog');
      assert.equal(line.status, 200);
      assert.equal(typeof line.bytes, 'number');
      assert.equal(typeof line.durationMs, 'number');
      assert.match(String(line.requestId), /^[0-9a-f-]{36}$/);
      assert.equal(line.service, 'registry');
      assert.ok(!JSON.stringify(lines).includes('hunter2'));
    } finally {
      await registry.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('storage.maintenance.readonly', () => {
  it('refuses every write with 405 UNSUPPORTED and keeps serving reads', async () => {
    const r = await startTestRegistry((c) => {
      c.storage.maintenance.readonly.enabled = true;
    });
    try {
      const post = await fetch(`${r.url}/v2/ro/a/blobs/uploads/`, { method: 'POST' });
      assert.equal(post.status, 405);
      assert.equal(((await post.json()) as { errors: Array<{ code: string }> }).errors[0]!.code, 'UNSUPPORTED');
      const put = await fetch(`${r.url}/v2/ro/a/manifests/latest`, { method: 'PUT', body: '{}' });
      assert.equal(put.status, 405);
      assert.equal((await fetch(`${r.url}/v2/_catalog`)).status, 200);
    } finally {
      await r.stop();
    }
  });
});

describe('a failure after the request body was read', () => {
  it('is answered 500 UNKNOWN and logged, not taken for a client that left', async () => {
    const { lines, sink } = jsonLineSink();
    const r = await startTestRegistry(() => {}, pino({ level: 'error' }, sink));
    try {
      // The metadata store fails once the whole body is stored and verified (a disk full, a lost database).
      r.services.metadata.linkBlob = async () => {
        throw new Error('database is locked');
      };
      const data = randomBytes(300_000);
      const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
      const res = await fetch(`${r.url}/v2/fail/after-body/blobs/uploads/?digest=${digest}`, { method: 'POST', body: new Uint8Array(data) });
      assert.equal(res.status, 500);
      assert.deepEqual(((await res.json()) as { errors: Array<{ code: string }> }).errors.map((e) => e.code), ['UNKNOWN']);
      await new Promise((done) => setTimeout(done, 50));
      assert.ok(lines.some((l) => l.msg === 'request failed'), 'the failure is logged');
    } finally {
      await r.stop();
    }
  });
});
