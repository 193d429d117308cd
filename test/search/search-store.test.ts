// The search query behind /v1/search (src/metadata/console/search-query.ts) and the open-upload
// count behind berth_uploads_in_progress, on SQLite and PostgreSQL.
import { after, describe, it } from 'node:test';
import pg from 'pg';
import assert from 'node:assert/strict';
import { openPostgresMetadata } from '../../src/metadata/postgres.ts';
import type { MetadataStore } from '../../src/metadata/store.ts';
import { tempSqliteStore } from '../helpers/metadata-stores.ts';
import { postgresSkip, startPostgres, type PostgresServer } from '../helpers/postgres.ts';

const NAMES = ['alpha/one', 'alpha/two', 'alpha-beta/x', 'beta/alpha', 'beta/gamma', 'gamma', 'team_a/svc', 'team%b/svc'];
const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function contract(name: string, open: () => Promise<{ store: MetadataStore; cleanup(): Promise<void> }>, skip: string | false = false): void {
  describe(`repository search and upload count: ${name}`, { skip }, () => {
    let store: MetadataStore;
    let cleanup: () => Promise<void>;

    it('finds a substring anywhere, case-insensitively, % and _ as plain characters, by name', async () => {
      ({ store, cleanup } = await open());
      for (const n of NAMES) assert.equal(await store.console.createRepository(n, Date.now()), true);
      await store.console.settings.put({ repository: 'beta/alpha', description: 'the first letter', visibility: null, updatedAt: 1, updatedBy: null });
      const s = store.console;
      const names = async (q: string | undefined, within?: string[]) => (await s.search({ q, within, offset: 0, limit: 100 })).items.map((i) => i.name);
      assert.deepEqual(await names('ALPHA'), ['alpha-beta/x', 'alpha/one', 'alpha/two', 'beta/alpha'].sort(byteOrder));
      assert.deepEqual(await names('_'), ['team_a/svc']);
      assert.deepEqual(await names('%'), ['team%b/svc']);
      assert.deepEqual(await names(undefined), [...NAMES].sort(byteOrder));
      const found = await s.search({ q: 'alpha', offset: 0, limit: 100 });
      assert.equal(found.total, 4);
      assert.deepEqual(
        found.items.map((i) => i.description),
        found.items.map((i) => (i.name === 'beta/alpha' ? 'the first letter' : null)),
      );
    });

    it('limits to namespaces and exact names; [] is nothing', async () => {
      const s = store.console;
      const page = (within: string[]) => s.search({ q: 'a', within, offset: 0, limit: 100 });
      assert.deepEqual((await page(['alpha/'])).items.map((i) => i.name), ['alpha/one', 'alpha/two']);
      assert.deepEqual((await page(['alpha/', 'gamma'])).items.map((i) => i.name), ['alpha/one', 'alpha/two', 'gamma']);
      assert.equal((await page(['alpha/', 'gamma'])).total, 3);
      assert.deepEqual(await page([]), { total: 0, items: [] });
    });

    it('pages by offset with the total of all matches', async () => {
      const s = store.console;
      const all = [...NAMES].sort(byteOrder);
      for (const [offset, limit] of [
        [0, 3],
        [3, 3],
        [6, 3],
        [9, 3],
      ] as const) {
        const p = await s.search({ offset, limit });
        assert.equal(p.total, NAMES.length);
        assert.deepEqual(
          p.items.map((i) => i.name),
          all.slice(offset, offset + limit),
        );
      }
    });

    it('keeps the trigram index in step with repositories created and deleted', async () => {
      const s = store.console;
      const find = async (q: string) => (await s.search({ q, offset: 0, limit: 100 })).items.map((i) => i.name);
      assert.deepEqual(await find('zeta-ware'), []);
      await s.createRepository('shop/zeta-ware', Date.now());
      assert.deepEqual(await find('ZETA-W'), ['shop/zeta-ware']);
      assert.ok(await s.deleteRepository('shop/zeta-ware'));
      assert.deepEqual(await find('zeta-w'), []);
      // Quotes and pattern characters in a long term are literal too.
      assert.deepEqual(await find('m%b/'), ['team%b/svc']);
      assert.deepEqual(await find('"svc'), []);
      assert.deepEqual(await find('m_a/s'), ['team_a/svc']);
    });

    it('pages a term common enough to leave the trigram candidates (over 2,000 matches) the same way', async () => {
      const s = store.console;
      const made = Array.from({ length: 2100 }, (_, i) => `bulk/item-${String(i).padStart(4, '0')}`);
      for (let i = 0; i < made.length; i += 100) await Promise.all(made.slice(i, i + 100).map((n) => s.createRepository(n, Date.now())));
      const first = await s.search({ q: 'ITEM-', offset: 0, limit: 25 });
      assert.equal(first.total, 2100);
      assert.deepEqual(first.items.map((i) => i.name), made.slice(0, 25));
      const deep = await s.search({ q: 'item-', offset: 2075, limit: 100 });
      assert.deepEqual(deep.items.map((i) => i.name), made.slice(2075));
      // With `within`, and with a term too short for trigrams.
      const within = await s.search({ q: 'item-', within: ['bulk/', 'gamma'], offset: 100, limit: 10 });
      assert.equal(within.total, 2100);
      assert.deepEqual(within.items.map((i) => i.name), made.slice(100, 110));
      const short = await s.search({ q: '-2', offset: 0, limit: 5 });
      assert.equal(short.total, made.filter((n) => n.includes('-2')).length);
      assert.deepEqual(short.items.map((i) => i.name), made.filter((n) => n.includes('-2')).slice(0, 5));
    });

    it('counts open upload sessions', async () => {
      assert.equal(await store.console.openUploads(), 0);
      await store.createUpload({ id: 'u1', repository: 'alpha/one', startedAt: new Date() });
      await store.createUpload({ id: 'u2', repository: 'gamma', startedAt: new Date() });
      assert.equal(await store.console.openUploads(), 2);
      await store.deleteUpload('u1');
      assert.equal(await store.console.openUploads(), 1);
      await cleanup();
    });
  });
}

