// validation.manifests.urls: a foreign (nondistributable) layer's URLs must be http(s), without a
// fragment, match an allow expression (when any is set) and no deny expression, as registry:2
// requires; berth applies the rules only when allow or deny is set (docs/differences-from-distribution.md).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/index.ts';
import { errorCodes, OCI_MANIFEST, pushBlob, sha256, startTestRegistry, type TestRegistry } from './harness.ts';

const FOREIGN = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';
const SCHEMA2 = 'application/vnd.docker.distribution.manifest.v2+json';
const NONDIST = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';
const REMOTE = 'sha256:' + 'a'.repeat(64);

describe('validation.manifests.urls in the configuration', () => {
  it('is read as registry:2 reads it: on unless disabled, only with allow or deny', () => {
    const urls = 'validation:\n  manifests:\n    urls:\n      allow: ["^https://mcr\\\\.example\\\\.com/"]\n      deny: ["/private/"]\n';
    assert.deepEqual(loadConfig({ text: `version: 0.1\n${urls}`, env: {} }).config.validation, { manifestURLs: { allow: ['^https://mcr\\.example\\.com/'], deny: ['/private/'] } });
    assert.deepEqual(loadConfig({ text: `version: 0.1\n${urls}  disabled: true\n`, env: {} }).config.validation, {});
    // The deprecated `enabled: true` wins over disabled, as in registry:2.
    assert.deepEqual(loadConfig({ text: `version: 0.1\n${urls}  disabled: true\n  enabled: true\n`, env: {} }).config.validation.manifestURLs?.deny, ['/private/']);
    assert.deepEqual(loadConfig({ text: 'version: 0.1\n', env: {} }).config.validation, {});
    assert.throws(() => loadConfig({ text: 'version: 0.1\nvalidation: {manifests: {urls: {deny: ["("]}}}\n', env: {} }), /validation\.manifests\.urls\.deny/);
  });
});

describe('foreign layer URLs under validation.manifests.urls', () => {
  let r: TestRegistry;
  let config: { digest: string; size: number };
  before(async () => {
    r = await startTestRegistry((c) => {
      c.validation = { manifestURLs: { allow: ['^https://mcr\\.example\\.com/'], deny: ['/private/'] } };
    });
    const bytes = Buffer.from('{"os":"windows"}');
    await pushBlob(r.url, 'win/app', bytes);
    config = { digest: sha256(bytes), size: bytes.length };
  });
  after(() => r.stop());

  const put = (tag: string, mediaType: string, layerType: string, urls: string[]) =>
    fetch(`${r.url}/v2/win/app/manifests/${tag}`, {
      method: 'PUT',
      headers: { 'Content-Type': mediaType },
      body: JSON.stringify({
        schemaVersion: 2,
        mediaType,
        config: { mediaType: mediaType === SCHEMA2 ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: layerType, digest: REMOTE, size: 1234, urls }],
      }),
    });

  it('accepts a layer whose URLs are all allowed (schema 2 and OCI)', async () => {
    assert.equal((await put('ok', SCHEMA2, FOREIGN, ['https://mcr.example.com/layer/1'])).status, 201);
    assert.equal((await put('ok-oci', OCI_MANIFEST, NONDIST, ['https://mcr.example.com/layer/1', 'https://mcr.example.com/mirror/1'])).status, 201);
  });

  for (const [why, urls] of [
    ['not matched by allow', ['https://elsewhere.example.com/layer']],
    ['matched by deny', ['https://mcr.example.com/private/layer']],
    ['one URL of two not allowed', ['https://mcr.example.com/layer', 'https://evil.example.com/layer']],
    ['not http or https', ['ftp://mcr.example.com/layer']],
    ['with a fragment', ['https://mcr.example.com/layer#x']],
  ] as const) {
    it(`refuses a URL ${why} with MANIFEST_INVALID`, async () => {
      for (const [mediaType, layerType] of [[SCHEMA2, FOREIGN], [OCI_MANIFEST, NONDIST]] as const) {
        const res = await put('bad', mediaType, layerType, [...urls]);
        assert.equal(res.status, 400);
        assert.deepEqual(await errorCodes(res), ['MANIFEST_INVALID']);
      }
      assert.equal((await fetch(`${r.url}/v2/win/app/manifests/bad`)).status, 404);
    });
  }
});

describe('foreign layer URLs without allow or deny', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry();
  });
  after(() => r.stop());

  it('accepts any URL (registry:2 would refuse all of them)', async () => {
    const bytes = Buffer.from('{"os":"windows"}');
    await pushBlob(r.url, 'win/app', bytes);
    const res = await fetch(`${r.url}/v2/win/app/manifests/any`, {
      method: 'PUT',
      headers: { 'Content-Type': SCHEMA2 },
      body: JSON.stringify({
        schemaVersion: 2,
        mediaType: SCHEMA2,
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha256(bytes), size: bytes.length },
        layers: [{ mediaType: FOREIGN, digest: REMOTE, size: 1234, urls: ['https://anywhere.example.com/layer'] }],
      }),
    });
    assert.equal(res.status, 201);
  });
});
