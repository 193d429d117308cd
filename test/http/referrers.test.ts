import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OCI_INDEX, OCI_MANIFEST, errorCodes, pushImage, randomBlob, startTestRegistry, type TestRegistry } from './harness.ts';

describe('GET /v2/<name>/referrers/<digest>', () => {
  let r: TestRegistry;
  let subject: Awaited<ReturnType<typeof pushImage>>;
  let sig: Awaited<ReturnType<typeof pushImage>>;
  let sbom: Awaited<ReturnType<typeof pushImage>>;
  before(async () => {
    r = await startTestRegistry();
    subject = await pushImage(r.url, 'ref/app', 'v1');
    const desc = { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size };
    sig = await pushImage(r.url, 'ref/app', 'sig', { subject: desc, artifactType: 'application/vnd.example.signature' });
    sbom = await pushImage(r.url, 'ref/app', 'sbom', { subject: desc, artifactType: 'application/spdx+json' });
  });
  after(() => r.stop());

  it('lists every manifest whose subject is the digest, as an image index', async () => {
    const res = await fetch(`${r.url}/v2/ref/app/referrers/${subject.digest}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), OCI_INDEX);
    const body = (await res.json()) as { schemaVersion: number; mediaType: string; manifests: Array<{ digest: string; artifactType: string; size: number; mediaType: string }> };
    assert.equal(body.schemaVersion, 2);
    assert.equal(body.mediaType, OCI_INDEX);
    assert.deepEqual(body.manifests.map((m) => m.digest).sort(), [sig.digest, sbom.digest].sort());
    const s = body.manifests.find((m) => m.digest === sig.digest)!;
    assert.equal(s.artifactType, 'application/vnd.example.signature');
    assert.equal(s.size, sig.size);
    assert.equal(s.mediaType, OCI_MANIFEST);
  });

  it('filters by artifactType and says so in OCI-Filters-Applied', async () => {
    const res = await fetch(`${r.url}/v2/ref/app/referrers/${subject.digest}?artifactType=application/spdx%2Bjson`);
    assert.equal(res.headers.get('oci-filters-applied'), 'artifactType');
    const body = (await res.json()) as { manifests: Array<{ digest: string }> };
    assert.deepEqual(body.manifests.map((m) => m.digest), [sbom.digest]);
  });

  it('answers an empty index (never 404) for unknown subjects and repositories', async () => {
    for (const path of [`/v2/ref/app/referrers/${randomBlob().digest}`, `/v2/ref/none/referrers/${subject.digest}`]) {
      const res = await fetch(`${r.url}${path}`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    }
  });

  it('drops a referrer once it is deleted', async () => {
    await fetch(`${r.url}/v2/ref/app/manifests/${sig.digest}`, { method: 'DELETE' });
    const body = (await (await fetch(`${r.url}/v2/ref/app/referrers/${subject.digest}`)).json()) as { manifests: Array<{ digest: string }> };
    assert.deepEqual(body.manifests.map((m) => m.digest), [sbom.digest]);
  });

  it('answers 400 DIGEST_INVALID for a malformed digest', async () => {
    const res = await fetch(`${r.url}/v2/ref/app/referrers/sha256:nope`);
    assert.equal(res.status, 400);
    assert.deepEqual(await errorCodes(res), ['DIGEST_INVALID']);
  });
});
