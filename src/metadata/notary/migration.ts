// Migration 0006_notary: the Notary server's trust data (src/trust/notary/). Listed in
// ../migrations.ts; like every migration it must never change once shipped.
//
//  - notary_metadata: every version of every TUF role of a GUN, the bytes exactly as uploaded or
//    generated (signatures and the hashes in snapshot and timestamp are over these bytes). The
//    primary key (gun, role, version) is also what makes an update atomic against a concurrent
//    one: both write the next timestamp version, and the second insert fails. Looked up by
//    checksum through (gun, role, sha256).
//  - notary_keys: the server's timestamp and snapshot keys, one row per key, the private half
//    encrypted (AES-256-GCM, see src/trust/notary/server-keys.ts). `pending` = created, not yet
//    listed by an accepted root.
import type { Kysely, Migration } from 'kysely';
import type { SqlDialect } from '../dialect.ts';

export function notaryMigration(dialect: SqlDialect): Migration {
  const pg = dialect === 'postgres';
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('notary_metadata')
        .addColumn('gun', 'varchar(512)', (c) => c.notNull())
        .addColumn('role', 'varchar(255)', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
        .addColumn('data', pg ? 'bytea' : 'blob', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('notary_metadata_pk', ['gun', 'role', 'version'])
        .execute();
      await db.schema.createIndex('notary_metadata_checksum').on('notary_metadata').columns(['gun', 'role', 'sha256']).execute();
      await db.schema
        .createTable('notary_keys')
        .addColumn('gun', 'varchar(512)', (c) => c.notNull())
        .addColumn('role', 'varchar(32)', (c) => c.notNull())
        .addColumn('key_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('algorithm', 'varchar(32)', (c) => c.notNull())
        .addColumn('public', 'text', (c) => c.notNull())
        .addColumn('private_encrypted', 'text', (c) => c.notNull())
        .addColumn('pending', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('notary_keys_pk', ['gun', 'key_id'])
        .execute();
      await db.schema.createIndex('notary_keys_role').on('notary_keys').columns(['gun', 'role']).execute();
    },
  };
}
