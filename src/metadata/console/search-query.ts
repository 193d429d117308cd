// Repository search by page number (Docker's /v1/search: `page` and `n`, plus the total), over the
// same name filters as the console's list (repository-list-query.ts): a case-insensitive
// substring of the name, limited to the caller's namespaces and names.
//
// Two statements that read the name index alone: the count, and the page (ORDER BY name with
// LIMIT/OFFSET, which stops after offset + limit matches); descriptions are joined for the page's
// rows only. A substring cannot use the index as a range, so both walk every name once the
// search is rare: at 100,000 repositories a few milliseconds each (bench/search.ts).
//
// Also here: the number of open upload sessions, for the berth_uploads_in_progress gauge.
import { sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import type { SqlDialect } from '../dialect.ts';
import type { Database } from '../schema.ts';
import { containsSql, withinSql } from './repository-list-query.ts';

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

export async function searchRepositories(db: Kysely<Database>, dialect: SqlDialect, req: RepositorySearchRequest): Promise<RepositorySearchResult> {
  const filters: Expression<SqlBool>[] = [];
  if (req.q) filters.push(containsSql(dialect, 'r.name', req.q));
  if (req.within) {
    const w = withinSql('r.name', req.within);
    if (w === 'nothing') return { total: 0, items: [] };
    filters.push(w);
  }
  let count = db.selectFrom('repositories as r').select((eb) => eb.fn.countAll().as('c'));
  let names = db.selectFrom('repositories as r').select(['r.name']);
  for (const f of filters) {
    count = count.where(f);
    names = names.where(f);
  }
  const limit = Math.max(1, Math.min(100, Math.floor(req.limit)));
  const offset = Math.max(0, Math.floor(req.offset));
  const page = db
    .selectFrom(names.orderBy('r.name').limit(limit).offset(offset).as('p'))
    .leftJoin('repository_settings as s', 's.repository', 'p.name')
    .select(['p.name', 's.description'])
    .orderBy(sql`p.name`);
  const [counted, rows] = await Promise.all([count.executeTakeFirst(), page.execute()]);
  return { total: Number(counted?.c ?? 0), items: rows.map((r) => ({ name: r.name, description: r.description })) };
}

/** Upload sessions started and not yet completed, cancelled or purged. */
export async function openUploadSessions(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('upload_sessions')
    .select((eb) => eb.fn.countAll().as('c'))
    .executeTakeFirst();
  return Number(row?.c ?? 0);
}
