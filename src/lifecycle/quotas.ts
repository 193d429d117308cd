// Storage quotas (docs/immutable-tags-and-quotas.md). A quota caps the bytes of a scope: the
// repositories matching its globs (config: berth.quotas) or a namespace and everything below it
// (admin API: PUT /api/v1/quotas/<ns> {"limit": "50GiB"}). Usage counts each live blob once per
// scope however many of its repositories link it (usage-queries.ts), so a blob already counted
// there costs nothing more. Every scope matching a repository applies: the strictest decides.
//
// Checked before each write that adds bytes to a repository: a blob upload commit (the size is
// known then), a cross-repository mount and a manifest PUT (the manifest's own bytes; its layers
// are linked already). A chunked upload is also refused early, in PATCH, once its bytes alone
// exceed a limit it could never fit in.
//
// Computing a scope's usage reads every blob of the scope (about 50 ms for 50,000 blobs on
// SQLite), too slow for every layer of every push. So each replica keeps the last exact figure
// per scope for USAGE_FRESH_MS and adds what it admitted since: a write that fits by that
// estimate passes without a query; one that does not is decided on exact, fresh numbers (so a
// refusal always reflects deletions at once, and a blob already counted is never refused).
//
// Check-then-act: uploads committing at the same moment into one scope each see the usage
// before the others, so together they can overshoot the limit by what they add; with several
// replicas, also by what the others admitted within USAGE_FRESH_MS while the scope was not near
// its limit. Accepted: the overshoot is bounded, and once the scope is full the next push is refused.
import type { LifecycleStore } from '../metadata/lifecycle/lifecycle-store.ts';
import type { ScopeUsage, UsageQueries } from '../metadata/lifecycle/usage-queries.ts';
import { RegistryError } from '../registry/errors.ts';
import { humanBytes } from '../util/human-bytes.ts';
import type { QuotaRule } from './config-types.ts';
import { compileGlobs, globToRegExp, namespaceGlob, type RepositoryMatcher } from './globs.ts';
import { NamespaceRules, type NamespaceRule } from './namespace-rules.ts';

export const QUOTA_RULE_KIND = 'quota';

/** How long an exact usage figure, plus this replica's admissions since, stands in for a query. */
export const USAGE_FRESH_MS = 5_000;

/** The body of a namespace quota set through the admin API. */
export interface QuotaNamespaceBody {
  limitBytes: number;
}

export interface QuotaScope extends QuotaRule {
  source: 'config' | 'api';
  /** Position in berth.quotas (config quotas). */
  index?: number;
  /** The namespace (API quotas). */
  namespace?: string;
  updatedAt?: number;
  updatedBy?: string | null;
  /** How messages name the scope: its globs (`team-a/**`). */
  label: string;
  matches: RepositoryMatcher;
  /** The scope as one regular expression over repository names, for the usage queries. */
  pattern: string;
}

/** What is being added, for the refusal's wording. */
export type QuotaWrite = 'upload' | 'mount' | 'manifest';

const UNIT_BYTES: Record<string, number> = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** humanBytes, but an exact size reads `50 GiB` (not `50.0 GiB`); `49.8 GiB` and a rounded `5.0 KiB` stay. */
export function formatBytes(n: number): string {
  const s = humanBytes(n);
  const m = /^(\d+)\.0 (\w+)$/.exec(s);
  return m && Number(m[1]) * (UNIT_BYTES[m[2]!] ?? NaN) === n ? `${m[1]} ${m[2]}` : s;
}

export function quotaScope(rule: Omit<QuotaScope, 'label' | 'matches' | 'pattern'>): QuotaScope {
  return {
    ...rule,
    label: rule.repositories.join(', '),
    matches: compileGlobs(rule.repositories),
    pattern: rule.repositories.map((g) => globToRegExp(g).source).join('|'),
  };
}

function parseBody(body: unknown): QuotaNamespaceBody | undefined {
  const limitBytes = (body as { limitBytes?: unknown } | null)?.limitBytes;
  return typeof limitBytes === 'number' && Number.isSafeInteger(limitBytes) && limitBytes >= 0 ? { limitBytes } : undefined;
}

function fromNamespaceRule(r: NamespaceRule<QuotaNamespaceBody>): QuotaScope {
  return quotaScope({ source: 'api', namespace: r.namespace, repositories: [namespaceGlob(r.namespace)], limitBytes: r.body.limitBytes, updatedAt: r.updatedAt, updatedBy: r.updatedBy });
}

function exceeded(message: string, scope: QuotaScope, detail: Record<string, number>, headers?: Record<string, string>): RegistryError {
  return new RegistryError('DENIED', { message, detail: { quota: scope.label, limitBytes: scope.limitBytes, ...detail }, ...(headers && { headers }) });
}

