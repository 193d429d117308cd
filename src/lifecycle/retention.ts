// Retention runs: which policy applies to each repository (a namespace's own policy from the admin
// API, else the first berth.retention.policies entry whose globs match), what it deletes there
// (retention-policy.ts, a pure function), and the deletions themselves, through the same calls as
// the registry API's DELETE (metadata.deleteTag, which invalidates the Redis cache) plus an audit
// entry by actor 'retention' when access control is on.
//
// A preview and a run make the same plan from the same data; a run then re-checks each deletion:
//  - a tag is deleted only if it still points where the plan saw it, pushed at the same time (a
//    CI job re-pushing `latest` meanwhile keeps it);
//  - a manifest goes through lifecycle.deleteUnreferencedManifest, which re-checks inside one
//    transaction that it is untagged, that no index lists it, that its subject is gone and that
//    it was pushed before the plan was made.
// Untagged manifests pushed within the GC grace period (berth.gc.delay, default 1h) are never
// deleted: a multi-arch push uploads its platform manifests, untagged, before the index that
// lists them. At most one run at a time across replicas and processes (the 'retention' lease).
import { HeldLease, LeaseBusyError } from './jobs.ts';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { MetadataStore } from '../metadata/store.ts';
import type { AuditEventInput, AuditStore } from '../metadata/access/store.ts';
import type { RetentionSettings } from './config-types.ts';
import { compileGlobs } from './globs.ts';
import { evaluateRetention, selectPolicy, type ManifestDeletion, type NamespacePolicy, type RetentionPlan, type TagDeletion } from './retention-policy.ts';
import { policyFromJson } from './retention-rules.ts';
import type { RegistryEvents } from '../events/registry-events.ts';
import type { TrustPolicy } from '../trust/policy/policy.ts';
import { retentionRunFinished } from '../metrics/berth.ts';

export const RETENTION_LEASE = 'retention';
const LEASE_TTL_MS = 60_000;
const PAGE = 500;

/** Whether a tag is immutable (ImmutableTags.isImmutable in src/lifecycle/immutable-tags.ts). */
export type ImmutableTagsCheck = (repository: string, tag: string) => Promise<boolean>;

export interface RetentionDeps {
  metadata: MetadataStore;
  settings: RetentionSettings;
  /** Untagged manifests pushed more recently are left alone (in flight). */
  graceMs: number;
  log: Logger;
  /** Written before a plan reads pull times. */
  pulls?: { flush(): Promise<void> };
  /** The audit log's store, when access control is on. */
  audit?: AuditStore;
  immutable?: ImmutableTagsCheck;
  /** Notification delete events for what a run deletes (actor retention). */
  events?: Pick<RegistryEvents, 'manifestDeleted' | 'tagDeleted'>;
  /** The pull policy's cached verdicts: one that relied on a deleted manifest (a signed index, a signature) must go. */
  trust?: Pick<TrustPolicy, 'manifestChanged'>;
}

export interface RetentionOptions {
  trigger: 'schedule' | 'api' | 'cli';
  /** Default: berth.retention.dryrun. */
  dryRun?: boolean;
  /** Only repositories in this namespace (the namespace itself and below). */
  namespace?: string;
  /** Stops the run between two deletions (the server shutting down). */
  signal?: AbortSignal;
}

export interface RepositoryRetention extends RetentionPlan {
  /** The policy that applied: `namespace team-a` or `berth.retention.policies[0]`. */
  policy: string;
}

export interface RetentionSkip {
  repository: string;
  tag?: string;
  digest?: string;
  reason: string;
}

export interface RetentionReport {
  id: string;
  trigger: RetentionOptions['trigger'] | 'preview';
  dryRun: boolean;
  status: 'succeeded' | 'failed';
  namespace?: string;
  startedAt: string;
  finishedAt: string;
  repositoriesEvaluated: number;
  /** Repositories where something is (dry run, preview: would be) deleted or an immutable tag was spared. */
  repositories: RepositoryRetention[];
  tagsDeleted: number;
  manifestsDeleted: number;
  /** Run only: planned deletions a re-check refused (pushed again, tagged again meanwhile). */
  skipped: RetentionSkip[];
  errors: string[];
}

/** Another run holds the lease. */
export class RetentionBusyError extends LeaseBusyError {
  constructor() {
    super('another retention run is in progress (on this or another replica); try again when it has finished');
  }
}

class StoppedError extends Error {
  constructor() {
    super('the retention run was stopped (shutdown) before it finished; the next run continues');
  }
}

export class Retention {
  private readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly configPolicies;

  constructor(private readonly deps: RetentionDeps) {
    this.configPolicies = deps.settings.policies.map((policy) => ({ policy, matches: compileGlobs(policy.repositories) }));
  }

