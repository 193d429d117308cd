// The lifecycle's questions to the metadata store: what the garbage collector may remove and the
// transactions that remove it safely while pushes go on, the collector's lease and run history,
// and rules set per namespace through the admin API. Written once over Kysely
// (kysely-lifecycle-store.ts) for SQLite and PostgreSQL.
import type { RetentionQueries } from './retention-queries.ts';
import type { UsageQueries } from './usage-queries.ts';
import type { TagQueries } from './tag-queries.ts';

export interface RepoDigest {
  repository: string;
  digest: string;
}

/** Where a walk over repository links stands (their key order). */
export interface LinkCursor {
  repositoryId: number;
  digest: string;
}

export interface BlobRef {
  digest: string;
  size: number;
}

/** One manifest of a repository as the untagged-manifest rules see it. */
export interface ManifestNode {
  digest: string;
  size: number;
  tags: string[];
  subject: string | null;
  /** Child manifests (an index's entries). */
  children: string[];
  pushedAt: number;
}

export interface GcRunRecord {
  id: string;
  startedAt: number;
  finishedAt: number | null;
  status: 'running' | 'succeeded' | 'failed' | 'skipped';
  trigger: string;
  dryRun: boolean;
  deleteUntagged: boolean;
  manifestsRemoved: number;
  blobsRemoved: number;
  bytesRemoved: number;
  details: Record<string, unknown> | null;
}

export interface LifecycleRule {
  kind: string;
  namespace: string;
  body: unknown;
  updatedAt: number;
  updatedBy: string | null;
}

export interface LifecycleStore {
  /** Storage usage per quota scope, repository and namespace (usage-queries.ts). */
  readonly usage: UsageQueries;
  /** Tag lookups for immutable tags (tag-queries.ts). */
  readonly tags: TagQueries;
  /** Retention policies' queries (push and pull times, batched pull writes). */
  readonly retention: RetentionQueries;
  /** Takes (or re-takes) the named lease until now + ttlMs; false when another holder has it. */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Extends a lease this holder has; false when it was lost (expired and taken). */
  renewLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
  /** Whether anyone holds the named lease now. */
  leaseHeld(name: string): Promise<boolean>;

  /** Repository names in byte order after `after`, with or without manifests. */
  repositoryNames(after: string | undefined, limit: number): Promise<string[]>;
  /** Every manifest of a repository with its tags, subject and child manifests. */
  manifestGraph(repository: string): Promise<ManifestNode[]>;
  /**
   * Deletes a manifest only if, checked inside the transaction, it is still untagged, pushed
   * before `cutoff`, no index in the repository lists it and (unless `ignoreSubject`) its
   * subject is not in the repository. True when deleted.
   */
  deleteUnreferencedManifest(repository: string, digest: string, cutoff: number, options?: { ignoreSubject?: boolean }): Promise<boolean>;

  /**
   * Of the next `window` links after `after` (in key order), those older than `cutoff` whose blob
   * no manifest of that repository refers to; `next` is where the following window starts
   * (undefined at the end). Windows keep each query short: on SQLite a query runs on the
   * server's thread when the collector runs inside it.
   */
  staleLinks(cutoff: number, after: LinkCursor | undefined, window: number): Promise<{ links: RepoDigest[]; next: LinkCursor | undefined }>;
  /** Removes those links, re-checking inside the transaction; returns the ones removed. */
  removeStaleLinks(links: RepoDigest[], cutoff: number): Promise<RepoDigest[]>;

  /**
   * Of the next `window` blobs after digest `after`, those touched before `cutoff` that no
   * manifest refers to (as layer, config or manifest bytes); `next` starts the following window.
   */
  unreferencedBlobs(cutoff: number, after: string | undefined, window: number): Promise<{ blobs: BlobRef[]; next: string | undefined }>;
  /**
   * Claims blobs for deletion: re-checks them inside one transaction, marks them 'deleting',
   * removes every repository link. Returns the claimed blobs and the repositories that lost a
   * link (their caches must be invalidated before the bytes go).
   */
  claimBlobs(digests: string[], cutoff: number): Promise<{ claimed: BlobRef[]; repositories: string[] }>;
  /** Blobs left 'deleting' (a collection that stopped midway), by digest after `after`. */
  claimedBlobs(after: string | undefined, limit: number): Promise<BlobRef[]>;
  /** Turns claimed blobs whose bytes are gone into tombstones ('deleted'). */
  finishBlobDeletion(digests: string[]): Promise<void>;
  /** Removes tombstones older than `olderThan`; returns how many. */
  pruneTombstones(olderThan: number): Promise<number>;
  /** Of these digests, the ones with a row (tombstones do not count). */
  knownBlobs(digests: string[]): Promise<Set<string>>;
  /** Claims stored files that have no row at all (bytes written, metadata never committed). */
  claimOrphans(blobs: BlobRef[]): Promise<string[]>;
  /** Turns a 'deleting' claim older than `olderThan` (its collector died) into a tombstone; true when it did. */
  reapStaleClaim(digest: string, olderThan: number): Promise<boolean>;
  /** State of one blob row, for writers waiting on a claim. */
  blobState(digest: string): Promise<{ state: string; deletingAt: number | null } | undefined>;

  /** Every (repository, manifest) and every layer/config reference, for the dry run's simulation. */
  referenceSnapshot(): Promise<{ manifests: RepoDigest[]; references: (RepoDigest & { parent: string })[] }>;
  /** All links older than cutoff, for the dry run's simulation. */
  linksBefore(cutoff: number): Promise<RepoDigest[]>;
  /** All live/pending blobs touched before cutoff. */
  blobsBefore(cutoff: number): Promise<BlobRef[]>;

  recordGcRun(run: GcRunRecord): Promise<void>;
  gcRuns(limit: number): Promise<GcRunRecord[]>;

  rules(kind: string): Promise<LifecycleRule[]>;
  putRule(kind: string, namespace: string, body: unknown, by: string | null): Promise<void>;
  deleteRule(kind: string, namespace: string): Promise<boolean>;
}
