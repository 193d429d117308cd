import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { body, DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, errorCodes, pushBlob, pushImage, putManifest, randomBlob, sha256, startTestRegistry, type TestRegistry } from './harness.ts';

describe('PUT /v2/<name>/manifests/<reference>', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry();
  });
  after(() => r.stop());

  for (const mediaType of [OCI_MANIFEST, DOCKER_MANIFEST]) {
    it(`stores a ${mediaType.split('.').slice(-2).join('.')} by tag and serves the exact bytes`, async () => {
      const img = await pushImage(r.url, 'img/a', 'v1', { mediaType });
      const res = await fetch(`${r.url}/v2/img/a/manifests/v1`, { headers: { Accept: mediaType } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), mediaType);
      assert.equal(res.headers.get('docker-content-digest'), img.digest);
      assert.equal(res.headers.get('content-length'), String(img.size));
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), img.bytes);
      const byDigest = await fetch(`${r.url}/v2/img/a/manifests/${img.digest}`);
      assert.deepEqual(Buffer.from(await byDigest.arrayBuffer()), img.bytes);
    });
  }

  it('answers 201 with Location and Docker-Content-Digest', async () => {
    const configData = Buffer.from('{"os":"linux"}');
    const config = await pushBlob(r.url, 'img/b', configData);
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: configData.length }, layers: [] }));
    const res = await putManifest(r.url, 'img/b', 'latest', bytes, OCI_MANIFEST);
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('docker-content-digest'), sha256(bytes));
    assert.equal(res.headers.get('location'), `${r.url}/v2/img/b/manifests/${sha256(bytes)}`);
  });

  it('stores by digest when the body matches, DIGEST_INVALID when not', async () => {
    const img = await pushImage(r.url, 'img/c', 'tmp');
    const ok = await putManifest(r.url, 'img/c', img.digest, img.bytes, OCI_MANIFEST);
    assert.equal(ok.status, 201);
    const bad = await putManifest(r.url, 'img/c', randomBlob().digest, img.bytes, OCI_MANIFEST);
    assert.equal(bad.status, 400);
    assert.deepEqual(await errorCodes(bad), ['DIGEST_INVALID']);
  });

  it('refuses references to blobs the repository does not have: MANIFEST_BLOB_UNKNOWN per blob', async () => {
    const missing1 = randomBlob().digest;
    const missing2 = randomBlob().digest;
    const bytes = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: missing1, size: 1 },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: missing2, size: 1 }],
    }));
    const res = await putManifest(r.url, 'img/d', 'x', bytes, OCI_MANIFEST);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { errors: Array<{ code: string; detail: { digest: string } }> };
    assert.deepEqual(body.errors.map((e) => e.code), ['MANIFEST_BLOB_UNKNOWN', 'MANIFEST_BLOB_UNKNOWN']);
    assert.deepEqual(body.errors.map((e) => e.detail.digest).sort(), [missing1, missing2].sort());
    assert.equal((await fetch(`${r.url}/v2/img/d/manifests/x`)).status, 404);
  });

  it('refuses a blob that exists only in another repository', async () => {
    const img = await pushImage(r.url, 'img/e', 'v1');
    const res = await putManifest(r.url, 'img/other', 'v1', img.bytes, OCI_MANIFEST);
    assert.equal(res.status, 400);
    assert.deepEqual(await errorCodes(res), ['MANIFEST_BLOB_UNKNOWN', 'MANIFEST_BLOB_UNKNOWN']);
  });

  it('refuses an index whose children are not in the repository: MANIFEST_UNKNOWN', async () => {
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: randomBlob().digest, size: 10 }] }));
    const res = await putManifest(r.url, 'img/f', 'idx', bytes, OCI_INDEX);
    assert.equal(res.status, 400);
    assert.deepEqual(await errorCodes(res), ['MANIFEST_UNKNOWN']);
  });

  for (const [listType, childType] of [[OCI_INDEX, OCI_MANIFEST], [DOCKER_LIST, DOCKER_MANIFEST]] as const) {
    it(`stores a multi-platform ${listType.split('.').slice(-2).join('.')}`, async () => {
      const amd = await pushImage(r.url, 'multi/app', 'amd64', { mediaType: childType });
      const arm = await pushImage(r.url, 'multi/app', 'arm64', { mediaType: childType });
      const bytes = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: listType,
        manifests: [
          { mediaType: childType, digest: amd.digest, size: amd.size, platform: { os: 'linux', architecture: 'amd64' } },
          { mediaType: childType, digest: arm.digest, size: arm.size, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        ],
      }));
      const res = await putManifest(r.url, 'multi/app', 'latest', bytes, listType);
      assert.equal(res.status, 201);
      const get = await fetch(`${r.url}/v2/multi/app/manifests/latest`, { headers: { Accept: listType } });
      assert.equal(get.headers.get('content-type'), listType);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), bytes);
    });
  }

  it('stores an OCI artifact with artifactType and the empty config', async () => {
    const empty = Buffer.from('{}');
    const emptyDigest = await pushBlob(r.url, 'art/sbom', empty);
    assert.equal(emptyDigest, 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
    const layer = await pushBlob(r.url, 'art/sbom', Buffer.from('{"spdxVersion":"SPDX-2.3"}'));
    const bytes = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/spdx+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyDigest, size: 2 },
      layers: [{ mediaType: 'application/spdx+json', digest: layer, size: 26 }],
    }));
    const res = await putManifest(r.url, 'art/sbom', 'sbom', bytes, OCI_MANIFEST);
    assert.equal(res.status, 201);
  });

  it('sets OCI-Subject when the manifest has a subject', async () => {
    const img = await pushImage(r.url, 'subj/a', 'v1');
    const sig = await pushImage(r.url, 'subj/a', 'sig', { subject: { mediaType: OCI_MANIFEST, digest: img.digest, size: img.size }, artifactType: 'application/vnd.example.sig' });
    const res = await fetch(`${r.url}/v2/subj/a/manifests/${sig.digest}`, { method: 'PUT', headers: { 'Content-Type': OCI_MANIFEST }, body: body(sig.bytes) });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('oci-subject'), img.digest);
  });

  it('refuses malformed manifests with MANIFEST_INVALID', async () => {
    const cases: Array<[string, string]> = [
      ['{not json', OCI_MANIFEST],
      ['[]', OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST }), OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 3, mediaType: OCI_MANIFEST, config: {}, layers: [] }), OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }), OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'x', digest: 'sha256:bad', size: 1 }, layers: [] }), OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 2, config: { mediaType: 'x', digest: randomBlob().digest, size: -1 }, layers: [] }), OCI_MANIFEST],
      [JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.example.unknown' }), 'application/vnd.example.unknown'],
    ];
    for (const [body, type] of cases) {
      const res = await putManifest(r.url, 'bad/m', 'x', Buffer.from(body), type);
      assert.equal(res.status, 400, body);
      assert.deepEqual(await errorCodes(res), ['MANIFEST_INVALID'], body);
    }
  });

  it('refuses schema 1 with a clear MANIFEST_INVALID message', async () => {
    const body = JSON.stringify({ schemaVersion: 1, name: 'a/b', tag: 'x', fsLayers: [], history: [], signatures: [] });
    const res = await putManifest(r.url, 'old/s1', 'x', Buffer.from(body), 'application/vnd.docker.distribution.manifest.v1+prettyjws');
    assert.equal(res.status, 400);
    const json = (await res.json()) as { errors: Array<{ code: string; message: string }> };
    assert.equal(json.errors[0]!.code, 'MANIFEST_INVALID');
    assert.match(json.errors[0]!.message, /schema 1/);
  });

  it('refuses manifests over 4 MiB with 413', async () => {
    const huge = Buffer.alloc(4 * 1024 * 1024 + 1, 32);
    const res = await putManifest(r.url, 'big/m', 'x', huge, OCI_MANIFEST);
    assert.equal(res.status, 413);
  });

  it('refuses invalid tags with TAG_INVALID', async () => {
    const img = await pushImage(r.url, 'tags/inv', 'ok');
    for (const tag of ['.dot', '-dash', 'a'.repeat(129)]) {
      const res = await putManifest(r.url, 'tags/inv', tag, img.bytes, OCI_MANIFEST);
      assert.equal(res.status, 400, tag);
      assert.deepEqual(await errorCodes(res), ['TAG_INVALID'], tag);
    }
  });

  it('moves a tag to a new manifest on re-push', async () => {
    const one = await pushImage(r.url, 'retag/a', 'latest');
    const two = await pushImage(r.url, 'retag/a', 'latest');
    assert.notEqual(one.digest, two.digest);
    const res = await fetch(`${r.url}/v2/retag/a/manifests/latest`, { method: 'HEAD' });
    assert.equal(res.headers.get('docker-content-digest'), two.digest);
    assert.equal((await fetch(`${r.url}/v2/retag/a/manifests/${one.digest}`, { method: 'HEAD' })).status, 200);
  });
});

