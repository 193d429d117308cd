// What GET /api/v1/usage answers and `berth usage` prints: storage used per namespace and per
// repository, and every quota with its limit and usage. A namespace's usage counts each blob
// once however many of its repositories link it, so it is usually less than the sum of its
// repositories' usage. Without a namespace, namespaces are the first path segment of the names.
import type { UsageQueries } from '../metadata/lifecycle/usage-queries.ts';
import { isWithin } from '../auth/access/roles.ts';
import { globToRegExp, namespaceGlob } from './globs.ts';
import type { Quotas, QuotaScope } from './quotas.ts';

export interface RepositoryUsageEntry {
  name: string;
  usedBytes: number;
  blobs: number;
}

export interface NamespaceUsageEntry extends RepositoryUsageEntry {
  repositories: RepositoryUsageEntry[];
}

export interface QuotaEntry {
  /** The scope's globs as messages name it (`team-a/**`). */
  scope: string;
  source: 'config' | 'api';
  /** berth.quotas[index] (config quotas). */
  index?: number;
  /** The namespace (API quotas). */
  namespace?: string;
  repositories: string[];
  limitBytes: number;
  usedBytes: number;
  blobs: number;
  updatedAt?: string;
  updatedBy?: string | null;
}

export interface UsageReport {
  /** The namespace asked about, if any. */
  namespace?: string;
  namespaces: NamespaceUsageEntry[];
  quotas: QuotaEntry[];
}

export async function quotaEntry(quotas: Quotas, scope: QuotaScope): Promise<QuotaEntry> {
  const used = await quotas.usage(scope);
  return {
    scope: scope.label,
    source: scope.source,
    ...(scope.index !== undefined && { index: scope.index }),
    ...(scope.namespace !== undefined && { namespace: scope.namespace }),
    repositories: scope.repositories,
    limitBytes: scope.limitBytes,
    usedBytes: used.bytes,
    blobs: used.blobs,
    ...(scope.updatedAt !== undefined && { updatedAt: new Date(scope.updatedAt).toISOString(), updatedBy: scope.updatedBy ?? null }),
  };
}

function firstSegment(name: string): string {
  const i = name.indexOf('/');
  return i < 0 ? name : name.slice(0, i);
}

/** Whether a quota concerns `namespace`: it covers the namespace, one of its repositories, or names something inside it. */
function concerns(scope: QuotaScope, namespace: string, repositories: string[]): boolean {
  if (scope.matches(namespace) || repositories.some((r) => scope.matches(r))) return true;
  if (scope.namespace !== undefined && (isWithin(scope.namespace, namespace) || isWithin(namespace, scope.namespace))) return true;
  return scope.repositories.some((g) => g.startsWith(`${namespace}/`));
}

export async function usageReport(quotas: Quotas, usage: UsageQueries, namespace?: string): Promise<UsageReport> {
  const scopes = await quotas.scopes();
  if (namespace === undefined) {
    const [namespaces, repositories] = await Promise.all([usage.namespaceUsage(), usage.repositoryUsage()]);
    const byNamespace = new Map<string, RepositoryUsageEntry[]>();
    for (const r of repositories) {
      const ns = firstSegment(r.repository);
      const list = byNamespace.get(ns) ?? [];
      list.push({ name: r.repository, usedBytes: r.bytes, blobs: r.blobs });
      byNamespace.set(ns, list);
    }
    return {
      namespaces: namespaces.map((n) => ({ name: n.namespace, usedBytes: n.bytes, blobs: n.blobs, repositories: byNamespace.get(n.namespace) ?? [] })),
      quotas: await Promise.all(scopes.map((s) => quotaEntry(quotas, s))),
    };
  }
  const pattern = globToRegExp(namespaceGlob(namespace)).source;
  const [total, repositories] = await Promise.all([usage.scopeUsage(pattern), usage.repositoryUsage(pattern)]);
  const names = repositories.map((r) => r.repository);
  return {
    namespace,
    namespaces: [
      {
        name: namespace,
        usedBytes: total.bytes,
        blobs: total.blobs,
        repositories: repositories.map((r) => ({ name: r.repository, usedBytes: r.bytes, blobs: r.blobs })),
      },
    ],
    quotas: await Promise.all(scopes.filter((s) => concerns(s, namespace, names)).map((s) => quotaEntry(quotas, s))),
  };
}
