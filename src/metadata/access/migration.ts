// Migration 0003_access_control: users, teams and memberships, namespace visibility, role grants,
// personal access tokens, robot accounts and the audit log. Listed in ../migrations.ts; like every
// migration it must never change once shipped (append a new one instead).
//
// Choices that matter for both databases:
//  - Flags are integers (0/1): SQLite has no boolean type, and one representation keeps the shared
//    queries identical.
//  - Names that are paged or range-filtered (users, teams, namespaces, grant scopes, robots, the
//    audit log's repository) get COLLATE "C" on PostgreSQL, as in 0001: `scope >= 'ns/'` and
//    `name > last` must mean byte order on both databases.
//  - Grants point at their subject by (kind, id) rather than by three nullable foreign keys, so
//    one unique index forbids duplicate grants. The store deletes a subject's grants in the same
//    transaction as the subject, so a re-created "alice" never inherits the old alice's roles;
//    and subject ids are AUTOINCREMENT / serial, never reused, so even a grant written by a
//    concurrent transaction after that delete can only point at an id nobody will hold again.
//  - Audit ids are AUTOINCREMENT / bigserial: never reused after pruning, so a cursor stays valid.
import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../dialect.ts';

export function accessControlMigration(dialect: SqlDialect): Migration {
  const pg = dialect === 'postgres';
  const byteOrder = (c: ColumnDefinitionBuilder) => (pg ? c.modifyEnd(sql`collate "C"`) : c);
  const serial = (c: ColumnDefinitionBuilder) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement());
  const idType = pg ? 'serial' : 'integer';
  const flag = (c: ColumnDefinitionBuilder) => c.notNull().defaultTo(0);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('users')
        .addColumn('id', idType, serial)
        .addColumn('name', 'varchar(255)', (c) => byteOrder(c.notNull().unique()))
        .addColumn('display_name', 'varchar(255)')
        .addColumn('email', 'varchar(320)')
        .addColumn('source', 'varchar(16)', (c) => c.notNull().check(sql`source in ('local', 'ldap', 'htpasswd')`))
        .addColumn('admin', 'integer', flag)
        .addColumn('disabled', 'integer', flag)
        .addColumn('password_hash', 'varchar(100)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('last_login_at', 'bigint')
        .execute();

      await db.schema
        .createTable('teams')
        .addColumn('id', idType, serial)
        .addColumn('name', 'varchar(255)', (c) => byteOrder(c.notNull().unique()))
        .addColumn('description', 'varchar(1000)')
        .addColumn('ldap_group', 'varchar(1000)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('team_members')
        .addColumn('team_id', 'integer', (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('ldap_sync', 'integer', flag)
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('team_members_pk', ['team_id', 'user_id'])
        .execute();
      // "Which teams is this user in": every access decision for a user starts here.
      await db.schema.createIndex('team_members_user').on('team_members').column('user_id').execute();

      await db.schema
        .createTable('namespaces')
        .addColumn('name', 'varchar(255)', (c) => byteOrder(c.primaryKey()))
        .addColumn('public', 'integer', flag)
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_by', 'varchar(255)')
        .execute();

      await db.schema
        .createTable('permissions')
        .addColumn('id', idType, serial)
        .addColumn('subject_kind', 'varchar(8)', (c) => c.notNull().check(sql`subject_kind in ('user', 'team', 'robot')`))
        .addColumn('subject_id', 'integer', (c) => c.notNull())
        .addColumn('scope_kind', 'varchar(16)', (c) => c.notNull().check(sql`scope_kind in ('namespace', 'repository')`))
        .addColumn('scope', 'varchar(255)', (c) => byteOrder(c.notNull()))
        .addColumn('role', 'varchar(8)', (c) => c.notNull().check(sql`role in ('read', 'write', 'delete', 'admin')`))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'varchar(255)')
        .addUniqueConstraint('permissions_subject_scope', ['subject_kind', 'subject_id', 'scope_kind', 'scope'])
        .execute();
      // Listing the grants of a namespace and everything below it is a range scan on scope.
      await db.schema.createIndex('permissions_scope').on('permissions').columns(['scope', 'scope_kind']).execute();

      await db.schema
        .createTable('personal_access_tokens')
        .addColumn('id', idType, serial)
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'varchar(100)', (c) => c.notNull())
        .addColumn('token_hash', 'char(64)', (c) => c.notNull().unique())
        .addColumn('hint', 'varchar(32)', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('personal_access_tokens_user').on('personal_access_tokens').column('user_id').execute();

      await db.schema
        .createTable('robots')
        .addColumn('id', idType, serial)
        .addColumn('name', 'varchar(255)', (c) => byteOrder(c.notNull().unique()))
        .addColumn('namespace', 'varchar(255)', (c) => byteOrder(c.notNull()))
        .addColumn('description', 'varchar(1000)')
        .addColumn('secret_hash', 'char(64)', (c) => c.notNull())
        .addColumn('hint', 'varchar(32)', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .addColumn('disabled', 'integer', flag)
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'varchar(255)')
        .addColumn('rotated_at', 'bigint')
        .execute();
      await db.schema.createIndex('robots_namespace').on('robots').columns(['namespace', 'name']).execute();

      await db.schema
        .createTable('audit_events')
        .addColumn('id', pg ? 'bigserial' : 'integer', serial)
        .addColumn('time', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'varchar(255)', (c) => c.notNull())
        .addColumn('actor_kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('client_address', 'varchar(64)')
        .addColumn('action', 'varchar(32)', (c) => c.notNull())
        .addColumn('repository', 'varchar(255)', byteOrder)
        .addColumn('reference', 'varchar(255)')
        .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
        .addColumn('details', 'text')
        .execute();
      // Pages are newest first by (time, id); each filter gets an index that leads with it and
      // then has that order, so "alice's events last week, page 3" is one index range scan.
      await db.schema.createIndex('audit_events_time').on('audit_events').columns(['time', 'id']).execute();
      await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['actor', 'time', 'id']).execute();
      await db.schema.createIndex('audit_events_repository').on('audit_events').columns(['repository', 'time', 'id']).execute();
      await db.schema.createIndex('audit_events_action').on('audit_events').columns(['action', 'time', 'id']).execute();
    },
  };
}
