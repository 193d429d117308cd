// GET /v2/<name>/tags/list and GET /v2/_catalog: indexed page queries, never a storage walk.
import { sendJSON } from '../http/respond.ts';
import { RegistryError } from './errors.ts';
import { MAX_PAGE, nextLink, readPage } from './pagination.ts';
import type { Page } from '../metadata/store.ts';
import type { RequestContext } from './services.ts';
import { encodeName, prefixPath } from './urls.ts';

/** registry:2 returns at most 100 repositories when the client does not ask for a page size. */
const CATALOG_DEFAULT_PAGE = 100;

export async function listTags(ctx: RequestContext, name: string): Promise<void> {
  // Without n, a page is as long as berth's cap (registry:2 sends every tag): a list that fills it
  // gets a Link to the rest, like any full page, instead of ending there unannounced.
  const page = readPage(ctx.url.searchParams, MAX_PAGE);
  const tags = page.n === 0 ? [] : await ctx.services.metadata.listTags(name, page);
  if (tags === undefined || (page.n === 0 && !(await ctx.services.metadata.repositoryExists(name)))) {
    throw new RegistryError('NAME_UNKNOWN', { detail: { name } });
  }
  const link = nextLink(`${prefixPath(ctx.services.config.http.prefix)}/v2/${encodeName(name)}/tags/list`, page, tags);
  sendJSON(ctx.res, 200, { name, tags }, link ? { Link: link } : {});
}

export async function listCatalog(ctx: RequestContext): Promise<void> {
  const page = readPage(ctx.url.searchParams, CATALOG_DEFAULT_PAGE);
  const repositories = page.n === 0 ? [] : ctx.canList ? await visiblePage(ctx, page, ctx.canList) : await ctx.services.metadata.listRepositories(page);
  const link = nextLink(`${prefixPath(ctx.services.config.http.prefix)}/v2/_catalog`, page, repositories);
  sendJSON(ctx.res, 200, { repositories }, link ? { Link: link } : {});
}

/**
 * With authentication, a page holds only repositories the caller may list: read the index in
 * batches after `last` and keep the visible ones until the page is full or the index ends.
 * The Link then points after the last visible name, so hidden names are never revealed.
 */
async function visiblePage(ctx: RequestContext, page: Page, canList: (repository: string) => Promise<boolean>): Promise<string[]> {
  const want = page.n ?? CATALOG_DEFAULT_PAGE;
  const batch = Math.max(want, CATALOG_DEFAULT_PAGE);
  const out: string[] = [];
  let last = page.last;
  for (;;) {
    const rows = await ctx.services.metadata.listRepositories({ n: batch, ...(last !== undefined && { last }) });
    for (const name of rows) {
      if (await canList(name)) out.push(name);
      if (out.length === want) return out;
    }
    if (rows.length < batch) return out;
    last = rows[rows.length - 1];
  }
}
