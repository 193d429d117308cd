// Online garbage collection: removes what nothing references while the registry keeps serving.
// No read-only mode: every removal is a metadata transaction that re-checks its target (see
// src/metadata/lifecycle/kysely-lifecycle-store.ts), and writers reserve blobs before storing
// bytes (src/lifecycle/blob-writes.ts), so a push racing a collection either keeps its blob or is
// told to upload it again; a manifest never points at a missing blob.
//
// One run, in order:
//  1. finish deletions a previous run claimed but did not complete (it was killed);
//  2. with deleteUntagged: untagged manifests (src/lifecycle/untagged.ts keeps index children
//     and referrers of kept manifests);
//  3. repository links no manifest of that repository refers to;
//  4. blobs no manifest refers to: claim (links go, state 'deleting'), invalidate caches, delete
//     the bytes, leave a tombstone;
//  5. stored files with no row at all (bytes written, metadata never committed);
//  6. upload sessions abandoned longer than storage.maintenance.uploadpurging.age.
// Everything older than the grace period (delay) only: a blob uploaded, mounted, HEAD-checked or
// referenced within it is left alone. At most one run at a time across replicas and `berth gc`
// processes: a lease in the metadata store, renewed while the run lasts and checked before any
// bytes are deleted.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { MetadataStore } from '../metadata/store.ts';
import type { BlobRef, LinkCursor, RepoDigest } from '../metadata/lifecycle/lifecycle-store.ts';
import type { BlobInfo, BlobStore } from '../storage/blob-store.ts';
import { mapLimit } from '../util/map-limit.ts';
import { collectableUntagged } from './untagged.ts';
import { GC_LEASE } from './blob-writes.ts';
import { HeldLease, LeaseBusyError } from './jobs.ts';
import { Pacer } from './pacer.ts';
import type { RegistryEvents } from '../events/registry-events.ts';
import type { TrustPolicy } from '../trust/policy/policy.ts';
import { gcRunFinished } from '../metrics/berth.ts';

export interface GcOptions {
  dryRun?: boolean;
  deleteUntagged?: boolean;
  /** Grace period in ms: nothing touched more recently is removed. */
  delayMs: number;
  trigger: 'cli' | 'schedule' | 'api';
  /** Each removal (or, in a dry run, each would-be removal) as it happens. */
  onRemove?: (item: GcItem) => void;
  /**
   * Look for stored files without metadata (step 5; default true). It lists the whole store, and
   * such files only come from crashes, so the scheduler does it once a day rather than hourly.
   */
  orphans?: boolean;
  /**
   * Fraction of wall time the run may spend working, in (0, 1] (default 1: it only yields between
   * steps). The server's background collector runs at berth.gc.pace so that a collection costs
   * the requests it serves meanwhile at most about that share of one core.
   */
  pace?: number;
  /** Called once the run holds the lease and has recorded itself (GET /api/v1/gc/runs/:id finds it). */
  onStarted?: (id: string) => void;
}

export type GcItem =
  | { kind: 'manifest'; repository: string; digest: string; size: number }
  | { kind: 'link'; repository: string; digest: string }
  | { kind: 'blob'; digest: string; size: number; orphan?: boolean }
  | { kind: 'upload'; id: string };

export interface GcReport {
  id: string;
  status: 'succeeded' | 'failed';
  trigger: GcOptions['trigger'];
  dryRun: boolean;
  deleteUntagged: boolean;
  delayMs: number;
  startedAt: string;
  finishedAt: string;
  manifests: (RepoDigest & { size: number })[];
  blobs: BlobRef[];
  linksRemoved: number;
  /** Of `blobs`, the stored files that had no metadata at all. */
  orphansRemoved: number;
  uploadsPurged: number;
  bytesRemoved: number;
  /** Milliseconds spent in each phase (finish, untagged, links, blobs, orphans, uploads). */
  phases: Record<string, number>;
  errors: string[];
}

/** Another collection holds the lease. */
export class GcBusyError extends LeaseBusyError {
  constructor() {
    super('another garbage collection is running (on this or another replica); try again when it has finished');
  }
}

export interface UploadPurge {
  /** Purges (or in dry-run lists) abandoned uploads; returns their ids. */
  purge(dryRun: boolean): Promise<string[]>;
}

