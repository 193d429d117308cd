// Embedded default: one SQLite file next to the blobs. WAL lets readers run beside the single writer.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { KyselyMetadataStore } from './kysely-store.ts';
import { migrate } from './migrations.ts';
import type { Database } from './schema.ts';

export async function openSqliteMetadata(path: string): Promise<KyselyMetadataStore> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL in WAL mode is durable against process crashes (kill -9); only an OS crash may lose the last commits.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrate(db, { dialect: 'sqlite' });
  return new KyselyMetadataStore(db, { dialect: 'sqlite' });
}
