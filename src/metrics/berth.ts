// berth's own metrics (prefix berth_), beside distribution's names:
//
//   berth_uploads_in_progress                         gauge    open blob upload sessions (all replicas: read from the metadata store at scrape time)
//   berth_gc_runs_total{status,dry_run}               counter  garbage collections finished here (status succeeded|failed)
//   berth_gc_reclaimed_bytes_total                    counter  bytes of blobs deleted by collections (dry runs excluded)
//   berth_gc_deleted_blobs_total                      counter  blobs deleted by collections
//   berth_gc_deleted_manifests_total                  counter  untagged manifests deleted by collections
//   berth_gc_last_success_timestamp_seconds           gauge    end of the last successful collection here (0: none yet)
//   berth_retention_runs_total{status,dry_run}        counter  retention runs finished here
//   berth_retention_deletions_total{kind}             counter  tags and manifests deleted by retention (kind tag|manifest)
//   berth_quota_used_bytes{namespace}                 gauge    usage of each quota (scrape time; one series per configured quota)
//   berth_quota_limit_bytes{namespace}                gauge    its limit
//   berth_auth_failures_total{reason}                 counter  password (wrong credentials), locked (throttled),
//                                                              token (bearer token refused), denied (authenticated, not allowed),
//                                                              unavailable (an authentication backend is down)
//   berth_manifest_cache_lookups_total{result}        counter  the in-process manifest bytes cache (hit|miss)
//
// `namespace` of a quota is its namespace (admin API quotas) or its globs as messages name
// them (config quotas, e.g. `team-a/**`): bounded by the configured quotas.
//
// Functions to call (no-ops while metrics are off): gcRunFinished, retentionRunFinished,
// authFailure, manifestCacheLookup; scrape-time sources: setUploadsInProgressSource,
// setQuotaUsageSource (sources.ts).
import { LightCounter, LightGauge, ScrapedGauge, type CounterChild } from './light.ts';
import { metricsOn } from './registry.ts';
import { readSource, type Source } from './sources.ts';

let uploadsSource: Source<number> | undefined;
new ScrapedGauge('berth_uploads_in_progress', 'Open blob upload sessions (started, not yet completed, cancelled or purged).', undefined, async () => {
  const n = await readSource(uploadsSource);
  return n === undefined ? undefined : [{ value: n }];
});

/** The number of open upload sessions, read at scrape time; returns a function that removes the source. */
export function setUploadsInProgressSource(read: () => Promise<number>): () => void {
  const source: Source<number> = { read };
  uploadsSource = source;
  return () => {
    if (uploadsSource === source) uploadsSource = undefined;
  };
}

const gcRuns = new LightCounter('berth_gc_runs_total', 'Garbage collections finished on this instance.', ['status', 'dry_run']);
const gcBytes = new LightCounter('berth_gc_reclaimed_bytes_total', 'Bytes of blobs deleted by garbage collection.', []).child();
const gcBlobs = new LightCounter('berth_gc_deleted_blobs_total', 'Blobs deleted by garbage collection.', []).child();
const gcManifests = new LightCounter('berth_gc_deleted_manifests_total', 'Untagged manifests deleted by garbage collection.', []).child();
const gcLast = new LightGauge('berth_gc_last_success_timestamp_seconds', 'End of the last successful garbage collection on this instance, in seconds since the epoch.', []).child();

export function gcRunFinished(run: { status: 'succeeded' | 'failed'; dryRun: boolean; bytes: number; blobs: number; manifests: number }): void {
  if (!metricsOn) return;
  gcRuns.child(run.status, String(run.dryRun)).value++;
  if (run.status === 'succeeded') gcLast.value = Date.now() / 1000;
  if (run.dryRun) return;
  gcBytes.value += run.bytes;
  gcBlobs.value += run.blobs;
  gcManifests.value += run.manifests;
}

const retentionRuns = new LightCounter('berth_retention_runs_total', 'Retention runs finished on this instance.', ['status', 'dry_run']);
const retentionDeletions = new LightCounter('berth_retention_deletions_total', 'Tags and manifests deleted by retention.', ['kind']);
const retentionTags = retentionDeletions.child('tag');
const retentionManifests = retentionDeletions.child('manifest');

export function retentionRunFinished(run: { status: 'succeeded' | 'failed'; dryRun: boolean; tags: number; manifests: number }): void {
  if (!metricsOn) return;
  retentionRuns.child(run.status, String(run.dryRun)).value++;
  if (run.dryRun) return;
  retentionTags.value += run.tags;
  retentionManifests.value += run.manifests;
}

export interface QuotaUsage {
  namespace: string;
  usedBytes: number;
  limitBytes: number;
}

let quotaSource: Source<QuotaUsage[]> | undefined;
/** A gauge per quota from the quota source (both gauges read it; one read serves a scrape). */
function quotaGauge(name: string, help: string, value: (q: QuotaUsage) => number): void {
  // Each scrape replaces the series: quotas removed since the last one do not linger.
  new ScrapedGauge(name, help, 'namespace', async () => (await readSource(quotaSource))?.map((q) => ({ label: q.namespace, value: value(q) })));
}
quotaGauge('berth_quota_used_bytes', 'Storage used under each quota, in bytes (each blob counted once per quota).', (q) => q.usedBytes);
quotaGauge('berth_quota_limit_bytes', 'The limit of each storage quota, in bytes.', (q) => q.limitBytes);

/**
 * Every quota's usage and limit, read at scrape time. `maxAgeMs` (default 15 s): a scrape sooner
 * than that after the last read reuses its figures (a quota's usage reads all of its blobs).
 */
export function setQuotaUsageSource(read: () => Promise<QuotaUsage[]>, maxAgeMs = 15_000): () => void {
  const source: Source<QuotaUsage[]> = { read, maxAgeMs };
  quotaSource = source;
  return () => {
    if (quotaSource === source) quotaSource = undefined;
  };
}

export type AuthFailureReason = 'password' | 'locked' | 'token' | 'denied' | 'unavailable';
const authFailures = new LightCounter('berth_auth_failures_total', 'Refused authentications and authorizations.', ['reason']);
const authChildren: Record<AuthFailureReason, CounterChild> = {
  password: authFailures.child('password'),
  locked: authFailures.child('locked'),
  token: authFailures.child('token'),
  denied: authFailures.child('denied'),
  unavailable: authFailures.child('unavailable'),
};

export function authFailure(reason: AuthFailureReason): void {
  if (!metricsOn) return;
  authChildren[reason].value++;
}

const manifestCache = new LightCounter('berth_manifest_cache_lookups_total', 'Lookups in the in-process manifest bytes cache.', ['result']);
const manifestHit = manifestCache.child('hit');
const manifestMiss = manifestCache.child('miss');

export function manifestCacheLookup(hit: boolean): void {
  if (!metricsOn) return;
  if (hit) manifestHit.value++;
  else manifestMiss.value++;
}