export interface GcDeps {
  metadata: MetadataStore;
  blobs: BlobStore;
  log: Logger;
  uploads?: UploadPurge;
  /** Notification delete events for the untagged manifests removed (actor gc). */
  events?: Pick<RegistryEvents, 'manifestDeleted'>;
  /** The pull policy's cached verdicts: one that relied on a removed manifest (a signed index, a signature) must go. */
  trust?: Pick<TrustPolicy, 'manifestChanged'>;
}

const LEASE_TTL_MS = 60_000;
const BATCH = 500;
/** Tombstones outlive any writer that reserved a blob before it was collected. */
const TOMBSTONE_MS = 24 * 3_600_000;
const DELETE_PARALLEL = 8;
/**
 * Rows looked at per query. On SQLite a query runs on the calling thread: inside the server, a
 * query over the whole store would stall every request for its duration; windows of 2,000 rows
 * take a few milliseconds each, and the collector lets requests run between them.
 */
const WINDOW = 2000;


export class GarbageCollector {
  private readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** The current run's pacing (one run at a time: the lease is taken before this is set). */
  private pacer = new Pacer(1);

  constructor(private readonly deps: GcDeps) {}

  /** Runs one collection; throws GcBusyError when another one holds the lease. */
  async run(options: GcOptions): Promise<GcReport> {
    const { metadata, log } = this.deps;
    const lifecycle = metadata.lifecycle;
    const lease = await HeldLease.take(lifecycle, { name: GC_LEASE, holder: this.holder, ttlMs: LEASE_TTL_MS, what: 'garbage collection', log, busy: () => new GcBusyError() });
    this.pacer = new Pacer(options.pace ?? 1);
    const started = Date.now();
    const report: GcReport = {
      id: randomUUID(),
      status: 'succeeded',
      trigger: options.trigger,
      dryRun: !!options.dryRun,
      deleteUntagged: !!options.deleteUntagged,
      delayMs: options.delayMs,
      startedAt: new Date(started).toISOString(),
      finishedAt: '',
      manifests: [],
      blobs: [],
      linksRemoved: 0,
      orphansRemoved: 0,
      uploadsPurged: 0,
      bytesRemoved: 0,
      phases: {},
      errors: [],
    };
    const record = (status: 'running' | 'succeeded' | 'failed') =>
      lifecycle
        .recordGcRun({
          id: report.id,
          startedAt: started,
          finishedAt: status === 'running' ? null : Date.now(),
          status,
          trigger: options.trigger,
          dryRun: report.dryRun,
          deleteUntagged: report.deleteUntagged,
          manifestsRemoved: report.manifests.length,
          blobsRemoved: report.blobs.length,
          bytesRemoved: report.bytesRemoved,
          details: { delayMs: options.delayMs, linksRemoved: report.linksRemoved, orphansRemoved: report.orphansRemoved, uploadsPurged: report.uploadsPurged, errors: report.errors },
        })
        .catch((err) => log.warn({ err }, 'gc: could not record the run'));
    await record('running');
    options.onStarted?.(report.id);
    const checkLease = () => lease.check();
    try {
      const cutoff = started - options.delayMs;
      if (options.dryRun) await this.simulate(cutoff, options, report);
      else await this.collect(cutoff, options, report, checkLease);
      await this.purgeUploads(options, report);
    } catch (e) {
      report.status = 'failed';
      report.errors.push((e as Error).message);
      log.error({ err: e, gcRun: report.id }, 'gc: run failed');
    } finally {
      report.finishedAt = new Date().toISOString();
      await record(report.status);
      await lease.release();
    }
    log.info(
      {
        gcRun: report.id,
        trigger: report.trigger,
        dryRun: report.dryRun,
        deleteUntagged: report.deleteUntagged,
        manifests: report.manifests.length,
        blobs: report.blobs.length,
        links: report.linksRemoved,
        bytes: report.bytesRemoved,
        ms: Date.now() - started,
        status: report.status,
      },
      report.dryRun ? 'gc: dry run finished' : 'gc: run finished',
    );
    gcRunFinished({ status: report.status, dryRun: report.dryRun, bytes: report.bytesRemoved, blobs: report.blobs.length, manifests: report.manifests.length });
    return report;
  }

  private removedBlob(report: GcReport, blob: BlobRef, options: GcOptions, orphan = false): void {
    report.blobs.push(blob);
    report.bytesRemoved += blob.size;
    if (orphan) report.orphansRemoved++;
    options.onRemove?.({ kind: 'blob', digest: blob.digest, size: blob.size, ...(orphan && { orphan }) });
  }