contract('sqlite', () => tempSqliteStore('berth-search'));

let server: PostgresServer | undefined;
let searchUrl: string | undefined;
after(() => server?.stop());
contract(
  'postgres',
  async () => {
    server ??= await startPostgres();
    searchUrl = await server.createDatabase('search');
    const store = await openPostgresMetadata({ url: searchUrl, poolSize: 2 });
    return { store, cleanup: () => store.close() };
  },
  postgresSkip(),
);

describe('migration 0010_search on PostgreSQL', { skip: postgresSkip() }, () => {
  it("created pg_trgm's index on lower(name), which the search's LIKE can use", async () => {
    server ??= await startPostgres();
    const url = await server.createDatabase('search_plan');
    const store = await openPostgresMetadata({ url, poolSize: 1 });
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const idx = await c.query(`select indexdef from pg_indexes where indexname = 'repositories_name_trgm'`);
      assert.match(idx.rows[0]?.indexdef ?? '', /USING gin \(lower\(\(name\)::text\) gin_trgm_ops\)/);
      await c.query(`insert into repositories (name, created_at) select 'team-' || g || '/svc-' || g, 0 from generate_series(1, 20000) g`);
      await c.query('analyze repositories');
      // The planner may prefer a scan on a table this small; what matters is that the index serves the expression.
      await c.query('set enable_seqscan = off');
      const plan = (await c.query(`explain select count(*) from repositories r where lower(r.name) like '%svc-4242%'`)).rows.map((r) => r['QUERY PLAN']).join('\n');
      assert.match(plan, /repositories_name_trgm/);
    } finally {
      await c.end();
      await store.close();
    }
  });
});
