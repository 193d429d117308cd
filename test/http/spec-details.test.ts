// Spec details found while testing against other clients (issue 10):
// - GET/HEAD of a manifest reference that is neither a tag nor a digest is 404 MANIFEST_UNKNOWN
//   (the OCI conformance suite expects it); PUT keeps 400 TAG_INVALID;
// - POST .../blobs/uploads/?mount=<digest> without `from` (OCI 1.1 automatic content discovery)
//   mounts from a repository holding the blob that the caller may pull, else opens an upload;
// - every error under /v2/ is the JSON envelope, also for paths that match no route.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { body, errorCodes, pushBlob, pushImage, putManifest, randomBlob, sha256, startTestRegistry, OCI_MANIFEST, type TestRegistry } from './harness.ts';
import { basic, bearer, getToken, startHtpasswdRegistry, startTokenRegistry, type AuthRegistry } from '../auth/harness.ts';
import { MOUNT_DISCOVERY_CANDIDATES } from '../../src/registry/uploads.ts';

function mount(base: string, name: string, digest: string, headers: Record<string, string> = {}, query = ''): Promise<Response> {
  return fetch(`${base}/v2/${name}/blobs/uploads/?mount=${digest}${query}`, { method: 'POST', headers });
}

/** A 201 mount, as with `from`: Location of the blob in the target and Docker-Content-Digest. */
async function assertMounted(res: Response, base: string, name: string, digest: string): Promise<void> {
  assert.equal(res.status, 201, await res.clone().text());
  assert.equal(res.headers.get('location'), `${base}/v2/${name}/blobs/${digest}`);
  assert.equal(res.headers.get('docker-content-digest'), digest);
}

/** A 202 upload session in the target repository. */
function assertUploadStarted(res: Response, base: string, name: string): void {
  assert.equal(res.status, 202);
  assert.ok(res.headers.get('location')?.startsWith(`${base}/v2/${name}/blobs/uploads/`), `Location: ${res.headers.get('location')}`);
  assert.ok(res.headers.get('docker-upload-uuid'));
}

describe('manifest references that are neither a tag nor a digest', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry();
    await pushImage(r.url, 'ref/app', 'v1');
  });
  after(() => r.stop());

  for (const reference of ['-tag', '.hidden', 't'.repeat(129), 'sha256:1234', 'sha256:' + 'z'.repeat(64), 'nope:abc']) {
    it(`GET and HEAD of ${reference.slice(0, 20)}${reference.length > 20 ? '…' : ''} answer 404 MANIFEST_UNKNOWN`, async () => {
      const get = await fetch(`${r.url}/v2/ref/app/manifests/${reference}`);
      assert.equal(get.status, 404);
      assert.match(get.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(await errorCodes(get), ['MANIFEST_UNKNOWN']);
      const head = await fetch(`${r.url}/v2/ref/app/manifests/${reference}`, { method: 'HEAD' });
      assert.equal(head.status, 404);
      assert.equal(await head.text(), '');
    });
  }

  it('also in a repository that does not exist', async () => {
    const res = await fetch(`${r.url}/v2/ref/none/manifests/-tag`);
    assert.equal(res.status, 404);
    assert.deepEqual(await errorCodes(res), ['MANIFEST_UNKNOWN']);
  });

  it('PUT keeps 400 TAG_INVALID (and DIGEST_INVALID for a malformed digest)', async () => {
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: 'sha256:' + '0'.repeat(64), size: 2 }, layers: [] }));
    for (const reference of ['-tag', 't'.repeat(129)]) {
      const res = await putManifest(r.url, 'ref/app', reference, manifest, OCI_MANIFEST);
      assert.equal(res.status, 400);
      assert.deepEqual(await errorCodes(res), ['TAG_INVALID']);
    }
    const res = await putManifest(r.url, 'ref/app', 'sha256:1234', manifest, OCI_MANIFEST);
    assert.equal(res.status, 400);
    assert.deepEqual(await errorCodes(res), ['DIGEST_INVALID']);
  });

  it('valid tags and digests are served as before', async () => {
    const pushed = await pushImage(r.url, 'ref/app', 'v2');
    assert.equal((await fetch(`${r.url}/v2/ref/app/manifests/v2`)).status, 200);
    assert.equal((await fetch(`${r.url}/v2/ref/app/manifests/${pushed.digest}`)).status, 200);
    const missing = await fetch(`${r.url}/v2/ref/app/manifests/v3`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await errorCodes(missing), ['MANIFEST_UNKNOWN']);
  });
});

