// Versioned schema migrations, written with Kysely's schema builder so they run on SQLite and
// PostgreSQL alike. Append new migrations; never edit one that has shipped. (0001 gained its
// PostgreSQL branches before berth ever ran on PostgreSQL; the SQL it runs on SQLite is unchanged.)
import { Migrator, sql, type ColumnDefinitionBuilder, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { SqlDialect } from './dialect.ts';
import { accessControlMigration } from './access/migration.ts';
import { consoleMigration } from './console/migration.ts';
import { notaryMigration } from './notary/migration.ts';
import { signaturesMigration } from './signatures/migration.ts';
import { eventsMigration } from './events/migration.ts';
import { searchMigration } from './console/search-migration.ts';

function buildMigrations(dialect: SqlDialect): Record<string, Migration> {
  const pg = dialect === 'postgres';
  // Names are listed in byte order, as SQLite's default BINARY collation sorts them. PostgreSQL
  // sorts by the database's locale (en_US puts 'a' before 'B' and skips punctuation), so the
  // columns that are paged by name get the "C" collation: their index then has the order the
  // pages need, and `name > last` means the same on both databases.
  const byteOrder = (c: ColumnDefinitionBuilder) => (pg ? c.modifyEnd(sql`collate "C"`) : c);
  return {
    '0001_registry_core': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('repositories')
          // PostgreSQL has no AUTOINCREMENT keyword; serial is its integer with a sequence.
          .addColumn('id', pg ? 'serial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('name', 'varchar(255)', (c) => byteOrder(c.notNull().unique()))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('blobs')
          .addColumn('digest', 'varchar(200)', (c) => c.primaryKey())
          .addColumn('size', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('repository_blobs')
          .addColumn('repository_id', 'integer', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
          .addColumn('digest', 'varchar(200)', (c) => c.notNull().references('blobs.digest'))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('repository_blobs_pk', ['repository_id', 'digest'])
          .execute();
        await db.schema.createIndex('repository_blobs_digest').on('repository_blobs').column('digest').execute();
        await db.schema
          .createTable('manifests')
          .addColumn('repository_id', 'integer', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
          .addColumn('digest', 'varchar(200)', (c) => c.notNull())
          .addColumn('media_type', 'varchar(255)', (c) => c.notNull())
          .addColumn('size', 'bigint', (c) => c.notNull())
          .addColumn('artifact_type', 'varchar(255)')
          .addColumn('subject_digest', 'varchar(200)')
          .addColumn('config_digest', 'varchar(200)')
          .addColumn('annotations', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('manifests_pk', ['repository_id', 'digest'])
          .execute();
        await db.schema.createIndex('manifests_subject').on('manifests').columns(['repository_id', 'subject_digest']).execute();
        await db.schema
          .createTable('manifest_references')
          .addColumn('repository_id', 'integer', (c) => c.notNull())
          .addColumn('parent_digest', 'varchar(200)', (c) => c.notNull())
          .addColumn('child_digest', 'varchar(200)', (c) => c.notNull())
          .addColumn('kind', 'varchar(16)', (c) => c.notNull())
          .addPrimaryKeyConstraint('manifest_references_pk', ['repository_id', 'parent_digest', 'child_digest'])
          .addForeignKeyConstraint('manifest_references_parent', ['repository_id', 'parent_digest'], 'manifests', ['repository_id', 'digest'], (c) =>
            c.onDelete('cascade'),
          )
          .execute();
        await db.schema.createIndex('manifest_references_child').on('manifest_references').columns(['repository_id', 'child_digest']).execute();
        await db.schema
          .createTable('tags')
          .addColumn('repository_id', 'integer', (c) => c.notNull())
          .addColumn('name', 'varchar(128)', (c) => byteOrder(c.notNull()))
          .addColumn('digest', 'varchar(200)', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('tags_pk', ['repository_id', 'name'])
          .addForeignKeyConstraint('tags_manifest', ['repository_id', 'digest'], 'manifests', ['repository_id', 'digest'], (c) => c.onDelete('cascade'))
          .execute();
        await db.schema.createIndex('tags_digest').on('tags').columns(['repository_id', 'digest']).execute();
        await db.schema
          .createTable('upload_sessions')
          .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('repository', 'varchar(255)', (c) => c.notNull())
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0002_catalog_covering_index': {
      // _catalog pages walk repositories by name and need each id for the "has a manifest" probe.
      // SQLite's index on name already carries the rowid (= id); PostgreSQL's does not, so every
      // row costs a heap visit: with id in the index a 1000-repository page at 100,000
      // repositories takes ~3 ms instead of ~9 ms (bench/metadata-scale.ts). A plain CREATE
      // INDEX (the migration runs in a transaction, so not CONCURRENTLY) briefly blocks new
      // repositories; it takes well under a second at that size.
      async up(db: Kysely<any>) {
        if (pg) await sql`create index repositories_name_covering on repositories (name) include (id)`.execute(db);
      },
    },
    // Users, teams, grants, tokens, robots and the audit log (src/metadata/access/migration.ts).
    '0003_access_control': accessControlMigration(dialect),
    '0004_lifecycle': {
      // Online GC, retention, immutability and quotas (src/lifecycle/). Existing blobs are live and
      // count as touched when they were created; existing manifests as pushed when created.
      async up(db: Kysely<any>) {
        await db.schema.alterTable('blobs').addColumn('state', 'varchar(16)', (c) => c.notNull().defaultTo('live')).execute();
        await db.schema.alterTable('blobs').addColumn('touched_at', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
        await db.schema.alterTable('blobs').addColumn('deleting_at', 'bigint').execute();
        await sql`update blobs set touched_at = created_at`.execute(db);
        await db.schema.createIndex('blobs_state_touched').on('blobs').columns(['state', 'touched_at']).execute();
        await db.schema.alterTable('manifests').addColumn('pushed_at', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
        await db.schema.alterTable('manifests').addColumn('pulled_at', 'bigint').execute();
        await sql`update manifests set pushed_at = created_at`.execute(db);
        await db.schema.alterTable('tags').addColumn('pulled_at', 'bigint').execute();
        // "Is this digest referenced anywhere?" is the collector's question: it needs the digest
        // alone, without the repository in front.
        await db.schema.createIndex('manifests_digest').on('manifests').column('digest').execute();
        await db.schema.createIndex('manifest_references_child_only').on('manifest_references').columns(['child_digest', 'kind']).execute();
        await db.schema
          .createTable('leases')
          .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('holder', 'varchar(128)', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('gc_runs')
          .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('finished_at', 'bigint')
          .addColumn('status', 'varchar(16)', (c) => c.notNull())
          .addColumn('trigger', 'varchar(16)', (c) => c.notNull())
          .addColumn('dry_run', 'integer', (c) => c.notNull())
          .addColumn('delete_untagged', 'integer', (c) => c.notNull())
          .addColumn('manifests_removed', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('blobs_removed', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('bytes_removed', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('details', 'text')
          .execute();
        await db.schema.createIndex('gc_runs_started').on('gc_runs').column('started_at').execute();
        await db.schema
          .createTable('lifecycle_rules')
          .addColumn('id', pg ? 'serial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('kind', 'varchar(16)', (c) => c.notNull())
          .addColumn('namespace', 'varchar(255)', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_by', 'varchar(255)')
          .addUniqueConstraint('lifecycle_rules_kind_namespace', ['kind', 'namespace'])
          .execute();
      },
    },
    // The web console: sessions, repository settings, secrets; repositories.pushed_at and the
    // platforms of index children (src/metadata/console/migration.ts).
    '0005_console': consoleMigration(dialect),
    // The Notary server's trust data and signing keys (src/metadata/notary/migration.ts).
    '0006_notary': notaryMigration(dialect),
    // Simple (GPG) signatures of the X-Registry-Supports-Signatures extension, deleted with their
    // manifest (src/metadata/signatures/migration.ts).
    '0007_signatures': signaturesMigration(dialect),
    // The notification outbox, endpoint cursors and leases, dead letters (src/metadata/events/migration.ts).
    '0009_events': eventsMigration(dialect),
    // A trigram index over repository names for GET /v1/search (src/metadata/console/search-migration.ts).
    '0010_search': searchMigration(dialect),
  };
}

export interface MigrateOptions {
  dialect: SqlDialect;
  /** PostgreSQL schema holding berth's tables (and its migration bookkeeping); default search_path. */
  schema?: string;
  /** Stop after this migration instead of the latest (tests of a later migration over older data). */
  to?: string;
}

/**
 * Brings the schema to the latest version. On PostgreSQL Kysely's Migrator holds a session
 * advisory lock (pg_advisory_lock) around a transaction that reads the applied versions and runs
 * the pending ones, so replicas starting together apply each migration exactly once: the others
 * wait, then find nothing pending. (SQLite is one node; Kysely takes no lock there.)
 */
export async function migrate(db: Kysely<any>, options: MigrateOptions = { dialect: 'sqlite' }): Promise<void> {
  const migrations = buildMigrations(options.dialect);
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'berth_migrations',
    migrationLockTableName: 'berth_migrations_lock',
    // The names are ASCII ('0001_registry_core'...): byte order is their order. Kysely's default,
    // localeCompare, loads ICU's collation data, about 6 MiB of the server's RSS for its whole life.
    nameComparator: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
    // With a schema, Kysely looks for its bookkeeping tables in that schema only (not in any
    // schema that happens to hold a table of the same name).
    ...(options.schema ? { migrationTableSchema: options.schema } : {}),
  });
  const { error, results } = options.to === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(options.to);
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    const what = failed ? `metadata migration ${failed.migrationName}` : 'metadata migrations';
    // The driver's SQLSTATE (e.g. 28P01, bad password) stays available to callers.
    const code = (error as { code?: unknown }).code;
    throw Object.assign(new Error(`${what} failed: ${(error as Error).message ?? error}`), typeof code === 'string' ? { code } : {});
  }
}
