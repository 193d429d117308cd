// Replicas for the cache tests: CachedMetadataStores over one SQLite file (one connection each, as
// separate processes would have), each with its own Redis connection.
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { openRedisCache } from '../../src/cache/open.ts';
import type { CachedMetadataStore } from '../../src/cache/cached-metadata-store.ts';
import type { RedisLink } from '../../src/cache/redis-link.ts';
import type { MetadataStore, NewManifest } from '../../src/metadata/store.ts';
import { openSqliteMetadata } from '../../src/metadata/sqlite.ts';
import { redisConfig } from './redis-server.ts';

export const digest = (s: string | Buffer = randomBytes(8)) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

export function image(blobs: string[]): NewManifest {
  return { digest: digest(), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 100, blobs, children: [], configDigest: blobs[0] };
}

export interface Replica {
  store: CachedMetadataStore;
  link: RedisLink;
  /** Resolves once every command this replica sent before has been answered (entries are stored fire-and-forget). */
  flush(): Promise<void>;
}

export async function openReplica(dir: string, addr: string, opts: { log?: Logger; wrap?: (inner: MetadataStore) => MetadataStore } = {}): Promise<Replica> {
  const inner = await openSqliteMetadata(join(dir, 'berth.sqlite'));
  const { metadata, link } = await openRedisCache(redisConfig(addr), opts.wrap ? opts.wrap(inner) : inner, opts.log ?? pino({ level: 'silent' }));
  return {
    store: metadata,
    link,
    flush: async () => {
      if (link.usable) await link.client.ping();
    },
  };
}

/**
 * Reads until one comes from the cache (the first read of a repository only creates its tokens,
 * the second stores the entry), and returns that hit's answer.
 */
export async function warm<T>(replica: Replica, read: () => Promise<T>): Promise<T> {
  for (let i = 0; i < 3; i++) {
    const hits = replica.store.stats.hits;
    const value = await read();
    if (replica.store.stats.hits === hits + 1) return value;
    await replica.flush();
  }
  throw new Error(`never served from the cache: ${JSON.stringify(replica.store.stats)}`);
}

/**
 * A store whose next armed read pauses after reading (so it holds the old value) until released:
 * the reader half of the read-then-write race.
 */
export function pausable(inner: MetadataStore): { store: MetadataStore; arm(): { read: Promise<void>; release(): void } } {
  let armed: { readDone(): void; released: Promise<void> } | undefined;
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (!['repositoryBlob', 'manifest', 'taggedManifest', 'resolveTag'].includes(String(prop))) return value.bind(target);
      return async (...args: unknown[]) => {
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        const gate = armed;
        armed = undefined;
        if (gate) {
          gate.readDone();
          await gate.released;
        }
        return result;
      };
    },
  });
  return {
    store,
    arm() {
      let readDone!: () => void;
      let release!: () => void;
      const read = new Promise<void>((r) => (readDone = r));
      const released = new Promise<void>((r) => (release = r));
      armed = { readDone, released };
      return { read, release };
    },
  };
}

export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
