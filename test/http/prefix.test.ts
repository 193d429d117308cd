// http.prefix: the API is served under <prefix>v2/, and every URL berth hands out (upload and blob
// Locations, manifest Locations, Link headers of paged lists) keeps the prefix, as registry:2 does:
// behind a proxy that forwards only the prefix, a URL without it leads nowhere.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { body, OCI_MANIFEST, pushBlob, sha256, startTestRegistry, type TestRegistry } from './harness.ts';

describe('http.prefix in the URLs berth hands out', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry((c) => {
      c.http.prefix = '/reg/';
    });
  });
  after(() => r.stop());

  it('keeps the prefix in upload, blob and manifest Locations (absolute, from the request)', async () => {
    const started = await fetch(`${r.url}/reg/v2/pre/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(started.status, 202);
    const uploadLocation = new URL(started.headers.get('location')!);
    assert.match(uploadLocation.pathname, /^\/reg\/v2\/pre\/app\/blobs\/uploads\/[^/]+$/);

    const data = Buffer.from('prefixed layer');
    const patched = await fetch(uploadLocation, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream' }, body: body(data) });
    assert.equal(patched.status, 202);
    const next = new URL(patched.headers.get('location')!);
    assert.match(next.pathname, /^\/reg\/v2\/pre\/app\/blobs\/uploads\//);
    next.searchParams.set('digest', sha256(data));
    const done = await fetch(next, { method: 'PUT' });
    assert.equal(done.status, 201);
    assert.equal(new URL(done.headers.get('location')!).pathname, `/reg/v2/pre/app/blobs/${sha256(data)}`);

    const config = Buffer.from('{}');
    await pushBlob(`${r.url}/reg`, 'pre/app', config);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(data), size: data.length }],
    });
    const put = await fetch(`${r.url}/reg/v2/pre/app/manifests/v1`, { method: 'PUT', headers: { 'Content-Type': OCI_MANIFEST }, body: manifest });
    assert.equal(put.status, 201);
    assert.equal(new URL(put.headers.get('location')!).pathname, `/reg/v2/pre/app/manifests/${sha256(manifest)}`);
  });

  it('keeps the prefix in the Link of a truncated catalog and tag list', async () => {
    const config = Buffer.from('{"t":1}');
    for (const [repo, tag] of [['pre/list', 'a'], ['pre/list', 'b'], ['pre/other', 'a']] as const) {
      await pushBlob(`${r.url}/reg`, repo, config);
      const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length }, layers: [], annotations: { tag } });
      const put = await fetch(`${r.url}/reg/v2/${repo}/manifests/${tag}`, { method: 'PUT', headers: { 'Content-Type': OCI_MANIFEST }, body: manifest });
      assert.equal(put.status, 201);
    }
    const catalog = await fetch(`${r.url}/reg/v2/_catalog?n=1`);
    assert.equal(catalog.status, 200);
    assert.match(catalog.headers.get('link') ?? '', /^<\/reg\/v2\/_catalog\?last=[^>]+&n=1>; rel="next"$/);
    const tags = await fetch(`${r.url}/reg/v2/pre/list/tags/list?n=1`);
    assert.equal(tags.status, 200);
    assert.equal(tags.headers.get('link'), '</reg/v2/pre/list/tags/list?last=a&n=1>; rel="next"');
  });

  it('keeps the prefix in relative Locations (http.relativeurls)', async () => {
    const rel = await startTestRegistry((c) => {
      c.http.prefix = '/reg/';
      c.http.relativeurls = true;
    });
    try {
      const started = await fetch(`${rel.url}/reg/v2/pre/app/blobs/uploads/`, { method: 'POST' });
      assert.match(started.headers.get('location')!, /^\/reg\/v2\/pre\/app\/blobs\/uploads\//);
    } finally {
      await rel.stop();
    }
  });

  it('takes http.host as given: its path is the prefix clients see', async () => {
    const hosted = await startTestRegistry((c) => {
      c.http.prefix = '/reg/';
      c.http.host = 'https://registry.example.com/reg/';
    });
    try {
      const started = await fetch(`${hosted.url}/reg/v2/pre/app/blobs/uploads/`, { method: 'POST' });
      assert.match(started.headers.get('location')!, /^https:\/\/registry\.example\.com\/reg\/v2\/pre\/app\/blobs\/uploads\//);
    } finally {
      await hosted.stop();
    }
  });
});
