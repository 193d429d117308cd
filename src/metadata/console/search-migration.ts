// Migration 0010_search: a trigram index over repository names, so that a substring search
// (GET /v1/search, search-query.ts) finds a rare term without testing every name. Listed in
// ../migrations.ts; like every migration it must never change once shipped.
//
//  - SQLite: an FTS5 table with the trigram tokenizer (case-insensitive) over repositories.name,
//    external content (it stores only the index), kept in step by triggers on repositories and
//    built here for the rows already there (about 0.3 s per 100,000 names).
//  - PostgreSQL: pg_trgm's GIN index on lower(name), which LIKE '%term%' uses. The extension is
//    trusted (PG 13+: the database owner may create it) and ships with the server's contrib
//    package; where it cannot be created, the migration leaves no index and searches scan.
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../dialect.ts';

export function searchMigration(dialect: SqlDialect): Migration {
  return {
    async up(db: Kysely<any>) {
      if (dialect === 'postgres') {
        // Inside the migration's transaction: a refused CREATE EXTENSION must not abort it.
        await sql`savepoint berth_trgm`.execute(db);
        try {
          await sql`create extension if not exists pg_trgm`.execute(db);
          await sql`create index repositories_name_trgm on repositories using gin (lower(name) gin_trgm_ops)`.execute(db);
          await sql`release savepoint berth_trgm`.execute(db);
        } catch {
          await sql`rollback to savepoint berth_trgm`.execute(db);
        }
        return;
      }
      await sql`create virtual table repository_names using fts5(name, tokenize = 'trigram', content = 'repositories', content_rowid = 'id')`.execute(db);
      await sql`create trigger repository_names_insert after insert on repositories begin
        insert into repository_names (rowid, name) values (new.id, new.name);
      end`.execute(db);
      await sql`create trigger repository_names_delete after delete on repositories begin
        insert into repository_names (repository_names, rowid, name) values ('delete', old.id, old.name);
      end`.execute(db);
      await sql`create trigger repository_names_update after update of name on repositories begin
        insert into repository_names (repository_names, rowid, name) values ('delete', old.id, old.name);
        insert into repository_names (rowid, name) values (new.id, new.name);
      end`.execute(db);
      await sql`insert into repository_names (repository_names) values ('rebuild')`.execute(db);
    },
  };
}
