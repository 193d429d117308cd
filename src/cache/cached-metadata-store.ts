// A MetadataStore decorator that keeps the pull path's lookups (repositoryBlob, manifest,
// taggedManifest, resolveTag) in Redis, shared by every replica.
//
// Correctness across replicas comes before hit rate:
// - Every repository has a generation token in Redis, replaced after each write to it that
//   committed or may have committed. Every entry carries the generation (and the global epoch,
//   see redis-link.ts) that was current *before* its value was read from the store, and is served
//   only while both are still current. This closes the read-then-write race: a reader that read
//   the store before a writer's commit stores its value under the old generation, which the
//   writer's replacement has already made dead, or will, before the writer answers its client.
// - The tokens and the entry come back in one MGET: a hit is one round trip, a miss one more
//   (fire-and-forget) write after the store has answered.
// - Absence is never cached, so linkBlob (which only adds) needs no invalidation and a push's
//   blob HEADs always see a blob that was just linked.
// - Entries expire after ttlSeconds: the bound on staleness if an invalidation is lost for good.
// - Redis trouble never fails a call: it falls through to the store (redis-link.ts).
import type { TagCondition, BlobReservation, LinkedBlob, ManifestRecord, MetadataStore, NewManifest, Page, PutManifestResult, Referrer, UploadSession } from '../metadata/store.ts';
import type { LifecycleStore } from '../metadata/lifecycle/lifecycle-store.ts';
import type { ConsoleStore } from '../metadata/console/console-store.ts';
import type { NotaryStore } from '../metadata/notary/notary-store.ts';
import type { SignatureStore } from '../metadata/signatures/store.ts';
import type { NotificationStore } from '../metadata/events/store.ts';
import { encodeEntry, manifestRecord, plain, validValue, type Codec } from './entries.ts';
import { newToken, type EntryKind } from './keys.ts';
import type { RedisLink } from './redis-link.ts';
import { storageCacheLookup } from '../metrics/storage.ts';

export interface CachedMetadataOptions {
  /** Lifetime of an entry, in seconds (default 60). */
  ttlSeconds?: number;
  /** Lifetime of a repository's generation token after it was set, in seconds (default 1 day). */
  generationTtlSeconds?: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  /** Calls that went straight to the store because Redis was not usable. */
  bypassed: number;
}

const linkedBlob = plain<LinkedBlob>();
const digest = plain<string>();

export class CachedMetadataStore implements MetadataStore {
  readonly stats: CacheStats = { hits: 0, misses: 0, bypassed: 0 };
  private readonly ttl: number;
  private readonly generationTtl: number;

  constructor(
    private readonly inner: MetadataStore,
    private readonly link: RedisLink,
    options: CachedMetadataOptions = {},
  ) {
    this.ttl = options.ttlSeconds ?? 60;
    this.generationTtl = options.generationTtlSeconds ?? 86_400;
  }

  repositoryBlob(repository: string, blob: string): Promise<LinkedBlob | undefined> {
    // touchedAt may be up to ttlSeconds old here: that only makes a HEAD touch a blob sooner.
    return this.cached(repository, 'b', blob, linkedBlob, () => this.inner.repositoryBlob(repository, blob));
  }

  repositoriesLinking(digest: string, limit: number): Promise<string[]> {
    return this.inner.repositoriesLinking(digest, limit);
  }

  reserveBlob(digest: string, size: number): Promise<BlobReservation> {
    return this.inner.reserveBlob(digest, size);
  }

  touchBlob(repository: string, digest: string): Promise<boolean> {
    // The cached entry's touchedAt goes stale; see repositoryBlob.
    return this.inner.touchBlob(repository, digest);
  }

  /** The lifecycle queries go straight to the store; whoever removes links calls invalidateRepositories. */
  get lifecycle(): LifecycleStore {
    return this.inner.lifecycle;
  }

  /** The console's queries go straight to the store; deleteRepository's caller invalidates. */
  get console(): ConsoleStore {
    return this.inner.console;
  }

  /** Notary trust data is read and written straight through (clients fetch it a few times per operation). */
  get notary(): NotaryStore {
    return this.inner.notary;
  }

  /** Signatures are read and written straight through (not a hot path); they go with their manifest's row. */
  get signatures(): SignatureStore {
    return this.inner.signatures;
  }

  /** The notification outbox goes straight to the store (nothing in it is cached). */
  get events(): NotificationStore {
    return this.inner.events;
  }

  /**
   * Makes every replica's cached lookups for these repositories dead (the garbage collector calls
   * it after a claim commits and before any bytes are deleted).
   */
  async invalidateRepositories(repositories: string[]): Promise<void> {
    for (const r of repositories) await this.invalidate(r);
  }

