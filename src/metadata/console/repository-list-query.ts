// The repository list: one statement per page at any number of repositories.
//
// The inner SELECT picks the page's rows from `repositories` alone (an index walk: on name, or on
// (coalesce(pushed_at, 0) desc, name) from migration 0005), stopping after limit + 1 rows; the
// outer one adds, for those rows only, the tag count, the size and the settings. A search is a
// substring test on each name the walk passes: instr() / strpos() on lower(name), so `%` and `_`
// are plain characters and no LIKE escaping is needed. Names are lower-case by the distribution
// spec; lower() keeps the search case-insensitive should a name ever not be.
import { sql, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { SqlDialect } from '../dialect.ts';
import type { Database } from '../schema.ts';
import { listedTagSql } from './accessories.ts';
import type { RepositorySort, RepositorySummary } from './console-store.ts';
import type { Cursor } from './cursor.ts';
import { keysetOrder, keysetWhere, type KeysetColumns } from './keyset.ts';

/** The sort key of 'pushed': exactly the expression of the repositories_pushed index. */
export const PUSHED_KEY = sql`coalesce(r.pushed_at, 0)`;
const OUTER_PUSHED_KEY = sql`coalesce(rr.pushed_at, 0)`;

export interface RepositoryRow {
  id: number;
  name: string;
  pushed_at: number | string | null;
  tag_count: number | string;
  size: number | string | null;
  description: string | null;
  visibility: string | null;
}

export interface RepositoryListOptions {
  sort: RepositorySort;
  q?: string;
  within?: string[];
  /** Only names below this namespace ('<namespace>/...'). */
  namespace?: string;
  cursor?: Cursor;
  /** Rows to read (the page size plus one, to know whether there is a next page). */
  take: number;
  /** One repository by name (repository()), instead of a page. */
  exact?: string;
}

/** `text` contains `q`, case-insensitively, every character literal. */
export function containsSql(dialect: SqlDialect, column: string, q: string): RawBuilder<SqlBool> {
  const needle = q.toLowerCase();
  return dialect === 'postgres' ? sql<SqlBool>`strpos(lower(${sql.ref(column)}), ${needle}) > 0` : sql<SqlBool>`instr(lower(${sql.ref(column)}), ${needle}) > 0`;
}

/**
 * `within`: an entry ending in '/' is a namespace (names below it), any other an exact name. Each
 * namespace is a range on the name index ('ns/' <= name < 'ns0': '0' follows '/' in byte order).
 */
export function withinSql(column: string, within: string[]): RawBuilder<SqlBool> | 'nothing' {
  const col = sql.ref(column);
  const parts: RawBuilder<SqlBool>[] = [];
  const exact = [...new Set(within.filter((w) => w !== '' && !w.endsWith('/')))];
  for (const ns of new Set(within.filter((w) => w.endsWith('/')))) {
    if (ns === '/') continue;
    parts.push(sql<SqlBool>`(${col} >= ${ns} and ${col} < ${`${ns.slice(0, -1)}0`})`);
  }
  if (exact.length) parts.push(sql<SqlBool>`${col} in (${sql.join(exact)})`);
  if (!parts.length) return 'nothing';
  return sql<SqlBool>`(${sql.join(parts, sql` or `)})`;
}

export function repositoryListQuery(db: Kysely<Database>, dialect: SqlDialect, o: RepositoryListOptions) {
  const cols: KeysetColumns = o.sort === 'pushed' ? { key: PUSHED_KEY, name: sql.ref('r.name') } : { name: sql.ref('r.name') };
  const outerCols: KeysetColumns = o.sort === 'pushed' ? { key: OUTER_PUSHED_KEY, name: sql.ref('p.name') } : { name: sql.ref('p.name') };
  const backwards = o.cursor?.dir === 'prev';

  const filters: Expression<SqlBool>[] = [];
  if (o.exact !== undefined) filters.push(sql<SqlBool>`r.name = ${o.exact}`);
  if (o.q) filters.push(containsSql(dialect, 'r.name', o.q));
  if (o.within) {
    const w = withinSql('r.name', o.within);
    if (w === 'nothing') return undefined;
    filters.push(w);
  }
  if (o.namespace !== undefined) {
    const n = withinSql('r.name', [`${o.namespace.replace(/\/+$/, '')}/`]);
    if (n === 'nothing') return undefined;
    filters.push(n);
  }
  if (o.cursor) filters.push(keysetWhere(cols, o.cursor));

  // Only what the walk needs (id, name; the push time for its sort): then the walk reads the
  // index alone, which is what makes a substring search over every name affordable.
  let inner = db.selectFrom('repositories as r').select(['r.id', 'r.name']);
  for (const f of filters) inner = inner.where(f);
  const page = inner.orderBy(keysetOrder(cols, backwards)).limit(o.take);

  return db
    .selectFrom(page.as('p'))
    .innerJoin('repositories as rr', 'rr.id', 'p.id')
    .leftJoin('repository_settings as s', 's.repository', 'p.name')
    .select(['p.id', 'p.name', 'rr.pushed_at', 's.description', 's.visibility'])
    .select((eb) => [
      eb.selectFrom('tags as t').select(eb.fn.countAll().as('c')).whereRef('t.repository_id', '=', 'p.id').where(listedTagSql(dialect, 't')).as('tag_count'),
      // Live blobs only, as quotas count them: what deleting the repository alone would free.
      eb
        .selectFrom('repository_blobs as rb')
        .innerJoin('blobs as b', 'b.digest', 'rb.digest')
        .select((sub) => sub.fn.sum<number | string>('b.size').as('s'))
        .whereRef('rb.repository_id', '=', 'p.id')
        .where('b.state', '=', 'live')
        .as('size'),
    ])
    .orderBy(keysetOrder(outerCols, backwards));
}

/**
 * Manifests of a repository without a tag that are neither an accessory (no subject) nor an index
 * child. A statement of its own, with the repository's id as a value: NOT IN over uncorrelated
 * subqueries is one hash (PostgreSQL) or temporary index (SQLite) whatever the planner guesses,
 * where a correlated NOT EXISTS inside the list's statement was planned as a nested loop
 * (25 million comparisons for a repository of 5,000 manifests).
 */
export async function untaggedCount(db: Kysely<Database>, repositoryId: number): Promise<number> {
  const row = await db
    .selectFrom('manifests as m')
    .select((eb) => eb.fn.countAll().as('c'))
    .where('m.repository_id', '=', repositoryId)
    .where('m.subject_digest', 'is', null)
    .where('m.digest', 'not in', db.selectFrom('tags').select('digest').where('repository_id', '=', repositoryId))
    .where('m.digest', 'not in', db.selectFrom('manifest_references').select('child_digest').where('repository_id', '=', repositoryId).where('kind', '=', 'manifest'))
    .executeTakeFirst();
  return Number(row?.c ?? 0);
}

export function toSummary(row: RepositoryRow): RepositorySummary {
  const v = row.visibility;
  return {
    name: row.name,
    tagCount: Number(row.tag_count),
    size: Number(row.size ?? 0),
    pushedAt: row.pushed_at === null ? null : Number(row.pushed_at),
    description: row.description,
    visibility: v === 'public' || v === 'private' ? v : null,
  };
}

/** The row's sort key for the 'pushed' cursor: PUSHED_KEY's value. */
export const pushedKey = (row: { pushed_at: number | string | null }): number => Number(row.pushed_at ?? 0);
