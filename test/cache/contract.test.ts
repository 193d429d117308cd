// The metadata contract, run through the Redis cache over SQLite: the cache must not change any
// answer. The second run reads everything twice and compares, so answers that come back from
// Redis (JSON, dates revived) are checked against the store's own, not just the misses.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openRedisCache } from '../../src/cache/open.ts';
import type { CachedMetadataStore } from '../../src/cache/cached-metadata-store.ts';
import type { MetadataStore } from '../../src/metadata/store.ts';
import { openSqliteMetadata } from '../../src/metadata/sqlite.ts';
import { metadataContract } from '../metadata/metadata.contract.ts';
import { redisConfig, redisSkip, startRedis } from './redis-server.ts';

async function openCached(): Promise<{ store: CachedMetadataStore; cleanup(): Promise<void> }> {
  const redis = await startRedis();
  const dir = await mkdtemp(join(tmpdir(), 'berth-cache-contract-'));
  const inner = await openSqliteMetadata(join(dir, 'berth.sqlite'));
  const { metadata } = await openRedisCache(redisConfig(redis.addr), inner, pino({ level: 'silent' }));
  assert.ok(await redis.admin.ping(), 'redis is up');
  return {
    store: metadata,
    cleanup: async () => {
      await metadata.close();
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const CACHED_READS = ['repositoryBlob', 'manifest', 'taggedManifest', 'resolveTag'] as const;

/** Every cached read runs twice; the second answer (a hit when the first was stored) must be equal. */
function readTwice(store: CachedMetadataStore): MetadataStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (!(CACHED_READS as readonly (string | symbol)[]).includes(prop)) return value.bind(target);
      return async (...args: unknown[]) => {
        const first = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        // Entries are written fire-and-forget; give the write a moment to land before the re-read.
        await new Promise((r) => setTimeout(r, 2));
        const second = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        assert.deepEqual(second, first, `${String(prop)}(${args.join(', ')}) from the cache`);
        return second;
      };
    },
  });
}

metadataContract('sqlite through the Redis cache', openCached, { skip: redisSkip() });

metadataContract(
  'sqlite through the Redis cache, every read twice',
  async () => {
    const { store, cleanup } = await openCached();
    return {
      store: readTwice(store),
      cleanup: async () => {
        // The double reads must really have been answered from Redis.
        assert.ok(store.stats.hits >= 10, `cache hits: ${JSON.stringify(store.stats)}`);
        await cleanup();
      },
    };
  },
  { skip: redisSkip() },
);
