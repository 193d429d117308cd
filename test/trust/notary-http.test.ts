// The Notary API over HTTP inside a running berth: paths, status codes and error bodies as the
// notary client reads them, multipart uploads with `/` in role names, and auth: the registry's
// challenge, berth's token service granting GUN scopes (`host:port/repo`) by the repository's
// permissions, and the access model's roles (read = pull, write = push, delete = delete/rotate).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import { startTestRegistry, type TestRegistry } from '../http/harness.ts';
import { basic, startHtpasswdRegistry, startTokenRegistry, type AuthRegistry } from '../auth/harness.ts';
import { multipart, plainKey, rootBody, rootKey, signedFile, targetsBody } from './notary-fixtures.ts';
import type { TufKey } from '../../src/trust/notary/keys.ts';

type Headers = Record<string, string>;

interface Client {
  base: string;
  headers?: Headers;
}

const tuf = (c: Client, gun: string, path: string, init: RequestInit = {}) =>
  fetch(`${c.base}/v2/${gun}/_trust/tuf/${path}`, { ...init, headers: { ...c.headers, ...(init.headers as Headers) } });

async function post(c: Client, gun: string, files: Map<string, Buffer> | Record<string, Buffer>): Promise<Response> {
  const { body, contentType } = multipart(files);
  return tuf(c, gun, '', { method: 'POST', body: new Uint8Array(body), headers: { 'Content-Type': contentType } });
}

async function errorOf(res: Response): Promise<{ code: string; message: string; detail?: { Name: string; Error: { Msg: string } } }> {
  const json = (await res.json()) as { errors: { code: string; message: string; detail?: { Name: string; Error: { Msg: string } } }[] };
  assert.equal(json.errors.length, 1, JSON.stringify(json));
  return json.errors[0]!;
}

/** root + targets (+ a delegation to targets/releases) with a server-held snapshot: what `docker trust signer add` publishes. */
async function repository(c: Client, gun: string) {
  const root = await rootKey(gun);
  const targets = plainKey();
  const releases = plainKey();
  const key = async (role: string) => (await (await tuf(c, gun, `${role}.key`)).json()) as TufKey;
  const roles = { root: { keys: [root.tuf] }, targets: { keys: [targets.tuf] }, snapshot: { keys: [await key('snapshot')] }, timestamp: { keys: [await key('timestamp')] } };
  const rootFile = signedFile(rootBody(roles, 1), [root]);
  const targetsFile = signedFile(targetsBody(1, {}, [{ name: 'targets/releases', keys: [releases.tuf] }]), [targets]);
  return { root, targets, releases, roles, rootFile, targetsFile };
}