  private async collect(cutoff: number, options: GcOptions, report: GcReport, checkLease: () => void): Promise<void> {
    const { metadata } = this.deps;
    const lifecycle = metadata.lifecycle;
    let phaseName = 'tombstones';
    let phaseAt = Date.now();
    const phase = (next: string) => {
      report.phases[phaseName] = (report.phases[phaseName] ?? 0) + Date.now() - phaseAt;
      phaseName = next;
      phaseAt = Date.now();
    };
    await lifecycle.pruneTombstones(Date.now() - TOMBSTONE_MS);
    phase('finish');

    // 1. Deletions claimed by a run that was killed midway: their links are gone already.
    for (let after: string | undefined; ; ) {
      const left = await lifecycle.claimedBlobs(after, BATCH);
      if (left.length === 0) break;
      after = left[left.length - 1]!.digest;
      checkLease();
      await this.deleteBytes(left);
      await lifecycle.finishBlobDeletion(left.map((b) => b.digest));
      for (const b of left) this.removedBlob(report, b, options);
    }

    // 2. Untagged manifests.
    phase('untagged');
    if (options.deleteUntagged) {
      for await (const repository of this.repositories()) {
        const doomed = collectableUntagged(await lifecycle.manifestGraph(repository), cutoff);
        await this.pacer.pause();
        let removed = 0;
        for (const m of doomed) {
          const deleted = await lifecycle.deleteUnreferencedManifest(repository, m.digest, cutoff);
          await this.pacer.pause();
          if (!deleted) continue;
          removed++;
          report.manifests.push({ repository, digest: m.digest, size: m.size });
          options.onRemove?.({ kind: 'manifest', repository, digest: m.digest, size: m.size });
          await this.deps.events?.manifestDeleted({ actor: 'gc' }, repository, m.digest);
        }
        if (removed) {
          await metadata.invalidateRepositories?.([repository]);
          this.deps.trust?.manifestChanged(repository);
        }
      }
    }

    // 3. Links nothing in their repository refers to.
    phase('links');
    for (let after: LinkCursor | undefined, first = true; first || after; first = false) {
      const { links: stale, next } = await lifecycle.staleLinks(cutoff, after, WINDOW);
      after = next;
      await this.pacer.pause();
      if (stale.length === 0) continue;
      const removed = await lifecycle.removeStaleLinks(stale, cutoff);
      if (removed.length) await metadata.invalidateRepositories?.([...new Set(removed.map((l) => l.repository))]);
      report.linksRemoved += removed.length;
      for (const l of removed) options.onRemove?.({ kind: 'link', repository: l.repository, digest: l.digest });
      await this.pacer.pause();
    }

    // 4. Unreferenced blobs: claim, invalidate, delete bytes, tombstone.
    phase('blobs');
    for (let after: string | undefined, first = true; first || after; first = false) {
      const { blobs: page, next } = await lifecycle.unreferencedBlobs(cutoff, after, WINDOW);
      after = next;
      await this.pacer.pause();
      for (let i = 0; i < page.length; i += BATCH) {
        const batch = page.slice(i, i + BATCH);
        const { claimed, repositories } = await lifecycle.claimBlobs(
          batch.map((b) => b.digest),
          cutoff,
        );
        if (claimed.length === 0) continue;
        // Replicas' caches must stop answering for these links before the bytes go.
        if (repositories.length) await metadata.invalidateRepositories?.(repositories);
        checkLease();
        await this.deleteBytes(claimed);
        await lifecycle.finishBlobDeletion(claimed.map((b) => b.digest));
        for (const b of claimed) this.removedBlob(report, b, options);
        await this.pacer.pause();
      }
    }

    // 5. Stored files without any metadata, written before the cutoff.
    phase('orphans');
    if (options.orphans !== false) for await (const unknown of this.unknownStoredBefore(cutoff)) {
      const claimed = new Set(await lifecycle.claimOrphans(unknown));
      const orphans = unknown.filter((b) => claimed.has(b.digest));
      checkLease();
      await this.deleteBytes(orphans);
      await lifecycle.finishBlobDeletion(orphans.map((b) => b.digest));
      for (const b of orphans) this.removedBlob(report, b, options, true);
    }
    phase('done');
    delete report.phases.done;
  }