  get settings(): RetentionSettings {
    return this.deps.settings;
  }

  /** Whether any policy exists (config or namespace): the scheduler only runs then. */
  async hasPolicies(): Promise<boolean> {
    return this.configPolicies.length > 0 || (await this.namespacePolicies()).length > 0;
  }

  private async namespacePolicies(): Promise<NamespacePolicy[]> {
    const out: NamespacePolicy[] = [];
    for (const rule of await this.deps.metadata.lifecycle.rules('retention')) {
      const policy = policyFromJson(rule.body, rule.namespace);
      if (policy) out.push({ namespace: rule.namespace, policy });
      else this.deps.log.warn({ namespace: rule.namespace }, 'retention: the stored policy of this namespace is not valid; it is ignored');
    }
    return out;
  }

  /** The repositories to look at, in byte order: all, or a namespace's (`ns` and `ns/...`). */
  private async *repositories(namespace: string | undefined): AsyncIterable<string> {
    const { metadata } = this.deps;
    const ns = namespace?.replace(/\/+$/, '');
    if (ns !== undefined && (await metadata.repositoryExists(ns))) yield ns;
    // Every `ns/...` name sorts after `ns/` and before any other name that does: stop at the first other.
    for (let after = ns === undefined ? undefined : `${ns}/`; ; ) {
      const page = await metadata.lifecycle.repositoryNames(after, PAGE);
      if (page.length === 0) return;
      after = page[page.length - 1];
      for (const repository of page) {
        if (ns !== undefined && !repository.startsWith(`${ns}/`)) return;
        yield repository;
      }
    }
  }

  /** Every repository a policy applies to, with its plan when it has something to delete. */
  private async *plans(namespace: string | undefined): AsyncIterable<{ plan: RepositoryRetention; now: number } | { evaluated: true }> {
    const lifecycle = this.deps.metadata.lifecycle;
    await this.deps.pulls?.flush();
    const namespaces = await this.namespacePolicies();
    for await (const repository of this.repositories(namespace)) {
      const selected = selectPolicy(repository, namespaces, this.configPolicies);
      if (!selected) continue;
      yield { evaluated: true };
      const now = Date.now();
      const graph = await lifecycle.retention.graph(repository);
      const isImmutable = await this.immutableTags(repository, graph.tags.map((t) => t.name));
      const plan = evaluateRetention({ repository, graph, policy: selected.policy, now, untaggedCutoff: now - this.deps.graceMs, isImmutable });
      if (plan.tags.length || plan.manifests.length || plan.protectedTags.length) yield { plan: { ...plan, policy: selected.source }, now };
    }
  }

  /**
   * The one place retention asks which tags are immutable. Never deletes an immutable tag: the
   * plan turns them into protectedTags, and their manifests stay.
   */
  private async immutableTags(repository: string, tags: string[]): Promise<(tag: string) => boolean> {
    const check = this.deps.immutable;
    if (!check) return () => false;
    const immutable = new Set<string>();
    for (const tag of tags) if (await check(repository, tag)) immutable.add(tag);
    return (tag) => immutable.has(tag);
  }

  private newReport(trigger: RetentionReport['trigger'], dryRun: boolean, namespace: string | undefined): RetentionReport {
    return {
      id: randomUUID(),
      trigger,
      dryRun,
      status: 'succeeded',
      ...(namespace !== undefined && { namespace }),
      startedAt: new Date().toISOString(),
      finishedAt: '',
      repositoriesEvaluated: 0,
      repositories: [],
      tagsDeleted: 0,
      manifestsDeleted: 0,
      skipped: [],
      errors: [],
    };
  }

  /** What a run would delete now, deleting nothing (no lease needed). */
  async preview(options: { namespace?: string } = {}): Promise<RetentionReport> {
    const report = this.newReport('preview', true, options.namespace);
    try {
      for await (const item of this.plans(options.namespace)) {
        if ('evaluated' in item) report.repositoriesEvaluated++;
        else this.addPlanned(report, item.plan);
      }
    } catch (e) {
      report.status = 'failed';
      report.errors.push((e as Error).message);
    }
    report.finishedAt = new Date().toISOString();
    return report;
  }

  private addPlanned(report: RetentionReport, plan: RepositoryRetention): void {
    report.repositories.push(plan);
    report.tagsDeleted += plan.tags.length;
    report.manifestsDeleted += plan.manifests.length;
  }

