// GET /v1/_ping and /v1/search over HTTP: Docker's response shape, paging by page number, the
// substring match, and results filtered by what the caller may pull (open registry, registry:2's
// "authenticated may do everything", and the access model with public namespaces and a private
// repository inside one).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { basic, startHtpasswdRegistry, type AuthRegistry } from '../auth/harness.ts';
import { body, sha256, startTestRegistry, type TestRegistry } from '../http/harness.ts';
import type { SearchResponse } from '../../src/http/search.ts';

/** A repository exists once a blob is linked into it (a monolithic upload). */
async function createRepository(base: string, name: string, headers: Record<string, string> = {}): Promise<void> {
  const data = Buffer.from(`layer of ${name}`);
  const res = await fetch(`${base}/v2/${name}/blobs/uploads/?digest=${sha256(data)}`, { method: 'POST', headers, body: body(data) });
  assert.equal(res.status, 201, `${name}: ${res.status} ${await res.text()}`);
}

async function search(base: string, query: string, headers: Record<string, string> = {}): Promise<SearchResponse> {
  const res = await fetch(`${base}/v1/search?${query}`, { headers });
  assert.equal(res.status, 200, await res.clone().text());
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return (await res.json()) as SearchResponse;
}

const names = (r: SearchResponse) => r.results.map((x) => x.name);

