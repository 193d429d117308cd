// The server-side pull policy (docs/trust.md, "Pull policy"). The registry asks one question per
// manifest GET or HEAD, by tag or by digest (index children included):
//
//   check(repository, digest, record, {tag, host}) -> undefined (serve it) | refusal message
//
// answered synchronously when it can be (no policy at all, no policy for the repository, or a
// cached verdict) and with a promise otherwise. A manifest is served when every rule matching
// its repository is satisfied (rules.ts), by the manifest itself or, for an index child, by an
// index of the repository that refers to it. Signatures and trust data stay readable: a
// signature, attestation or SBOM (no image layers, by media type and by bytes) under cosign's
// accessory tags (sha256-<hex>.sig/.att/.sbom) or with a subject is always served; /extensions/v2/
// and the Notary API are not manifests and never pass here.
//
// Verdicts are cached per rule (its keys' version), digest, and for Notary the tag and the
// timestamp versions, in a bounded LRU: a positive one for a minute (never past the Notary
// chain's earliest expiry), a refusal for 5 s. Any signature or trust data written through this
// process, and any manifest PUT or DELETE in a repository under a policy (retention's and the
// collector's included), clears them; other replicas' writes are seen within those times. Rules set through the admin API are re-read every
// 5 s (at once here after a change). Key files are re-read when they change (keys.ts).
import type { Logger } from 'pino';
import type { BerthConfig } from '../../config/index.ts';
import { NamespaceRules } from '../../lifecycle/namespace-rules.ts';
import type { ManifestRecord } from '../../metadata/store.ts';
import { isAccessoryTag } from '../../metadata/console/accessories.ts';
import { cosignFindings, gpgFindings, isArtifactManifest, type Finding } from './findings.ts';
import { EMPTY_KEYS, KeyFiles, keysFromTexts, PolicyKeyError, type KeySet } from './keys.ts';
import { loadNotaryState, notaryTargets, pinned, type NotarySource, type NotaryState } from './notary.ts';
import { compileRule, configRule, describeRule, missingKeys, namespaceRule, parseNamespaceBody, TRUST_RULE_KIND, type CompiledRule, type TrustNamespaceBody } from './rules.ts';
import { manifestBytes, type StoreDeps } from './store-reader.ts';

export const RULES_TTL_MS = 5_000;
export const POSITIVE_TTL_MS = 60_000;
export const NEGATIVE_TTL_MS = 5_000;
export const NOTARY_STATE_TTL_MS = 5_000;
export const MAX_VERDICTS = 10_000;


export interface TrustPolicyDeps extends StoreDeps {
  config: BerthConfig;
  log: Logger;
  /** Notary trust data (the stored files, the timestamp brought up to date); none: Notary never vouches. */
  notary?: NotarySource;
}

/** Who asked: the tag when the manifest was named by tag, and the Host the request came to (a Notary GUN's host). */
export interface CheckRequest {
  tag?: string;
  host?: string;
}

interface Verdict {
  /** The refusal message; undefined when the rule is satisfied. */
  refusal?: string;
  expiresAt: number;
}

interface Snapshot {
  at: number;
  rules: CompiledRule[];
  none: boolean;
  byRepository: Map<string, CompiledRule[]>;
}

/** A bounded LRU (Map order = use order). */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
  clear(): void {
    this.map.clear();
  }
  get size(): number {
    return this.map.size;
  }
}

/** A policy's view of one manifest's signatures, for the console and the API. */
export interface SignatureReport {
  /** The rules that apply to the repository (none: every finding is 'no-policy'). */
  policies: string[];
  findings: Finding[];
  /** Why a pull would be refused now (undefined: it would be served). */
  refusal?: string;
}