  manifest(repository: string, manifest: string): Promise<ManifestRecord | undefined> {
    return this.cached(repository, 'm', manifest, manifestRecord, () => this.inner.manifest(repository, manifest));
  }

  taggedManifest(repository: string, tag: string): Promise<ManifestRecord | undefined> {
    return this.cached(repository, 't', tag, manifestRecord, () => this.inner.taggedManifest(repository, tag));
  }

  resolveTag(repository: string, tag: string): Promise<string | undefined> {
    return this.cached(repository, 'r', tag, digest, () => this.inner.resolveTag(repository, tag));
  }

  linkBlob(repository: string, blob: string, size: number): Promise<void> {
    return this.inner.linkBlob(repository, blob, size);
  }

  unlinkBlob(repository: string, blob: string): Promise<boolean> {
    return this.write(repository, () => this.inner.unlinkBlob(repository, blob), (removed) => removed);
  }

  putManifest(repository: string, manifest: NewManifest, tag?: string): Promise<PutManifestResult> {
    // With references missing nothing was written, and nothing needs invalidating.
    const wrote = (r: PutManifestResult) => r.missingBlobs.length === 0 && r.missingChildren.length === 0;
    return this.write(repository, () => this.inner.putManifest(repository, manifest, tag), wrote);
  }

  deleteManifest(repository: string, manifest: string): Promise<boolean> {
    return this.write(repository, () => this.inner.deleteManifest(repository, manifest), (removed) => removed);
  }

  deleteTag(repository: string, tag: string, only?: TagCondition): Promise<boolean> {
    return this.write(repository, () => this.inner.deleteTag(repository, tag, only), (removed) => removed);
  }

  repositoryExists(repository: string): Promise<boolean> {
    return this.inner.repositoryExists(repository);
  }

  listTags(repository: string, page: Page): Promise<string[] | undefined> {
    return this.inner.listTags(repository, page);
  }

  listRepositories(page: Page): Promise<string[]> {
    return this.inner.listRepositories(page);
  }

  listReferrers(repository: string, subjectDigest: string, artifactType?: string): Promise<Referrer[]> {
    return this.inner.listReferrers(repository, subjectDigest, artifactType);
  }

  createUpload(session: UploadSession): Promise<void> {
    return this.inner.createUpload(session);
  }

  upload(id: string): Promise<UploadSession | undefined> {
    return this.inner.upload(id);
  }

  deleteUpload(id: string): Promise<void> {
    return this.inner.deleteUpload(id);
  }

  /** The store's health only: Redis being away makes the registry slower, not unready. */
  check(): Promise<void> {
    return this.inner.check();
  }

  async close(): Promise<void> {
    try {
      await this.inner.close();
    } finally {
      await this.link.close();
    }
  }

  private async cached<T>(repository: string, kind: EntryKind, id: string, codec: Codec<T>, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const keys = this.link.keys;
    const generationKey = keys.generation(repository);
    const entryKey = keys.entry(repository, kind, id);
    // Tokens first (in the same round trip as the entry), store second: see the header.
    const got = await this.link.read((c) => c.mget(keys.epoch, generationKey, entryKey));
    if (!got) {
      this.stats.bypassed++;
      storageCacheLookup('error');
      return load();
    }
    const [epoch, generation, raw] = got;
    if (epoch && generation) {
      const value = validValue(raw, epoch, generation);
      if (value !== undefined) {
        this.stats.hits++;
        storageCacheLookup('hit');
        return codec.decode(value);
      }
    }
    this.stats.misses++;
    storageCacheLookup('miss');
    const value = await load();
    if (!epoch || !generation) {
      // A token is missing (first use, evicted, expired, Redis restarted): create it, and cache
      // from the next read on, whose entry will carry it. NX: never replace a token a writer set.
      this.link.bestEffort(async (c) => {
        if (!epoch) await c.set(keys.epoch, newToken(), 'NX');
        if (!generation) await c.set(generationKey, newToken(), 'EX', this.generationTtl, 'NX');
      });
    } else if (value !== undefined) {
      this.link.bestEffort((c) => c.set(entryKey, encodeEntry(epoch, generation, value), 'EX', this.ttl));
    }
    return value;
  }

  /**
   * Runs a write, then replaces the repository's generation before answering. Also after a write
   * that threw: it may have committed (a connection lost during COMMIT), and a spare replacement
   * only costs hits.
   */
  private async write<T>(repository: string, op: () => Promise<T>, changed: (result: T) => boolean): Promise<T> {
    let result: T;
    try {
      result = await op();
    } catch (err) {
      await this.invalidate(repository);
      throw err;
    }
    if (changed(result)) await this.invalidate(repository);
    return result;
  }

  private invalidate(repository: string): Promise<void> {
    const key = this.link.keys.generation(repository);
    return this.link.invalidate((c) => c.set(key, newToken(), 'EX', this.generationTtl));
  }
}
