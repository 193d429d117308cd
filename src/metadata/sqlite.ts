// Embedded default: one SQLite file next to the blobs. WAL lets readers run beside the single writer.
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { KyselyMetadataStore } from './kysely-store.ts';
import { migrate } from './migrations.ts';
import type { Database } from './schema.ts';

const compiledPatterns = new Map<string, RegExp>();

/** SQLite's REGEXP operator calls regexp(pattern, value); patterns are few (one per quota scope), so they are kept compiled. */
function sqliteRegexp(pattern: unknown, value: unknown): number {
  if (typeof pattern !== 'string' || typeof value !== 'string') return 0;
  let re = compiledPatterns.get(pattern);
  if (!re) {
    if (compiledPatterns.size >= 1000) compiledPatterns.clear();
    re = new RegExp(pattern);
    compiledPatterns.set(pattern, re);
  }
  return re.test(value) ? 1 : 0;
}

/** Where the embedded database lives: berth.metadata.sqlite.path, else berth.sqlite in the storage root. */
export function sqlitePath(configured: string | undefined, storageRoot: string): string {
  return configured ?? join(resolve(storageRoot), 'berth.sqlite');
}

export async function openSqliteMetadata(path: string): Promise<KyselyMetadataStore> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL in WAL mode is durable against process crashes (kill -9); only an OS crash may lose the last commits.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // SQLite's own default page cache, 2 MiB. better-sqlite3 builds SQLite with 16 MiB, which fills as
  // the database grows and is never given back: 14 MiB of an idle server's RSS after 10,000
  // repositories. Pages it no longer holds come from the kernel's page cache, a read(2) away.
  sqlite.pragma('cache_size = -2000');
  // `name REGEXP pattern` for the quota scopes' usage queries (src/metadata/lifecycle/usage-queries.ts).
  sqlite.function('regexp', { deterministic: true }, sqliteRegexp);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrate(db, { dialect: 'sqlite' });
  return new KyselyMetadataStore(db, { dialect: 'sqlite' });
}