export class TrustPolicy {
  readonly namespaceRules: NamespaceRules<TrustNamespaceBody>;
  private readonly configRules: CompiledRule[];
  private readonly keyFiles: KeyFiles[];
  private readonly ownHosts: string[];
  private snapshot?: Snapshot;
  private refreshing?: Promise<Snapshot>;
  private readonly apiKeys = new Map<string, { keys: KeySet; rule: CompiledRule }>();
  private readonly verdicts = new Lru<Verdict>(MAX_VERDICTS);
  private readonly pending = new Map<string, Promise<Verdict>>();
  private readonly notaryStates = new Map<string, { at: number; state: Promise<NotaryState> }>();
  private readonly parents = new Map<string, { at: number; map: Promise<Map<string, string[]>> }>();
  private readonly artifacts = new Lru<boolean>(MAX_VERDICTS);

  private constructor(
    private readonly deps: TrustPolicyDeps,
    configRules: { rule: CompiledRule; files: KeyFiles }[],
  ) {
    this.configRules = configRules.map((c) => c.rule);
    this.keyFiles = configRules.map((c) => c.files);
    for (const f of this.keyFiles) f.watch(() => this.invalidate());
    this.namespaceRules = new NamespaceRules(deps.metadata.lifecycle, TRUST_RULE_KIND, parseNamespaceBody, 0);
    this.ownHosts = ownHostnames(deps.config);
  }

  /** Reads the configured key files; throws PolicyKeyError when one cannot serve its rule. */
  static async create(deps: TrustPolicyDeps): Promise<TrustPolicy> {
    const configured = [];
    for (const [i, p] of (deps.config.berth.trust.policies ?? []).entries()) {
      const files = await KeyFiles.open(p.keys, deps.log);
      const missing = missingKeys(p.require, files.keys);
      if (missing) throw new PolicyKeyError(`berth.trust.policies.${i}: ${missing}`);
      configured.push({ rule: compileRule(configRule(p, i), () => files.keys), files });
    }
    return new TrustPolicy(deps, configured);
  }

  close(): void {
    for (const f of this.keyFiles) f.close();
  }

  // ------------------------------------------------------------------------------------------
  // Rules

  /** Config rules first (in file order), then namespace rules by namespace. */
  async rules(): Promise<CompiledRule[]> {
    return (await this.current()).rules;
  }

  /** After a change through the admin API: re-read the rules now, drop every verdict. */
  async rulesChanged(): Promise<void> {
    this.snapshot = undefined;
    this.invalidate();
    await this.current();
  }

  private fresh(): Snapshot | undefined {
    const s = this.snapshot;
    return s && Date.now() - s.at < RULES_TTL_MS ? s : undefined;
  }

  private current(): Promise<Snapshot> {
    const s = this.fresh();
    if (s) return Promise.resolve(s);
    return (this.refreshing ??= this.load().finally(() => (this.refreshing = undefined)));
  }

  private async load(): Promise<Snapshot> {
    const at = Date.now();
    let api: CompiledRule[] = [];
    try {
      const rows = await this.namespaceRules.list();
      const seen = new Set<string>();
      for (const row of rows) {
        const rule = namespaceRule(row);
        const key = `${rule.namespace}:${rule.updatedAt}`;
        seen.add(key);
        let entry = this.apiKeys.get(key);
        if (!entry) {
          let keys: KeySet;
          try {
            keys = await keysFromTexts(rule.keys);
          } catch (e) {
            // Validated when it was set; unreadable now (another version): nothing can satisfy it.
            this.deps.log.error({ namespace: rule.namespace, err: (e as Error).message }, 'trust policy: a namespace policy has unreadable keys; its repositories are refused');
            keys = EMPTY_KEYS;
          }
          entry = { keys, rule: compileRule(rule, () => keys) };
          this.apiKeys.set(key, entry);
        }
        api.push(entry.rule);
      }
      for (const k of this.apiKeys.keys()) if (!seen.has(k)) this.apiKeys.delete(k);
    } catch (e) {
      // The database is away: keep enforcing what was known (fail closed for known namespaces).
      if (!this.snapshot) throw e;
      this.deps.log.warn({ err: (e as Error).message }, 'trust policy: namespace policies could not be read; using the last known ones');
      api = this.snapshot.rules.filter((r) => r.source === 'api');
    }
    const rules = [...this.configRules, ...api];
    const snap: Snapshot = { at, rules, none: rules.length === 0, byRepository: new Map() };
    if (this.snapshot && !sameRules(this.snapshot.rules, rules)) this.verdicts.clear();
    this.snapshot = snap;
    return snap;
  }

