// What a retention policy removes from one repository, as a pure function of the repository's
// manifests and tags (with push and pull times), the policy and the clock. zot's semantics,
// which its users already know:
//  - tags: a tag is kept when ANY rule of the FIRST keeptags entry whose patterns match it holds
//    (an entry with no rule, or only counts of 0, keeps every tag it matches); counts rank the
//    tags that entry matched; a tag no entry matches is deleted; no (or empty) keeptags keeps
//    every tag. A tag's last pull is
//    the later of a pull by its name and a pull of the manifest it points at (clients resolve a
//    tag with HEAD and GET the digest).
//  - manifests: one whose tags are all deleted goes with them, and so does whatever only it kept
//    (the untagged children of a deleted index). deleteuntagged also removes manifests that had
//    no tag before the run. Never removed: the children of a kept index, the referrers
//    (signatures, SBOMs) of a kept manifest, and untagged manifests pushed after
//    `untaggedCutoff` (a multi-arch push uploads its children before the index that lists them).
//    deletereferrers: referrers whose subject is deleted (or already missing) go too; without it
//    every referrer stays.
//  - cosign's accessory tags (sha256-<hex>.sig/.att/.sbom) are referrers by name, not releases:
//    keeptags neither matches nor counts them (a "keep v*" policy would otherwise delete every
//    signature, and a pull policy would then refuse every image). They go with their subject,
//    under deletereferrers.
//  - immutable tags are never deleted, whatever the policy says; they keep their manifest.
import type { KeepTagsRule, RetentionPolicy } from './config-types.ts';
import type { RetentionGraph, RetentionManifest, RetentionTag } from '../metadata/lifecycle/retention-queries.ts';
import { deletionOrder } from './untagged.ts';
import { accessoryTagTarget } from '../metadata/console/accessories.ts';

export interface RetentionInput {
  repository: string;
  graph: RetentionGraph;
  /** The policy that applies to the repository (see selectPolicy); undefined = nothing is deleted. */
  policy: RetentionPolicy | undefined;
  now: number;
  /** Untagged manifests pushed at or after this time are in flight and stay; default `now`. */
  untaggedCutoff?: number;
  /** Immutable tags are never deleted (src/lifecycle/immutable-tags.ts). */
  isImmutable?: (tag: string) => boolean;
}

export interface TagDeletion {
  tag: string;
  digest: string;
  pushedAt: number;
  pulledAt: number | null;
  reason: string;
}

export type ManifestDeletionKind = 'tags-deleted' | 'untagged' | 'index-child' | 'referrer';

export interface ManifestDeletion {
  digest: string;
  size: number;
  kind: ManifestDeletionKind;
  reason: string;
}

export interface RetentionPlan {
  repository: string;
  /** Tags to delete, by name. */
  tags: TagDeletion[];
  /** Manifests to delete, in an order in which each can go: parents before children, subjects before referrers. */
  manifests: ManifestDeletion[];
  /** Tags the policy would delete but that are immutable. */
  protectedTags: { tag: string; digest: string; reason: string }[];
}

const HOUR = 3_600_000;

