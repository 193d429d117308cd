// What the benches at fleet size (metadata-scale, console-scale, search) share: a metadata store of
// each backend filled with bulk SQL (a throwaway PostgreSQL unless a URL is given, a temporary
// SQLite file), p50/p99 of a store call, their Markdown table, and their environment variables
// when one runs on its own.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { openPostgresMetadata } from '../src/metadata/postgres.ts';
import { openSqliteMetadata } from '../src/metadata/sqlite.ts';
import type { MetadataStore } from '../src/metadata/store.ts';

export type ScaleBackend = 'postgres' | 'sqlite';

/** Runs `load` in one transaction, then leaves statistics as autovacuum would (not the bulk load's window). */
export async function bulkLoadPostgres(url: string, load: (c: pg.Client) => Promise<void>): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('begin');
    await load(c);
    await c.query('commit');
    // A bulk load leaves the planner without statistics and the visibility map unset until
    // autovacuum's next round; measure the steady state instead of that window.
    await c.query('vacuum analyze');
  } finally {
    await c.end();
  }
}

/** Runs `load` in one transaction, then gathers the planner's statistics. */
export function bulkLoadSqlite(path: string, load: (db: BetterSqlite3.Database) => void): void {
  const db = new BetterSqlite3(path);
  try {
    db.transaction(() => load(db))();
    db.exec('analyze');
  } finally {
    db.close();
  }
}

export interface FilledStoreOptions {
  /** An existing, empty PostgreSQL database to fill; default: a throwaway server. */
  postgresUrl?: string;
  /** The database created on the throwaway server. */
  database: string;
  /** Prefix of the SQLite store's temporary directory. */
  tmpPrefix: string;
  /** Called once the store is migrated, just before the fill. */
  beforeFill?: () => void;
  fill: { postgres: (url: string) => Promise<void>; sqlite: (path: string) => void };
}

export interface FilledStore {
  store: MetadataStore;
  /** Closes the store before the cleanups would (idempotent). */
  close: () => Promise<void>;
  /** The SQLite store's directory: a storage root whose default database it is. */
  sqliteDir?: string;
}

/**
 * Opens a migrated store of `backend` and fills it. What must be undone (the store, the server, the
 * directory) is added to `cleanups`, to be run in order by the caller even when this throws.
 */
export async function openFilledStore(backend: ScaleBackend, opts: FilledStoreOptions, cleanups: (() => Promise<void>)[]): Promise<FilledStore> {
  if (backend === 'postgres') {
    let url = opts.postgresUrl;
    if (!url) {
      // Test helper, loaded only when needed: the throwaway server needs PostgreSQL's binaries.
      const { startPostgres } = await import('../test/helpers/postgres.ts');
      const server = await startPostgres();
      cleanups.push(() => server.stop());
      url = await server.createDatabase(opts.database);
    }
    const store = await openPostgresMetadata({ url });
    const close = closeOnce(store);
    cleanups.unshift(close);
    opts.beforeFill?.();
    await opts.fill.postgres(url);
    return { store, close };
  }
  const dir = await mkdtemp(join(tmpdir(), opts.tmpPrefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'berth.sqlite');
  await (await openSqliteMetadata(path)).close(); // migrate
  opts.beforeFill?.();
  opts.fill.sqlite(path);
  const store = await openSqliteMetadata(path);
  const close = closeOnce(store);
  cleanups.unshift(close);
  return { store, close, sqliteDir: dir };
}

function closeOnce(store: MetadataStore): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= store.close());
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * p50/p99 in milliseconds of `samples` calls, after `warmups` untimed ones (a fraction rounds up);
 * `last` is what the last warm-up call returned, for the row count.
 */
export async function timeCalls<T>(samples: number, warmups: number, call: () => Promise<T>): Promise<{ p50: number; p99: number; last: T | undefined }> {
  let last: T | undefined;
  for (let i = 0; i < warmups; i++) last = await call();
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await call();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), last };
}

/** A Markdown table whose `numeric` columns are right-aligned (text and separator). */
export function markdownTable(head: string[], body: string[][], numeric: (column: number) => boolean): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (numeric(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (numeric(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`, ...body.map(line)].join('\n');
}

/** BERTH_BENCH_BACKENDS, _PG_URL, _REPOS and _SAMPLES, for a bench run on its own. */
export function scaleOptionsFromEnv(env: NodeJS.ProcessEnv = process.env) {
  return {
    backends: env.BERTH_BENCH_BACKENDS?.split(',').map((b) => b.trim()) as ScaleBackend[] | undefined,
    postgresUrl: env.BERTH_BENCH_PG_URL,
    repositories: env.BERTH_BENCH_REPOS ? Number(env.BERTH_BENCH_REPOS) : undefined,
    samples: env.BERTH_BENCH_SAMPLES ? Number(env.BERTH_BENCH_SAMPLES) : undefined,
    log: (l: string) => process.stderr.write(`${l}\n`),
  };
}