  private rulesFor(snap: Snapshot, repository: string): CompiledRule[] {
    let r = snap.byRepository.get(repository);
    if (!r) {
      if (snap.byRepository.size >= 10_000) snap.byRepository.clear();
      r = snap.rules.filter((rule) => rule.matches(repository));
      snap.byRepository.set(repository, r);
    }
    return r;
  }

  /** Whether any rule covers the repository (cheap once the rules are loaded). */
  async applies(repository: string): Promise<boolean> {
    return this.rulesFor(await this.current(), repository).length > 0;
  }

  // ------------------------------------------------------------------------------------------
  // The question

  /**
   * undefined: serve the manifest; a string: refuse it (403 DENIED) with that message. Returns
   * synchronously when the answer is known without I/O.
   */
  check(repository: string, digest: string, record: ManifestRecord, request: CheckRequest = {}): string | undefined | Promise<string | undefined> {
    const snap = this.fresh();
    if (!snap) return this.current().then(() => this.check(repository, digest, record, request));
    if (snap.none) return undefined;
    const rules = this.rulesFor(snap, repository);
    if (rules.length === 0) return undefined;
    const now = Date.now();
    let cachedAll = true;
    for (const rule of rules) {
      const key = this.cacheKey(rule, repository, digest, request);
      const v = key === undefined ? undefined : this.verdicts.get(key);
      if (!v || v.expiresAt <= now) {
        cachedAll = false;
        break;
      }
      if (v.refusal) return v.refusal;
    }
    if (cachedAll) return undefined;
    return this.evaluate(rules, repository, digest, record, request);
  }

  private async evaluate(rules: CompiledRule[], repository: string, digest: string, record: ManifestRecord, request: CheckRequest): Promise<string | undefined> {
    for (const rule of rules) {
      const v = await this.verdict(rule, repository, digest, record, request, 0);
      if (v.refusal) return v.refusal;
    }
    return undefined;
  }

  /** Drops every verdict and cached trust data (a signature or trust data arrived or went). */
  invalidate(): void {
    this.verdicts.clear();
    this.notaryStates.clear();
    this.parents.clear();
  }

  /** A manifest was pushed or deleted: verdicts in a repository under a policy may change. */
  manifestChanged(repository: string): void {
    const snap = this.snapshot;
    if (!snap || snap.none) return;
    if (this.rulesFor(snap, repository).length) this.invalidate();
  }

  private usesNotary(rule: CompiledRule): boolean {
    return rule.require === 'notary' || rule.require === 'any';
  }

  /** The GUNs a repository's trust data may be under: each of the registry's names, the request's Host, and the bare name. */
  private guns(repository: string, host: string | undefined): string[] {
    const hosts = host && !this.ownHosts.includes(host.toLowerCase()) ? [host.toLowerCase(), ...this.ownHosts] : this.ownHosts;
    return [...hosts.map((h) => `${h}/${repository}`), repository];
  }

  /** The verdict cache's key; undefined when the Notary state it depends on is not loaded (then: evaluate). */
  private cacheKey(rule: CompiledRule, repository: string, digest: string, request: CheckRequest): string | undefined {
    if (!this.usesNotary(rule)) return `${rule.id()}\0${repository}\0${digest}`;
    const now = Date.now();
    const versions: number[] = [];
    for (const gun of this.guns(repository, request.host)) {
      const s = this.notaryStates.get(gun);
      const version = s && now - s.at < NOTARY_STATE_TTL_MS ? this.settledVersion.get(s.state) : undefined;
      if (version === undefined) return undefined;
      versions.push(version);
    }
    return `${rule.id()}\0${repository}\0${digest}\0${request.tag ?? ''}\0${request.host ?? ''}\0${versions.join(',')}`;
  }

  private readonly settledVersion = new WeakMap<Promise<NotaryState>, number>();

