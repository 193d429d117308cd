// `berth import`: fills berth's BlobStore and MetadataStore from a CNCF Distribution (registry:2)
// storage tree, repository by repository. Safe to rerun and to kill: every write is atomic (a blob
// rename, a metadata transaction), written in dependency order, and skipped next time when present.
import type { MetadataStore } from '../metadata/store.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { BlobTransfer, removeStaleImportUploads } from './blob-transfer.ts';
import { DistributionLayout } from './layout.ts';
import { newStats, type ImportReport, type ImportStats, type Skip } from './report.ts';
import { importRepository } from './repository.ts';
import { SourceReadError, type DistributionSource } from './source.ts';

export interface ImportTarget {
  blobs: BlobStore;
  metadata: MetadataStore;
  /** Where berth's data is, for the report. */
  location: string;
}

export interface ImportOptions {
  /** Read and verify everything, write nothing. */
  dryRun?: boolean;
  /** Blobs verified/copied at once within a repository; default 4. */
  concurrency?: number;
  /** Live counters, for a progress display; a fresh object when omitted. */
  stats?: ImportStats;
}

export async function importDistribution(source: DistributionSource, target: ImportTarget, opts: ImportOptions = {}): Promise<ImportReport> {
  const started = Date.now();
  const dryRun = opts.dryRun ?? false;
  const stats = opts.stats ?? newStats();
  const layout = new DistributionLayout(source);
  const skipped: Skip[] = [];
  const skip = (s: Skip) => {
    skipped.push(s);
    stats.skipped++;
  };
  if (!dryRun) await removeStaleImportUploads(target.blobs);

  const repositories = await layout.repositories();
  stats.repositories.total = repositories.length;
  const ctx = {
    layout,
    transfer: new BlobTransfer(layout, target.blobs, stats, dryRun),
    blobs: target.blobs,
    metadata: target.metadata,
    stats,
    dryRun,
    concurrency: opts.concurrency ?? 4,
    skip,
  };
  for (const name of repositories) {
    try {
      await importRepository(ctx, name);
    } catch (e) {
      // Only the source's listings get here (item reads are handled per item); target errors are fatal.
      if (!(e instanceof SourceReadError)) throw e;
      skip({ kind: 'repository', repository: name, ref: name, code: 'repository-unreadable', reason: e.message });
    }
    stats.repositories.done++;
  }

  return {
    source: source.location,
    target: target.location,
    dryRun,
    durationMs: Date.now() - started,
    repositories: repositories.length,
    imported: { ...stats.imported },
    present: { ...stats.present },
    verifiedBytes: stats.verifiedBytes,
    skipped,
  };
}