describe('GET/HEAD /v2/<name>/manifests/<reference>', () => {
  let r: TestRegistry;
  let img: Awaited<ReturnType<typeof pushImage>>;
  before(async () => {
    r = await startTestRegistry();
    img = await pushImage(r.url, 'get/a', 'v1');
  });
  after(() => r.stop());

  it('answers HEAD with headers and no body', async () => {
    const res = await fetch(`${r.url}/v2/get/a/manifests/v1`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(img.size));
    assert.equal(res.headers.get('docker-content-digest'), img.digest);
    assert.equal(res.headers.get('content-type'), OCI_MANIFEST);
  });

  it('answers MANIFEST_UNKNOWN for an unknown tag, digest or repository (as registry:2)', async () => {
    const tag = await fetch(`${r.url}/v2/get/a/manifests/nope`);
    assert.equal(tag.status, 404);
    assert.deepEqual(await errorCodes(tag), ['MANIFEST_UNKNOWN']);
    const digest = await fetch(`${r.url}/v2/get/a/manifests/${randomBlob().digest}`);
    assert.deepEqual(await errorCodes(digest), ['MANIFEST_UNKNOWN']);
    const repo = await fetch(`${r.url}/v2/get/nothing/manifests/v1`);
    assert.equal(repo.status, 404);
    assert.deepEqual(await errorCodes(repo), ['MANIFEST_UNKNOWN']);
  });

  it('serves the manifest bytes as a blob too, as registry:2 does', async () => {
    const res = await fetch(`${r.url}/v2/get/a/blobs/${img.digest}`);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), img.bytes);
  });

  it('answers 304 to If-None-Match', async () => {
    const res = await fetch(`${r.url}/v2/get/a/manifests/v1`, { headers: { 'If-None-Match': `"${img.digest}"` } });
    assert.equal(res.status, 304);
  });

  it('answers 304 to a list, a weak tag, * and the bare digest (registry:2 takes it unquoted) in If-None-Match', async () => {
    for (const value of [`"sha256:${'0'.repeat(64)}", "${img.digest}"`, `W/"${img.digest}"`, '*', img.digest]) {
      const res = await fetch(`${r.url}/v2/get/a/manifests/v1`, { headers: { 'If-None-Match': value } });
      assert.equal(res.status, 304, value);
    }
    const miss = await fetch(`${r.url}/v2/get/a/manifests/v1`, { headers: { 'If-None-Match': `"sha256:${'0'.repeat(64)}"` } });
    assert.equal(miss.status, 200);
    await miss.arrayBuffer();
  });
});