  private notaryState(gun: string): Promise<NotaryState> {
    const now = Date.now();
    const cached = this.notaryStates.get(gun);
    if (cached && now - cached.at < NOTARY_STATE_TTL_MS) return cached.state;
    const source = this.deps.notary;
    const state = source
      ? loadNotaryState(source, gun, now)
      : Promise.resolve({ gun, exists: false, roles: new Map(), badRoles: new Map(), rootKeys: new Set<string>(), timestampVersion: 0, validUntil: Infinity } satisfies NotaryState);
    const entry = { at: now, state };
    this.notaryStates.set(gun, entry);
    state.then(
      (s) => this.settledVersion.set(state, s.exists ? s.timestampVersion : 0),
      () => {
        if (this.notaryStates.get(gun) === entry) this.notaryStates.delete(gun);
      },
    );
    if (this.notaryStates.size > MAX_VERDICTS) this.notaryStates.delete(this.notaryStates.keys().next().value!);
    return state;
  }

  private async verdict(rule: CompiledRule, repository: string, digest: string, record: ManifestRecord, request: CheckRequest, depth: number): Promise<Verdict> {
    if (this.usesNotary(rule)) await Promise.all(this.guns(repository, request.host).map((g) => this.notaryState(g)));
    const key = this.cacheKey(rule, repository, digest, request);
    const now = Date.now();
    if (key !== undefined) {
      const hit = this.verdicts.get(key);
      if (hit && hit.expiresAt > now) return hit;
      const running = this.pending.get(key);
      if (running) return running;
    }
    const p = this.compute(rule, repository, digest, record, request, depth);
    if (key === undefined) return p;
    this.pending.set(key, p);
    try {
      const v = await p;
      this.verdicts.set(key, v);
      return v;
    } finally {
      this.pending.delete(key);
    }
  }

  private async compute(rule: CompiledRule, repository: string, digest: string, record: ManifestRecord, request: CheckRequest, depth: number): Promise<Verdict> {
    const now = Date.now();
    const ok = (until = Infinity): Verdict => ({ expiresAt: Math.min(now + POSITIVE_TTL_MS, until) });
    const likelyArtifact = (request.tag !== undefined && isAccessoryTag(request.tag)) || record.subjectDigest !== null;
    if (likelyArtifact && (await this.isExemptArtifact(repository, digest, record, request.tag))) return ok();
    const direct = await this.direct(rule, repository, digest, record, request);
    if (direct.refusal === undefined) return ok(direct.expiresAt);
    if (!likelyArtifact && (await this.isExemptArtifact(repository, digest, record, request.tag))) return ok();
    // An index child: vouched for by an index of the repository that refers to it.
    if (depth < 2) {
      for (const parent of (await this.parentsOf(repository)).get(digest) ?? []) {
        const parentRecord = await this.deps.metadata.manifest(repository, parent);
        if (!parentRecord) continue;
        const v = await this.verdict(rule, repository, parent, parentRecord, { ...(request.host && { host: request.host }) }, depth + 1);
        if (v.refusal === undefined) return { expiresAt: Math.min(v.expiresAt, now + POSITIVE_TTL_MS) };
      }
    }
    return { refusal: direct.refusal, expiresAt: now + NEGATIVE_TTL_MS };
  }

  /** A signature, attestation or SBOM (not a runnable image) under an accessory tag or with a subject. */
  private async isExemptArtifact(repository: string, digest: string, record: ManifestRecord, tag: string | undefined): Promise<boolean> {
    const named = (tag !== undefined && isAccessoryTag(tag)) || record.subjectDigest !== null || (await this.deps.metadata.lifecycle.tags.tagsOf(repository, digest)).some(isAccessoryTag);
    if (!named) return false;
    let artifact = this.artifacts.get(digest);
    if (artifact === undefined) {
      artifact = await isArtifactManifest(this.deps, await manifestBytes(this.deps, digest), record);
      this.artifacts.set(digest, artifact);
    }
    return artifact;
  }

