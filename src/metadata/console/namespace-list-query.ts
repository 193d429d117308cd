// The namespace list: one statement per page at any number of repositories.
//
// A namespace is the first component of a repository name ('team-a' for team-a/app and for
// team-a/sub/x); names without a '/' belong to none. Its names are exactly the range
// ['ns/', 'ns0') of the name index ('0' follows '/' in byte order), so the namespaces are found
// by a skip scan written as a recursive CTE: from a start, the first name with a '/' (one index
// seek), its namespace, then a seek past that namespace's range, and so on, page size + 1 times.
// GROUP BY over a prefix expression would read every name instead. The namespaces come out in
// the order of 'ns/' (not of 'ns': 'team-a/' sorts before 'team/'), which is also the order the
// cursors continue from. Each count is a range count on the same index.
//
// A viewer limited to `within` (their namespaces and repositories) can only see namespaces that
// those entries name, so the candidates come from the entries themselves, and one statement asks
// of a page's worth of them whether each holds a repository under its own entries (index probes):
// a skip scan filtered by `within` would walk past every name the viewer may not see.
import { sql, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { SqlDialect } from '../dialect.ts';
import type { Database } from '../schema.ts';
import type { Cursor } from './cursor.ts';
import { withinSql } from './repository-list-query.ts';

export interface NamespaceRow {
  step: number | string;
  namespace: string;
  repository_count: number | string | null;
}

export interface NamespaceListOptions {
  within?: string[];
  cursor?: Cursor;
  /** Rows to read (the page size plus one). */
  take: number;
  counts: boolean;
}

/** The namespace of a name column: what comes before its first '/'. */
function namespaceOf(dialect: SqlDialect, column: RawBuilder<unknown>): RawBuilder<string> {
  return dialect === 'postgres' ? sql<string>`substr(${column}, 1, strpos(${column}, '/') - 1)` : sql<string>`substr(${column}, 1, instr(${column}, '/') - 1)`;
}

function hasSlash(dialect: SqlDialect, column: string): RawBuilder<SqlBool> {
  const c = sql.ref(column);
  return dialect === 'postgres' ? sql<SqlBool>`strpos(${c}, '/') > 0` : sql<SqlBool>`instr(${c}, '/') > 0`;
}

/** The rows of one page, in the page's reading order (backwards for a 'prev' cursor). */
export async function namespaceRows(db: Kysely<Database>, dialect: SqlDialect, o: NamespaceListOptions): Promise<NamespaceRow[]> {
  if (o.within) return withinRows(db, o.within, o);
  const backwards = o.cursor?.dir === 'prev';
  // The first row: forward from the start (everything, or past the cursor's namespace); backwards
  // from before the cursor's namespace (or from its end, for an inclusive cursor).
  const c = o.cursor;
  const filters = (bound: RawBuilder<SqlBool>) => sql<SqlBool>`${bound} and ${hasSlash(dialect, 'r.name')}`;
  const seek = (bound: RawBuilder<SqlBool>) =>
    sql<string>`cast((select r.name from repositories r where ${filters(bound)} order by r.name ${backwards ? sql`desc` : sql`asc`} limit 1) as text)`;
  let first: RawBuilder<SqlBool>;
  if (!c) first = sql<SqlBool>`r.name >= ''`;
  else if (c.dir === 'next') first = sql<SqlBool>`r.name >= ${`${c.name}0`}`;
  else first = sql<SqlBool>`r.name < ${c.inclusive ? `${c.name}0` : `${c.name}/`}`;
  const ns = namespaceOf(dialect, sql.ref('w.name'));
  const step = backwards ? sql<SqlBool>`r.name < (${ns} || '/')` : sql<SqlBool>`r.name >= (${ns} || '0')`;
  const outerNs = namespaceOf(dialect, sql.ref('walk.name'));
  const count = o.counts
    ? sql`(select count(*) from repositories c where c.name >= (p.namespace || '/') and c.name < (p.namespace || '0'))`
    : sql`null`;
  const query = sql<NamespaceRow>`with recursive walk(step, name) as (
  select 1, ${seek(first)}
  union all
  select w.step + 1, ${seek(step)} from walk w where w.name is not null and w.step < ${o.take}
)
select p.step, p.namespace, ${count} as repository_count
from (select walk.step, ${outerNs} as namespace from walk where walk.name is not null) p
order by p.step`;
  return (await query.execute(db)).rows;
}

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** How many candidates one statement asks about (each is one or two index probes). */
const BATCH = 100;

/** The namespaces `within` names, each with the entries below it, in the list's order (of 'ns/'). */
function candidates(within: string[]): { namespace: string; condition: RawBuilder<SqlBool> }[] {
  const groups = new Map<string, string[]>();
  for (const entry of within) {
    const i = entry.indexOf('/');
    if (i <= 0) continue; // a name outside any namespace, or '/'
    const ns = entry.slice(0, i);
    const list = groups.get(ns) ?? groups.set(ns, []).get(ns)!;
    list.push(entry);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => byteOrder(`${a}/`, `${b}/`))
    .map(([namespace, entries]) => ({ namespace, condition: withinSql('r.name', entries) as RawBuilder<SqlBool> }));
}

async function withinRows(db: Kysely<Database>, within: string[], o: NamespaceListOptions): Promise<NamespaceRow[]> {
  let list = candidates(within);
  const c = o.cursor;
  if (c?.dir === 'next') list = list.filter((x) => byteOrder(`${x.namespace}/`, `${c.name}0`) >= 0);
  else if (c) {
    const bound = c.inclusive ? `${c.name}0` : `${c.name}/`;
    list = list.filter((x) => byteOrder(`${x.namespace}/`, bound) < 0).reverse();
  }
  const out: NamespaceRow[] = [];
  for (let i = 0; i < list.length && out.length < o.take; i += BATCH) {
    const batch = list.slice(i, i + BATCH);
    const parts = batch.map(
      (x, j) =>
        sql`select cast(${i + j} as integer) as step, cast(${x.namespace} as text) as namespace, case when exists (select 1 from repositories r where ${x.condition}) then 1 else 0 end as present, ${
          o.counts ? sql`(select count(*) from repositories r where ${x.condition})` : sql`cast(null as integer)`
        } as repository_count`,
    );
    const rows = await sql<NamespaceRow & { present: number | string }>`select * from (${sql.join(parts, sql` union all `)}) x where x.present = 1 order by x.step`.execute(db);
    for (const r of rows.rows) {
      if (out.length === o.take) break;
      out.push({ step: r.step, namespace: r.namespace, repository_count: r.repository_count });
    }
  }
  return out;
}
