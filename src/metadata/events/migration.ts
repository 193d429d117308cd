// Migration 0009_events: the notification outbox (src/events/). Listed in ../migrations.ts; like
// every migration it must never change once shipped.
//
//  - notification_events: the outbox. seq orders events by commit (an appender on PostgreSQL
//    locks the table for its short transaction, so a seq is never seen before a smaller one);
//    rows are removed once every active endpoint's cursor has passed them.
//  - notification_endpoints: one row per endpoint name: its cursor, the lease of the replica
//    delivering to it, and its failure state (so the backoff survives a restart or a hand-over).
//  - notification_dead_letters: events an endpoint did not take within berth.notifications.maxage.
import type { Kysely, Migration } from 'kysely';
import type { SqlDialect } from '../dialect.ts';

export function eventsMigration(dialect: SqlDialect): Migration {
  const pg = dialect === 'postgres';
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('notification_events')
        .addColumn('seq', pg ? 'bigserial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('event_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('endpoint', 'varchar(255)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('notification_endpoints')
        .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('cursor', 'bigint', (c) => c.notNull())
        .addColumn('holder', 'varchar(255)')
        .addColumn('lease_until', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('last_success_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('notification_dead_letters')
        .addColumn('id', pg ? 'bigserial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('endpoint', 'varchar(255)', (c) => c.notNull())
        .addColumn('event_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('failed_at', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .execute();
      await db.schema.createIndex('notification_dead_letters_endpoint').on('notification_dead_letters').columns(['endpoint', 'id']).execute();
    },
  };
}
