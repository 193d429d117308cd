// Manifest bytes in Redis under their digest. Content addressed, so an entry can never be stale:
// no generations or epoch here. Bytes read back are hashed before use (a few microseconds for a
// manifest), so a damaged or foreign value is a miss, never a wrong answer.
import { digestOf, type DigestAlgorithm } from '../oci/digest.ts';
import type { ContentCache } from './content-cache.ts';
import type { RedisLink } from './redis-link.ts';

export interface RedisContentCacheOptions {
  /** Default 1 day: entries need no expiry for correctness, only to give memory back. */
  ttlSeconds?: number;
  /** Larger values are not cached (default 1 MiB; manifests are usually a few KiB). */
  maxBytes?: number;
}

export class RedisContentCache implements ContentCache {
  readonly stats = { hits: 0, misses: 0, bypassed: 0 };
  private readonly ttl: number;
  private readonly maxBytes: number;

  constructor(
    private readonly link: RedisLink,
    options: RedisContentCacheOptions = {},
  ) {
    this.ttl = options.ttlSeconds ?? 86_400;
    this.maxBytes = options.maxBytes ?? 1024 * 1024;
  }

  async get(digest: string): Promise<Buffer | undefined> {
    const key = this.link.keys.content(digest);
    const got = await this.link.read((c) => c.getBuffer(key));
    if (got === undefined) {
      this.stats.bypassed++;
      return undefined;
    }
    const algorithm = digest.slice(0, digest.indexOf(':')) as DigestAlgorithm;
    if (got && (algorithm === 'sha256' || algorithm === 'sha512') && digestOf(got, algorithm) === digest) {
      this.stats.hits++;
      return got;
    }
    this.stats.misses++;
    return undefined;
  }

  set(digest: string, bytes: Buffer): void {
    if (bytes.length > this.maxBytes) return;
    const key = this.link.keys.content(digest);
    this.link.bestEffort((c) => c.set(key, bytes, 'EX', this.ttl));
  }
}
