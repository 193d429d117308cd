// Opens the shared Redis cache (storage.cache.blobdescriptor: redis) around a metadata store.
// ioredis is imported here, on demand, so a registry without Redis never loads it.
import type { Logger } from 'pino';
import type { RedisConfig } from '../config/types.ts';
import type { MetadataStore } from '../metadata/store.ts';
import { CachedMetadataStore, type CachedMetadataOptions } from './cached-metadata-store.ts';
import { CacheKeys } from './keys.ts';
import { RedisContentCache } from './redis-content-cache.ts';
import { RedisLink } from './redis-link.ts';
import { commonJsExports } from '../util/commonjs.ts';

export interface RedisCache {
  /** The wrapped store; closing it closes the Redis connection too. */
  metadata: CachedMetadataStore;
  contentCache: RedisContentCache;
  link: RedisLink;
}

export interface OpenRedisCacheOptions extends CachedMetadataOptions {
  /** Key prefix (default berth:cache:v1:), e.g. to share one Redis database between registries. */
  keyPrefix?: string;
}

/** "host:port", "[v6]:port" or "host" (port 6379), as distribution's redis.addr. */
export function parseRedisAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(addr.trim());
  const host = m?.[1] ?? m?.[2];
  const port = m?.[3] === undefined ? 6379 : Number(m[3]);
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error('redis.addr: expected host:port');
  return { host, port };
}

export async function openRedisCache(config: RedisConfig, store: MetadataStore, log: Logger, options: OpenRedisCacheOptions = {}): Promise<RedisCache> {
  const { host, port } = parseRedisAddr(config.addr);
  // ioredis is CommonJS: in the server bundle its chunk exports only `default`.
  const { Redis } = commonJsExports(await import('ioredis'));
  const client = new Redis({
    host,
    port,
    ...(config.password !== undefined && { password: config.password }),
    db: config.db,
    ...(config.tls.enabled && { tls: { servername: host } }),
    connectTimeout: config.dialTimeoutMs,
    // One timeout per command; ioredis has no separate write timeout, so the longer of the two.
    commandTimeout: Math.max(config.readTimeoutMs, config.writeTimeoutMs),
    // Fail fast while disconnected: no queueing until Redis is back, no resending after a
    // reconnect (a cache command that waits is worse than a store query), no retries.
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    // Reconnect forever, backing off to 2 s, with jitter so replicas do not reconnect in step.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000) + Math.floor(Math.random() * 100),
    // RESP2 works with every Redis berth may meet (RESP3 needs Redis 6), and nothing here needs more.
    protocol: 2,
    disableClientInfo: true,
    connectionName: 'berth',
    // Concurrent requests' lookups leave in one write per event-loop tick.
    enableAutoPipelining: true,
    // redis.pool (maxidle, maxactive, idletimeout) has no equivalent: ioredis pipelines every
    // command over one connection, which is what a cache of small values wants.
  });
  const keys = new CacheKeys(options.keyPrefix);
  const link = new RedisLink(client, { log, keys, addr: `${host}:${port}`, ...(config.password !== undefined && { password: config.password }) });
  // Start with a warm connection when Redis is there; without it the registry starts anyway.
  await link.waitUntilUsable(config.dialTimeoutMs);
  return { metadata: new CachedMetadataStore(store, link, options), contentCache: new RedisContentCache(link), link };
}
