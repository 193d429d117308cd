import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OCI_MANIFEST, errorCodes, pushImage, putManifest, startTestRegistry, type TestRegistry } from './harness.ts';
import { newManifest } from '../../src/metadata/store.ts';
import { parseManifest } from '../../src/oci/manifest.ts';
import { MAX_PAGE } from '../../src/registry/pagination.ts';

describe('GET /v2/<name>/tags/list', () => {
  let r: TestRegistry;
  const tags = ['v1', 'v10', 'v2', 'latest', 'A-upper', '_under'];
  before(async () => {
    r = await startTestRegistry();
    const img = await pushImage(r.url, 'list/app', 'seed');
    for (const t of tags) await putManifest(r.url, 'list/app', t, img.bytes, OCI_MANIFEST);
  });
  after(() => r.stop());

  const sorted = [...tags, 'seed'].sort();

  it('lists all tags lexically sorted', async () => {
    const res = await fetch(`${r.url}/v2/list/app/tags/list`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('link'), null);
    assert.deepEqual(await res.json(), { name: 'list/app', tags: sorted });
  });

  it('paginates with n and last, with a Link to the next page', async () => {
    const seen: string[] = [];
    let url: string | undefined = `/v2/list/app/tags/list?n=3`;
    let pages = 0;
    while (url) {
      const res: Response = await fetch(`${r.url}${url}`);
      const body = (await res.json()) as { tags: string[] };
      seen.push(...body.tags);
      const link: string | null = res.headers.get('link');
      url = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1] : undefined;
      pages++;
    }
    assert.deepEqual(seen, sorted);
    assert.equal(pages, 3);
  });

  it('handles pagination edges: n=0, last past the end, last between tags', async () => {
    assert.deepEqual(((await (await fetch(`${r.url}/v2/list/app/tags/list?n=0`)).json()) as { tags: string[] }).tags, []);
    assert.deepEqual(((await (await fetch(`${r.url}/v2/list/app/tags/list?last=zzz`)).json()) as { tags: string[] }).tags, []);
    assert.deepEqual(((await (await fetch(`${r.url}/v2/list/app/tags/list?last=v1&n=2`)).json()) as { tags: string[] }).tags, ['v10', 'v2']);
    const full = await fetch(`${r.url}/v2/list/app/tags/list?n=${sorted.length}`);
    assert.match(full.headers.get('link') ?? '', /last=v2&n=7/);
    const after = await fetch(`${r.url}/v2/list/app/tags/list?n=${sorted.length + 1}`);
    assert.equal(after.headers.get('link'), null);
  });

  it('gives a Link when a list without n stops at the page cap, so no tag goes missing unannounced', async () => {
    // A repository with more tags than one page holds (CI tags per commit): clients that ask
    // without n (skopeo list-tags, crane ls) follow the Link; without one they saw a short list.
    const img = await pushImage(r.url, 'list/many', 'seed');
    const record = newManifest(parseManifest(img.bytes, OCI_MANIFEST), img.digest, img.size);
    const count = MAX_PAGE + 1;
    for (let i = 1; i < count; i++) await r.services.metadata.putManifest('list/many', record, `t${String(i).padStart(5, '0')}`);
    const first = await fetch(`${r.url}/v2/list/many/tags/list`);
    const page = (await first.json()) as { tags: string[] };
    assert.equal(page.tags.length, MAX_PAGE);
    const link = first.headers.get('link');
    assert.ok(link, 'a full page without n must link to the next one');
    const next = await fetch(`${r.url}${/^<([^>]+)>; rel="next"$/.exec(link)![1]}`);
    const rest = (await next.json()) as { tags: string[] };
    assert.equal(page.tags.length + rest.tags.length, count);
    assert.equal(next.headers.get('link'), null);
  });

  it('refuses a non-numeric n with PAGINATION_NUMBER_INVALID', async () => {
    const res = await fetch(`${r.url}/v2/list/app/tags/list?n=abc`);
    assert.equal(res.status, 400);
    assert.deepEqual(await errorCodes(res), ['PAGINATION_NUMBER_INVALID']);
  });

  it('answers NAME_UNKNOWN for an unknown repository', async () => {
    const res = await fetch(`${r.url}/v2/list/none/tags/list`);
    assert.equal(res.status, 404);
    assert.deepEqual(await errorCodes(res), ['NAME_UNKNOWN']);
  });
});

describe('GET /v2/_catalog', () => {
  let r: TestRegistry;
  const names = ['zeta', 'alpha/one', 'alpha/two', 'beta', 'alpha'];
  before(async () => {
    r = await startTestRegistry();
    for (const n of names) await pushImage(r.url, n, 'latest');
  });
  after(() => r.stop());

  it('lists repositories lexically sorted', async () => {
    const res = await fetch(`${r.url}/v2/_catalog`);
    assert.deepEqual(await res.json(), { repositories: [...names].sort() });
  });

  it('paginates with n/last and Link', async () => {
    const first = await fetch(`${r.url}/v2/_catalog?n=2`);
    assert.deepEqual(await first.json(), { repositories: ['alpha', 'alpha/one'] });
    assert.equal(first.headers.get('link'), '</v2/_catalog?last=alpha%2Fone&n=2>; rel="next"');
    const second = await fetch(`${r.url}/v2/_catalog?n=2&last=alpha/one`);
    assert.deepEqual(await second.json(), { repositories: ['alpha/two', 'beta'] });
    const third = await fetch(`${r.url}/v2/_catalog?n=2&last=beta`);
    assert.deepEqual(await third.json(), { repositories: ['zeta'] });
    assert.equal(third.headers.get('link'), null);
  });

  it('does not list a repository that only holds blobs', async () => {
    const res = await fetch(`${r.url}/v2/blobonly/blobs/uploads/?digest=sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824`, { method: 'POST', body: 'hello' });
    assert.equal(res.status, 201);
    const body = (await (await fetch(`${r.url}/v2/_catalog`)).json()) as { repositories: string[] };
    assert.ok(!body.repositories.includes('blobonly'));
  });
});
