// A repository's page data (and GET /api/v1/repositories/<name>): the store's detail (summary,
// one page of tags, counts, shared and unique bytes) plus what the page marks on each tag, from
// the same calls for both: immutability (the immutable-tag rules) and the signature state
// (trust-state.ts), and the effective visibility.
import type { RepositoryDetail } from '../../metadata/console/console-store.ts';
import type { PageContext } from '../page.ts';
import { NotFound } from '../errors.ts';
import { registryHost } from '../pull-commands.ts';
import { trustStates, type TrustState } from './trust-state.ts';
import { visibilityResolver, type Visibility } from './visibility.ts';

export interface RepositoryView {
  detail: RepositoryDetail;
  /** Effective visibility (undefined without access control). */
  visibility: Visibility | undefined;
  /** Per tag of detail.tags.items. */
  immutable: boolean[];
  /** Per tag of detail.tags.items. */
  trust: TrustState[];
}

export async function loadRepository(ctx: PageContext, name: string): Promise<RepositoryDetail> {
  if (!(await ctx.viewer.can(name, 'pull'))) throw new NotFound();
  const sort = ctx.url.searchParams.get('sort') === 'name' ? 'name' : 'pushed';
  const limit = Math.min(200, Math.max(1, Number(ctx.url.searchParams.get('limit')) || 100));
  const cursor = ctx.url.searchParams.get('cursor') || undefined;
  const q = ctx.url.searchParams.get('q')?.trim().slice(0, 128) || undefined;
  const detail = await ctx.deps.services.metadata.console.repository(name, { sort, limit, cursor, q });
  if (!detail) throw new NotFound();
  return detail;
}

export async function loadRepositoryView(ctx: PageContext, name: string): Promise<RepositoryView> {
  const { deps } = ctx;
  const detail = await loadRepository(ctx, name);
  const tags = detail.tags.items;
  const [resolve, immutable, trust] = await Promise.all([
    visibilityResolver(deps),
    Promise.all(tags.map((tag) => deps.services.immutableTags.isImmutable(name, tag.name))),
    trustStates(deps, registryHost(ctx), name, tags.map((tag) => ({ tag: tag.name, digest: tag.digest, signed: tag.signed }))),
  ]);
  return { detail, visibility: resolve(name, detail.summary.visibility), immutable, trust };
}
