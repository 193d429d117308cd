// Redis going away under traffic, through the HTTP API: pulls and pushes keep running while
// redis-server is SIGKILLed and restarted (or stalled with SIGSTOP), and none of them fails.
// One warning per outage, the cache in use again afterwards, and a tag moved during the outage
// is read correctly once Redis is back, even when Redis kept the entry that tag had before.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { OCI_MANIFEST, pushImage, putManifest, startTestRegistry, type TestRegistry } from '../http/harness.ts';
import { capturedLog, redisConfig, redisSkip, startRedis, type RedisServer } from './redis-server.ts';
import { until } from './fixtures.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const REPO = 'outage/repo';
/** Pushes go elsewhere: a write to REPO after the outage would replace its generation and hide a missed invalidation. */
const PUSHES = 'outage/pushes';

interface Traffic {
  stop(): Promise<{ pulls: number; pushes: number }>;
  failures: string[];
}

/** Three pullers of a stable tag (manifest and layer) and one pusher that reads back each push. */
function traffic(url: string, stable: { digest: string; layer: string }): Traffic {
  const failures: string[] = [];
  let running = true;
  const counts = { pulls: 0, pushes: 0 };
  const puller = async () => {
    while (running) {
      try {
        const m = await fetch(`${url}/v2/${REPO}/manifests/stable`, { headers: { Accept: OCI_MANIFEST } });
        await m.arrayBuffer();
        if (m.status !== 200 || m.headers.get('docker-content-digest') !== stable.digest) failures.push(`pull manifest: ${m.status} ${m.headers.get('docker-content-digest')}`);
        const b = await fetch(`${url}/v2/${REPO}/blobs/${stable.layer}`);
        await b.arrayBuffer();
        if (b.status !== 200) failures.push(`pull blob: ${b.status}`);
        counts.pulls++;
      } catch (e) {
        failures.push(`pull: ${(e as Error).message}`);
      }
    }
  };
  const pusher = async () => {
    for (let i = 0; running; i++) {
      try {
        const img = await pushImage(url, PUSHES, `push-${i}`);
        const m = await fetch(`${url}/v2/${PUSHES}/manifests/push-${i}`, { method: 'HEAD', headers: { Accept: OCI_MANIFEST } });
        if (m.headers.get('docker-content-digest') !== img.digest) failures.push(`read own push: ${m.status}`);
        counts.pushes++;
      } catch (e) {
        failures.push(`push: ${(e as Error).message}`);
      }
    }
  };
  const workers = [puller(), puller(), puller(), pusher()];
  return {
    failures,
    async stop() {
      running = false;
      await Promise.all(workers);
      return counts;
    },
  };
}

async function tagDigest(url: string, tag: string): Promise<string | null> {
  const res = await fetch(`${url}/v2/${REPO}/manifests/${tag}`, { headers: { Accept: OCI_MANIFEST } });
  await res.arrayBuffer();
  assert.equal(res.status, 200);
  return res.headers.get('docker-content-digest');
}

/** Points `tag` at the manifest of `img` (already in the repository). */
async function moveTag(url: string, tag: string, img: { bytes: Buffer; digest: string }): Promise<void> {
  const res = await putManifest(url, REPO, tag, img.bytes, OCI_MANIFEST);
  assert.equal(res.status, 201, await res.text());
}

describe('Redis going away under traffic', { skip: redisSkip() }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function setup(): Promise<{ redis: RedisServer; registry: TestRegistry; logs: ReturnType<typeof capturedLog>; stable: Awaited<ReturnType<typeof pushImage>>; a: Awaited<ReturnType<typeof pushImage>>; b: Awaited<ReturnType<typeof pushImage>> }> {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const logs = capturedLog('info');
    const registry = await startTestRegistry((c) => {
      c.storage.cache.blobdescriptor = 'redis';
      c.redis = redisConfig(redis.addr);
    }, logs.log);
    cleanups.push(() => registry.stop());
    const stable = await pushImage(registry.url, REPO, 'stable');
    const a = await pushImage(registry.url, REPO, 'moving');
    const b = await pushImage(registry.url, REPO, 'other');
    // Warm: 'moving' -> a is in Redis.
    for (let i = 0; i < 3; i++) assert.equal(await tagDigest(registry.url, 'moving'), a.digest);
    await until('the entry for moving', async () => (await redis.admin.get(`berth:cache:v1:meta:${REPO} t moving`)) !== null);
    return { redis, registry, logs, stable, a, b };
  }

  it('keeps serving through a SIGKILL and a restart on the same port', async () => {
    const { redis, registry, logs, stable, b } = await setup();
    const load = traffic(registry.url, stable);
    await sleep(500);

    await redis.kill();
    await until('the outage warning', () => logs.count('warn', 'Redis cache') > 0);
    await moveTag(registry.url, 'moving', b); // while Redis is down
    assert.equal(await tagDigest(registry.url, 'moving'), b.digest);
    await sleep(700);

    await redis.start();
    await until('the cache to be used again', async () => (await redis.stat('keyspace_hits')) > 10, 15_000);
    await sleep(300);
    const counts = await load.stop();

    assert.deepEqual(load.failures, []);
    assert.ok(counts.pulls > 20 && counts.pushes > 2, JSON.stringify(counts));
    assert.equal(logs.count('warn', 'Redis cache'), 1, JSON.stringify(logs.lines.filter((l) => l.level === 'warn')));
    assert.equal(logs.count('info', 'Redis cache available again'), 1);
    for (let i = 0; i < 3; i++) assert.equal(await tagDigest(registry.url, 'moving'), b.digest);
    assert.ok((await redis.admin.dbsize()) > 0, 'entries are written again');
  });

  it('does not serve a tag moved while Redis was stalled, though Redis kept its old entry', async () => {
    const { redis, registry, logs, stable, a, b } = await setup();
    const load = traffic(registry.url, stable);
    await sleep(300);

    await redis.pause(); // the connection stays open; commands time out (readtimeout 500 ms)
    try {
      await until('the outage warning', () => logs.count('warn', 'Redis cache') > 0);
      await moveTag(registry.url, 'moving', b); // its invalidation cannot be written
      assert.equal(await tagDigest(registry.url, 'moving'), b.digest);
      await sleep(500);
    } finally {
      redis.resume();
    }
    const stale = await redis.admin.get(`berth:cache:v1:meta:${REPO} t moving`);
    assert.ok(stale?.includes(a.digest), 'Redis still holds the entry from before the move');

    await until('the cache to be used again', () => logs.count('info', 'Redis cache available again') > 0, 15_000);
    const hits = await redis.stat('keyspace_hits');
    await sleep(300);
    const counts = await load.stop();
    assert.ok((await redis.stat('keyspace_hits')) > hits, 'hits after the recovery');

    assert.deepEqual(load.failures, []);
    assert.ok(counts.pulls > 10 && counts.pushes > 1, JSON.stringify(counts));
    assert.equal(logs.count('warn', 'Redis cache'), 1, JSON.stringify(logs.lines.filter((l) => l.level === 'warn')));
    assert.equal(logs.count('info', 'Redis cache available again'), 1);
    for (let i = 0; i < 3; i++) assert.equal(await tagDigest(registry.url, 'moving'), b.digest);
  });
});
