// The repositories page (/ui/): every repository the viewer may pull, with tag count, size, last
// push and visibility; server-side search and sort, keyset pagination with real links.
import { html, type Html } from '../html.ts';
import { layout, type PageContext } from '../page.ts';
import { listRepositories, parseListQuery } from '../data/repository-list.ts';
import { repoHref, timeCell, visibilityBadge } from './fragments.ts';
import { visibilityResolver } from '../data/visibility.ts';

export async function repositoriesPage(ctx: PageContext): Promise<Html> {
  const { t } = ctx;
  const query = parseListQuery(ctx.url.searchParams);
  const page = await listRepositories(ctx.deps, ctx.viewer, query);
  const visibility = await visibilityResolver(ctx.deps);
  const link = (params: Record<string, string | undefined>) => {
    const p = new URLSearchParams();
    const all = { q: query.q, sort: query.sort === 'name' ? undefined : query.sort, ...params };
    for (const [k, v] of Object.entries(all)) if (v) p.set(k, v);
    const s = p.toString();
    return ctx.href(`/ui/${s ? `?${s}` : ''}`);
  };
  const canCreate = ctx.viewer.mode !== 'anonymous';
  const body = html`
<div class="page-head"><h1>${t.t('repos.title')}</h1>
<div class="actions">${canCreate ? html`<a class="btn btn-primary" href="${ctx.href('/ui/new')}">${t.t('repos.new')}</a>` : ''}</div></div>
<form class="toolbar" method="get" action="${ctx.href('/ui/')}" data-autosubmit>
<label for="repo-q">${t.t('repos.search')}</label>
<input type="search" id="repo-q" name="q" value="${query.q ?? ''}" placeholder="${t.t('search.placeholder')}">
<label for="repo-sort">${t.t('repos.sortBy')}</label>
<select id="repo-sort" name="sort"><option value="name"${query.sort === 'name' ? html` selected` : ''}>${t.t('repos.sort.name')}</option><option value="pushed"${query.sort === 'pushed' ? html` selected` : ''}>${t.t('repos.sort.pushed')}</option></select>
<button type="submit" class="btn">${t.t('action.apply')}</button>
</form>
${
  page.items.length === 0
    ? html`<p class="empty">${query.q ? t.t('repos.noMatch', { q: query.q }) : ctx.viewer.mode === 'anonymous' && ctx.deps.canLogin ? t.t('repos.emptyAnonymous') : t.t('repos.empty')}</p>`
    : html`<table class="data" id="repositories" data-sortable>
<caption class="visually-hidden">${t.t('repos.title')}</caption>
<thead><tr><th scope="col" data-sort="text" aria-sort="${query.sort === 'name' ? 'ascending' : 'none'}">${t.t('repos.col.name')}</th><th scope="col" class="num" data-sort="number" aria-sort="none">${t.t('repos.col.tags')}</th><th scope="col" class="num" data-sort="number" aria-sort="none">${t.t('repos.col.size')}</th><th scope="col" data-sort="date" aria-sort="${query.sort === 'pushed' ? 'descending' : 'none'}">${t.t('repos.col.pushed')}</th><th scope="col">${t.t('repos.col.visibility')}</th></tr></thead>
<tbody>${page.items.map(
        (r) => html`<tr><td><a href="${repoHref(ctx, r.name)}" class="mono">${r.name}</a>${r.description ? html`<br><span class="muted truncate">${firstLine(r.description)}</span>` : ''}</td>
<td class="num" data-value="${r.tagCount}">${t.number(r.tagCount)}</td><td class="num" data-value="${r.size}">${t.bytes(r.size)}</td>${timeCell(ctx, r.pushedAt)}<td>${visibilityBadge(ctx, visibility(r.name, r.visibility))}</td></tr>`,
      )}</tbody></table>`
}
<nav class="pager" aria-label="${t.t('pager.label')}">
${page.prev ? html`<a rel="prev" href="${link({ cursor: page.prev })}">${t.t('pager.prev')}</a>` : ''}
${page.next ? html`<a rel="next" href="${link({ cursor: page.next })}">${t.t('pager.next')}</a>` : ''}
</nav>`;
  return layout(ctx, { title: t.t('repos.title'), nav: 'repositories', q: query.q }, body);
}

/** The first line of a Markdown description, as plain text for the list. */
function firstLine(markdown: string): string {
  return (markdown.split('\n').find((l) => l.trim()) ?? '').replace(/^[#>*\-\s]+/, '').slice(0, 140);
}