describe('Notary API without authentication', () => {
  let r: TestRegistry;
  let c: Client;
  let gun: string;
  before(async () => {
    r = await startTestRegistry();
    c = { base: r.url };
    gun = `${new URL(r.url).host}/team/app`;
  });
  after(() => r.stop());

  it('answers the health check and the registry ping', async () => {
    const health = await fetch(`${r.url}/_notary_server/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), {});
    assert.equal((await fetch(`${r.url}/v2/`)).status, 200);
  });

  it('answers 404 METADATA_NOT_FOUND for unknown metadata and for any other path under _trust', async () => {
    for (const path of ['root.json', 'timestamp.json', `targets.${'0'.repeat(64)}.json`, '3.root.json', 'nonsense', 'root.key', 'targets/Bad.json']) {
      const res = await tuf(c, gun, path);
      assert.equal(res.status, 404, path);
      assert.equal((await errorOf(res)).code, 'METADATA_NOT_FOUND', path);
    }
    assert.equal((await fetch(`${r.url}/v2/${gun}/_trust/other`)).status, 404);
    assert.equal((await tuf(c, gun, 'root.json', { method: 'PUT' })).status, 404);
  });

  it('takes a multipart update with role names as file names (targets/releases keeps its slash) and serves the exact bytes every way', async () => {
    const repo = await repository(c, gun);
    const res = await post(c, gun, { root: repo.rootFile, targets: repo.targetsFile });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((await res.arrayBuffer()).byteLength, 0);
    const releasesFile = signedFile(targetsBody(1, { v1: Buffer.from('manifest') }), [repo.releases]);
    const up = await post(c, gun, new Map([['targets/releases', releasesFile]]));
    assert.equal(up.status, 200, await up.clone().text());

    const get = async (path: string) => {
      const res = await tuf(c, gun, path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), 'application/json');
      return Buffer.from(await res.arrayBuffer());
    };
    assert.deepEqual(await get('root.json'), repo.rootFile);
    assert.deepEqual(await get('1.root.json'), repo.rootFile);
    assert.deepEqual(await get(`root.${createHash('sha256').update(repo.rootFile).digest('hex')}.json`), repo.rootFile);
    assert.deepEqual(await get('targets/releases.json'), releasesFile);
    assert.deepEqual(await get('1.targets/releases.json'), releasesFile);
    assert.deepEqual(await get(`targets/releases.${createHash('sha256').update(releasesFile).digest('hex')}.json`), releasesFile);
    // timestamp -> snapshot by checksum -> delegation by checksum, as the client walks them.
    const ts = JSON.parse((await get('timestamp.json')).toString()) as { signed: { meta: { snapshot: { hashes: { sha256: string }; length: number } } } };
    const snapHex = Buffer.from(ts.signed.meta.snapshot.hashes.sha256, 'base64').toString('hex');
    const snap = await get(`snapshot.${snapHex}.json`);
    assert.equal(snap.length, ts.signed.meta.snapshot.length);
    const snapDoc = JSON.parse(snap.toString()) as { signed: { meta: Record<string, { hashes: { sha256: string } }> } };
    assert.equal(snapDoc.signed.meta['targets/releases']!.hashes.sha256, createHash('sha256').update(releasesFile).digest('base64'));
    const head = await tuf(c, gun, 'root.json', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get('content-length')), repo.rootFile.length);
  });

  it('answers 400 with one error and a detail the client reads back', async () => {
    const malformed = await tuf(c, gun, '', { method: 'POST', body: 'not multipart', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(malformed.status, 400);
    assert.equal((await errorOf(malformed)).code, 'MALFORMED_UPLOAD');
    const role = await post(c, gun, { 'targets/../root': Buffer.from('{}') });
    assert.equal(role.status, 400);
    assert.equal((await errorOf(role)).code, 'INVALID_ROLE');
    const json = await post(c, gun, { targets: Buffer.from('{') });
    assert.equal((await errorOf(json)).code, 'MALFORMED_JSON');
    const stale = await post(c, gun, { targets: signedFile(targetsBody(1), [plainKey()]) });
    const e = await errorOf(stale);
    assert.equal(stale.status, 400);
    assert.equal(e.code, 'VERSION');
    assert.equal(e.detail!.Name, 'ErrValidation');
    const bad = await post(c, `${new URL(r.url).host}/team/other`, { targets: signedFile(targetsBody(1), [plainKey()]) });
    const b = await errorOf(bad);
    assert.equal(b.code, 'INVALID_UPDATE');
    assert.equal(b.detail!.Name, 'ErrValidation');
    assert.match(b.detail!.Error.Msg, /no pre-existing root/);
    // A GUN on another host is not this registry's.
    const foreign = await tuf(c, 'example.com:5000/team/app', 'root.json');
    assert.equal(foreign.status, 400);
    assert.equal((await errorOf(foreign)).code, 'INVALID_GUN');
  });

  it('serves server keys in Notary\'s shape, and deletes a GUN with 200', async () => {
    const key = await tuf(c, `${gun}-keys`, 'timestamp.key');
    assert.equal(key.status, 200);
    const k = (await key.json()) as TufKey;
    assert.deepEqual(Object.keys(k), ['keytype', 'keyval']);
    assert.equal(k.keytype, 'ecdsa');
    assert.deepEqual(Object.keys(k.keyval), ['private', 'public']);
    assert.equal(k.keyval.private, null);
    const rotated = await tuf(c, `${gun}-keys`, 'timestamp.key', { method: 'POST' });
    assert.equal(rotated.status, 200);
    assert.notDeepEqual(await rotated.json(), k);
    const del = await tuf(c, gun, '', { method: 'DELETE' });
    assert.equal(del.status, 200);
    assert.equal((await tuf(c, gun, 'root.json')).status, 404);
    // A GUN without a host is a repository name as it stands.
    assert.equal((await tuf(c, 'team/app', 'snapshot.key')).status, 200);
  });
});

describe('Notary API with berth\'s token service', () => {
  let r: AuthRegistry;
  let host: string;
  let gun: string;
  const USERS = { alice: 'alice-Notary-pw1' };
  before(async () => {
    r = await startTokenRegistry(USERS);
    host = new URL(r.url).host;
    gun = `${host}/team/app`;
  });
  after(() => r.stop());

  const token = async (scope: string, user?: keyof typeof USERS) => {
    const res = await fetch(`${r.url}/auth/token?service=berth-test&scope=${encodeURIComponent(scope)}`, { headers: user ? { Authorization: basic(user, USERS[user]) } : {} });
    assert.equal(res.status, 200);
    return ((await res.json()) as { token: string }).token;
  };

  it('challenges like the registry, naming the GUN in the scope', async () => {
    const res = await tuf({ base: r.url }, gun, 'root.json');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Bearer realm="${r.url}/auth/token",service="berth-test",scope="repository:${gun}:pull"`);
    const write = await tuf({ base: r.url }, gun, '', { method: 'POST' });
    assert.match(write.headers.get('www-authenticate') ?? '', new RegExp(`scope="repository:${gun.replace(/[.]/g, '\\.')}:pull,push"`));
  });

  it('grants GUN scopes by the repository\'s permissions; the token names the GUN and opens the Notary routes', async () => {
    const t = await token(`repository:${gun}:pull,push,*`, 'alice');
    const access = (decodeJwt(t) as { access: { type: string; name: string; actions: string[] }[] }).access;
    assert.deepEqual(access, [{ type: 'repository', name: gun, actions: ['pull', 'push', '*'] }]);
    const c = { base: r.url, headers: { Authorization: `Bearer ${t}` } };
    const repo = await repository(c, gun);
    assert.equal((await post(c, gun, { root: repo.rootFile, targets: repo.targetsFile })).status, 200);
    assert.equal((await tuf(c, gun, 'root.json')).status, 200);
    assert.equal((await tuf(c, gun, 'snapshot.key', { method: 'POST' })).status, 200);
    // Anonymous tokens carry nothing; a token for another GUN does not open this one.
    assert.deepEqual((decodeJwt(await token(`repository:${gun}:pull`)) as { access: unknown[] }).access, []);
    const other = { base: r.url, headers: { Authorization: `Bearer ${await token(`repository:${host}/team/other:pull`, 'alice')}` } };
    const res = await tuf(other, gun, 'root.json');
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    // Basic credentials work on these routes too, as on /v2.
    assert.equal((await tuf({ base: r.url, headers: { Authorization: basic('alice', USERS.alice) } }, gun, 'root.json')).status, 200);
    assert.equal((await tuf(c, gun, '', { method: 'DELETE' })).status, 200);
  });
});