describe('/v1/search on an open registry', () => {
  let r: TestRegistry;
  const all = [...Array.from({ length: 23 }, (_, i) => `svc/app-${String(i).padStart(2, '0')}`), 'tools/builder', 'tools/Linter-x'.toLowerCase(), 'web/frontend'];

  before(async () => {
    r = await startTestRegistry();
    for (const n of all) await createRepository(r.url, n);
    await r.services.metadata.console.settings.put({ repository: 'web/frontend', description: 'The shop **front end**', visibility: null, updatedAt: Date.now(), updatedBy: null });
  });
  after(() => r.stop());

  it('answers the v1 ping as a standalone registry', async () => {
    const res = await fetch(`${r.url}/v1/_ping`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-docker-registry-standalone'), 'true');
    assert.deepEqual(await res.json(), { standalone: true });
  });

  it("answers in Docker's shape, with a description where the repository has one", async () => {
    const res = await search(r.url, 'q=front');
    assert.deepEqual(res, {
      num_pages: 1,
      num_results: 1,
      results: [{ name: 'web/frontend', description: 'The shop **front end**', star_count: 0, is_official: false, is_automated: false }],
      page_size: 25,
      query: 'front',
      page: 1,
    });
  });

  it('pages by number: n results per page, num_pages and num_results over all matches, by name', async () => {
    const p1 = await search(r.url, 'q=svc&n=10');
    assert.equal(p1.num_results, 23);
    assert.equal(p1.num_pages, 3);
    assert.equal(p1.page_size, 10);
    assert.deepEqual(names(p1), all.slice(0, 10));
    const p3 = await search(r.url, 'q=svc&n=10&page=3');
    assert.equal(p3.page, 3);
    assert.deepEqual(names(p3), all.slice(20, 23));
    const beyond = await search(r.url, 'q=svc&n=10&page=4');
    assert.deepEqual(beyond.results, []);
    assert.equal(beyond.num_results, 23);
    // Docker's default page size is 25; Docker Hub's maximum is 100.
    assert.equal((await search(r.url, 'q=svc')).results.length, 23);
    assert.equal((await search(r.url, 'q=svc&n=1000')).page_size, 100);
  });

  it('matches a case-insensitive substring anywhere in the name; an empty query lists everything', async () => {
    assert.deepEqual(names(await search(r.url, 'q=APP-1')), ['svc/app-10', 'svc/app-11', 'svc/app-12', 'svc/app-13', 'svc/app-14', 'svc/app-15', 'svc/app-16', 'svc/app-17', 'svc/app-18', 'svc/app-19']);
    assert.deepEqual(names(await search(r.url, 'q=tools%2F')), ['tools/builder', 'tools/linter-x']);
    // % and _ are plain characters, not patterns.
    assert.deepEqual(names(await search(r.url, 'q=%25')), []);
    assert.deepEqual(names(await search(r.url, 'q=app_')), []);
    const everything = await search(r.url, 'n=100');
    assert.equal(everything.num_results, all.length);
    assert.equal(everything.query, '');
  });

  it('refuses a page or size that is not a number, and methods other than GET', async () => {
    for (const q of ['q=a&n=ten', 'q=a&page=1.5']) {
      const res = await fetch(`${r.url}/v1/search?${q}`);
      assert.equal(res.status, 400, q);
      await res.arrayBuffer();
    }
    const post = await fetch(`${r.url}/v1/search?q=a`, { method: 'POST' });
    assert.equal(post.status, 405);
    await post.arrayBuffer();
    const other = await fetch(`${r.url}/v1/repositories/svc/app-01/tags`);
    assert.equal(other.status, 404);
    await other.arrayBuffer();
  });
});

describe('/v1/search with htpasswd (registry:2: authenticated users may pull everything)', () => {
  let r: AuthRegistry;
  before(async () => {
    r = await startHtpasswdRegistry({ carol: 'carol-password-1' });
    await createRepository(r.url, 'team-x/app', { Authorization: basic('carol', 'carol-password-1') });
  });
  after(() => r.stop());

  it('shows everything to a user, challenges an anonymous caller (who may pull nothing) and refuses a wrong password', async () => {
    assert.deepEqual(names(await search(r.url, 'q=app', { Authorization: basic('carol', 'carol-password-1') })), ['team-x/app']);
    const anon = await fetch(`${r.url}/v1/search?q=app`);
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    await anon.arrayBuffer();
    const wrong = await fetch(`${r.url}/v1/search?q=app`, { headers: { Authorization: basic('carol', 'nope') } });
    assert.equal(wrong.status, 401);
    await wrong.arrayBuffer();
    // The ping needs no credentials: it is how clients find the API.
    assert.equal((await fetch(`${r.url}/v1/_ping`)).status, 200);
  });
});

describe('/v1/search with access control', () => {
  const USERS = { admin: 'admin-password-1', alice: 'alice-password-1', bob: 'bob-password-1' };
  const as = (user: keyof typeof USERS) => ({ Authorization: basic(user, USERS[user]) });
  let r: AuthRegistry;
  const api = async (path: string, method: string, json: unknown) => {
    const res = await fetch(`${r.url}/api/v1${path}`, { method, headers: { ...as('admin'), 'Content-Type': 'application/json' }, body: JSON.stringify(json) });
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${await res.text()}`);
  };

  before(async () => {
    r = await startHtpasswdRegistry(USERS, (c) => {
      c.berth.auth.accessControl = { enabled: true, admins: ['admin'] };
    });
    // A private repository inside the public namespace (the console's per-repository setting).
    await r.services.metadata.console.settings.put({ repository: 'team-a/secret-app', description: null, visibility: 'private', updatedAt: Date.now(), updatedBy: 'admin' });
    for (const n of ['team-a/app', 'team-a/secret-app', 'team-b/app', 'pub/app', 'pub/tools']) await createRepository(r.url, n, as('admin'));
    await api('/teams', 'POST', { name: 'team-a' });
    await api('/users', 'POST', { name: 'alice' });
    await api('/teams/team-a/members/alice', 'PUT', {});
    await api('/permissions', 'POST', { subject: { kind: 'team', name: 'team-a' }, scope: { kind: 'namespace', name: 'team-a' }, role: 'write' });
    await api('/namespaces/team-a', 'PUT', { visibility: 'public' });
    await api('/namespaces/pub', 'PUT', { visibility: 'public' });
  });
  after(() => r.stop());

  it('shows each caller only what they may pull', async () => {
    assert.deepEqual(names(await search(r.url, 'q=app', as('admin'))), ['pub/app', 'team-a/app', 'team-a/secret-app', 'team-b/app']);
    assert.deepEqual(names(await search(r.url, 'q=app', as('alice'))), ['pub/app', 'team-a/app', 'team-a/secret-app']);
    assert.deepEqual(names(await search(r.url, 'q=app', as('bob'))), ['pub/app', 'team-a/app']);
    // Anonymous pulls are allowed in the public namespaces, so anonymous search is too.
    const anon = await search(r.url, 'q=app');
    assert.deepEqual(names(anon), ['pub/app', 'team-a/app']);
    // Counted within the caller's namespaces: the private repository in a public one is counted, never shown.
    assert.equal(anon.num_results, 3);
    assert.deepEqual(names(await search(r.url, 'q=', as('bob'))), ['pub/app', 'pub/tools', 'team-a/app']);
  });

  it('refuses credentials that do not check out instead of answering as anonymous', async () => {
    const res = await fetch(`${r.url}/v1/search?q=app`, { headers: { Authorization: basic('alice', 'wrong') } });
    assert.equal(res.status, 401);
    await res.arrayBuffer();
  });
});
