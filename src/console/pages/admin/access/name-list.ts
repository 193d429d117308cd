// The users and teams pages list by name the same way: a search box (whose text the console's
// script also uses to filter the rows already shown), 50 rows a page keyed by the last name shown
// (keyset pagination, as the store lists), and links to the first and the next page.
import { html, type Html } from '../../../html.ts';
import type { PageContext } from '../../../page.ts';
import type { ListOptions } from '../../../../metadata/access/store.ts';
import { adminHref, pager, query } from './shared.ts';

const PAGE = 50;

export interface NameList<T> {
  /** The search text, if any. */
  q: string | undefined;
  rows: T[];
  /** Links to the first and the next page (empty when there is only one page). */
  pager: Html;
}

/** One page of `path`'s list (e.g. '/users'), as the request's `q` and `after` ask for. */
export async function loadNameList<T extends { name: string }>(ctx: PageContext, path: string, list: (options: ListOptions) => Promise<T[]>): Promise<NameList<T>> {
  const q = ctx.url.searchParams.get('q')?.trim().slice(0, 100) || undefined;
  const after = ctx.url.searchParams.get('after')?.slice(0, 255) || undefined;
  const rows = await list({ ...(q && { query: q }), limit: PAGE, ...(after && { after }) });
  const last = rows[rows.length - 1];
  const next = rows.length === PAGE && last ? adminHref(ctx, `${path}${query({ q, after: last.name })}`) : undefined;
  return { q, rows, pager: pager(ctx, { first: after ? adminHref(ctx, `${path}${query({ q })}`) : undefined, next }) };
}

/** The search box above such a list; `filter` names the table (its id) that the script filters. */
export function nameSearchForm(ctx: PageContext, o: { path: string; id: string; label: string; filter: string; q: string | undefined }): Html {
  return html`<form class="toolbar" method="get" action="${adminHref(ctx, o.path)}" role="search">
<label class="visually-hidden" for="${o.id}">${o.label}</label>
<input type="search" id="${o.id}" name="q" value="${o.q ?? ''}" placeholder="${o.label}" data-filter="${o.filter}" data-filter-status="${ctx.t.t('adminAccess.filterStatus')}">
<button type="submit" class="btn">${ctx.t.t('adminAccess.search')}</button></form>`;
}
