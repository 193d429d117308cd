// The repositories page's data (and GET /api/v1/repositories): one page of the store's query,
// limited to what the viewer may pull. The query narrows by the viewer's namespaces; each row is
// still checked with the access controller, which alone knows every rule (a private namespace
// inside a public one).
import type { Page, RepositorySort, RepositorySummary } from '../../metadata/console/console-store.ts';
import type { ConsoleDeps } from '../deps.ts';
import type { Viewer } from '../viewer.ts';

export interface RepositoryListQuery {
  q?: string;
  sort: RepositorySort;
  cursor?: string;
  limit: number;
}

export function parseListQuery(params: URLSearchParams): RepositoryListQuery {
  const sort = params.get('sort') === 'pushed' ? 'pushed' : 'name';
  const limit = Math.min(200, Math.max(1, Number(params.get('limit')) || 50));
  const q = params.get('q')?.trim().slice(0, 255) || undefined;
  const cursor = params.get('cursor') || undefined;
  return { q, sort, cursor, limit };
}

export async function listRepositories(deps: ConsoleDeps, viewer: Viewer, query: RepositoryListQuery): Promise<Page<RepositorySummary>> {
  const store = deps.services.metadata.console;
  const within = await viewer.visibleScopes(async () => (await store.settings.visibilities()).filter((v) => v.visibility === 'public').map((v) => v.repository));
  if (within && within.length === 0) return { items: [] };
  const page = await store.repositories({ ...query, within });
  if (!within) return page;
  const allowed = await Promise.all(page.items.map((r) => viewer.can(r.name, 'pull')));
  return { ...page, items: page.items.filter((_, i) => allowed[i]) };
}
