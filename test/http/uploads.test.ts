import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { body, errorCodes, pushBlob, randomBlob, sha256, startTestRegistry, type TestRegistry } from './harness.ts';

async function start(r: TestRegistry, name: string): Promise<string> {
  const res = await fetch(`${r.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  assert.equal(res.status, 202);
  return res.headers.get('location')!;
}

async function patch(location: string, data: Buffer, range?: string): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
  if (range) headers['Content-Range'] = range;
  return fetch(location, { method: 'PATCH', headers, body: body(data) });
}

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

describe('POST /v2/<name>/blobs/uploads/', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry();
  });
  after(() => r.stop());

  it('starts a session: 202 with absolute Location, Range 0-0 and Docker-Upload-UUID', async () => {
    const res = await fetch(`${r.url}/v2/lib/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(res.status, 202);
    const uuid = res.headers.get('docker-upload-uuid')!;
    assert.match(uuid, /^[0-9a-f-]{36}$/);
    const location = new URL(res.headers.get('location')!);
    assert.equal(`${location.origin}${location.pathname}`, `${r.url}/v2/lib/app/blobs/uploads/${uuid}`);
    assert.deepEqual([...location.searchParams.keys()], ['_state']);
    assert.equal(res.headers.get('range'), '0-0');
    assert.equal(res.headers.get('content-length'), '0');
  });

  it('does a monolithic upload with ?digest= in one request (201)', async () => {
    const blob = randomBlob(4096);
    const res = await fetch(`${r.url}/v2/lib/app/blobs/uploads/?digest=${blob.digest}`, { method: 'POST', body: body(blob.data) });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('location'), `${r.url}/v2/lib/app/blobs/${blob.digest}`);
    assert.equal(res.headers.get('docker-content-digest'), blob.digest);
    const get = await fetch(`${r.url}/v2/lib/app/blobs/${blob.digest}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), blob.data);
  });

  it('refuses a monolithic upload whose digest does not match, storing nothing', async () => {
    const blob = randomBlob(100);
    const wrong = randomBlob(1).digest;
    const uploadsBefore = await readdir(join(r.root, 'uploads'));
    const res = await fetch(`${r.url}/v2/lib/app/blobs/uploads/?digest=${wrong}`, { method: 'POST', body: body(blob.data) });
    assert.equal(res.status, 400);
    assert.deepEqual(await errorCodes(res), ['DIGEST_INVALID']);
    for (const d of [wrong, blob.digest]) assert.equal((await fetch(`${r.url}/v2/lib/app/blobs/${d}`, { method: 'HEAD' })).status, 404);
    assert.deepEqual(await readdir(join(r.root, 'uploads')), uploadsBefore);
  });

  it('refuses a single-POST upload with a malformed or empty digest before opening a session', async () => {
    // The client never learns the id of a session opened here, so it could never finish or cancel it.
    const uploadsBefore = await readdir(join(r.root, 'uploads'));
    for (const digest of ['sha256:abc', '', 'md5:0123456789abcdef0123456789abcdef']) {
      const res = await fetch(`${r.url}/v2/lib/app/blobs/uploads/?digest=${encodeURIComponent(digest)}`, { method: 'POST', body: body(Buffer.from('bytes')) });
      assert.equal(res.status, 400, digest);
      assert.deepEqual(await errorCodes(res), ['DIGEST_INVALID'], digest);
    }
    assert.deepEqual(await readdir(join(r.root, 'uploads')), uploadsBefore);
  });

  it('honours http.host and X-Forwarded-Proto/Host in Location', async () => {
    const res = await fetch(`${r.url}/v2/lib/app/blobs/uploads/`, { method: 'POST', headers: { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'registry.example.com:5043' } });
    assert.match(res.headers.get('location')!, /^https:\/\/registry\.example\.com:5043\/v2\/lib\/app\/blobs\/uploads\//);
    const r2 = await startTestRegistry((c) => {
      c.http.host = 'https://docker.example.com';
    });
    try {
      const res2 = await fetch(`${r2.url}/v2/lib/app/blobs/uploads/`, { method: 'POST' });
      assert.match(res2.headers.get('location')!, /^https:\/\/docker\.example\.com\/v2\/lib\/app\/blobs\/uploads\//);
    } finally {
      await r2.stop();
    }
  });

  it('advertises OCI-Chunk-Min-Length when configured', async () => {
    const r2 = await startTestRegistry((c) => {
      c.berth.upload.chunkMinLength = 5 * 1024 * 1024;
    });
    try {
      const res = await fetch(`${r2.url}/v2/lib/app/blobs/uploads/`, { method: 'POST' });
      assert.equal(res.headers.get('oci-chunk-min-length'), String(5 * 1024 * 1024));
    } finally {
      await r2.stop();
    }
  });
});

describe('chunked and streamed uploads (PATCH, PUT, GET, DELETE)', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry();
  });
  after(() => r.stop());

  it('accepts in-order chunks with Content-Range and completes with PUT ?digest=', async () => {
    const blob = randomBlob(3000);
    let location = await start(r, 'chunks/a');
    const parts: Array<[number, number]> = [[0, 999], [1000, 1999], [2000, 2999]];
    for (const [s, e] of parts) {
      const res = await patch(location, blob.data.subarray(s, e + 1), `${s}-${e}`);
      assert.equal(res.status, 202);
      assert.equal(res.headers.get('range'), `0-${e}`);
      assert.ok(res.headers.get('docker-upload-uuid'));
      location = res.headers.get('location')!;
    }
    const put = await fetch(withDigest(location, blob.digest), { method: 'PUT' });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('docker-content-digest'), blob.digest);
    const get = await fetch(`${r.url}/v2/chunks/a/blobs/${blob.digest}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), blob.data);
  });

  it('answers 416 to an out-of-order chunk and keeps the upload usable', async () => {
    const blob = randomBlob(2000);
    const location = await start(r, 'chunks/b');
    assert.equal((await patch(location, blob.data.subarray(0, 1000), '0-999')).status, 202);
    const skip = await patch(location, blob.data.subarray(1500), '1500-1999');
    assert.equal(skip.status, 416);
    assert.equal(skip.headers.get('range'), '0-999');
    const overlap = await patch(location, blob.data.subarray(500, 1000), '500-999');
    assert.equal(overlap.status, 416);
    assert.equal((await patch(location, blob.data.subarray(1000), '1000-1999')).status, 202);
    const put = await fetch(withDigest(location, blob.digest), { method: 'PUT' });
    assert.equal(put.status, 201);
  });

  it('answers 416 when Content-Length disagrees with Content-Range', async () => {
    const location = await start(r, 'chunks/c');
    const res = await patch(location, Buffer.alloc(10), '0-19');
    assert.equal(res.status, 416);
  });

  it('accepts streamed PATCHes without Content-Range', async () => {
    const blob = randomBlob(5000);
    const location = await start(r, 'stream/a');
    assert.equal((await patch(location, blob.data.subarray(0, 2500))).status, 202);
    const second = await patch(location, blob.data.subarray(2500));
    assert.equal(second.headers.get('range'), '0-4999');
    const put = await fetch(withDigest(location, blob.digest), { method: 'PUT' });
    assert.equal(put.status, 201);
  });

  it('accepts the final chunk in the PUT body', async () => {
    const blob = randomBlob(1000);
    const location = await start(r, 'stream/b');
    await patch(location, blob.data.subarray(0, 600));
    const put = await fetch(withDigest(location, blob.digest), { method: 'PUT', body: body(blob.data.subarray(600)), headers: { 'Content-Range': '600-999' } });
    assert.equal(put.status, 201);
    const get = await fetch(`${r.url}/v2/stream/b/blobs/${blob.digest}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), blob.data);
  });

  it('accepts a zero-length blob', async () => {
    const digest = sha256(Buffer.alloc(0));
    const location = await start(r, 'stream/empty');
    const put = await fetch(withDigest(location, digest), { method: 'PUT' });
    assert.equal(put.status, 201);
    const get = await fetch(`${r.url}/v2/stream/empty/blobs/${digest}`);
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('content-length'), '0');
  });

  it('reports progress with GET: 204, Range and Docker-Upload-UUID (resumable upload)', async () => {
    const blob = randomBlob(1500);
    const location = await start(r, 'resume/a');
    await patch(location, blob.data.subarray(0, 700), '0-699');
    const status = await fetch(location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-699');
    assert.ok(status.headers.get('docker-upload-uuid'));
    // Resume from where the registry says the upload ends.
    const offset = Number(status.headers.get('range')!.split('-')[1]) + 1;
    assert.equal((await patch(location, blob.data.subarray(offset), `${offset}-1499`)).status, 202);
    assert.equal((await fetch(withDigest(location, blob.digest), { method: 'PUT' })).status, 201);
  });

  it('refuses PUT with a wrong digest: DIGEST_INVALID and nothing stored', async () => {
    const blob = randomBlob(100);
    const location = await start(r, 'bad/a');
    await patch(location, blob.data);
    const wrong = randomBlob(5).digest;
    const put = await fetch(withDigest(location, wrong), { method: 'PUT' });
    assert.equal(put.status, 400);
    assert.deepEqual(await errorCodes(put), ['DIGEST_INVALID']);
    assert.equal((await fetch(`${r.url}/v2/bad/a/blobs/${wrong}`, { method: 'HEAD' })).status, 404);
    assert.equal((await fetch(`${r.url}/v2/bad/a/blobs/${blob.digest}`, { method: 'HEAD' })).status, 404);
  });

  it('refuses PUT without a digest with DIGEST_INVALID', async () => {
    const location = await start(r, 'bad/b');
    const put = await fetch(location, { method: 'PUT' });
    assert.equal(put.status, 400);
    assert.deepEqual(await errorCodes(put), ['DIGEST_INVALID']);
  });

  it('cancels with DELETE (204), after which the session is unknown', async () => {
    const location = await start(r, 'cancel/a');
    await patch(location, Buffer.from('abc'));
    const del = await fetch(location, { method: 'DELETE' });
    assert.equal(del.status, 204);
    const after = await fetch(location);
    assert.equal(after.status, 404);
    assert.deepEqual(await errorCodes(after), ['BLOB_UPLOAD_UNKNOWN']);
  });

  it('answers BLOB_UPLOAD_UNKNOWN for unknown sessions and for a session of another repository', async () => {
    const unknown = await patch(`${r.url}/v2/x/y/blobs/uploads/00000000-0000-0000-0000-000000000000`, Buffer.from('a'));
    assert.equal(unknown.status, 404);
    assert.deepEqual(await errorCodes(unknown), ['BLOB_UPLOAD_UNKNOWN']);
    const location = await start(r, 'owner/repo');
    // With its _state token the URL names owner/repo: refused as invalid (as registry:2 does)...
    const stolen = await fetch(location.replace('/owner/repo/', '/thief/repo/'));
    assert.equal(stolen.status, 400);
    assert.deepEqual(await errorCodes(stolen), ['BLOB_UPLOAD_INVALID']);
    // ...and without it, the session is simply not one of thief/repo's.
    const bare = new URL(location.replace('/owner/repo/', '/thief/repo/'));
    bare.search = '';
    const unknownHere = await fetch(bare.href);
    assert.equal(unknownHere.status, 404);
    assert.deepEqual(await errorCodes(unknownHere), ['BLOB_UPLOAD_UNKNOWN']);
  });

  it('stores one copy when the same blob is pushed concurrently', async () => {
    const blob = randomBlob(200_000);
    const uploadsBefore = await readdir(join(r.root, 'uploads'));
    const results = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const location = await start(r, `same/blob${i % 2}`);
        await patch(location, blob.data.subarray(0, 100_000));
        await patch(location, blob.data.subarray(100_000));
        return (await fetch(withDigest(location, blob.digest), { method: 'PUT' })).status;
      }),
    );
    assert.deepEqual(results, Array(8).fill(201));
    // Content addressing keeps one file; no upload is left behind (the duplicates' files go after
    // their 201, without the client waiting for the unlink).
    const hex = blob.digest.slice(7);
    assert.ok((await readdir(join(r.root, 'blobs', 'sha256', hex.slice(0, 2)))).includes(hex));
    let uploadsAfter = await readdir(join(r.root, 'uploads'));
    for (let i = 0; i < 50 && uploadsAfter.length > uploadsBefore.length; i++) {
      await new Promise((done) => setTimeout(done, 20));
      uploadsAfter = await readdir(join(r.root, 'uploads'));
    }
    assert.deepEqual(uploadsAfter, uploadsBefore);
    for (const repo of ['same/blob0', 'same/blob1']) {
      const get = await fetch(`${r.url}/v2/${repo}/blobs/${blob.digest}`);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), blob.data);
    }
  });

  it('rehashes from storage when the in-memory hash state is gone (restart)', async () => {
    const blob = randomBlob(3000);
    const location = await start(r, 'restart/a');
    await patch(location, blob.data.subarray(0, 1000));
    r.services.uploadHashes.forget(new URL(location).pathname.split('/').pop()!);
    await patch(location, blob.data.subarray(1000));
    assert.equal((await fetch(withDigest(location, blob.digest), { method: 'PUT' })).status, 201);
  });
});

describe('cross-repository mount (POST ?mount=&from=)', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry();
  });
  after(() => r.stop());

  it('links an existing blob into the target repository with 201', async () => {
    const blob = randomBlob(300);
    await pushBlob(r.url, 'source/repo', blob.data);
    const res = await fetch(`${r.url}/v2/target/repo/blobs/uploads/?mount=${blob.digest}&from=source/repo`, { method: 'POST' });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('location'), `${r.url}/v2/target/repo/blobs/${blob.digest}`);
    assert.equal(res.headers.get('docker-content-digest'), blob.digest);
    assert.equal((await fetch(`${r.url}/v2/target/repo/blobs/${blob.digest}`, { method: 'HEAD' })).status, 200);
  });

  it('falls back to a new upload session (202) when the source does not have the blob', async () => {
    const blob = randomBlob(300);
    await pushBlob(r.url, 'elsewhere/repo', blob.data);
    const res = await fetch(`${r.url}/v2/target/repo/blobs/uploads/?mount=${blob.digest}&from=source/repo`, { method: 'POST' });
    assert.equal(res.status, 202);
    assert.ok(res.headers.get('docker-upload-uuid'));
    assert.equal((await fetch(`${r.url}/v2/target/repo/blobs/${blob.digest}`, { method: 'HEAD' })).status, 404);
  });

  it('falls back to a new session when from= is missing', async () => {
    const res = await fetch(`${r.url}/v2/target/repo/blobs/uploads/?mount=${randomBlob().digest}`, { method: 'POST' });
    assert.equal(res.status, 202);
  });

  it('rejects a malformed mount digest and an invalid from name', async () => {
    const bad = await fetch(`${r.url}/v2/target/repo/blobs/uploads/?mount=sha256:zz&from=source/repo`, { method: 'POST' });
    assert.equal(bad.status, 400);
    assert.deepEqual(await errorCodes(bad), ['DIGEST_INVALID']);
    const badName = await fetch(`${r.url}/v2/target/repo/blobs/uploads/?mount=${randomBlob().digest}&from=Bad..Name`, { method: 'POST' });
    assert.equal(badName.status, 400);
    assert.deepEqual(await errorCodes(badName), ['NAME_INVALID']);
  });
});

describe('signed upload state (_state in Location, http.secret)', () => {
  const SECRET = 'shared-replica-secret';
  let a: TestRegistry;
  let b: TestRegistry;
  let other: TestRegistry;
  before(async () => {
    a = await startTestRegistry((c) => {
      c.http.secret = SECRET;
    });
    // b and other serve the same storage root and database as a, like replicas behind a balancer.
    b = await startTestRegistry((c) => {
      c.http.secret = SECRET;
      c.storage.filesystem.rootdirectory = a.root;
    });
    other = await startTestRegistry((c) => {
      c.http.secret = 'a-different-secret';
      c.storage.filesystem.rootdirectory = a.root;
    });
  });
  after(async () => {
    await other.close();
    await b.close();
    await a.stop();
  });

  const onServer = (location: string, server: TestRegistry) => {
    const u = new URL(location);
    return `${server.url}${u.pathname}${u.search}`;
  };

  it('puts a signed _state in every upload Location', async () => {
    const location = await start(a, 'state/one');
    const state = new URL(location).searchParams.get('_state');
    assert.match(state ?? '', /^[\w-]+\.[\w-]+$/);
    const res = await patch(location, Buffer.from('abc'));
    assert.equal(res.status, 202);
    assert.notEqual(new URL(res.headers.get('location')!).searchParams.get('_state'), state, 'the token follows the offset');
  });

  it('lets a replica with the same http.secret continue an upload begun on another', async () => {
    const blob = randomBlob(3000);
    let location = await start(a, 'state/two');
    let res = await patch(onServer(location, b), blob.data.subarray(0, 1000), '0-999');
    assert.equal(res.status, 202);
    location = res.headers.get('location')!;
    res = await patch(onServer(location, a), blob.data.subarray(1000, 2000), '1000-1999');
    assert.equal(res.status, 202);
    location = res.headers.get('location')!;
    res = await fetch(withDigest(onServer(location, b), blob.digest), { method: 'PUT', body: body(blob.data.subarray(2000)) });
    assert.equal(res.status, 201, await res.text());
    const got = await fetch(`${a.url}/v2/state/two/blobs/${blob.digest}`);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), blob.data);
  });

  it('refuses a token signed with another secret, a tampered token, and a token of another upload', async () => {
    const location = await start(a, 'state/three');
    const foreign = await patch(onServer(location, other), Buffer.from('x'));
    assert.equal(foreign.status, 400);
    assert.deepEqual(await errorCodes(foreign), ['BLOB_UPLOAD_INVALID']);

    const u = new URL(location);
    const [payload, mac] = u.searchParams.get('_state')!.split('.');
    const forged = Buffer.from(JSON.stringify({ name: 'state/three', uuid: u.pathname.split('/').pop(), offset: 99 })).toString('base64url');
    u.searchParams.set('_state', `${forged}.${mac}`);
    const tampered = await patch(u.href, Buffer.from('x'));
    assert.equal(tampered.status, 400);
    assert.deepEqual(await errorCodes(tampered), ['BLOB_UPLOAD_INVALID']);

    const second = new URL(await start(a, 'state/three'));
    second.searchParams.set('_state', `${payload}.${mac}`);
    const swapped = await patch(second.href, Buffer.from('x'));
    assert.deepEqual(await errorCodes(swapped), ['BLOB_UPLOAD_INVALID']);

    // The upload itself is untouched by the refused requests.
    const status = await fetch(location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-0');
  });

  it('still serves a client that drops _state (the session in the database is authoritative)', async () => {
    const location = new URL(await start(a, 'state/four'));
    location.search = '';
    const res = await patch(location.href, Buffer.from('abc'));
    assert.equal(res.status, 202);
    assert.equal(res.headers.get('range'), '0-2');
  });
});

describe('a client that disconnects mid-PATCH', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry();
  });
  after(() => r.stop());

  it('releases the upload: status answers at once and the upload can be resumed and completed', async () => {
    const { request } = await import('node:http');
    const blob = randomBlob(2 * 1024 * 1024);
    const location = await start(r, 'torn/patch');
    await new Promise<void>((resolve) => {
      const req = request(location, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(blob.data.length) } });
      req.on('error', () => resolve());
      req.write(blob.data.subarray(0, 256 * 1024), () => setTimeout(() => req.destroy(), 100));
      req.on('close', () => resolve());
    });
    const status = await fetch(location, { signal: AbortSignal.timeout(5000) });
    assert.equal(status.status, 204);
    const have = Number(status.headers.get('range')!.split('-')[1]) + 1;
    assert.ok(have <= 256 * 1024, `kept ${have} bytes`);
    const stored = have === 1 && status.headers.get('range') === '0-0' ? 0 : have;
    const res = await fetch(withDigest(status.headers.get('location')!, blob.digest), {
      method: 'PUT',
      headers: { 'Content-Range': `${stored}-${blob.data.length - 1}` },
      body: body(blob.data.subarray(stored)),
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 201, await res.text());
  });
});

describe('a PATCH stalled on a half-open connection', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry();
  });
  after(() => r.stop());

  it('is superseded by the next request on the upload, which resumes from the bytes received', async () => {
    const { request } = await import('node:http');
    const blob = randomBlob(1024 * 1024);
    const location = await start(r, 'stalled/patch');
    // The first client sends 256 KiB of a 1 MiB body, then goes silent without closing.
    const stalled = request(location, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(blob.data.length) } });
    stalled.on('error', () => undefined);
    await new Promise<void>((resolve) => stalled.write(blob.data.subarray(0, 256 * 1024), () => resolve()));
    try {
      let have = 0;
      for (const deadline = Date.now() + 5000; have < 256 * 1024 && Date.now() < deadline; ) {
        const st = await fetch(location, { signal: AbortSignal.timeout(5000) });
        have = Number(st.headers.get('range')!.split('-')[1]) + 1;
      }
      assert.equal(have, 256 * 1024);
      // A resuming client must not wait behind the dead request (it would hang as long as the
      // connection stays open): its PATCH and PUT go through at once.
      const res = await fetch(location, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: body(blob.data.subarray(have)),
        signal: AbortSignal.timeout(5000),
      });
      assert.equal(res.status, 202, await res.text());
      assert.equal(res.headers.get('range'), `0-${blob.data.length - 1}`);
      const put = await fetch(withDigest(res.headers.get('location')!, blob.digest), { method: 'PUT', signal: AbortSignal.timeout(5000) });
      assert.equal(put.status, 201, await put.text());
    } finally {
      stalled.destroy();
    }
  });
});
