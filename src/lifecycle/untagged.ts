// Which manifests of a repository `--delete-untagged` may remove, and in what order. Kept: every
// tagged manifest, everything pushed within the grace period, and, transitively, the children of
// a kept index and the referrers (signatures, SBOMs) of a kept manifest. distribution 2.8 gets
// the last two wrong (it deletes a tagged multi-arch index's untagged children, #3178, and every
// untagged signature); here they follow the manifest that keeps them.
import type { ManifestNode } from '../metadata/lifecycle/lifecycle-store.ts';

/**
 * The untagged manifests to delete, parents before children and subjects before their referrers
 * (the store re-checks each deletion, so that order is the one in which each check can pass).
 */
export function collectableUntagged(nodes: ManifestNode[], cutoff: number): ManifestNode[] {
  const byDigest = new Map(nodes.map((n) => [n.digest, n]));
  const referrers = new Map<string, ManifestNode[]>();
  for (const n of nodes) {
    if (!n.subject) continue;
    const list = referrers.get(n.subject) ?? [];
    list.push(n);
    referrers.set(n.subject, list);
  }
  const keep = new Set<string>();
  const stack = nodes.filter((n) => n.tags.length > 0 || n.pushedAt >= cutoff).map((n) => n.digest);
  while (stack.length) {
    const d = stack.pop()!;
    if (keep.has(d)) continue;
    keep.add(d);
    const n = byDigest.get(d);
    for (const c of n?.children ?? []) if (!keep.has(c)) stack.push(c);
    for (const r of referrers.get(d) ?? []) if (!keep.has(r.digest)) stack.push(r.digest);
  }
  const doomed = nodes.filter((n) => !keep.has(n.digest));
  return deletionOrder(doomed);
}

/** What deletionOrder needs of a manifest (GC's ManifestNode, retention's RetentionManifest). */
interface Orderable {
  digest: string;
  children: string[];
  subject: string | null;
}

/**
 * Orders manifests so each comes after every doomed index listing it and after its doomed subject
 * (used by the collector and by retention).
 */
export function deletionOrder<T extends Orderable>(doomed: T[]): T[] {
  const set = new Set(doomed.map((n) => n.digest));
  const blockers = new Map<string, number>();
  const unblocks = new Map<string, string[]>();
  const edge = (before: string, after: string) => {
    blockers.set(after, (blockers.get(after) ?? 0) + 1);
    const list = unblocks.get(before) ?? [];
    list.push(after);
    unblocks.set(before, list);
  };
  for (const n of doomed) {
    for (const c of n.children) if (set.has(c) && c !== n.digest) edge(n.digest, c);
    if (n.subject && set.has(n.subject) && n.subject !== n.digest) edge(n.subject, n.digest);
  }
  const byDigest = new Map(doomed.map((n) => [n.digest, n]));
  const ready = doomed.filter((n) => !blockers.get(n.digest)).map((n) => n.digest);
  const out: T[] = [];
  const placed = new Set<string>();
  while (ready.length) {
    const d = ready.shift()!;
    if (placed.has(d)) continue;
    placed.add(d);
    out.push(byDigest.get(d)!);
    for (const next of unblocks.get(d) ?? []) {
      const left = (blockers.get(next) ?? 1) - 1;
      blockers.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  // A cycle cannot be built from content-addressed manifests; if the data has one anyway, the
  // rest go last and the store's re-check decides.
  for (const n of doomed) if (!placed.has(n.digest)) out.push(n);
  return out;
}