/** The quotas from config and the admin API, and the checks the registry's handlers call. */
export class Quotas {
  readonly namespaceRules: NamespaceRules<QuotaNamespaceBody>;
  private readonly configScopes: QuotaScope[];
  private readonly usageQueries: UsageQueries;
  private compiledApi?: { from: NamespaceRule<QuotaNamespaceBody>[]; scopes: QuotaScope[] };
  /** Per scope pattern: the last exact usage and the bytes admitted here since (see the top of the file). */
  private readonly estimates = new Map<string, { takenAt: number; bytes: number; admitted: { at: number; bytes: number }[] }>();

  constructor(configRules: readonly QuotaRule[], store: LifecycleStore, ttlMs?: number) {
    this.configScopes = configRules.map((r, index) => quotaScope({ ...r, source: 'config', index }));
    this.namespaceRules = new NamespaceRules(store, QUOTA_RULE_KIND, parseBody, ttlMs);
    this.usageQueries = store.usage;
  }

  /** Config quotas first (in file order), then namespace quotas by namespace. */
  async scopes(): Promise<QuotaScope[]> {
    const from = await this.namespaceRules.list();
    if (this.compiledApi?.from !== from) this.compiledApi = { from, scopes: from.map(fromNamespaceRule) };
    return [...this.configScopes, ...this.compiledApi.scopes];
  }

  async scopesFor(repository: string): Promise<QuotaScope[]> {
    return (await this.scopes()).filter((s) => s.matches(repository));
  }

  usage(scope: QuotaScope, digest?: string): Promise<ScopeUsage> {
    return this.usageQueries.scopeUsage(scope.pattern, digest);
  }

  /**
   * Before linking `digest` (`size` bytes) to `repository`: refuses with 403 DENIED when a quota
   * over the repository would be exceeded. `onRefused` runs first (an upload drops its bytes).
   */
  async checkAdd(repository: string, digest: string, size: number, what: QuotaWrite, onRefused?: () => Promise<void>): Promise<void> {
    for (const scope of await this.scopesFor(repository)) {
      if (this.fitsEstimate(scope, size)) {
        this.admit(scope, size);
        continue;
      }
      if (await this.usageQueries.counted(scope.pattern, digest)) continue;
      const takenAt = Date.now();
      const used = await this.usage(scope);
      const before = this.estimates.get(scope.pattern)?.admitted.filter((a) => a.at >= takenAt - 1_000) ?? [];
      this.estimates.set(scope.pattern, { takenAt, bytes: used.bytes, admitted: before });
      if (used.bytes + size <= scope.limitBytes) {
        this.admit(scope, size);
        continue;
      }
      await onRefused?.();
      throw exceeded(`quota exceeded for ${scope.label}: ${formatBytes(used.bytes)} of ${formatBytes(scope.limitBytes)} used, this ${what} needs ${formatBytes(size)}`, scope, {
        usedBytes: used.bytes,
        neededBytes: size,
      });
    }
  }

  /** Whether `size` more bytes fit by the estimate (a recent exact figure plus admissions since). */
  private fitsEstimate(scope: QuotaScope, size: number): boolean {
    const e = this.estimates.get(scope.pattern);
    if (!e || Date.now() - e.takenAt > USAGE_FRESH_MS) return false;
    // Admissions shortly before the exact figure was taken may not be in it yet: count them too.
    const since = e.takenAt - 1_000;
    const admitted = e.admitted.reduce((sum, a) => (a.at >= since ? sum + a.bytes : sum), 0);
    return e.bytes + admitted + size <= scope.limitBytes;
  }

  private admit(scope: QuotaScope, size: number): void {
    const e = this.estimates.get(scope.pattern);
    if (!e) return;
    const now = Date.now();
    e.admitted = e.admitted.filter((a) => a.at >= e.takenAt - 1_000);
    e.admitted.push({ at: now, bytes: size });
  }

  /**
   * During a chunked upload (its digest still unknown, so it may yet turn out to be counted
   * already): refuses once its bytes alone are more than a whole quota over the repository.
   */
  async checkUploadSize(repository: string, bytes: number, onRefused?: () => Promise<void>): Promise<void> {
    const scope = (await this.scopesFor(repository)).find((s) => bytes > s.limitBytes);
    if (!scope) return;
    await onRefused?.();
    // The rest of a refused body is not read: the connection closes instead.
    throw exceeded(`quota exceeded for ${scope.label}: this upload is ${formatBytes(bytes)} already, more than the quota of ${formatBytes(scope.limitBytes)}`, scope, { uploadBytes: bytes }, { Connection: 'close' });
  }
}
