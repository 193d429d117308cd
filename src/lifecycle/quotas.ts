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
// SQLite), too slow for every layer of every push. So each replica keeps, per scope, the last
// exact figure and the writes it admitted since: a write counts as "in flight" from its admission
// until an exact figure taken after its response closed (by then it is linked, or failed). A
// write that fits by figure + in flight, while the figure is at most USAGE_FRESH_MS old, passes
// without a query; any other is decided on exact, fresh numbers plus what is in flight here. So a
// refusal reflects deletions at once, a blob already counted (or being added by a concurrent
// request) is not charged twice, and the parallel layer uploads of one push cannot all slip past
// the limit together.
//
// Still check-then-act across replicas: writes in flight on other replicas are not seen, and a
// replica's figure may be USAGE_FRESH_MS old while its scope is not near the limit, so several
// replicas can together overshoot a limit by what they admit at the same time. Accepted: bounded,
// and once the scope is full every replica refuses.
import type { LifecycleStore } from '../metadata/lifecycle/lifecycle-store.ts';
import type { ScopeUsage, UsageQueries } from '../metadata/lifecycle/usage-queries.ts';
import { RegistryError } from '../registry/errors.ts';
import { humanBytes } from '../util/human-bytes.ts';
import type { QuotaRule } from './config-types.ts';
import { compileGlobs, globToRegExp, namespaceGlob, type RepositoryMatcher } from './globs.ts';
import { NamespaceRules, type NamespaceRule } from './namespace-rules.ts';

export const QUOTA_RULE_KIND = 'quota';

/** How long an exact usage figure, plus this replica's writes in flight, stands in for a query. */
export const USAGE_FRESH_MS = 5_000;
/** A write whose response never closes stops counting as in flight after this long. */
export const IN_FLIGHT_MS = 10 * 60_000;

interface InFlightWrite {
  digest: string;
  bytes: number;
  at: number;
  /** When its response closed (linked or failed by then); undefined while it runs. */
  doneAt?: number;
}

interface ScopeState {
  /** When the last exact figure was asked for (0: never). */
  takenAt: number;
  bytes: number;
  inFlight: InFlightWrite[];
}

/** A write is in an exact figure taken after its response closed; until then it counts on top. */
function pendingBytes(state: ScopeState): number {
  return state.inFlight.reduce((sum, w) => (w.doneAt !== undefined && w.doneAt < state.takenAt ? sum : sum + w.bytes), 0);
}

export interface QuotaCheckOptions {
  /** Runs before the refusal is thrown (an upload drops its bytes). */
  onRefused?: () => Promise<void>;
  /** The write's HTTP response: the write counts as in flight until it closes. */
  until?: { once(event: 'close', listener: () => void): unknown; closed?: boolean };
}

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
  /** Per scope pattern: the last exact usage and the writes admitted here (see the top of the file). */
  private readonly states = new Map<string, ScopeState>();

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
   * over the repository would be exceeded.
   */
  async checkAdd(repository: string, digest: string, size: number, what: QuotaWrite, options: QuotaCheckOptions = {}): Promise<void> {
    const admitted: InFlightWrite[] = [];
    try {
      for (const scope of await this.scopesFor(repository)) {
        const write = await this.checkScope(scope, digest, size, what, options);
        if (write) admitted.push(write);
      }
    } catch (e) {
      // Refused by one scope: what other scopes admitted for this write is not coming.
      const now = Date.now();
      for (const w of admitted) w.doneAt = now - 1;
      throw e;
    }
    if (admitted.length === 0) return;
    const done = () => {
      const now = Date.now();
      for (const w of admitted) w.doneAt = now;
    };
    if (!options.until || options.until.closed) done();
    else options.until.once('close', done);
  }

  /** One scope's decision; the write now in flight there, or undefined when it costs nothing. */
  private async checkScope(scope: QuotaScope, digest: string, size: number, what: QuotaWrite, options: QuotaCheckOptions): Promise<InFlightWrite | undefined> {
    const state = this.stateOf(scope);
    // Being added right now by another request (the same layer pushed to two repositories): once.
    if (state.inFlight.some((w) => w.digest === digest && w.doneAt === undefined)) return undefined;
    if (Date.now() - state.takenAt <= USAGE_FRESH_MS && state.bytes + pendingBytes(state) + size <= scope.limitBytes) return this.admit(state, digest, size);
    if (await this.usageQueries.counted(scope.pattern, digest)) return undefined;
    const takenAt = Date.now();
    const used = await this.usage(scope);
    if (takenAt >= state.takenAt) {
      state.takenAt = takenAt;
      state.bytes = used.bytes;
      state.inFlight = state.inFlight.filter((w) => !(w.doneAt !== undefined && w.doneAt < takenAt));
    }
    // From here to the decision nothing awaits, so concurrent checks decide one after the other.
    if (state.inFlight.some((w) => w.digest === digest && w.doneAt === undefined)) return undefined;
    const inFlight = state.inFlight.reduce((sum, w) => (w.doneAt !== undefined && w.doneAt < takenAt ? sum : sum + w.bytes), 0);
    const usedBytes = used.bytes + inFlight;
    if (usedBytes + size <= scope.limitBytes) return this.admit(state, digest, size);
    await options.onRefused?.();
    throw exceeded(`quota exceeded for ${scope.label}: ${formatBytes(usedBytes)} of ${formatBytes(scope.limitBytes)} used, this ${what} needs ${formatBytes(size)}`, scope, {
      usedBytes,
      neededBytes: size,
    });
  }

  private stateOf(scope: QuotaScope): ScopeState {
    let state = this.states.get(scope.pattern);
    if (!state) this.states.set(scope.pattern, (state = { takenAt: 0, bytes: 0, inFlight: [] }));
    const cutoff = Date.now() - IN_FLIGHT_MS;
    if (state.inFlight.length && state.inFlight[0]!.at < cutoff) state.inFlight = state.inFlight.filter((w) => w.at >= cutoff);
    return state;
  }

  private admit(state: ScopeState, digest: string, size: number): InFlightWrite {
    const write: InFlightWrite = { digest, bytes: size, at: Date.now() };
    state.inFlight.push(write);
    return write;
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