  /** What collect() would remove, computed from one snapshot of the metadata. */
  private async simulate(cutoff: number, options: GcOptions, report: GcReport): Promise<void> {
    const lifecycle = this.deps.metadata.lifecycle;
    const key = (repository: string, digest: string) => `${repository}\u0000${digest}`;
    const doomed = new Set<string>();
    if (options.deleteUntagged) {
      for await (const repository of this.repositories()) {
        for (const m of collectableUntagged(await lifecycle.manifestGraph(repository), cutoff)) {
          doomed.add(key(repository, m.digest));
          report.manifests.push({ repository, digest: m.digest, size: m.size });
          options.onRemove?.({ kind: 'manifest', repository, digest: m.digest, size: m.size });
        }
      }
    }
    const snapshot = await lifecycle.referenceSnapshot();
    const inRepo = new Set<string>();
    const anywhere = new Set<string>();
    for (const m of snapshot.manifests) {
      if (doomed.has(key(m.repository, m.digest))) continue;
      inRepo.add(key(m.repository, m.digest));
      anywhere.add(m.digest);
    }
    for (const r of snapshot.references) {
      if (doomed.has(key(r.repository, r.parent))) continue;
      inRepo.add(key(r.repository, r.digest));
      anywhere.add(r.digest);
    }
    // Child manifests are referenced by their own manifest rows (kept above).
    for (const l of await lifecycle.linksBefore(cutoff)) {
      if (inRepo.has(key(l.repository, l.digest))) continue;
      report.linksRemoved++;
      options.onRemove?.({ kind: 'link', repository: l.repository, digest: l.digest });
    }
    for (let after: string | undefined; ; ) {
      const left = await lifecycle.claimedBlobs(after, BATCH);
      if (left.length === 0) break;
      after = left[left.length - 1]!.digest;
      for (const b of left) this.removedBlob(report, b, options);
    }
    for (const b of await lifecycle.blobsBefore(cutoff)) if (!anywhere.has(b.digest)) this.removedBlob(report, b, options);
    if (options.orphans !== false) for await (const batch of this.unknownStoredBefore(cutoff)) for (const b of batch) this.removedBlob(report, b, options, true);
  }

  private async purgeUploads(options: GcOptions, report: GcReport): Promise<void> {
    if (!this.deps.uploads) return;
    const started = Date.now();
    const ids = await this.deps.uploads.purge(!!options.dryRun);
    report.phases.uploads = Date.now() - started;
    report.uploadsPurged = ids.length;
    for (const id of ids) options.onRemove?.({ kind: 'upload', id });
  }

  /** Every repository name, a page at a time. */
  private async *repositories(): AsyncIterable<string> {
    for (let after: string | undefined; ; ) {
      const names = await this.deps.metadata.lifecycle.repositoryNames(after, BATCH);
      if (names.length === 0) return;
      after = names[names.length - 1];
      yield* names;
    }
  }

  /**
   * Stored blobs without a metadata row (tombstones count as none), last written before `cutoff`,
   * in batches. Where the driver can list names cheaply, only the unknown ones are stat'ed: a
   * store with nothing orphaned costs one readdir per directory and one query per 500 names.
   */
  private async *unknownStoredBefore(cutoff: number): AsyncIterable<BlobRef[]> {
    const { blobs, metadata } = this.deps;
    const stored: AsyncIterable<{ digest: string; info?: BlobInfo }> = blobs.listDigests
      ? map(blobs.listDigests(), (digest) => ({ digest }))
      : map(blobs.walk(), (info) => ({ digest: info.digest, info }));
    for await (const batch of batches(stored, BATCH)) {
      const known = await metadata.lifecycle.knownBlobs(batch.map((b) => b.digest));
      await this.pacer.pause();
      const out: BlobRef[] = [];
      for (const { digest, info: listed } of batch) {
        if (known.has(digest)) continue;
        const info = listed ?? (await blobs.stat(digest));
        // Without a modification time (a driver that cannot tell) a file is never taken as an orphan.
        if (info?.modifiedAt && info.modifiedAt.getTime() < cutoff) out.push({ digest, size: info.size });
      }
      if (out.length) yield out;
    }
  }

  private async deleteBytes(blobs: BlobRef[]): Promise<void> {
    await mapLimit(blobs, DELETE_PARALLEL, (b) => this.deps.blobs.delete(b.digest));
  }
}

async function* map<T, R>(items: AsyncIterable<T>, fn: (item: T) => R): AsyncIterable<R> {
  for await (const item of items) yield fn(item);
}

async function* batches<T>(items: AsyncIterable<T>, size: number): AsyncIterable<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}
