// Differential: base endpoint, blob reads, every upload flavour, mount and blob delete,
// sent identically to distribution 2.8.2 and to berth (see harness.ts for what is compared).
import { after, before, describe, it } from 'node:test';
import { randomBytes, randomUUID } from 'node:crypto';
import { compare, digestOf, pushBlob, startPair, withQuery, type Pair, needsDistribution } from './harness.ts';

// Content is generated once so both registries receive byte-identical requests.
const A = randomBytes(1000);
const B = randomBytes(2500);
const C = randomBytes(777);
const dA = digestOf(A);
const dB = digestOf(B);
const dC = digestOf(C);
const dMissing = digestOf(randomBytes(16));
const EMPTY = Buffer.alloc(0);
const octet = { 'Content-Type': 'application/octet-stream' };

describe('differential: blobs and uploads', needsDistribution, () => {
  let pair: Pair;
  before(async () => {
    pair = await startPair();
  });
  after(async () => {
    await pair?.stop();
  });

  it('base endpoint', () =>
    compare(pair, 'base', async (r) => {
      await r.call('get-v2', { method: 'GET', path: '/v2/' });
      await r.call('head-v2', { method: 'HEAD', path: '/v2/' });
    }));

  it('blob HEAD/GET unknown and known, ranged GET', () =>
    compare(pair, 'blob-read', async (r) => {
      await r.call('head-unknown-repo', { method: 'HEAD', path: `/v2/br/img/blobs/${dA}` });
      await r.call('get-unknown-repo', { method: 'GET', path: `/v2/br/img/blobs/${dA}` });
      await pushBlob(r, 'seed', 'br/img', A);
      await r.call('head-unknown', { method: 'HEAD', path: `/v2/br/img/blobs/${dMissing}` });
      await r.call('get-unknown', { method: 'GET', path: `/v2/br/img/blobs/${dMissing}` });
      await r.call('head-known', { method: 'HEAD', path: `/v2/br/img/blobs/${dA}` });
      await r.call('get-known', { method: 'GET', path: `/v2/br/img/blobs/${dA}` });
      await r.call('get-other-repo', { method: 'GET', path: `/v2/br/other/blobs/${dA}` });
      await r.call('get-invalid-digest', { method: 'GET', path: '/v2/br/img/blobs/sha256:abc' });
      const range = (id: string, value: string) =>
        r.call(id, { method: 'GET', path: `/v2/br/img/blobs/${dA}`, headers: { Range: value } });
      await range('range-first-100', 'bytes=0-99');
      await range('range-middle', 'bytes=100-199');
      await range('range-open-end', 'bytes=990-');
      await range('range-suffix', 'bytes=-10');
      await range('range-past-end', 'bytes=900-5000');
      await range('range-unsatisfiable', 'bytes=5000-6000');
    }));

  it('monolithic uploads: POST?digest, POST+PUT, wrong digest, empty blob', () =>
    compare(pair, 'upload-monolithic', async (r) => {
      const base = '/v2/up/mono/blobs/uploads/';
      await r.call('post-digest', { method: 'POST', path: `${base}?digest=${dB}`, headers: octet, body: B });
      await r.call('head-after-post-digest', { method: 'HEAD', path: `/v2/up/mono/blobs/${dB}` });
      await r.call('post-digest-wrong', { method: 'POST', path: `${base}?digest=${dMissing}`, headers: octet, body: C });
      const started = await r.call('post', { method: 'POST', path: base });
      await r.call('put', { method: 'PUT', path: withQuery(started.headers.location, { digest: dC }), headers: octet, body: C });
      await r.call('head-after-put', { method: 'HEAD', path: `/v2/up/mono/blobs/${dC}` });

      const wrong = await r.call('post-2', { method: 'POST', path: base });
      await r.call('put-wrong-digest', { method: 'PUT', path: withQuery(wrong.headers.location, { digest: dMissing }), headers: octet, body: A });
      await r.call('head-wrong-digest', { method: 'HEAD', path: `/v2/up/mono/blobs/${dMissing}` });

      const nodigest = await r.call('post-3', { method: 'POST', path: base });
      await r.call('put-no-digest', { method: 'PUT', path: withQuery(nodigest.headers.location, {}), headers: octet, body: A });

      const empty = await r.call('post-4', { method: 'POST', path: base });
      await r.call('put-empty', { method: 'PUT', path: withQuery(empty.headers.location, { digest: digestOf(EMPTY) }), body: EMPTY });
      await r.call('get-empty', { method: 'GET', path: `/v2/up/mono/blobs/${digestOf(EMPTY)}` });
    }));

  it('chunked upload with Content-Range, status, final PUT with the last chunk', () =>
    compare(pair, 'upload-chunked', async (r) => {
      const started = await r.call('post', { method: 'POST', path: '/v2/up/chunked/blobs/uploads/' });
      const p1 = await r.call('patch-1', {
        method: 'PATCH',
        path: withQuery(started.headers.location, {}),
        headers: { ...octet, 'Content-Range': '0-999' },
        body: B.subarray(0, 1000),
      });
      const p2 = await r.call('patch-2', {
        method: 'PATCH',
        path: withQuery(p1.headers.location, {}),
        headers: { ...octet, 'Content-Range': '1000-1999' },
        body: B.subarray(1000, 2000),
      });
      await r.call('status', { method: 'GET', path: withQuery(p2.headers.location, {}) });
      await r.call('put-last-chunk', {
        method: 'PUT',
        path: withQuery(p2.headers.location, { digest: dB }),
        headers: { ...octet, 'Content-Range': '2000-2499' },
        body: B.subarray(2000),
      });
      await r.call('get', { method: 'GET', path: `/v2/up/chunked/blobs/${dB}` });
    }));

  it('chunk out of order', () =>
    compare(pair, 'upload-out-of-order', async (r) => {
      const started = await r.call('post', { method: 'POST', path: '/v2/up/ooo/blobs/uploads/' });
      const p1 = await r.call('patch-1', {
        method: 'PATCH',
        path: withQuery(started.headers.location, {}),
        headers: { ...octet, 'Content-Range': '0-99' },
        body: A.subarray(0, 100),
      });
      const gap = await r.call('patch-gap', {
        method: 'PATCH',
        path: withQuery(p1.headers.location, {}),
        headers: { ...octet, 'Content-Range': '200-299' },
        body: A.subarray(200, 300),
      });
      // Distribution's Location carries a state token that the accepted gap chunk made stale.
      await r.call('cancel', { method: 'DELETE', path: withQuery(gap.headers.location ?? p1.headers.location, {}) });
    }));

  it('streamed PATCH (chunked transfer, no Content-Range) then PUT without body', () =>
    compare(pair, 'upload-streamed', async (r) => {
      const started = await r.call('post', { method: 'POST', path: '/v2/up/stream/blobs/uploads/' });
      const p = await r.call('patch-stream', {
        method: 'PATCH',
        path: withQuery(started.headers.location, {}),
        headers: octet,
        body: [C.subarray(0, 300), C.subarray(300, 600), C.subarray(600)],
      });
      await r.call('status', { method: 'GET', path: withQuery(p.headers.location, {}) });
      await r.call('put', { method: 'PUT', path: withQuery(p.headers.location, { digest: dC }), body: EMPTY });
      await r.call('head', { method: 'HEAD', path: `/v2/up/stream/blobs/${dC}` });
    }));

  it('upload status, cancel, unknown upload', () =>
    compare(pair, 'upload-status-cancel', async (r) => {
      const started = await r.call('post', { method: 'POST', path: '/v2/up/cancel/blobs/uploads/' });
      const loc = withQuery(started.headers.location, {});
      await r.call('status-empty', { method: 'GET', path: loc });
      await r.call('cancel', { method: 'DELETE', path: loc });
      await r.call('status-after-cancel', { method: 'GET', path: loc });
      await r.call('patch-after-cancel', { method: 'PATCH', path: loc, headers: octet, body: A });
      await r.call('put-after-cancel', { method: 'PUT', path: withQuery(loc, { digest: dA }), headers: octet, body: A });
      const unknown = `/v2/up/cancel/blobs/uploads/${randomUUID()}`;
      await r.call('status-unknown', { method: 'GET', path: unknown });
      await r.call('cancel-unknown', { method: 'DELETE', path: unknown });
    }));

  it('cross-repository mount: known blob, unknown blob, unknown source repo', () =>
    compare(pair, 'mount', async (r) => {
      await pushBlob(r, 'seed', 'mnt/src', A);
      await r.call('mount-known', { method: 'POST', path: `/v2/mnt/dst/blobs/uploads/?mount=${dA}&from=mnt/src` });
      await r.call('head-mounted', { method: 'HEAD', path: `/v2/mnt/dst/blobs/${dA}` });
      await r.call('mount-unknown-blob', { method: 'POST', path: `/v2/mnt/dst2/blobs/uploads/?mount=${dMissing}&from=mnt/src` });
      await r.call('mount-unknown-repo', { method: 'POST', path: `/v2/mnt/dst3/blobs/uploads/?mount=${dA}&from=mnt/nothing` });
      await r.call('head-not-mounted', { method: 'HEAD', path: `/v2/mnt/dst3/blobs/${dA}` });
      // OCI 1.1 automatic content discovery: mount without from.
      await r.call('mount-no-from', { method: 'POST', path: `/v2/mnt/dst4/blobs/uploads/?mount=${dA}` });
      await r.call('head-mounted-no-from', { method: 'HEAD', path: `/v2/mnt/dst4/blobs/${dA}` });
      await r.call('mount-no-from-unknown-blob', { method: 'POST', path: `/v2/mnt/dst5/blobs/uploads/?mount=${dMissing}` });
    }));

  it('paths that are no route, and methods a route does not have', () =>
    compare(pair, 'no-route', async (r) => {
      await r.call('get-name-unknown-endpoint', { method: 'GET', path: '/v2/nr/img/unknown' });
      await r.call('head-name-unknown-endpoint', { method: 'HEAD', path: '/v2/nr/img/unknown' });
      await r.call('get-underscore', { method: 'GET', path: '/v2/_unknown' });
      await r.call('patch-manifest', { method: 'PATCH', path: '/v2/nr/img/manifests/latest' });
    }));

  it('blob DELETE', () =>
    compare(pair, 'blob-delete', async (r) => {
      await pushBlob(r, 'seed', 'del/blob', B);
      await r.call('delete', { method: 'DELETE', path: `/v2/del/blob/blobs/${dB}` });
      await r.call('head-after', { method: 'HEAD', path: `/v2/del/blob/blobs/${dB}` });
      await r.call('get-after', { method: 'GET', path: `/v2/del/blob/blobs/${dB}` });
      await r.call('delete-again', { method: 'DELETE', path: `/v2/del/blob/blobs/${dB}` });
      await r.call('delete-unknown', { method: 'DELETE', path: `/v2/del/blob/blobs/${dMissing}` });
      await r.call('delete-invalid-digest', { method: 'DELETE', path: '/v2/del/blob/blobs/sha256:xyz' });
    }));
});
