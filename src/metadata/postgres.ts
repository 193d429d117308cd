// PostgreSQL metadata for several berth replicas sharing one database: the same Kysely queries as
// SQLite (kysely-store.ts) over a pg Pool. Migrations run at start, once across replicas.
import { CompiledQuery, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { KyselyMetadataStore } from './kysely-store.ts';
import { migrate } from './migrations.ts';
import { redact, resolvePostgresConfig, type PostgresMetadataOptions, type ResolvedPostgresConfig } from './postgres-config.ts';
import type { Database } from './schema.ts';

export type { PostgresMetadataOptions } from './postgres-config.ts';

function kyselyOver(pool: pg.Pool, schema: string | undefined): Kysely<Database> {
  return new Kysely<Database>({
    dialect: new PostgresDialect({
      pool,
      // A session setting rather than schema-qualified queries, so the shared queries (and the
      // migrations) stay identical for SQLite. The name was validated as a plain identifier.
      onCreateConnection: schema ? async (c) => void (await c.executeQuery(CompiledQuery.raw(`set search_path to "${schema}"`))) : undefined,
    }),
  });
}

function newPool(cfg: ResolvedPostgresConfig, overrides: pg.PoolConfig, onError: (err: Error) => void): pg.Pool {
  const pool = new pg.Pool({ ...cfg.pool, ...overrides });
  // An idle pooled connection that dies (server restart) emits 'error' on the pool; unhandled,
  // that would crash the process. The next query gets a fresh connection, or fails visibly.
  pool.on('error', onError);
  return pool;
}

/** An error safe to log: no password, no URL, the SQLSTATE kept for callers that branch on it. */
function sanitized(err: unknown, cfg: ResolvedPostgresConfig): Error {
  const e = err as { message?: unknown; code?: unknown };
  const message = redact(String(e?.message ?? err), cfg.secrets);
  const out = new Error(`PostgreSQL metadata at ${cfg.target}: ${message}`);
  if (typeof e?.code === 'string') Object.assign(out, { code: e.code });
  return out;
}

export async function openPostgresMetadata(options: PostgresMetadataOptions): Promise<KyselyMetadataStore> {
  const cfg = resolvePostgresConfig(options);
  const onError = options.onPoolError ?? (() => undefined);

  // Migrations get their own short-lived pool without the statement timeout: an index build may
  // outlast a request's budget, and replicas starting meanwhile wait on the migration lock.
  const migrationPool = newPool(cfg, { max: 2, statement_timeout: 0 }, onError);
  const migrationDb = kyselyOver(migrationPool, cfg.schema);
  try {
    await migrate(migrationDb, { dialect: 'postgres', schema: cfg.schema });
  } catch (err) {
    throw sanitized(err, cfg);
  } finally {
    await migrationDb.destroy().catch(() => undefined);
  }

  const pool = newPool(cfg, {}, onError);
  const db = kyselyOver(pool, cfg.schema);
  const store = new KyselyMetadataStore(db, { dialect: 'postgres' });
  try {
    await store.check();
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw sanitized(err, cfg);
  }
  return store;
}
