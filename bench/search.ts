// GET /v1/search at fleet size: 100,000 repositories (the console bench's fill, bench/console-scale.ts),
// on SQLite and PostgreSQL. Measured: the store call (count + page, in-process) for a rare term, a
// common one, a deep page, everything, nothing, and a caller limited to a few namespaces; then, on
// the SQLite store, whole requests through a berth server (client round trip on localhost).
// The target: under 20 ms at 100,000 repositories.
//
//   node --import tsx bench/search.ts                       # throwaway PostgreSQL 15 + temp SQLite
//   BERTH_BENCH_BACKENDS=sqlite BERTH_BENCH_REPOS=10000 node --import tsx bench/search.ts
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MetadataStore } from '../src/metadata/store.ts';
import type { RepositorySearchRequest } from '../src/metadata/console/search-query.ts';
import { repoRoot } from '../test/helpers/processes.ts';
import { log } from './client.ts';
import { fillPostgres, fillSqlite } from './console-scale.ts';
import type { Bench } from './context.ts';
import type { Row } from './report.ts';
import { markdownTable, openFilledStore, scaleOptionsFromEnv, timeCalls, type ScaleBackend } from './scale-store.ts';
import { staleBuild, startBerth } from './servers.ts';

export const SEARCH_TARGET_MS = 20;
const PAGE = 25;

/** The fill's names (bench/console-scale.ts): team-000/svc-0 … team-999/svc-99999, plus bench/many-tags. */
const repoName = (i: number) => `team-${String(i % 1000).padStart(3, '0')}/svc-${i}`;

export interface SearchScaleRow {
  backend: ScaleBackend | 'http';
  case: string;
  results: number;
  total: number;
  p50: number;
  p99: number;
}

interface Case {
  label: string;
  req: RepositorySearchRequest;
  /** The HTTP request's query string, for the server cases. */
  query: string;
  expectTotal: (n: number) => number;
}

function cases(n: number): Case[] {
  const within = ['team-042/', 'team-420/', 'team-999/'];
  const deepPage = Math.max(1, Math.floor(n / 10 / PAGE / 2));
  const countWith = (f: (name: string) => boolean) => Array.from({ length: n }, (_, i) => repoName(i)).filter(f).length;
  return [
    { label: 'rare term "svc-4242" (11 matches)', req: { q: 'svc-4242', offset: 0, limit: PAGE }, query: `q=svc-4242&n=${PAGE}`, expectTotal: () => countWith((x) => x.includes('svc-4242')) },
    { label: 'common term "team-1" (10% match), page 1', req: { q: 'team-1', offset: 0, limit: PAGE }, query: `q=team-1&n=${PAGE}`, expectTotal: () => countWith((x) => x.includes('team-1')) },
    {
      label: `common term "team-1", page ${deepPage} (half-way through the matches)`,
      req: { q: 'team-1', offset: (deepPage - 1) * PAGE, limit: PAGE },
      query: `q=team-1&n=${PAGE}&page=${deepPage}`,
      expectTotal: () => countWith((x) => x.includes('team-1')),
    },
    { label: 'empty query (every repository), page 1', req: { offset: 0, limit: PAGE }, query: `q=&n=${PAGE}`, expectTotal: (all) => all },
    { label: 'every name "svc-" (100% match), page 1', req: { q: 'svc-', offset: 0, limit: PAGE }, query: `q=svc-&n=${PAGE}`, expectTotal: () => n },
    { label: 'two characters "42"', req: { q: '42', offset: 0, limit: PAGE }, query: `q=42&n=${PAGE}`, expectTotal: () => countWith((x) => x.includes('42')) },
    { label: 'no match', req: { q: 'no-such-repository', offset: 0, limit: PAGE }, query: `q=no-such-repository&n=${PAGE}`, expectTotal: () => 0 },
    {
      label: 'caller limited to 3 namespaces, term "svc-4"',
      req: { q: 'svc-4', within, offset: 0, limit: PAGE },
      query: '',
      expectTotal: () => countWith((x) => x.includes('svc-4') && within.some((w) => x.startsWith(w))),
    },
  ];
}

async function time(samples: number, call: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const { p50, p99 } = await timeCalls(samples, Math.max(3, samples / 5), call);
  return { p50, p99 };
}

