// Migration 0007_signatures: simple (GPG "atomic") signatures stored in the registry for the
// X-Registry-Supports-Signatures API extension (src/trust/signatures/). Listed in
// ../migrations.ts; like every migration it must never change once shipped.
//
//  - simple_signatures: one row per signature, keyed by (repository, manifest, name); the bytes as
//    pushed, and their sha256 unique per manifest so the same signature is never stored twice.
//  - The foreign key to manifests cascades: a signature is deleted with its manifest, whichever
//    path deletes the manifest row (DELETE, retention, GC, repository delete), on both databases
//    (SQLite runs with foreign_keys = ON, see ../sqlite.ts).
import type { Kysely, Migration } from 'kysely';
import type { SqlDialect } from '../dialect.ts';

export function signaturesMigration(dialect: SqlDialect): Migration {
  const pg = dialect === 'postgres';
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('simple_signatures')
        .addColumn('repository_id', 'integer', (c) => c.notNull())
        .addColumn('manifest_digest', 'varchar(200)', (c) => c.notNull())
        .addColumn('name', 'varchar(300)', (c) => c.notNull())
        .addColumn('type', 'varchar(32)', (c) => c.notNull())
        .addColumn('content', pg ? 'bytea' : 'blob', (c) => c.notNull())
        .addColumn('content_digest', 'varchar(80)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'varchar(255)')
        .addPrimaryKeyConstraint('simple_signatures_pk', ['repository_id', 'manifest_digest', 'name'])
        .addUniqueConstraint('simple_signatures_content', ['repository_id', 'manifest_digest', 'content_digest'])
        .addForeignKeyConstraint('simple_signatures_manifest', ['repository_id', 'manifest_digest'], 'manifests', ['repository_id', 'digest'], (c) =>
          c.onDelete('cascade'),
        )
        .execute();
    },
  };
}
