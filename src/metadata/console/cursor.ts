// Opaque keyset cursors for the console's pages: base64url of JSON holding the direction, the
// sort, the sort key (a number: last push) where the sort has one, and the name that breaks ties.
// A cursor that does not decode, or was made for another list or sort, counts as no cursor (the
// first page): links from an old page stay harmless.
import type { Page } from './console-store.ts';

/** Which list a cursor belongs to: repositories ('r'), one repository's tags ('t') or namespaces ('n'). */
export type CursorList = 'r' | 't' | 'n';

export interface Cursor {
  list: CursorList;
  sort: string;
  /** 'next' reads rows after the key; 'prev' rows before it. */
  dir: 'next' | 'prev';
  /** With 'prev': the key's own row is included (a prev cursor from an empty page past the end). */
  inclusive?: boolean;
  /** The sort key (for 'pushed': epoch ms, 0 for never pushed); absent for the name sort. */
  key?: number;
  name: string;
}

export function encodeCursor(c: Cursor): string {
  const body: unknown[] = [c.list, c.sort, c.dir === 'next' ? 'n' : c.inclusive ? 'P' : 'p', c.name];
  if (c.key !== undefined) body.push(c.key);
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

export function decodeCursor(text: string | undefined, list: CursorList, sort: string, keyed: boolean): Cursor | undefined {
  if (!text || text.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(body) || body[0] !== list || body[1] !== sort || typeof body[3] !== 'string') return undefined;
  const dir = body[2];
  if (dir !== 'n' && dir !== 'p' && dir !== 'P') return undefined;
  const key = body[4];
  if (keyed ? !Number.isSafeInteger(key) : key !== undefined) return undefined;
  return { list, sort, dir: dir === 'n' ? 'next' : 'prev', inclusive: dir === 'P' || undefined, name: body[3], key: keyed ? (key as number) : undefined };
}

/** The page size asked for, within 1..200. */
export function pageLimit(limit: number): number {
  return Number.isFinite(limit) ? Math.min(200, Math.max(1, Math.floor(limit))) : 50;
}

/**
 * Turns the rows a keyset query returned (at most limit + 1, in the query's order: reversed for a
 * 'prev' cursor) into a page with its cursors. `reload` fetches the first page instead, for a
 * 'prev' page that found fewer rows than a page before its cursor (rows went away meanwhile, or
 * the page size changed): the first page is then the right answer, not a short one.
 */
export async function assemblePage<R, T>(
  rows: R[],
  opts: {
    cursor: Cursor | undefined;
    limit: number;
    list: CursorList;
    sort: string;
    keyOf?: (row: R) => number;
    nameOf: (row: R) => string;
    reload: () => Promise<Page<T>>;
    map: (rows: R[]) => Promise<T[]> | T[];
  },
): Promise<Page<T>> {
  const { cursor, limit } = opts;
  const at = (row: R, dir: 'next' | 'prev'): string =>
    encodeCursor({ list: opts.list, sort: opts.sort, dir, name: opts.nameOf(row), key: opts.keyOf?.(row) });
  if (cursor?.dir === 'prev') {
    const more = rows.length > limit;
    const kept = rows.slice(0, limit).reverse();
    if (!more && kept.length < limit) return opts.reload();
    const page: Page<T> = { items: await opts.map(kept) };
    if (more) page.prev = at(kept[0]!, 'prev');
    if (kept.length) page.next = at(kept[kept.length - 1]!, 'next');
    return page;
  }
  const more = rows.length > limit;
  const kept = rows.slice(0, limit);
  const page: Page<T> = { items: await opts.map(kept) };
  if (more) page.next = at(kept[kept.length - 1]!, 'next');
  if (cursor) {
    // Past the end (everything after the cursor went away): back to the rows up to the cursor's own.
    page.prev = kept.length ? at(kept[0]!, 'prev') : encodeCursor({ ...cursor, dir: 'prev', inclusive: true });
  }
  return page;
}