  /** One run; throws RetentionBusyError when another holds the lease. */
  async run(options: RetentionOptions): Promise<RetentionReport> {
    const { metadata, log } = this.deps;
    const lifecycle = metadata.lifecycle;
    const dryRun = options.dryRun ?? this.deps.settings.dryrun;
    const lease = await HeldLease.take(lifecycle, { name: RETENTION_LEASE, holder: this.holder, ttlMs: LEASE_TTL_MS, what: 'retention', log, busy: () => new RetentionBusyError() });
    const report = this.newReport(options.trigger, dryRun, options.namespace);
    const started = Date.now();
    try {
      for await (const item of this.plans(options.namespace)) {
        if ('evaluated' in item) {
          report.repositoriesEvaluated++;
          continue;
        }
        if (dryRun) {
          this.addPlanned(report, item.plan);
          for (const t of item.plan.tags) log.info({ repository: item.plan.repository, tag: t.tag, digest: t.digest, reason: t.reason }, 'retention (dry run): would delete tag');
          for (const m of item.plan.manifests) log.info({ repository: item.plan.repository, digest: m.digest, reason: m.reason }, 'retention (dry run): would delete manifest');
          continue;
        }
        const check = () => {
          lease.check();
          if (options.signal?.aborted) throw new StoppedError();
        };
        check();
        const done = await this.apply(item.plan, item.now, report, check);
        if (done.tags.length || done.manifests.length || done.protectedTags.length) this.addPlanned(report, done);
      }
    } catch (e) {
      report.status = 'failed';
      report.errors.push((e as Error).message);
      log.error({ err: e, retentionRun: report.id }, 'retention: run failed');
    } finally {
      report.finishedAt = new Date().toISOString();
      await lease.release();
    }
    log.info(
      {
        retentionRun: report.id,
        trigger: report.trigger,
        dryRun,
        repositories: report.repositoriesEvaluated,
        tags: report.tagsDeleted,
        manifests: report.manifestsDeleted,
        skipped: report.skipped.length,
        ms: Date.now() - started,
        status: report.status,
      },
      dryRun ? 'retention: dry run finished' : 'retention: run finished',
    );
    retentionRunFinished({ status: report.status, dryRun, tags: report.tagsDeleted, manifests: report.manifestsDeleted });
    return report;
  }

  /** Carries out one repository's plan; returns what was actually deleted. */
  private async apply(plan: RepositoryRetention, planned: number, report: RetentionReport, checkLease: () => void): Promise<RepositoryRetention> {
    const { metadata } = this.deps;
    const lifecycle = metadata.lifecycle;
    const { repository } = plan;
    const tags: TagDeletion[] = [];
    const manifests: ManifestDeletion[] = [];
    const audit: AuditEventInput[] = [];
    const event = (reference: string, reason: string, kind: string): AuditEventInput => ({
      actor: 'retention',
      actorKind: 'system',
      action: 'delete',
      repository,
      reference,
      outcome: 'success',
      details: { kind, reason, policy: plan.policy, run: report.id },
    });
    try {
      for (const t of plan.tags) {
        checkLease();
        const now = await lifecycle.retention.tag(repository, t.tag);
        if (!now) continue; // deleted by someone else meanwhile
        if (now.digest !== t.digest || now.pushedAt !== t.pushedAt) {
          report.skipped.push({ repository, tag: t.tag, reason: 'pushed again since the plan was made' });
          continue;
        }
        // Conditional: a push between the look above and this delete keeps the tag.
        if (await metadata.deleteTag(repository, t.tag, { digest: t.digest, pushedAt: t.pushedAt })) {
          tags.push(t);
          audit.push(event(t.tag, t.reason, 'tag'));
          await this.deps.events?.tagDeleted({ actor: 'retention' }, repository, t.tag);
        } else {
          report.skipped.push({ repository, tag: t.tag, reason: 'pushed again since the plan was made' });
        }
      }
      for (const m of plan.manifests) {
        checkLease();
        if (await lifecycle.deleteUnreferencedManifest(repository, m.digest, planned)) {
          manifests.push(m);
          audit.push(event(m.digest, m.reason, 'manifest'));
          await this.deps.events?.manifestDeleted({ actor: 'retention' }, repository, m.digest);
        } else {
          report.skipped.push({ repository, digest: m.digest, reason: 'tagged, listed by an index or pushed again since the plan was made (or already deleted)' });
        }
      }
    } finally {
      // deleteUnreferencedManifest writes below the cache: replicas' cached lookups must go.
      if (manifests.length) await metadata.invalidateRepositories?.([repository]);
      if (tags.length || manifests.length) this.deps.trust?.manifestChanged(repository);
      if (audit.length && this.deps.audit) {
        await this.deps.audit.insert(audit).catch((err) => this.deps.log.error({ err, repository }, 'retention: audit events could not be written'));
      }
    }
    return { ...plan, tags, manifests };
  }
}