async function measureStore(backend: ScaleBackend, store: MetadataStore, n: number, samples: number): Promise<SearchScaleRow[]> {
  const out: SearchScaleRow[] = [];
  const all = n + 1; // and bench/many-tags
  for (const c of cases(n)) {
    const first = await store.console.search(c.req);
    if (first.total !== c.expectTotal(all)) throw new Error(`${backend}: ${c.label}: total ${first.total}, want ${c.expectTotal(all)}`);
    out.push({ backend, case: c.label, results: first.items.length, total: first.total, ...(await time(samples, () => store.console.search(c.req))) });
  }
  return out;
}

/** Whole requests through a berth server on the SQLite store (open registry: no permission filter). */
async function measureHttp(dir: string, n: number, samples: number): Promise<SearchScaleRow[]> {
  const mode = existsSync(join(repoRoot, 'dist', 'cli', 'main.js')) && !staleBuild() ? 'compiled' : 'tsx';
  const server = await startBerth(dir, mode);
  const out: SearchScaleRow[] = [];
  try {
    for (const c of cases(n).filter((x) => x.query)) {
      const get = async () => {
        const res = await fetch(`${server.url}/v1/search?${c.query}`);
        const body = (await res.json()) as { num_results: number; results: unknown[] };
        if (res.status !== 200) throw new Error(`GET /v1/search?${c.query}: ${res.status}`);
        return body;
      };
      const first = await get();
      out.push({ backend: 'http', case: `GET /v1/search?${c.query} (${mode})`, results: first.results.length, total: first.num_results, ...(await time(samples, get)) });
    }
  } finally {
    await server.stop();
  }
  return out;
}

export async function runSearchScale(options: { backends?: ScaleBackend[]; repositories?: number; samples?: number; http?: boolean; postgresUrl?: string; log?: (l: string) => void } = {}): Promise<SearchScaleRow[]> {
  const n = options.repositories ?? 100_000;
  const samples = options.samples ?? 50;
  const say = options.log ?? (() => undefined);
  const rows: SearchScaleRow[] = [];
  for (const backend of options.backends ?? ['postgres', 'sqlite']) {
    const cleanups: (() => Promise<void>)[] = [];
    try {
      const { store, close, sqliteDir } = await openFilledStore(
        backend,
        {
          postgresUrl: options.postgresUrl,
          database: 'search_scale',
          tmpPrefix: 'berth-search-scale-',
          beforeFill: () => say(`search: ${backend}: filling ${n} repositories`),
          fill: { postgres: (url) => fillPostgres(url, n, 10), sqlite: (path) => fillSqlite(path, n, 10) },
        },
        cleanups,
      );
      rows.push(...(await measureStore(backend, store, n, samples)));
      // The server opens the SQLite file itself: the store lets go of it first.
      await close();
      if (sqliteDir && options.http !== false) rows.push(...(await measureHttp(sqliteDir, n, samples)));
    } finally {
      for (const c of cleanups) await c();
    }
  }
  return rows;
}

export function renderSearchTable(rows: SearchScaleRow[]): string {
  const head = ['backend', 'case', 'results', 'total', 'p50 ms', 'p99 ms', `p99 < ${SEARCH_TARGET_MS} ms`];
  const body = rows.map((r) => [r.backend, r.case, String(r.results), String(r.total), r.p50.toFixed(2), r.p99.toFixed(2), r.p99 < SEARCH_TARGET_MS ? 'yes' : 'NO']);
  return markdownTable(head, body, (i) => i >= 2 && i <= 5);
}

/** Row "search" of `npm run bench`: /v1/search at 100,000 repositories (10,000 with --quick). */
export const searchBench: Bench = async (ctx) => {
  const repositories = ctx.quick ? 10_000 : 100_000;
  ctx.phase('search');
  const rows = await runSearchScale({ repositories, samples: ctx.quick ? 20 : 50, log });
  ctx.note(`search: ${PAGE} per page over ${repositories.toLocaleString('en-US')} repositories (the console bench's fill); store rows are the in-process count + page, http rows a whole GET on localhost`);
  return rows.map((r) => ({
    bench: 'search',
    metric: `${r.backend} ${r.case} p99 (${repositories.toLocaleString('en-US')} repos)`,
    unit: 'ms',
    better: 'lower' as const,
    berth: r.p99,
    target: `< ${SEARCH_TARGET_MS} ms`,
    verdict: r.p99 < SEARCH_TARGET_MS ? ('PASS' as const) : ('FAIL' as const),
    note: `p50 ${r.p50.toFixed(2)} ms, ${r.results} results of ${r.total}`,
  })) satisfies Row[];
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runSearchScale(scaleOptionsFromEnv()).then(
    (rows) => process.stdout.write(`${renderSearchTable(rows)}\n`),
    (err: unknown) => {
      process.stderr.write(`search bench failed: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
