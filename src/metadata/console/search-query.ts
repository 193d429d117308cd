// Repository search by page number (Docker's /v1/search: `page` and `n`, plus the total): a
// case-insensitive substring of the name, limited to the caller's namespaces and names (`within`,
// as the console's list: repository-list-query.ts).
//
// SQLite: a term of 3 characters or more is looked up in the FTS5 trigram index of migration
// 0010_search. Up to CANDIDATES matching ids are read (a rare term, or none: well under a
// millisecond at 100,000 names) and the page and total come from those rows. A common term is
// counted in the index (up to COUNT_CAP matches) and its page read by walking the names in order
// until the page is full; a shorter term, or a common one with `within`, walks the names
// (countAndPage: about 5 ms per 100,000).
//
// PostgreSQL: LIKE '%term%' on lower(name), which pg_trgm's GIN index serves when the migration
// could create it (the planner picks index or scan by the term's selectivity); the count and the
// page run side by side.
//
// Descriptions (repository_settings) are read for the page's rows only.
//
// Also here: the number of open upload sessions, for the berth_uploads_in_progress gauge.
import { sql, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { SqlDialect } from '../dialect.ts';
import type { Database } from '../schema.ts';
import { withinSql } from './repository-list-query.ts';

export interface RepositorySearchRequest {
  /** Case-insensitive substring of the name; empty or absent = every repository. */
  q?: string;
  /** As RepositoryListRequest.within: namespaces ('team-a/') and exact names; undefined = everything, [] = nothing. */
  within?: string[];
  offset: number;
  /** At most 100. */
  limit: number;
}

export interface RepositorySearchResult {
  /** Matches in all (within `within`), for num_results and num_pages. */
  total: number;
  /** The page's repositories, by name. */
  items: { name: string; description: string | null }[];
}

/** Matching ids read from the SQLite trigram index; a term with more is a common one. */
const CANDIDATES = 2000;
/** A common term's matches are counted in the trigram index up to this many; beyond, by walking every name. */
const COUNT_CAP = 25_000;

/** An FTS5 phrase: the term in double quotes (inner quotes doubled), so every character is literal. */
const phrase = (q: string) => `"${q.replace(/"/g, '""')}"`;

/** LIKE '%term%' with `\` escaping %, _ and itself. */
const likeContains = (q: string) => `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function searchRepositories(db: Kysely<Database>, dialect: SqlDialect, req: RepositorySearchRequest): Promise<RepositorySearchResult> {
  const limit = Math.max(1, Math.min(100, Math.floor(req.limit)));
  const offset = Math.max(0, Math.floor(req.offset));
  const q = (req.q ?? '').toLowerCase();
  const filters: RawBuilder<SqlBool>[] = [];
  if (req.within) {
    const w = withinSql('r.name', req.within);
    if (w === 'nothing') return { total: 0, items: [] };
    filters.push(w);
  }
  if (!q) return countAndPage(db, filters, offset, limit);
  if (dialect === 'postgres') return countAndPage(db, [...filters, sql<SqlBool>`lower(r.name) like ${likeContains(q)} escape '\\'`], offset, limit);
  // SQLite. Names are lower case (the distribution grammar, checked on every write), so the scan
  // tests them as they are; the trigram index folds case itself.
  const contains = sql<SqlBool>`instr(r.name, ${q}) > 0`;
  if ([...q].length < 3) return countAndPage(db, [...filters, contains], offset, limit);
  const candidates = await trigramCandidates(db, q);
  if (candidates === undefined) return countAndPage(db, [...filters, contains], offset, limit);
  if (candidates.length <= CANDIDATES) return fromCandidates(db, candidates, filters, offset, limit);
  // A common term. Without `within`, the index counts its matches faster than a walk of every
  // name (up to COUNT_CAP of them); the page is a walk in name order that stops at the page.
  if (filters.length) return countAndPage(db, [...filters, contains], offset, limit);
  const counted = Number((await sql<{ c: number }>`select count(*) as c from (select rowid from repository_names where repository_names match ${phrase(q)} limit ${COUNT_CAP})`.execute(db)).rows[0]?.c ?? 0);
  if (counted >= COUNT_CAP) return countAndPage(db, [contains], offset, limit);
  const page = await db.selectFrom('repositories as r').select('r.name').where(contains).orderBy('r.name').limit(limit).offset(offset).execute();
  return { total: counted, items: await withDescriptions(db, page.map((r) => r.name)) };
}

/** SQLite: up to CANDIDATES + 1 ids matching `q` in the FTS5 trigram index; undefined without the index. */
async function trigramCandidates(db: Kysely<Database>, q: string): Promise<number[] | undefined> {
  try {
    return (await sql<{ id: number }>`select rowid as id from repository_names where repository_names match ${phrase(q)} limit ${CANDIDATES + 1}`.execute(db)).rows.map((r) => r.id);
  } catch {
    return undefined; // no FTS5 in this SQLite build, or a store without migration 0010_search
  }
}

/** The page and total from a few candidate ids (those `filters` also pass), in name order. */
async function fromCandidates(db: Kysely<Database>, ids: number[], filters: RawBuilder<SqlBool>[], offset: number, limit: number): Promise<RepositorySearchResult> {
  if (ids.length === 0) return { total: 0, items: [] };
  let query = db.selectFrom('repositories as r').select('r.name').where('r.id', 'in', ids);
  for (const f of filters) query = query.where(f);
  const rows = await query.orderBy('r.name').execute();
  return { total: rows.length, items: await withDescriptions(db, rows.slice(offset, offset + limit).map((r) => r.name)) };
}

/**
 * The total and the page as two statements over the name index: the count walks every name that
 * passes `filters` (the whole index for a substring, a range for `within` alone); the page walks in
 * name order and stops after offset + limit matches. On PostgreSQL they run side by side.
 */
async function countAndPage(db: Kysely<Database>, filters: RawBuilder<SqlBool>[], offset: number, limit: number): Promise<RepositorySearchResult> {
  let count = db.selectFrom('repositories as r').select((eb) => eb.fn.countAll().as('c'));
  let names = db.selectFrom('repositories as r').select(['r.name']);
  for (const f of filters) {
    count = count.where(f);
    names = names.where(f);
  }
  const [counted, page] = await Promise.all([count.executeTakeFirst(), names.orderBy('r.name').limit(limit).offset(offset).execute()]);
  return { total: Number(counted?.c ?? 0), items: await withDescriptions(db, page.map((r) => r.name)) };
}

async function withDescriptions(db: Kysely<Database>, names: string[]): Promise<RepositorySearchResult['items']> {
  if (names.length === 0) return [];
  const settings = await db.selectFrom('repository_settings').select(['repository', 'description']).where('repository', 'in', names).execute();
  const description = new Map(settings.map((s) => [s.repository, s.description]));
  return names.map((name) => ({ name, description: description.get(name) ?? null }));
}

/** Upload sessions started and not yet completed, cancelled or purged. */
export async function openUploadSessions(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('upload_sessions')
    .select((eb) => eb.fn.countAll().as('c'))
    .executeTakeFirst();
  return Number(row?.c ?? 0);
}