describe('mount without from (automatic content discovery), no authentication', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry();
  });
  after(() => r.stop());

  it('mounts from any repository that holds the blob: 201 with Location and Docker-Content-Digest', async () => {
    const blob = randomBlob(300);
    await pushBlob(r.url, 'disc/src', blob.data);
    assert.equal((await fetch(`${r.url}/v2/disc/dst/blobs/${blob.digest}`, { method: 'HEAD' })).status, 404);
    await assertMounted(await mount(r.url, 'disc/dst', blob.digest), r.url, 'disc/dst', blob.digest);
    const head = await fetch(`${r.url}/v2/disc/dst/blobs/${blob.digest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '300');
    const get = await fetch(`${r.url}/v2/disc/dst/blobs/${blob.digest}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), blob.data);
  });

  it('treats an empty from like a missing one', async () => {
    const blob = randomBlob(64);
    await pushBlob(r.url, 'disc/src2', blob.data);
    await assertMounted(await mount(r.url, 'disc/dst2', blob.digest, {}, '&from='), r.url, 'disc/dst2', blob.digest);
  });

  it('starts an ordinary upload (202) when no repository holds the blob, and that upload completes', async () => {
    const blob = randomBlob(128);
    const res = await mount(r.url, 'disc/dst3', blob.digest);
    assertUploadStarted(res, r.url, 'disc/dst3');
    const location = new URL(res.headers.get('location')!);
    location.searchParams.set('digest', blob.digest);
    const put = await fetch(location, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body: body(blob.data) });
    assert.equal(put.status, 201);
  });

  it('keeps an explicit from: a from that does not hold the blob is an upload, even when another repository does', async () => {
    const blob = randomBlob(64);
    await pushBlob(r.url, 'disc/holder', blob.data);
    assertUploadStarted(await mount(r.url, 'disc/dst4', blob.digest, {}, '&from=disc/empty'), r.url, 'disc/dst4');
  });

  it('refuses a malformed mount digest as before', async () => {
    const res = await mount(r.url, 'disc/dst5', 'sha256:1234');
    assert.equal(res.status, 400);
    assert.deepEqual(await errorCodes(res), ['DIGEST_INVALID']);
  });
});

describe('mount without from, auth.htpasswd without access control', () => {
  const USERS = { alice: 'alice-password-1', bob: 'bob-password-1' };
  let r: AuthRegistry;
  before(async () => {
    r = await startHtpasswdRegistry(USERS);
  });
  after(() => r.stop());

  it('lets any authenticated user mount from any repository (registry:2 htpasswd: authenticated may pull everything)', async () => {
    const blob = randomBlob(200);
    const alice = { Authorization: basic('alice', USERS.alice) };
    const up = await fetch(`${r.url}/v2/alice/src/blobs/uploads/?digest=${blob.digest}`, { method: 'POST', headers: alice, body: body(blob.data) });
    assert.equal(up.status, 201);
    const bob = { Authorization: basic('bob', USERS.bob) };
    await assertMounted(await mount(r.url, 'bob/dst', blob.digest, bob), r.url, 'bob/dst', blob.digest);
    assert.equal((await fetch(`${r.url}/v2/bob/dst/blobs/${blob.digest}`, { method: 'HEAD', headers: bob })).status, 200);
    // Anonymous callers cannot push at all.
    assert.equal((await mount(r.url, 'anon/dst', blob.digest)).status, 401);
  });
});

