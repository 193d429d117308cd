// Metadata listing at scale, PostgreSQL beside SQLite: 100,000 repositories (one manifest and tag
// each) and one repository with 10,000 tags, then p50/p99 of catalog and tag-list pages read
// through the MetadataStore. Rows are written with bulk SQL (the store would take minutes for
// 110,000 transactions, and writes are not what this measures); every measured read goes through
// the store's own queries.
//
//   node --import tsx bench/metadata-scale.ts            # throwaway PostgreSQL 15 + temp SQLite
//   BERTH_BENCH_PG_URL=postgres://... node --import tsx bench/metadata-scale.ts
//   BERTH_BENCH_BACKENDS=sqlite node --import tsx bench/metadata-scale.ts
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { MetadataStore } from '../src/metadata/store.ts';
import { bulkLoadPostgres, bulkLoadSqlite, markdownTable, openFilledStore, scaleOptionsFromEnv, timeCalls, type ScaleBackend } from './scale-store.ts';

export type { ScaleBackend } from './scale-store.ts';

export interface ScaleOptions {
  backends?: ScaleBackend[];
  /** An existing PostgreSQL database to fill (it should be empty); default: a throwaway server. */
  postgresUrl?: string;
  repositories?: number;
  tags?: number;
  /** Timed calls per case (after a warm-up of a tenth as many). */
  samples?: number;
  log?: (line: string) => void;
}

export interface ScaleRow {
  backend: ScaleBackend;
  case: string;
  rows: number;
  p50: number;
  p99: number;
}

export interface ScaleResult {
  rows: ScaleRow[];
  fillSeconds: Partial<Record<ScaleBackend, number>>;
}

/** Page targets: every paged listing under this many milliseconds at p99. */
export const PAGE_TARGET_MS = 20;

const BIG = 'bench/many-tags';
const repoName = (i: number) => `team-${String(i % 1000).padStart(3, '0')}/svc-${i}`;
const tagName = (i: number) => `release-${i}`;
const digest = (s: string) => `sha256:${s.padStart(64, '0')}`;