describe('DELETE /v2/<name>/manifests/<reference>', () => {
  it('is 405 UNSUPPORTED unless storage.delete.enabled', async () => {
    const r = await startTestRegistry((c) => {
      c.storage.delete.enabled = false;
    });
    try {
      const img = await pushImage(r.url, 'del/a', 'v1');
      const res = await fetch(`${r.url}/v2/del/a/manifests/${img.digest}`, { method: 'DELETE' });
      assert.equal(res.status, 405);
      assert.deepEqual(await errorCodes(res), ['UNSUPPORTED']);
    } finally {
      await r.stop();
    }
  });

  it('by digest removes the manifest and every tag pointing at it', async () => {
    const r = await startTestRegistry();
    try {
      const img = await pushImage(r.url, 'del/b', 'v1');
      await putManifest(r.url, 'del/b', 'v1-alias', img.bytes, OCI_MANIFEST);
      const res = await fetch(`${r.url}/v2/del/b/manifests/${img.digest}`, { method: 'DELETE' });
      assert.equal(res.status, 202);
      for (const ref of ['v1', 'v1-alias', img.digest]) assert.equal((await fetch(`${r.url}/v2/del/b/manifests/${ref}`)).status, 404, ref);
      const tags = await (await fetch(`${r.url}/v2/del/b/tags/list`)).json();
      assert.deepEqual(tags, { name: 'del/b', tags: [] });
      const again = await fetch(`${r.url}/v2/del/b/manifests/${img.digest}`, { method: 'DELETE' });
      assert.equal(again.status, 404);
      assert.deepEqual(await errorCodes(again), ['MANIFEST_UNKNOWN']);
    } finally {
      await r.stop();
    }
  });

  it('by tag removes only the tag', async () => {
    const r = await startTestRegistry();
    try {
      const img = await pushImage(r.url, 'del/c', 'v1');
      await putManifest(r.url, 'del/c', 'v2', img.bytes, OCI_MANIFEST);
      assert.equal((await fetch(`${r.url}/v2/del/c/manifests/v1`, { method: 'DELETE' })).status, 202);
      assert.equal((await fetch(`${r.url}/v2/del/c/manifests/v1`)).status, 404);
      assert.equal((await fetch(`${r.url}/v2/del/c/manifests/v2`)).status, 200);
      assert.equal((await fetch(`${r.url}/v2/del/c/manifests/${img.digest}`)).status, 200);
    } finally {
      await r.stop();
    }
  });
});

// A cluster deploy: many nodes ask for the same manifest at once, before the in-process cache has
// it. They share one read from storage instead of each opening the file.
describe('concurrent GETs of a manifest not yet cached', () => {
  it('read its bytes from storage once and all get them', async () => {
    const first = await startTestRegistry();
    const img = await pushImage(first.url, 'cold/a', 'v1');
    await first.close(); // keeps the files: a fresh server on them starts with a cold cache
    const r = await startTestRegistry((c) => (c.storage.filesystem.rootdirectory = first.root));
    try {
      const blobs = r.services.blobs;
      const real = blobs.read.bind(blobs);
      let reads = 0;
      blobs.read = async (digest, range) => {
        if (digest === img.digest) reads++;
        // Slow storage: the other requests arrive while the first read is under way.
        await new Promise((done) => setTimeout(done, 50));
        return real(digest, range);
      };
      const bodies = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const res = await fetch(`${r.url}/v2/cold/a/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
          assert.equal(res.status, 200);
          return Buffer.from(await res.arrayBuffer());
        }),
      );
      for (const b of bodies) assert.ok(b.equals(img.bytes));
      assert.equal(reads, 1);
    } finally {
      await r.stop();
    }
  });
});
