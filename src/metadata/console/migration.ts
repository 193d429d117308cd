// Migration 0005_console: what the web console (src/console/) keeps and the columns its pages sort
// and show by. Listed in ../migrations.ts; like every migration it must never change once shipped.
//
//  - repositories.pushed_at: the last manifest PUT into the repository, written by putManifest in
//    the same transaction, so "sort by last push" is an index scan instead of a max() over every
//    repository's manifests. Backfilled here from manifests.pushed_at; null = nothing pushed.
//    The index is on coalesce(pushed_at, 0) descending, then name: the order of the console's
//    list (newest first, never-pushed last, ties by name) on both databases, which put NULLs at
//    opposite ends. The queries (repository-list-query.ts) use exactly that expression.
//  - tags_pushed: a repository's tags newest first, the tag list's default order.
//  - manifest_references.platform: an index child's platform (JSON), so a tag page shows its
//    platforms without reading the index's bytes; position: where the reference stands in its
//    manifest (layers in order). Both null for rows from before this migration.
//  - console_sessions: the cookie's SHA-256 only, with the principal as JSON; indexed by expiry
//    (the purge) and user (logging a user out everywhere).
//  - repository_settings: description and visibility by repository *name*, so a setting can be
//    made before the first push and the list joins it without an id.
//  - console_secrets: the CSRF key and the like, created once and shared by replicas.
import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../dialect.ts';

export function consoleMigration(dialect: SqlDialect): Migration {
  const pg = dialect === 'postgres';
  const byteOrder = (c: ColumnDefinitionBuilder) => (pg ? c.modifyEnd(sql`collate "C"`) : c);
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('repositories').addColumn('pushed_at', 'bigint').execute();
      await sql`update repositories set pushed_at = (select max(m.pushed_at) from manifests m where m.repository_id = repositories.id)`.execute(db);
      // Newest first, never pushed (null) last, ties by name: one index walk for the list's pages.
      // Covering (id, pushed_at), so that a search by substring, which tests every name it walks
      // past, reads the index alone: SQLite has the rowid (= id) in every index and takes
      // pushed_at as a trailing column; PostgreSQL needs INCLUDE, and cannot answer from an
      // expression index unless the column itself is in it.
      if (pg) await sql`create index repositories_pushed on repositories ((coalesce(pushed_at, 0)) desc, name) include (id, pushed_at)`.execute(db);
      else await sql`create index repositories_pushed on repositories ((coalesce(pushed_at, 0)) desc, name, pushed_at)`.execute(db);
      // A repository's tags by last push (the console's default order) without sorting them all.
      await sql`create index tags_pushed on tags (repository_id, updated_at desc, name)`.execute(db);

      await db.schema.alterTable('manifest_references').addColumn('platform', 'text').execute();
      await db.schema.alterTable('manifest_references').addColumn('position', 'integer').execute();

      await db.schema
        .createTable('console_sessions')
        .addColumn('id_hash', 'varchar(128)', (c) => c.primaryKey())
        .addColumn('user_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('principal', 'text', (c) => c.notNull())
        .addColumn('csrf', 'varchar(255)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('console_sessions_expires').on('console_sessions').column('expires_at').execute();
      await db.schema.createIndex('console_sessions_user').on('console_sessions').column('user_name').execute();

      await db.schema
        .createTable('repository_settings')
        .addColumn('repository', 'varchar(255)', (c) => byteOrder(c.primaryKey()))
        .addColumn('description', 'text')
        .addColumn('visibility', 'varchar(16)', (c) => c.check(sql`visibility in ('public', 'private')`))
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_by', 'varchar(255)')
        .execute();

      await db.schema
        .createTable('console_secrets')
        .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
