// The repositories page (/ui/): every repository the viewer may pull, with its namespace, tag
// count, size, last push and visibility; server-side search and sort, keyset pagination with real
// links. ?namespace=team-a narrows it to one namespace (a range of the name index), with a filter
// of its own; the header's search box is the global one. The namespaces page (/ui/namespaces)
// lists the namespaces, one statement per page (namespace-list-query.ts).
import { html, type Html } from '../html.ts';
import { layout, type PageContext } from '../page.ts';
import { listNamespaces, listRepositories, namespaceOf, parseListQuery, parseNamespaceQuery } from '../data/repository-list.ts';
import { namespaceHref, repoHref, timeCell, visibilityBadge } from './fragments.ts';
import { namespaceVisibilityResolver, visibilityResolvers } from '../data/visibility.ts';

/** Repositories / Namespaces: two views of the same catalogue. */
function tabs(ctx: PageContext, current: 'repositories' | 'namespaces'): Html {
  const { t } = ctx;
  const tab = (key: typeof current, href: string, label: string) => html`<li><a href="${ctx.href(href)}"${current === key ? html` aria-current="page"` : ''}>${label}</a></li>`;
  return html`<nav class="tabs" aria-label="${t.t('repos.view')}"><ul>${tab('repositories', '/ui/', t.t('repos.tab.repositories'))}${tab('namespaces', '/ui/namespaces', t.t('repos.tab.namespaces'))}</ul></nav>`;
}

export async function repositoriesPage(ctx: PageContext): Promise<Html> {
  const { t } = ctx;
  const query = parseListQuery(ctx.url.searchParams);
  const ns = query.namespace;
  const [page, { ofRepository: visibility, ofNamespace: nsVisibility }] = await Promise.all([listRepositories(ctx.deps, ctx.viewer, query), visibilityResolvers(ctx.deps)]);
  const link = (params: Record<string, string | undefined>) => {
    const p = new URLSearchParams();
    const all = { namespace: ns, q: query.q, sort: query.sort === 'name' ? undefined : query.sort, ...params };
    for (const [k, v] of Object.entries(all)) if (v) p.set(k, v);
    const s = p.toString();
    return ctx.href(`/ui/${s ? `?${s}` : ''}`);
  };
  const canCreate = ctx.viewer.mode !== 'anonymous';
  const title = ns ? t.t('repos.namespaceTitle', { namespace: ns }) : t.t('repos.title');
  const sortSelect = html`<label for="repo-sort">${t.t('repos.sortBy')}</label>
<select id="repo-sort" name="sort"><option value="name"${query.sort === 'name' ? html` selected` : ''}>${t.t('repos.sort.name')}</option><option value="pushed"${query.sort === 'pushed' ? html` selected` : ''}>${t.t('repos.sort.pushed')}</option></select>`;
  // One search box per behaviour: the header's searches every repository (?q=); in a namespace,
  // the toolbar's filter (labelled as such) searches that namespace only.
  const toolbar = ns
    ? html`<form class="toolbar" method="get" action="${ctx.href('/ui/')}" data-autosubmit>
<input type="hidden" name="namespace" value="${ns}">
<label for="repo-q">${t.t('repos.filterNamespace', { namespace: ns })}</label>
<input type="search" id="repo-q" name="q" value="${query.q ?? ''}" placeholder="${t.t('repos.filterPlaceholder')}">
${sortSelect}
<button type="submit" class="btn">${t.t('action.apply')}</button>
</form>`
    : html`<form class="toolbar" method="get" action="${ctx.href('/ui/')}" data-autosubmit>
${query.q ? html`<input type="hidden" name="q" value="${query.q}"><span>${t.t('repos.resultsFor', { q: query.q })}</span> <a href="${link({ q: undefined })}">${t.t('repos.clearSearch')}</a>` : ''}
${sortSelect}
<button type="submit" class="btn">${t.t('action.apply')}</button>
</form>`;
  const body = html`
<div class="page-head"><h1>${title}</h1>
<div class="actions">${ns ? visibilityBadge(ctx, nsVisibility(ns)) : ''}${canCreate ? html`<a class="btn btn-primary" href="${ctx.href('/ui/new')}">${t.t('repos.new')}</a>` : ''}</div></div>
${tabs(ctx, 'repositories')}
${toolbar}
${
  page.items.length === 0
    ? html`<p class="empty">${query.q ? t.t('repos.noMatch', { q: query.q }) : ns ? t.t('repos.emptyNamespace') : ctx.viewer.mode === 'anonymous' && ctx.deps.canLogin ? t.t('repos.emptyAnonymous') : t.t('repos.empty')}</p>`
    : html`<div class="table-wrap"><table class="data" id="repositories" data-sortable>
<caption class="visually-hidden">${title}</caption>
<thead><tr><th scope="col" data-sort="text" aria-sort="none">${t.t('repos.col.namespace')}</th><th scope="col" data-sort="text" aria-sort="${query.sort === 'name' ? 'ascending' : 'none'}">${t.t('repos.col.name')}</th><th scope="col" class="num" data-sort="number" aria-sort="none">${t.t('repos.col.tags')}</th><th scope="col" class="num" data-sort="number" aria-sort="none">${t.t('repos.col.size')}</th><th scope="col" data-sort="date" aria-sort="${query.sort === 'pushed' ? 'descending' : 'none'}">${t.t('repos.col.pushed')}</th><th scope="col">${t.t('repos.col.visibility')}</th></tr></thead>
<tbody>${page.items.map((r) => {
        const own = namespaceOf(r.name);
        return html`<tr><td data-value="${own}">${own ? html`<a class="mono" href="${namespaceHref(ctx, own)}">${own}</a>` : html`<span class="muted" title="${t.t('repos.noNamespace')}">-</span>`}</td><td><a href="${repoHref(ctx, r.name)}" class="mono">${r.name}</a>${r.description ? html`<br><span class="muted truncate">${firstLine(r.description)}</span>` : ''}</td>
<td class="num" data-value="${r.tagCount}">${t.number(r.tagCount)}</td><td class="num" data-value="${r.size}">${t.bytes(r.size)}</td>${timeCell(ctx, r.pushedAt)}<td>${visibilityBadge(ctx, visibility(r.name, r.visibility))}</td></tr>`;
      })}</tbody></table></div>`
}
<nav class="pager" aria-label="${t.t('pager.label')}">
${page.prev ? html`<a rel="prev" href="${link({ cursor: page.prev })}">${t.t('pager.prev')}</a>` : ''}
${page.next ? html`<a rel="next" href="${link({ cursor: page.next })}">${t.t('pager.next')}</a>` : ''}
</nav>`;
  const crumbs: [string, string][] = [];
  if (ns) {
    crumbs.push([t.t('repos.title'), ctx.href('/ui/')]);
    const parts = ns.split('/');
    for (let i = 1; i < parts.length; i++) crumbs.push([parts[i - 1]!, namespaceHref(ctx, parts.slice(0, i).join('/'))]);
  }
  return layout(ctx, { title, nav: 'repositories', q: ns ? undefined : query.q, crumbs }, body);
}

