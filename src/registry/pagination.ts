// n/last pagination for tags/list and _catalog, with the Link header registry:2 sends
// (OCI distribution spec: "Listing Tags"; RFC 5988 Link with rel="next").
import { RegistryError } from './errors.ts';
import type { Page } from '../metadata/store.ts';

export const MAX_PAGE = 10_000;

export function readPage(params: URLSearchParams, defaultN?: number): Page {
  const n = params.get('n');
  const last = params.get('last');
  const page: Page = {};
  if (n !== null && n !== '') {
    if (!/^\d+$/.test(n)) throw new RegistryError('PAGINATION_NUMBER_INVALID', { detail: { n: n.slice(0, 50) } });
    page.n = Math.min(Number(n), MAX_PAGE);
  } else if (defaultN !== undefined) {
    page.n = defaultN;
  }
  if (last !== null && last !== '') page.last = last;
  return page;
}

/** A next link when the page came back full; a short page is the last one. */
export function nextLink(path: string, page: Page, items: string[]): string | undefined {
  if (page.n === undefined || page.n === 0 || items.length < page.n) return undefined;
  const last = items[items.length - 1]!;
  return `<${path}?last=${encodeURIComponent(last)}&n=${page.n}>; rel="next"`;
}
