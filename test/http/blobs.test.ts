import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errorCodes, pushBlob, randomBlob, startTestRegistry, type TestRegistry } from './harness.ts';

describe('GET/HEAD /v2/<name>/blobs/<digest>', () => {
  let r: TestRegistry;
  const blob = randomBlob(10_000);
  before(async () => {
    r = await startTestRegistry();
    await pushBlob(r.url, 'lib/alpine', blob.data);
  });
  after(() => r.stop());

  it('streams the blob with Content-Length, Docker-Content-Digest and ETag', async () => {
    const res = await fetch(`${r.url}/v2/lib/alpine/blobs/${blob.digest}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), '10000');
    assert.equal(res.headers.get('docker-content-digest'), blob.digest);
    assert.equal(res.headers.get('etag'), `"${blob.digest}"`);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), blob.data);
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await fetch(`${r.url}/v2/lib/alpine/blobs/${blob.digest}`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), '10000');
    assert.equal(res.headers.get('docker-content-digest'), blob.digest);
    assert.equal((await res.arrayBuffer()).byteLength, 0);
  });

  it('serves byte ranges with 206 and Content-Range', async () => {
    const cases: Array<[string, number, number]> = [
      ['bytes=0-0', 0, 0],
      ['bytes=100-199', 100, 199],
      ['bytes=9990-', 9990, 9999],
      ['bytes=-10', 9990, 9999],
      ['bytes=9000-20000', 9000, 9999],
    ];
    for (const [range, start, end] of cases) {
      const res = await fetch(`${r.url}/v2/lib/alpine/blobs/${blob.digest}`, { headers: { Range: range } });
      assert.equal(res.status, 206, range);
      assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/10000`, range);
      assert.equal(res.headers.get('content-length'), String(end - start + 1), range);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), blob.data.subarray(start, end + 1), range);
    }
  });

  it('answers 416 with Content-Range */size for unsatisfiable ranges', async () => {
    for (const range of ['bytes=10000-', 'bytes=20000-30000', 'bytes=-0', 'bytes=500-100']) {
      const res = await fetch(`${r.url}/v2/lib/alpine/blobs/${blob.digest}`, { headers: { Range: range } });
      assert.equal(res.status, 416, range);
      assert.equal(res.headers.get('content-range'), 'bytes */10000', range);
      await res.arrayBuffer();
    }
  });

  it('answers 304 to If-None-Match with the ETag', async () => {
    const res = await fetch(`${r.url}/v2/lib/alpine/blobs/${blob.digest}`, { headers: { 'If-None-Match': `"${blob.digest}"` } });
    assert.equal(res.status, 304);
  });

  it('compares If-None-Match as RFC 9110 says: a list, weak tags and * match too (as registry:2)', async () => {
    const other = `"${randomBlob().digest}"`;
    for (const value of [`W/"${blob.digest}"`, `${other}, "${blob.digest}"`, `${other},W/"${blob.digest}"`, '*']) {
      const res = await fetch(`${r.url}/v2/lib/alpine/blobs/${blob.digest}`, { headers: { 'If-None-Match': value } });
      assert.equal(res.status, 304, value);
      await res.arrayBuffer();
    }
    const miss = await fetch(`${r.url}/v2/lib/alpine/blobs/${blob.digest}`, { headers: { 'If-None-Match': `${other}, W/${other}` } });
    assert.equal(miss.status, 200);
    await miss.arrayBuffer();
  });

  it('answers BLOB_UNKNOWN for an unknown blob', async () => {
    const res = await fetch(`${r.url}/v2/lib/alpine/blobs/${randomBlob().digest}`);
    assert.equal(res.status, 404);
    assert.deepEqual(await errorCodes(res), ['BLOB_UNKNOWN']);
  });

  it('does not serve a blob through a repository it was not pushed to', async () => {
    const res = await fetch(`${r.url}/v2/other/repo/blobs/${blob.digest}`);
    assert.equal(res.status, 404);
    assert.deepEqual(await errorCodes(res), ['BLOB_UNKNOWN']);
  });

  it('answers DIGEST_INVALID for malformed digests and unsupported algorithms', async () => {
    for (const d of ['sha256:abc', 'md5:d41d8cd98f00b204e9800998ecf8427e', `sha256:${'G'.repeat(64)}`, 'nodigest']) {
      const res = await fetch(`${r.url}/v2/lib/alpine/blobs/${d}`);
      assert.equal(res.status, 400, d);
      assert.deepEqual(await errorCodes(res), ['DIGEST_INVALID'], d);
    }
  });

  it('stores and serves sha512 blobs', async () => {
    const { createHash } = await import('node:crypto');
    const data = Buffer.from('sha512 content');
    const digest = `sha512:${createHash('sha512').update(data).digest('hex')}`;
    const put = await fetch(`${r.url}/v2/lib/alpine/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data });
    assert.equal(put.status, 201);
    const res = await fetch(`${r.url}/v2/lib/alpine/blobs/${digest}`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'sha512 content');
  });
});

describe('DELETE /v2/<name>/blobs/<digest>', () => {
  it('is 405 UNSUPPORTED unless storage.delete.enabled', async () => {
    const r = await startTestRegistry((c) => {
      c.storage.delete.enabled = false;
    });
    try {
      const digest = await pushBlob(r.url, 'a/b', Buffer.from('x'));
      const res = await fetch(`${r.url}/v2/a/b/blobs/${digest}`, { method: 'DELETE' });
      assert.equal(res.status, 405);
      assert.deepEqual(await errorCodes(res), ['UNSUPPORTED']);
      assert.equal((await fetch(`${r.url}/v2/a/b/blobs/${digest}`, { method: 'HEAD' })).status, 200);
    } finally {
      await r.stop();
    }
  });

  it('unlinks the blob from the repository with 202, then 404', async () => {
    const r = await startTestRegistry();
    try {
      const digest = await pushBlob(r.url, 'a/b', Buffer.from('y'));
      await pushBlob(r.url, 'c/d', Buffer.from('y'));
      const res = await fetch(`${r.url}/v2/a/b/blobs/${digest}`, { method: 'DELETE' });
      assert.equal(res.status, 202);
      assert.equal((await fetch(`${r.url}/v2/a/b/blobs/${digest}`, { method: 'HEAD' })).status, 404);
      // Another repository's link is untouched.
      assert.equal((await fetch(`${r.url}/v2/c/d/blobs/${digest}`, { method: 'HEAD' })).status, 200);
      const again = await fetch(`${r.url}/v2/a/b/blobs/${digest}`, { method: 'DELETE' });
      assert.equal(again.status, 404);
      assert.deepEqual(await errorCodes(again), ['BLOB_UNKNOWN']);
    } finally {
      await r.stop();
    }
  });
});
