// Redis key layout of the shared cache, and the random tokens that decide whether an entry is valid.
//
// Validity tokens are random strings, not INCR counters: a counter that is evicted or expires
// starts again at 1 and can repeat a value that old entries still carry, which would make them
// valid again. A fresh random token never matches an entry written under an earlier one, so losing
// a token key (eviction, expiry, a Redis restart without persistence) can only cost hits.
import { randomBytes } from 'node:crypto';

/** Entry kinds: b = repositoryBlob, m = manifest, t = taggedManifest, r = resolveTag. */
export type EntryKind = 'b' | 'm' | 't' | 'r';

export class CacheKeys {
  /** The global epoch: part of every metadata entry's validity (see redis-link.ts). */
  readonly epoch: string;

  constructor(private readonly prefix = 'berth:cache:v1:') {
    this.epoch = `${prefix}epoch`;
  }

  /** The repository's generation: replaced after every write to the repository. */
  generation(repository: string): string {
    return `${this.prefix}gen:${repository}`;
  }

  /** Repository names, tags and digests never contain a space, so the key is unambiguous. */
  entry(repository: string, kind: EntryKind, id: string): string {
    return `${this.prefix}meta:${repository} ${kind} ${id}`;
  }

  /** Manifest bytes by digest: immutable, so valid whatever the epoch and generations say. */
  content(digest: string): string {
    return `${this.prefix}content:${digest}`;
  }
}

export function newToken(): string {
  return randomBytes(12).toString('base64url');
}