  /** child digest -> the manifests (indexes) of the repository that refer to it; cached briefly. */
  private parentsOf(repository: string): Promise<Map<string, string[]>> {
    const now = Date.now();
    const cached = this.parents.get(repository);
    if (cached && now - cached.at < RULES_TTL_MS) return cached.map;
    const map = this.deps.metadata.lifecycle.manifestGraph(repository).then((nodes) => {
      const out = new Map<string, string[]>();
      for (const n of nodes) for (const c of n.children) (out.get(c) ?? out.set(c, []).get(c)!).push(n.digest);
      return out;
    });
    this.parents.set(repository, { at: now, map });
    map.catch(() => this.parents.delete(repository));
    if (this.parents.size > 1000) this.parents.delete(this.parents.keys().next().value!);
    return map;
  }

  /** The rule's verdict on the manifest itself. */
  private async direct(rule: CompiledRule, repository: string, digest: string, record: ManifestRecord, request: CheckRequest): Promise<Verdict> {
    const keys = rule.keySet();
    const reasons: string[] = [];
    const kinds = rule.require === 'any' ? (['cosign', 'gpg', 'notary'] as const) : ([rule.require] as const);
    for (const kind of kinds) {
      if (kind === 'cosign') {
        if (!keys.pem.length) {
          if (rule.require === 'cosign') reasons.push('cosign: the policy has no PEM public key');
          continue;
        }
        const found = await cosignFindings(this.deps, repository, digest, keys.pem);
        if (found.some((f) => f.status === 'verified')) return { expiresAt: Infinity };
        reasons.push(`cosign: ${found.length ? found[0]!.reason : 'no cosign signature'}`);
      } else if (kind === 'gpg') {
        if (!keys.gpg.length) {
          if (rule.require === 'gpg') reasons.push('gpg: the policy has no GPG key');
          continue;
        }
        const found = await gpgFindings(this.deps, repository, digest, keys.gpg);
        if (found.some((f) => f.status === 'verified')) return { expiresAt: Infinity };
        reasons.push(`gpg: ${found.length ? found[0]!.reason : 'no GPG simple signature'}`);
      } else {
        const v = await this.notaryVerdict(rule, repository, digest, record, request, keys);
        if (v.ok) return { expiresAt: v.validUntil };
        reasons.push(`notary: ${v.reason}`);
      }
    }
    if (rule.require === 'notary') return { refusal: reasons[0] ?? 'notary: no trust data', expiresAt: 0 };
    return { refusal: `no signature by a trusted key for ${digest} (${reasons.join('; ')})`, expiresAt: 0 };
  }

  private async notaryVerdict(rule: CompiledRule, repository: string, digest: string, record: ManifestRecord, request: CheckRequest, keys: KeySet): Promise<{ ok: true; validUntil: number } | { ok: false; reason: string }> {
    const guns = this.guns(repository, request.host);
    let reason: string | undefined;
    for (const gun of guns) {
      const state = await this.notaryState(gun);
      if (!state.exists) continue;
      if (state.failure) {
        reason ??= state.failure;
        continue;
      }
      const targets = notaryTargets(state, rule.notaryRoles, digest, record.size, request.tag);
      const good = targets.filter((t) => t.matches && pinned(state, t.role, keys.pemSpki));
      if (good.length) return { ok: true, validUntil: state.validUntil };
      if (targets.some((t) => t.matches)) reason ??= `the target for ${digest} in ${gun} is not signed by a key of the policy`;
      else if (targets.length) reason ??= `target hash does not match for ${gun}:${request.tag}`;
      else if (request.tag !== undefined) reason ??= `no target ${request.tag} in the trust data of ${gun} (roles ${rule.notaryRoles.join(', ')})`;
      else reason ??= `no target of ${gun} has the hash of ${digest} (roles ${rule.notaryRoles.join(', ')})`;
    }
    return { ok: false, reason: reason ?? `no trust data for ${guns[0]}` };
  }

  // ------------------------------------------------------------------------------------------
  // What the console and berth's API show