/** /ui/namespaces: the namespaces holding what the viewer may list, with repository counts and visibility. */
export async function namespacesPage(ctx: PageContext): Promise<Html> {
  const { t } = ctx;
  const query = parseNamespaceQuery(ctx.url.searchParams);
  const [page, nsVisibility] = await Promise.all([listNamespaces(ctx.deps, ctx.viewer, query), namespaceVisibilityResolver(ctx.deps)]);
  const link = (cursor: string) => ctx.href(`/ui/namespaces?${new URLSearchParams({ cursor }).toString()}`);
  const title = t.t('repos.ns.title');
  const body = html`
<div class="page-head"><h1>${title}</h1><p>${t.t('repos.ns.intro')}</p></div>
${tabs(ctx, 'namespaces')}
${
  page.items.length === 0
    ? html`<p class="empty">${t.t('repos.ns.empty')}</p>`
    : html`<div class="table-wrap"><table class="data" id="namespaces" data-sortable>
<caption class="visually-hidden">${title}</caption>
<thead><tr><th scope="col" data-sort="text" aria-sort="ascending">${t.t('repos.col.namespace')}</th><th scope="col" class="num" data-sort="number" aria-sort="none">${t.t('repos.ns.col.repositories')}</th><th scope="col">${t.t('repos.col.visibility')}</th></tr></thead>
<tbody>${page.items.map(
        (n) => html`<tr><th scope="row"><a class="mono" href="${namespaceHref(ctx, n.name)}">${n.name}</a></th><td class="num" data-value="${n.repositoryCount ?? -1}">${n.repositoryCount === null ? html`<span class="muted" title="${t.t('repos.ns.countHidden')}">-</span>` : t.number(n.repositoryCount)}</td><td>${visibilityBadge(ctx, nsVisibility(n.name))}</td></tr>`,
      )}</tbody></table></div>`
}
<nav class="pager" aria-label="${t.t('pager.label')}">
${page.prev ? html`<a rel="prev" href="${link(page.prev)}">${t.t('pager.prev')}</a>` : ''}
${page.next ? html`<a rel="next" href="${link(page.next)}">${t.t('pager.next')}</a>` : ''}
</nav>`;
  return layout(ctx, { title, nav: 'repositories' }, body);
}

/** The first line of a Markdown description, as plain text for the list. */
function firstLine(markdown: string): string {
  return (markdown.split('\n').find((l) => l.trim()) ?? '').replace(/^[#>*\-\s]+/, '').slice(0, 140);
}
