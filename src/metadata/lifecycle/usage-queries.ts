// Storage usage as quotas count it (src/lifecycle/quotas.ts): the bytes of the distinct live blobs
// linked to a set of repositories. A blob linked to several repositories of one scope counts once;
// manifests count too (their bytes are blobs linked like layers); blobs still 'pending' (being
// written) or claimed by the collector do not.
//
// A scope is a regular expression over repository names (src/lifecycle/globs.ts compiles the
// globs), matched by the database: PostgreSQL's `~`, and on SQLite the `regexp` function that
// src/metadata/sqlite.ts registers (SQLite has the REGEXP operator but no function behind it).
// The patterns use only what both engines read alike: anchors, `(?:...)`, `?`, `.*`, `[^/]`.
import { sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import type { SqlDialect } from '../dialect.ts';
import type { Database } from '../schema.ts';

export interface Usage {
  /** Distinct live blobs (layers, configs, manifests). */
  blobs: number;
  bytes: number;
}

export interface ScopeUsage extends Usage {
  /** Whether the blob asked about is already among them (then it costs the scope nothing). */
  counted: boolean;
}

export interface RepositoryUsage extends Usage {
  repository: string;
}

export interface NamespaceUsage extends Usage {
  /** The first path segment of the repository names. */
  namespace: string;
}

export interface UsageQueries {
  /** Usage of the repositories whose names match `pattern`; with `digest`, whether that blob counts there already. */
  scopeUsage(pattern: string, digest?: string): Promise<ScopeUsage>;
  /** Whether the live blob `digest` is linked to a repository matching `pattern` (cheap: by digest). */
  counted(pattern: string, digest: string): Promise<boolean>;
  /** Of these digests, the ones `counted` holds for. */
  countedAmong(pattern: string, digests: string[]): Promise<Set<string>>;
  /** Usage per repository (of those matching `pattern`, or all), by name. */
  repositoryUsage(pattern?: string): Promise<RepositoryUsage[]>;
  /** Usage per top-level namespace (`team-a` for `team-a/x/y`; a one-segment name is its own), by name. */
  namespaceUsage(): Promise<NamespaceUsage[]>;
}

export class KyselyUsageQueries implements UsageQueries {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialect,
  ) {}

  private nameMatches(pattern: string): Expression<SqlBool> {
    return this.dialect === 'postgres' ? sql<SqlBool>`r.name ~ ${pattern}` : sql<SqlBool>`r.name regexp ${pattern}`;
  }

  async scopeUsage(pattern: string, digest?: string): Promise<ScopeUsage> {
    // The pattern is tested once per repository, not once per link (half the time on SQLite).
    const repositories = this.db.selectFrom('repositories as r').select('r.id').where(this.nameMatches(pattern));
    const linked = this.db.selectFrom('repository_blobs as rb').select('rb.digest').where('rb.repository_id', 'in', repositories);
    const row = await this.db
      .selectFrom('blobs as b')
      .select((eb) => [eb.fn.countAll().as('blobs'), eb.fn.coalesce(eb.fn.sum('b.size'), sql.lit(0)).as('bytes')])
      .where('b.state', '=', 'live')
      .where('b.digest', 'in', linked)
      .executeTakeFirstOrThrow();
    const counted = digest !== undefined && (await this.counted(pattern, digest));
    return { blobs: Number(row.blobs), bytes: Number(row.bytes), counted };
  }

  async counted(pattern: string, digest: string): Promise<boolean> {
    // By digest first (repository_blobs_digest): a handful of links, whatever the scope's size.
    const hit = await this.db
      .selectFrom('repository_blobs as rb')
      .innerJoin('repositories as r', 'r.id', 'rb.repository_id')
      .innerJoin('blobs as b', 'b.digest', 'rb.digest')
      .select('rb.digest')
      .where('rb.digest', '=', digest)
      .where('b.state', '=', 'live')
      .where(this.nameMatches(pattern))
      .limit(1)
      .executeTakeFirst();
    return hit !== undefined;
  }

  async countedAmong(pattern: string, digests: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const wanted = [...new Set(digests)];
    for (let i = 0; i < wanted.length; i += 500) {
      const rows = await this.db
        .selectFrom('repository_blobs as rb')
        .innerJoin('repositories as r', 'r.id', 'rb.repository_id')
        .innerJoin('blobs as b', 'b.digest', 'rb.digest')
        .select('rb.digest')
        .distinct()
        .where('rb.digest', 'in', wanted.slice(i, i + 500))
        .where('b.state', '=', 'live')
        .where(this.nameMatches(pattern))
        .execute();
      for (const r of rows) found.add(r.digest);
    }
    return found;
  }

  async repositoryUsage(pattern?: string): Promise<RepositoryUsage[]> {
    const rows = await this.db
      .selectFrom('repository_blobs as rb')
      .innerJoin('repositories as r', 'r.id', 'rb.repository_id')
      .innerJoin('blobs as b', 'b.digest', 'rb.digest')
      .select((eb) => ['r.name', eb.fn.countAll().as('blobs'), eb.fn.sum('b.size').as('bytes')])
      .where('b.state', '=', 'live')
      .$if(pattern !== undefined, (q) => q.where(this.nameMatches(pattern!)))
      .groupBy('r.name')
      .orderBy('r.name')
      .execute();
    return rows.map((r) => ({ repository: r.name, blobs: Number(r.blobs), bytes: Number(r.bytes) }));
  }

  async namespaceUsage(): Promise<NamespaceUsage[]> {
    const namespace =
      this.dialect === 'postgres'
        ? sql<string>`split_part(r.name, '/', 1)`
        : sql<string>`case when instr(r.name, '/') > 0 then substr(r.name, 1, instr(r.name, '/') - 1) else r.name end`;
    const distinct = this.db
      .selectFrom('repository_blobs as rb')
      .innerJoin('repositories as r', 'r.id', 'rb.repository_id')
      .innerJoin('blobs as b', 'b.digest', 'rb.digest')
      .select([namespace.as('namespace'), 'b.digest', 'b.size'])
      .where('b.state', '=', 'live')
      .distinct();
    const rows = await this.db
      .selectFrom(distinct.as('d'))
      .select((eb) => ['d.namespace', eb.fn.countAll().as('blobs'), eb.fn.sum('d.size').as('bytes')])
      .groupBy('d.namespace')
      .orderBy('d.namespace')
      .execute();
    // Byte order whatever the database's collation (the names come from an expression).
    return rows.map((r) => ({ namespace: r.namespace, blobs: Number(r.blobs), bytes: Number(r.bytes) })).sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0));
  }
}
