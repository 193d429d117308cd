// The hit path through the HTTP API: with the cache warm, a manifest GET by tag (and by digest,
// HEAD, blob HEAD) asks the metadata store nothing, and a replica whose in-process manifest cache
// is cold gets the bytes from Redis instead of the blob store.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pino from 'pino';
import { CachedMetadataStore } from '../../src/cache/cached-metadata-store.ts';
import { openRedisCache } from '../../src/cache/open.ts';
import type { MetadataStore } from '../../src/metadata/store.ts';
import { openSqliteMetadata } from '../../src/metadata/sqlite.ts';
import { ManifestCache } from '../../src/registry/manifest-cache.ts';
import { OCI_MANIFEST, pushImage, startTestRegistry, type TestRegistry } from '../http/harness.ts';
import { redisConfig, redisSkip, startRedis, type RedisServer } from './redis-server.ts';

/** Counts every call to the store. */
function counting(inner: MetadataStore): { store: MetadataStore; calls: string[] } {
  const calls: string[] = [];
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, calls };
}

describe('the cache hit path over HTTP', { skip: redisSkip() }, () => {
  let redis: RedisServer;
  let registry: TestRegistry;
  let wired: MetadataStore;
  let calls: string[];
  before(async () => {
    redis = await startRedis();
    registry = await startTestRegistry((c) => {
      c.storage.cache.blobdescriptor = 'redis';
      c.redis = redisConfig(redis.addr);
    });
    // The wiring under test is app.ts's; the counting wrapper has to sit under the cache, so the
    // same cache is opened again over a counting view of the same database and swapped in.
    wired = registry.services.metadata;
    const counted = counting(await openSqliteMetadata(join(registry.root, 'berth.sqlite')));
    calls = counted.calls;
    const cache = await openRedisCache(redisConfig(redis.addr), counted.store, pino({ level: 'silent' }));
    registry.services.metadata = cache.metadata;
    registry.services.contentCache = cache.contentCache;
  });
  after(async () => {
    await wired?.close();
    await registry?.stop();
    await redis?.stop();
  });

  it('is wired by app.ts when storage.cache.blobdescriptor is redis', () => {
    assert.ok(wired instanceof CachedMetadataStore);
  });

  it('answers a warm manifest GET by tag without a metadata query', async () => {
    const img = await pushImage(registry.url, 'hit/repo', 'v1');
    const url = `${registry.url}/v2/hit/repo/manifests/v1`;
    const get = async (reference = 'v1', method = 'GET') => {
      const res = await fetch(`${registry.url}/v2/hit/repo/manifests/${reference}`, { method, headers: { Accept: OCI_MANIFEST } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), img.digest);
      return Buffer.from(await res.arrayBuffer());
    };
    // Warm: the first reads create the tokens and store the entries.
    for (let i = 0; i < 3; i++) {
      await get();
      await get(img.digest);
      await get('v1', 'HEAD');
      await fetch(`${registry.url}/v2/hit/repo/blobs/${img.layer}`, { method: 'HEAD' });
      await new Promise((r) => setTimeout(r, 10));
    }
    calls.length = 0;
    for (let i = 0; i < 20; i++) assert.deepEqual(await get(), img.bytes);
    assert.deepEqual(calls, [], `GET ${url} asked the store`);
    await get(img.digest);
    await get('v1', 'HEAD');
    const blob = await fetch(`${registry.url}/v2/hit/repo/blobs/${img.layer}`, { method: 'HEAD' });
    assert.equal(blob.status, 200);
    assert.deepEqual(calls, [], 'GET by digest, HEAD and blob HEAD asked the store');
  });

  it('serves manifest bytes from Redis when the in-process cache is cold', async () => {
    const img = await pushImage(registry.url, 'hit/bytes', 'v1'); // the PUT puts the bytes in Redis too
    const { blobs } = registry.services;
    let reads = 0;
    const read = blobs.read.bind(blobs);
    blobs.read = (...args) => {
      reads++;
      return read(...args);
    };
    try {
      registry.services.manifestCache = new ManifestCache(); // another replica, say
      const res = await fetch(`${registry.url}/v2/hit/bytes/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), img.bytes);
      assert.equal(reads, 0, 'the blob store was not read');
    } finally {
      blobs.read = read;
    }
  });
});