  /** Targets (by name) of the repository's GUNs whose chain verifies, any role: what the console's badges look at. */
  async notaryTargetsByName(repository: string, host?: string): Promise<Map<string, { gun: string; role: string; length: number; sha256?: string }[]>> {
    const out = new Map<string, { gun: string; role: string; length: number; sha256?: string }[]>();
    for (const gun of this.guns(repository, host)) {
      const state = await this.notaryState(gun);
      if (!state.exists || state.failure) continue;
      for (const [role, r] of state.roles) {
        for (const [name, meta] of r.targets) {
          const list = out.get(name) ?? out.set(name, []).get(name)!;
          list.push({ gun, role, length: meta.length, ...(meta.hashes.sha256 && { sha256: meta.hashes.sha256 }) });
        }
      }
    }
    return out;
  }

  /** Every signature of the manifest, each verified against the keys of the rules that apply (or 'no-policy'). */
  async signatures(repository: string, digest: string, record: ManifestRecord, options: { host?: string; tags?: string[] } = {}): Promise<SignatureReport> {
    const rules = this.rulesFor(await this.current(), repository);
    const keySets = rules.map((r) => r.keySet());
    const pem = rules.length ? keySets.flatMap((k) => k.pem) : undefined;
    const gpg = rules.length ? keySets.flatMap((k) => k.gpg) : undefined;
    const pins = new Set(keySets.flatMap((k) => [...k.pemSpki]));
    const roles = rules.length ? [...new Set(rules.flatMap((r) => (this.usesNotary(r) ? r.notaryRoles : [])))] : undefined;
    const findings: Finding[] = [...(await cosignFindings(this.deps, repository, digest, pem)), ...(await gpgFindings(this.deps, repository, digest, gpg))];
    for (const gun of this.guns(repository, options.host)) {
      const state = await this.notaryState(gun);
      if (!state.exists) continue;
      if (state.failure) {
        findings.push({ kind: 'notary', source: 'chain', name: gun, status: rules.length ? 'unverified' : 'no-policy', reason: state.failure });
        continue;
      }
      const seen = new Set<string>();
      const all = [...state.roles.keys()];
      const add = (t: { role: string; name: string; matches: boolean }) => {
        const id = `${t.role}\0${t.name}`;
        if (seen.has(id)) return;
        seen.add(id);
        const inPolicy = roles?.includes(t.role) ?? false;
        const status = !roles ? 'no-policy' : t.matches && inPolicy && pinned(state, t.role, pins) ? 'verified' : 'unverified';
        const reason = !t.matches
          ? `target hash does not match for ${gun}:${t.name}`
          : !roles
            ? undefined
            : !inPolicy
              ? `role ${t.role} is not one the policy trusts (${roles.join(', ') || 'none'})`
              : status === 'unverified'
                ? 'not signed by a key of the policy'
                : undefined;
        findings.push({ kind: 'notary', source: t.role, name: `${gun}:${t.name}`, status, ...(reason && { reason }) });
      };
      for (const t of notaryTargets(state, all, digest, record.size)) add(t);
      for (const tag of options.tags ?? []) for (const t of notaryTargets(state, all, digest, record.size, tag)) add(t);
    }
    const refusal = rules.length ? await this.check(repository, digest, record, { ...(options.host && { host: options.host }) }) : undefined;
    return { policies: rules.map(describeRule), findings, ...(refusal && { refusal }) };
  }
}

function sameRules(a: CompiledRule[], b: CompiledRule[]): boolean {
  return a.length === b.length && a.every((r, i) => r.id() === b[i]!.id());
}

/** This registry's own host names (http.host's host and hostname, berth.trust.hostnames), lower case. */
export function ownHostnames(config: BerthConfig): string[] {
  const own = new Set<string>();
  if (config.http.host) {
    try {
      const u = new URL(config.http.host);
      own.add(u.host.toLowerCase());
      own.add(u.hostname.toLowerCase());
    } catch {
      // validated by the config schema
    }
  }
  for (const h of config.berth.trust.hostnames) own.add(h.toLowerCase());
  return [...own];
}