describe('mount without from, access control', () => {
  const USERS = { admin: 'admin-password-1', alice: 'alice-password-1' };
  let r: AuthRegistry;
  const as = (user: keyof typeof USERS) => ({ Authorization: basic(user, USERS[user]) });
  const api = (path: string, method: string, json: unknown) =>
    fetch(`${r.url}/api/v1${path}`, { method, headers: { ...as('admin'), 'Content-Type': 'application/json' }, body: JSON.stringify(json) });
  const upload = async (user: keyof typeof USERS, repo: string, data: Buffer) => {
    const digest = sha256(data);
    const res = await fetch(`${r.url}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: as(user), body: body(data) });
    assert.equal(res.status, 201, `upload to ${repo}: ${res.status} ${await res.text()}`);
  };

  before(async () => {
    r = await startHtpasswdRegistry(USERS, (c) => {
      c.berth.auth.accessControl = { enabled: true, admins: ['admin'] };
    });
    // alice may write (so also pull) team-a/*, nothing else.
    assert.equal((await api('/teams', 'POST', { name: 'team-a' })).status, 201);
    assert.equal((await api('/users', 'POST', { name: 'alice' })).status, 201);
    assert.ok((await api('/teams/team-a/members/alice', 'PUT', {})).status < 300);
    const grant = await api('/permissions', 'POST', { subject: { kind: 'team', name: 'team-a' }, scope: { kind: 'namespace', name: 'team-a' }, role: 'write' });
    assert.equal(grant.status, 201, await grant.text());
  });
  after(() => r.stop());

  it('does not mount from a repository the caller may not pull: an upload starts instead', async () => {
    const blob = randomBlob(150);
    await upload('admin', 'secret/app', blob.data);
    assertUploadStarted(await mount(r.url, 'team-a/app', blob.digest, as('alice')), r.url, 'team-a/app');
    assert.equal((await fetch(`${r.url}/v2/team-a/app/blobs/${blob.digest}`, { method: 'HEAD', headers: as('alice') })).status, 404, 'nothing was linked');
    // ...but from a repository alice may pull, it mounts.
    await upload('admin', 'team-a/lib', blob.data);
    await assertMounted(await mount(r.url, 'team-a/app', blob.digest, as('alice')), r.url, 'team-a/app', blob.digest);
    // The admin may pull everything.
    const other = randomBlob(90);
    await upload('admin', 'secret/other', other.data);
    await assertMounted(await mount(r.url, 'admin/dst', other.digest, as('admin')), r.url, 'admin/dst', other.digest);
  });

  it(`looks at the first ${MOUNT_DISCOVERY_CANDIDATES} repositories holding the blob (in name order) only`, async () => {
    const blob = randomBlob(40);
    // MOUNT_DISCOVERY_CANDIDATES repositories alice may not pull sort before team-a/z.
    for (let i = 0; i < MOUNT_DISCOVERY_CANDIDATES; i++) await upload('admin', `aaa/r${String(i).padStart(3, '0')}`, blob.data);
    await upload('admin', 'team-a/z', blob.data);
    assertUploadStarted(await mount(r.url, 'team-a/limited', blob.digest, as('alice')), r.url, 'team-a/limited');
    // One fewer repository in front, and team-a/z is among the candidates.
    const del = await fetch(`${r.url}/v2/aaa/r000/blobs/${blob.digest}`, { method: 'DELETE', headers: as('admin') });
    assert.equal(del.status, 202);
    await assertMounted(await mount(r.url, 'team-a/limited', blob.digest, as('alice')), r.url, 'team-a/limited', blob.digest);
  });
});

describe("mount without from, berth's token service", () => {
  const USERS = { bob: 'bob-password-1' };
  let r: AuthRegistry;
  const token = async (scopes: string[]) => {
    const t = await getToken(r.url, scopes, basic('bob', USERS.bob));
    assert.equal(t.status, 200, JSON.stringify(t.body));
    return { Authorization: bearer(t.body.token as string) };
  };
  before(async () => {
    r = await startTokenRegistry(USERS);
  });
  after(() => r.stop());

  it('mounts only from repositories the token grants pull on', async () => {
    const blob = randomBlob(120);
    const src = await token(['repository:tok/src:pull,push']);
    const up = await fetch(`${r.url}/v2/tok/src/blobs/uploads/?digest=${blob.digest}`, { method: 'POST', headers: src, body: body(blob.data) });
    assert.equal(up.status, 201);
    // A token for the target only (what a client asks for when it does not know a source).
    assertUploadStarted(await mount(r.url, 'tok/dst', blob.digest, await token(['repository:tok/dst:pull,push'])), r.url, 'tok/dst');
    // With pull on the source in the token, the blob is found there.
    const both = await token(['repository:tok/dst:pull,push', 'repository:tok/src:pull']);
    await assertMounted(await mount(r.url, 'tok/dst', blob.digest, both), r.url, 'tok/dst', blob.digest);
  });
});

describe('errors under /v2/ are the JSON envelope, also where no route matches', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry();
  });
  after(() => r.stop());

  /** `detail` is optional in the spec; the 404s for unknown paths carry the path in it. */
  async function assertEnvelope(res: Response, status: number, code: string, withDetail = true): Promise<void> {
    assert.equal(res.status, status);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const parsed = (await res.json()) as { errors: Array<{ code: string; message: string; detail?: unknown }> };
    assert.equal(parsed.errors.length, 1);
    assert.equal(parsed.errors[0]!.code, code);
    assert.equal(typeof parsed.errors[0]!.message, 'string');
    if (withDetail) assert.ok(parsed.errors[0]!.detail !== undefined, 'a detail');
  }

  it('a path that starts like a repository name: 404 NAME_UNKNOWN', async () => {
    for (const path of ['/v2/lib/app/unknown', '/v2/lib/app/manifests/', '/v2/lib/app/blobs/', '/v2/lib/app/tags', '/v2/lib/app/tags/list/more', '/v2/lib', '/v2/lib/']) {
      await assertEnvelope(await fetch(`${r.url}${path}`), 404, 'NAME_UNKNOWN');
    }
    await assertEnvelope(await fetch(`${r.url}/v2/lib/app/unknown`, { method: 'DELETE' }), 404, 'NAME_UNKNOWN');
  });

  it('any other /v2/ path: 404 with a spec code (UNSUPPORTED)', async () => {
    for (const path of ['/v2/_unknown', '/v2/_catalog/', '/v2/_oci/ext/discover', '/v2//x']) {
      await assertEnvelope(await fetch(`${r.url}${path}`), 404, 'UNSUPPORTED');
    }
  });

  it('HEAD gets the status and JSON type without a body', async () => {
    const res = await fetch(`${r.url}/v2/lib/app/unknown`, { method: 'HEAD' });
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(await res.text(), '');
  });

  it('a method a route does not have: 405 UNSUPPORTED in the envelope, with Allow', async () => {
    const cases: Array<[string, string, string]> = [
      ['PATCH', '/v2/lib/app/manifests/latest', 'GET, PUT, DELETE'],
      ['POST', '/v2/_catalog', 'GET'],
      ['DELETE', '/v2/lib/app/tags/list', 'GET'],
      ['PUT', '/v2/', 'GET'],
      ['GET', '/v2/lib/app/blobs/uploads/', 'POST'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await fetch(`${r.url}${path}`, { method });
      assert.equal(res.headers.get('allow'), allow, `${method} ${path}`);
      await assertEnvelope(res, 405, 'UNSUPPORTED', false).catch((e) => {
        throw new Error(`${method} ${path}: ${(e as Error).message}`);
      });
    }
  });

  it('paths outside /v2/ keep the plain-text 404', async () => {
    for (const path of ['/v1/nothing-here', '/v2x', '/v3/lib/app/tags/list']) {
      const res = await fetch(`${r.url}${path}`);
      assert.equal(res.status, 404, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      assert.equal(await res.text(), '404 page not found\n');
    }
  });
});
