// The repositories page's data (and GET /api/v1/repositories): one page of the store's query,
// limited to what the viewer may pull. The query narrows by the viewer's namespaces; each row is
// still checked with the access controller, which alone knows every rule (a private namespace
// inside a public one). The namespaces page (and GET /api/v1/repositories/-/namespaces) likewise.
import type { NamespaceSummary, Page, RepositorySort, RepositorySummary } from '../../metadata/console/console-store.ts';
import type { ConsoleDeps } from '../deps.ts';
import type { Viewer } from '../viewer.ts';

export interface RepositoryListQuery {
  q?: string;
  sort: RepositorySort;
  cursor?: string;
  limit: number;
  /** Only repositories below this namespace (?namespace=team-a). */
  namespace?: string;
}

/** A namespace as a URL names it: the components of a repository name, no leading or trailing '/'. */
const NAMESPACE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

export function parseNamespace(value: string | null | undefined): string | undefined {
  const ns = value?.trim().replace(/^\/+|\/+$/g, '').slice(0, 255);
  return ns && NAMESPACE.test(ns) ? ns : undefined;
}

export function parseListQuery(params: URLSearchParams): RepositoryListQuery {
  const sort = params.get('sort') === 'pushed' ? 'pushed' : 'name';
  const limit = Math.min(200, Math.max(1, Number(params.get('limit')) || 50));
  const q = params.get('q')?.trim().slice(0, 255) || undefined;
  const cursor = params.get('cursor') || undefined;
  const namespace = parseNamespace(params.get('namespace'));
  return { q, sort, cursor, limit, ...(namespace && { namespace }) };
}

/** What the viewer may list: undefined = everything (then nothing needs checking row by row). */
function scopes(deps: ConsoleDeps, viewer: Viewer): Promise<string[] | undefined> {
  const store = deps.services.metadata.console;
  return viewer.visibleScopes(async () => (await store.settings.visibilities()).filter((v) => v.visibility === 'public').map((v) => v.repository));
}

export async function listRepositories(deps: ConsoleDeps, viewer: Viewer, query: RepositoryListQuery): Promise<Page<RepositorySummary>> {
  const store = deps.services.metadata.console;
  const within = await scopes(deps, viewer);
  if (within && within.length === 0) return { items: [] };
  const page = await store.repositories({ ...query, within });
  if (!within) return page;
  const allowed = await Promise.all(page.items.map((r) => viewer.can(r.name, 'pull')));
  return { ...page, items: page.items.filter((_, i) => allowed[i]) };
}

export interface NamespaceListQuery {
  cursor?: string;
  limit: number;
}

export function parseNamespaceQuery(params: URLSearchParams): NamespaceListQuery {
  return { cursor: params.get('cursor') || undefined, limit: Math.min(200, Math.max(1, Number(params.get('limit')) || 50)) };
}

/**
 * A page of namespaces holding something the viewer may list. Repository counts only for a
 * viewer who may see every repository: for anyone else a count of the namespace's rows would
 * include repositories the access controller hides from them (a private one in a public
 * namespace), so it is left out (null) rather than checked row by row.
 */
export async function listNamespaces(deps: ConsoleDeps, viewer: Viewer, query: NamespaceListQuery): Promise<Page<NamespaceSummary>> {
  const within = await scopes(deps, viewer);
  if (within && within.length === 0) return { items: [] };
  return deps.services.metadata.console.namespaces({ ...query, within, counts: within === undefined });
}

/** The namespace part of a repository name ('' for a name outside any namespace). */
export function namespaceOf(name: string): string {
  const i = name.lastIndexOf('/');
  return i > 0 ? name.slice(0, i) : '';
}
