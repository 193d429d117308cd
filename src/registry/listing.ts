// GET /v2/<name>/tags/list and GET /v2/_catalog: indexed page queries, never a storage walk.
import { sendJSON } from '../http/respond.ts';
import { RegistryError } from './errors.ts';
import { nextLink, readPage } from './pagination.ts';
import type { RequestContext } from './services.ts';
import { encodeName } from './urls.ts';

/** registry:2 returns at most 100 repositories when the client does not ask for a page size. */
const CATALOG_DEFAULT_PAGE = 100;

export async function listTags(ctx: RequestContext, name: string): Promise<void> {
  const page = readPage(ctx.url.searchParams);
  const tags = page.n === 0 ? [] : await ctx.services.metadata.listTags(name, page);
  if (tags === undefined || (page.n === 0 && !(await ctx.services.metadata.repositoryExists(name)))) {
    throw new RegistryError('NAME_UNKNOWN', { detail: { name } });
  }
  const link = nextLink(`/v2/${encodeName(name)}/tags/list`, page, tags);
  sendJSON(ctx.res, 200, { name, tags }, link ? { Link: link } : {});
}

export async function listCatalog(ctx: RequestContext): Promise<void> {
  const page = readPage(ctx.url.searchParams, CATALOG_DEFAULT_PAGE);
  const repositories = page.n === 0 ? [] : await ctx.services.metadata.listRepositories(page);
  const link = nextLink('/v2/_catalog', page, repositories);
  sendJSON(ctx.res, 200, { repositories }, link ? { Link: link } : {});
}