/** "720h", "90m", "45s" for reasons (config durations are written in hours most of the time). */
export function formatDuration(ms: number): string {
  if (ms % HOUR === 0) return `${ms / HOUR}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function age(now: number, at: number): string {
  const ms = Math.max(0, now - at);
  if (ms >= 48 * HOUR) return `${Math.floor(ms / (24 * HOUR))}d ago`;
  if (ms >= HOUR) return `${Math.floor(ms / HOUR)}h ago`;
  return `${Math.floor(ms / 60_000)}m ago`;
}

function compilePatterns(patterns: string[]): RegExp[] {
  // Unanchored, as zot matches them (regexp.MatchString): anchor with ^ and $ for a whole-tag match.
  return patterns.map((p) => new RegExp(p));
}

/** A count of 0 is no rule, as in zot (an entry with only zero counts keeps every tag it matches). */
function counts(n: number | undefined): number | undefined {
  return n ? n : undefined;
}

function hasRule(rule: KeepTagsRule): boolean {
  return counts(rule.mostRecentlyPushedCount) !== undefined || rule.pushedWithinMs !== undefined || counts(rule.mostRecentlyPulledCount) !== undefined || rule.pulledWithinMs !== undefined;
}

/** The `count` newest of `tags` by `time` (ties by name), skipping tags without a time. */
function newest(tags: RetentionTag[], time: (t: RetentionTag) => number | null, count: number): Set<string> {
  return new Set(
    tags
      .filter((t) => time(t) !== null)
      .sort((a, b) => time(b)! - time(a)! || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .slice(0, count)
      .map((t) => t.name),
  );
}

/** Tags the policy deletes, with why; no keeptags (or an empty list, as in zot) keeps every tag. */
function doomedTags(tags: RetentionTag[], keepTags: KeepTagsRule[] | undefined, now: number, lastPull: (t: RetentionTag) => number | null): Map<string, string> {
  const doomed = new Map<string, string>();
  if (!keepTags || keepTags.length === 0) return doomed;
  const entries = keepTags.map((rule) => ({ rule, patterns: compilePatterns(rule.patterns), tags: [] as RetentionTag[] }));
  for (const t of tags) {
    const entry = entries.find((e) => e.patterns.some((p) => p.test(t.name)));
    if (entry) entry.tags.push(t);
    else doomed.set(t.name, 'matches no keeptags pattern');
  }
  for (const { rule, tags: matched } of entries) {
    if (matched.length === 0 || !hasRule(rule)) continue;
    const pushedCount = counts(rule.mostRecentlyPushedCount);
    const pulledCount = counts(rule.mostRecentlyPulledCount);
    const pushedTop = pushedCount !== undefined ? newest(matched, (t) => t.pushedAt, pushedCount) : undefined;
    const pulledTop = pulledCount !== undefined ? newest(matched, lastPull, pulledCount) : undefined;
    const where = `keeptags [${rule.patterns.join(', ')}]`;
    for (const t of matched) {
      const pulled = lastPull(t);
      if (pushedTop?.has(t.name) || pulledTop?.has(t.name)) continue;
      if (rule.pushedWithinMs !== undefined && now - t.pushedAt <= rule.pushedWithinMs) continue;
      if (rule.pulledWithinMs !== undefined && pulled !== null && now - pulled <= rule.pulledWithinMs) continue;
      const why: string[] = [];
      if (pushedTop) why.push(`not among the ${pushedCount} most recently pushed`);
      if (rule.pushedWithinMs !== undefined) why.push(`pushed ${age(now, t.pushedAt)}, not within ${formatDuration(rule.pushedWithinMs)}`);
      if (pulledTop) why.push(`not among the ${pulledCount} most recently pulled`);
      if (rule.pulledWithinMs !== undefined) why.push(pulled === null ? `never pulled` : `pulled ${age(now, pulled)}, not within ${formatDuration(rule.pulledWithinMs)}`);
      else if (pulledTop && pulled === null) why.push('never pulled');
      doomed.set(t.name, `${where}: ${[...new Set(why)].join('; ')}`);
    }
  }
  return doomed;
}

/** What a run of `policy` deletes in one repository. */
export function evaluateRetention(input: RetentionInput): RetentionPlan {
  const { repository, graph, policy, now } = input;
  const plan: RetentionPlan = { repository, tags: [], manifests: [], protectedTags: [] };
  if (!policy) return plan;
  const untaggedCutoff = input.untaggedCutoff ?? now;
  const byDigest = new Map(graph.manifests.map((m) => [m.digest, m]));
  const lastPull = (t: RetentionTag): number | null => {
    const m = byDigest.get(t.digest)?.pulledAt ?? null;
    return t.pulledAt === null ? m : m === null ? t.pulledAt : Math.max(t.pulledAt, m);
  };

  // 1. Tags. Accessory tags are decided with their subject, in 3.
  const accessories = new Map<string, string>(); // tag -> subject
  for (const t of graph.tags) {
    const target = accessoryTagTarget(t.name);
    if (target) accessories.set(t.name, target.subject);
  }
  const doomed = doomedTags(
    graph.tags.filter((t) => !accessories.has(t.name)),
    policy.keepTags,
    now,
    lastPull,
  );
  const tagsOf = new Map<string, { all: string[]; kept: string[] }>();
  const sortedTags = [...graph.tags].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const t of sortedTags) {
    const entry = tagsOf.get(t.digest) ?? { all: [], kept: [] };
    entry.all.push(t.name);
    tagsOf.set(t.digest, entry);
    if (accessories.has(t.name)) continue;
    const reason = doomed.get(t.name);
    if (reason !== undefined && input.isImmutable?.(t.name)) {
      plan.protectedTags.push({ tag: t.name, digest: t.digest, reason: `immutable (the policy would delete it: ${reason})` });
      entry.kept.push(t.name);
    } else if (reason !== undefined) {
      plan.tags.push({ tag: t.name, digest: t.digest, pushedAt: t.pushedAt, pulledAt: lastPull(t), reason });
    } else entry.kept.push(t.name);
  }

  // 2. Manifests: keep what a kept tag, the grace period or the policy's flags keep, and
  // everything a kept manifest needs (an index's children) or carries (its referrers, and what
  // its accessory tags point at).
  const listedBy = new Map<string, string[]>();
  const referrers = new Map<string, string[]>();
  const carry = (subject: string, digest: string) => referrers.set(subject, [...(referrers.get(subject) ?? []), digest]);
  for (const m of graph.manifests) {
    for (const c of m.children) listedBy.set(c, [...(listedBy.get(c) ?? []), m.digest]);
    if (m.subject) carry(m.subject, m.digest);
  }
  for (const t of graph.tags) {
    const subject = accessories.get(t.name);
    if (subject !== undefined) carry(subject, t.digest);
  }
  const keep = new Set<string>();
  const mark = (roots: string[]) => {
    const stack = [...roots];
    while (stack.length) {
      const d = stack.pop()!;
      if (keep.has(d)) continue;
      keep.add(d);
      for (const c of byDigest.get(d)?.children ?? []) if (!keep.has(c)) stack.push(c);
      for (const r of referrers.get(d) ?? []) if (!keep.has(r)) stack.push(r);
    }
  };
  const roots: string[] = [];
  for (const m of graph.manifests) {
    const tags = tagsOf.get(m.digest);
    const untaggedBefore = !tags || tags.all.length === 0;
    let root = (tags?.kept.length ?? 0) > 0;
    if (untaggedBefore && m.pushedAt >= untaggedCutoff) root = true; // in flight
    if (m.subject && !policy.deleteReferrers) root = true; // referrers only go with deletereferrers
    // An untagged manifest no index lists stands alone: deleteuntagged decides. One an index lists
    // lives and dies with its indexes (below); one with a subject, with its subject.
    if (untaggedBefore && !m.subject && !listedBy.has(m.digest) && !policy.deleteUntagged) root = true;
    if (root) roots.push(m.digest);
  }
  mark(roots);

  // 3. Accessory tags: kept with their subject; without deletereferrers, and while in flight
  // (a copy may push a signature before its image), always. An immutable one keeps its manifest.
  for (const t of sortedTags) {
    const subject = accessories.get(t.name);
    if (subject === undefined) continue;
    if (!policy.deleteReferrers || keep.has(subject) || t.pushedAt >= untaggedCutoff) {
      mark([t.digest]);
      continue;
    }
    const reason = `cosign accessory tag of ${subject}, which ${byDigest.has(subject) ? 'is deleted' : 'is not in the repository'} (deletereferrers)`;
    if (input.isImmutable?.(t.name)) {
      plan.protectedTags.push({ tag: t.name, digest: t.digest, reason: `immutable (the policy would delete it: ${reason})` });
      mark([t.digest]);
    } else plan.tags.push({ tag: t.name, digest: t.digest, pushedAt: t.pushedAt, pulledAt: lastPull(t), reason });
  }

  const deleted = graph.manifests.filter((m) => !keep.has(m.digest));
  const deletedSet = new Set(deleted.map((m) => m.digest));
  for (const m of deletionOrder(deleted)) {
    const tags = tagsOf.get(m.digest)?.all ?? [];
    const parents = listedBy.get(m.digest) ?? [];
    let kind: ManifestDeletionKind;
    let reason: string;
    if (m.subject) {
      kind = 'referrer';
      reason = `referrer of ${m.subject}, which ${deletedSet.has(m.subject) ? 'is deleted' : 'is not in the repository'} (deletereferrers)`;
    } else if (tags.length > 0) {
      kind = 'tags-deleted';
      reason = `every tag is deleted (${tags.join(', ')})`;
    } else if (parents.length > 0) {
      kind = 'index-child';
      reason = `untagged, listed only by deleted index${parents.length > 1 ? 'es' : ''} ${parents.join(', ')}`;
    } else {
      kind = 'untagged';
      reason = 'untagged (deleteuntagged)';
    }
    plan.manifests.push({ digest: m.digest, size: m.size, kind, reason });
  }
  return plan;
}

/** A policy set for a namespace through the admin API (it covers `<namespace>/**`). */
export interface NamespacePolicy {
  namespace: string;
  policy: RetentionPolicy;
}

export interface SelectedPolicy {
  policy: RetentionPolicy;
  /** Where it comes from: `namespace team-a` or `berth.retention.policies[2]`. */
  source: string;
}

/**
 * The policy for a repository: the namespace policy of the deepest namespace containing it, else
 * the first config policy whose globs match it, else none.
 */
export function selectPolicy(
  repository: string,
  namespacePolicies: readonly NamespacePolicy[],
  configPolicies: readonly { policy: RetentionPolicy; matches: (repository: string) => boolean }[],
): SelectedPolicy | undefined {
  let best: NamespacePolicy | undefined;
  for (const n of namespacePolicies) {
    const ns = n.namespace.replace(/\/+$/, '');
    if ((repository === ns || repository.startsWith(`${ns}/`)) && (!best || ns.length > best.namespace.length)) best = { ...n, namespace: ns };
  }
  if (best) return { policy: best.policy, source: `namespace ${best.namespace}` };
  const i = configPolicies.findIndex((p) => p.matches(repository));
  return i < 0 ? undefined : { policy: configPolicies[i].policy, source: `berth.retention.policies[${i}]` };
}