/** Names sorted as the store must return them: byte order (all ASCII here, so code-unit order). */
function sortedNames(count: number, name: (i: number) => string): string[] {
  return Array.from({ length: count }, (_, i) => name(i)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export async function fillPostgres(url: string, repos: number, tags: number): Promise<void> {
  await bulkLoadPostgres(url, async (c) => {
    // The same names and digests as repoName/tagName/digest above, generated in SQL.
    await c.query(
      `insert into repositories (name, created_at)
       select 'team-' || lpad((i % 1000)::text, 3, '0') || '/svc-' || i, 0 from generate_series(0, $1 - 1) i`,
      [repos],
    );
    await c.query(`insert into repositories (name, created_at) values ($1, 0)`, [BIG]);
    const m = `'sha256:' || lpad(r.id::text, 64, '0')`;
    await c.query(`insert into blobs (digest, size, created_at) select ${m}, 100, 0 from repositories r`);
    await c.query(`insert into repository_blobs (repository_id, digest, created_at) select r.id, ${m}, 0 from repositories r`);
    await c.query(
      `insert into manifests (repository_id, digest, media_type, size, created_at)
       select r.id, ${m}, 'application/vnd.oci.image.manifest.v1+json', 100, 0 from repositories r`,
    );
    await c.query(`insert into tags (repository_id, name, digest, updated_at) select r.id, 'latest', ${m}, 0 from repositories r where r.name <> $1`, [BIG]);
    await c.query(
      `insert into tags (repository_id, name, digest, updated_at)
       select r.id, 'release-' || i, ${m}, 0 from repositories r, generate_series(0, $2 - 1) i where r.name = $1`,
      [BIG, tags],
    );
  });
}

export function fillSqlite(path: string, repos: number, tags: number): void {
  bulkLoadSqlite(path, (db) => {
      const repo = db.prepare('insert into repositories (name, created_at) values (?, 0)');
      const blob = db.prepare('insert into blobs (digest, size, created_at) values (?, 100, 0)');
      const link = db.prepare('insert into repository_blobs (repository_id, digest, created_at) values (?, ?, 0)');
      const man = db.prepare(`insert into manifests (repository_id, digest, media_type, size, created_at) values (?, ?, 'application/vnd.oci.image.manifest.v1+json', 100, 0)`);
      const tag = db.prepare('insert into tags (repository_id, name, digest, updated_at) values (?, ?, ?, 0)');
      const add = (name: string): { id: number; d: string } => {
        const id = Number(repo.run(name).lastInsertRowid);
        const d = digest(String(id));
        blob.run(d);
        link.run(id, d);
        man.run(id, d);
        return { id, d };
      };
      for (let i = 0; i < repos; i++) {
        const { id, d } = add(repoName(i));
        tag.run(id, 'latest', d);
      }
      const big = add(BIG);
      for (let i = 0; i < tags; i++) tag.run(big.id, tagName(i), big.d);
  });
}

async function time(samples: number, call: () => Promise<unknown[] | undefined>): Promise<{ p50: number; p99: number; rows: number }> {
  const { p50, p99, last } = await timeCalls(samples, Math.max(3, samples / 10), call);
  return { p50, p99, rows: last?.length ?? 0 };
}

async function measure(backend: ScaleBackend, store: MetadataStore, repos: number, tags: number, samples: number): Promise<ScaleRow[]> {
  // Every repository is listed: the BIG one holds manifests too.
  const repoOrder = sortedNames(repos, repoName).concat(BIG).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const tagOrder = sortedNames(tags, tagName);
  const mid = (names: string[]) => names[Math.floor(names.length / 2)];
  const nearEnd = (names: string[], n: number) => names[names.length - n - 1];
  const cases: [string, () => Promise<unknown[] | undefined>][] = [
    ['catalog n=100, first page', () => store.listRepositories({ n: 100 })],
    ['catalog n=100, middle page', () => store.listRepositories({ n: 100, last: mid(repoOrder) })],
    ['catalog n=100, last page', () => store.listRepositories({ n: 100, last: nearEnd(repoOrder, 100) })],
    ['catalog n=1000, middle page', () => store.listRepositories({ n: 1000, last: mid(repoOrder) })],
    ['tags n=100, first page', () => store.listTags(BIG, { n: 100 })],
    ['tags n=100, middle page', () => store.listTags(BIG, { n: 100, last: mid(tagOrder) })],
    ['tags n=100, last page', () => store.listTags(BIG, { n: 100, last: nearEnd(tagOrder, 100) })],
    ['tags n=1000, first page', () => store.listTags(BIG, { n: 1000 })],
    ['tags n=1000, middle page', () => store.listTags(BIG, { n: 1000, last: mid(tagOrder) })],
    [`tags unpaginated (${tags})`, () => store.listTags(BIG, {})],
  ];
  const out: ScaleRow[] = [];
  for (const [name, call] of cases) out.push({ backend, case: name, ...(await time(samples, call)) });
  // The pages must also be the right ones, or the timings mean nothing.
  const first = await store.listRepositories({ n: 3 });
  if (first.join() !== repoOrder.slice(0, 3).join()) throw new Error(`${backend}: catalog order ${first} != ${repoOrder.slice(0, 3)}`);
  const lastTags = await store.listTags(BIG, { n: 1000, last: nearEnd(tagOrder, 100) });
  if (lastTags?.join() !== tagOrder.slice(-100).join()) throw new Error(`${backend}: last tag page is wrong`);
  return out;
}

export async function runMetadataScale(options: ScaleOptions = {}): Promise<ScaleResult> {
  const repos = options.repositories ?? 100_000;
  const tags = options.tags ?? 10_000;
  const samples = options.samples ?? 200;
  const log = options.log ?? (() => undefined);
  const result: ScaleResult = { rows: [], fillSeconds: {} };
  for (const backend of options.backends ?? ['postgres', 'sqlite']) {
    const cleanups: (() => Promise<void>)[] = [];
    try {
      const t0 = performance.now();
      const { store } = await openFilledStore(
        backend,
        {
          postgresUrl: options.postgresUrl,
          database: 'scale',
          tmpPrefix: 'berth-scale-',
          beforeFill: () => log(`${backend}: filling ${repos} repositories and ${tags} tags`),
          fill: { postgres: (url) => fillPostgres(url, repos, tags), sqlite: (path) => fillSqlite(path, repos, tags) },
        },
        cleanups,
      );
      result.fillSeconds[backend] = (performance.now() - t0) / 1000;
      log(`${backend}: filled in ${result.fillSeconds[backend]!.toFixed(1)} s; measuring`);
      result.rows.push(...(await measure(backend, store, repos, tags, samples)));
    } finally {
      for (const c of cleanups) await c();
    }
  }
  return result;
}

export function renderScaleTable(result: ScaleResult): string {
  const head = ['backend', 'case', 'rows', 'p50 ms', 'p99 ms', `p99 < ${PAGE_TARGET_MS} ms`];
  const body = result.rows.map((r) => [r.backend, r.case, String(r.rows), r.p50.toFixed(2), r.p99.toFixed(2), r.case.includes('unpaginated') ? '(not a page)' : r.p99 < PAGE_TARGET_MS ? 'yes' : 'NO']);
  return markdownTable(head, body, (i) => i >= 2 && i <= 4);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runMetadataScale({
    ...scaleOptionsFromEnv(),
    tags: process.env.BERTH_BENCH_TAGS ? Number(process.env.BERTH_BENCH_TAGS) : undefined,
  }).then(
    (r) => {
      const fill = Object.entries(r.fillSeconds).map(([b, s]) => `${b} ${s!.toFixed(1)} s`).join(', ');
      process.stdout.write(`${renderScaleTable(r)}\n\nfill (bulk SQL, incl. server start and migration): ${fill}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`metadata-scale failed: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
