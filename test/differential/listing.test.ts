// Differential: tags/list (with n/last), _catalog pagination, and invalid repository names / tags.
// A pair of its own: the catalog lists every repository, so no other scenario may add any.
import { after, before, describe, it } from 'node:test';
import { compare, digestOf, pushBlob, startPair, type Pair, type Recorder, needsDistribution } from './harness.ts';

const OCI = 'application/vnd.oci.image.manifest.v1+json';
const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
    layers: [],
  }),
);

async function pushImage(r: Recorder, repo: string, tags: string[]): Promise<void> {
  await pushBlob(r, `seed-${repo}-config`, repo, config);
  for (const tag of tags) {
    await r.call(`seed-${repo}-${tag}`, {
      method: 'PUT',
      path: `/v2/${repo}/manifests/${tag}`,
      headers: { 'Content-Type': OCI },
      body: manifest,
    });
  }
}

describe('differential: tags, catalog, names', needsDistribution, () => {
  let pair: Pair;
  before(async () => {
    pair = await startPair();
  });
  after(async () => {
    await pair?.stop();
  });

  it('tags/list with n and last', () =>
    compare(pair, 'tags', async (r) => {
      // Pushed out of order: both registries must sort.
      await pushImage(r, 't/img', ['d', 'b', 'a', 'c']);
      const list = (id: string, q = '') => r.call(id, { method: 'GET', path: `/v2/t/img/tags/list${q}` });
      await list('list');
      await list('list-n', '?n=2');
      await list('list-last', '?last=b');
      await list('list-n-last', '?n=2&last=a');
      await list('list-n-large', '?n=100');
      await r.call('list-unknown-repo', { method: 'GET', path: '/v2/t/none/tags/list' });
    }));

  it('_catalog with n and last', () =>
    compare(pair, 'catalog', async (r) => {
      for (const repo of ['cat/b', 'cat/a', 'cat/c/deep', 'zz']) await pushImage(r, repo, ['v1']);
      const cat = (id: string, q = '') => r.call(id, { method: 'GET', path: `/v2/_catalog${q}` });
      await cat('all');
      await cat('n1', '?n=1');
      await cat('n2-last-cat-a', '?n=2&last=cat/a');
      await cat('n2-last-encoded', `?n=2&last=${encodeURIComponent('cat/b')}`);
      await cat('n-large', '?n=100');
      await cat('last-only', '?last=cat/c/deep');
      await cat('n-last-past-end', '?n=2&last=zz');
    }));

  it('invalid repository names and tags', () =>
    compare(pair, 'names', async (r) => {
      await r.call('uppercase-tags', { method: 'GET', path: '/v2/Upper/img/tags/list' });
      await r.call('uppercase-manifest', { method: 'GET', path: '/v2/Upper/img/manifests/latest' });
      await r.call('uppercase-upload', { method: 'POST', path: '/v2/Upper/img/blobs/uploads/' });
      await r.call('leading-dash', { method: 'GET', path: '/v2/-bad/img/tags/list' });
      await r.call('double-separator', { method: 'GET', path: '/v2/bad__name/img/tags/list' });
      // (A name over 255 characters gets 500 UNKNOWN from distribution: not compared.)
      await r.call('invalid-tag-get', { method: 'GET', path: '/v2/ok/img/manifests/-tag' });
      await r.call('invalid-tag-put', {
        method: 'PUT',
        path: `/v2/ok/img/manifests/${'t'.repeat(129)}`,
        headers: { 'Content-Type': OCI },
        body: manifest,
      });
    }));
});