describe('Notary API with the access model\'s roles', () => {
  let r: AuthRegistry;
  let gun: string;
  const USERS = { admin: 'admin-Notary-pw1', reader: 'reader-Notary-pw1', writer: 'writer-Notary-pw1', deleter: 'deleter-Notary-pw1' };
  const as = (u: keyof typeof USERS): Client => ({ base: r.url, headers: { Authorization: basic(u, USERS[u]) } });
  const api = (path: string, json: unknown) =>
    fetch(`${r.url}/api/v1${path}`, { method: 'POST', headers: { Authorization: basic('admin', USERS.admin), 'Content-Type': 'application/json' }, body: JSON.stringify(json) });

  before(async () => {
    r = await startHtpasswdRegistry(USERS, (c) => {
      c.berth.auth.accessControl = { enabled: true, admins: ['admin'] };
    });
    gun = `${new URL(r.url).host}/team-a/app`;
    for (const [user, role] of [['reader', 'read'], ['writer', 'write'], ['deleter', 'delete']] as const) {
      assert.equal((await api('/users', { name: user })).status, 201);
      const g = await api('/permissions', { subject: { kind: 'user', name: user }, scope: { kind: 'namespace', name: 'team-a' }, role });
      assert.equal(g.status, 201, await g.text());
    }
  });
  after(() => r.stop());

  it('reads with pull, writes with push, deletes and rotates with delete; an unknown GUN is 404 for a reader', async () => {
    const missing = await tuf(as('reader'), gun, 'root.json');
    assert.equal(missing.status, 404);
    assert.equal((await errorOf(missing)).code, 'METADATA_NOT_FOUND');
    assert.equal((await tuf({ base: r.url }, gun, 'root.json')).status, 401);
    assert.equal((await tuf(as('reader'), gun, 'timestamp.key')).status, 403);

    const repo = await repository(as('writer'), gun);
    assert.equal((await post(as('reader'), gun, { root: repo.rootFile, targets: repo.targetsFile })).status, 403);
    assert.equal((await post(as('writer'), gun, { root: repo.rootFile, targets: repo.targetsFile })).status, 200);
    assert.equal((await tuf(as('reader'), gun, 'root.json')).status, 200);
    assert.equal((await tuf(as('writer'), gun, 'snapshot.key', { method: 'POST' })).status, 403);
    assert.equal((await tuf(as('writer'), gun, '', { method: 'DELETE' })).status, 403);
    assert.equal((await tuf(as('deleter'), gun, 'snapshot.key', { method: 'POST' })).status, 200);
    // Another namespace: no role there.
    assert.equal((await tuf(as('writer'), `${new URL(r.url).host}/team-b/app`, 'root.json')).status, 403);
    assert.equal((await tuf(as('deleter'), gun, '', { method: 'DELETE' })).status, 200);
    assert.equal((await tuf(as('reader'), gun, 'root.json')).status, 404);
  });
});

