// berth's own token service (Docker token spec + the OAuth2 form docker and containerd use) and
// the registry's checks of its tokens: challenges, scope intersection, scope escalation, expiry,
// tampering, audience and issuer, refresh tokens and their revocation.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { calculateJwkThumbprint, SignJWT, type JWK } from 'jose';
import { removeUser, setUser, updateFile } from '../../src/auth/htpasswd-edit.ts';
import type { AccessController, Action, Principal } from '../../src/auth/types.ts';
import { basic, bearer, claims, errorBody, getToken, header, postToken, pushImage, sha256, startTokenRegistry, type AuthRegistry } from './harness.ts';

const ALICE = 'alice-Pa55word-1';
const BOB = 'bob-Pa55word-22';

/** alice: everything. bob: pull+push under bob/, pull under pub/. */
class TestAccess implements AccessController {
  async allowedActions(p: Principal, repository: string, wanted: Action[]): Promise<Action[]> {
    if (p.kind === 'anonymous') return [];
    if (p.name === 'alice') return wanted;
    if (p.name === 'bob' && repository.startsWith('bob/')) return wanted.filter((a) => a === 'pull' || a === 'push');
    if (p.name === 'bob' && repository.startsWith('pub/')) return wanted.filter((a) => a === 'pull');
    return [];
  }
  async canList(p: Principal, repository: string): Promise<boolean> {
    return (await this.allowedActions(p, repository, ['pull'])).length > 0;
  }
}

async function upload(base: string, name: string, auth: string, data = randomBytes(200)): Promise<Response> {
  return fetch(`${base}/v2/${name}/blobs/uploads/?digest=${sha256(data)}`, { method: 'POST', headers: { Authorization: auth }, body: new Uint8Array(data) });
}

async function token(base: string, scopes: string[], auth?: string): Promise<string> {
  const t = await getToken(base, scopes, auth);
  assert.equal(t.status, 200, JSON.stringify(t.body));
  return t.body.token as string;
}

describe("berth's token service", () => {
  let r: AuthRegistry;
  let key: KeyObject;
  let kid: string;
  const issued: string[] = [];
  const sign = (payload: Record<string, unknown>, opts: { key?: KeyObject; kid?: string; alg?: string } = {}) =>
    new SignJWT(payload).setProtectedHeader({ alg: opts.alg ?? 'ES256', typ: 'JWT', kid: opts.kid ?? kid }).sign(opts.key ?? key);
  const now = () => Math.floor(Date.now() / 1000);
  const base = (over: Record<string, unknown> = {}) => ({ iss: 'berth-test-issuer', aud: 'berth-test', sub: 'bob', iat: now(), nbf: now(), exp: now() + 300, jti: randomBytes(8).toString('hex'), ...over });

  before(async () => {
    r = await startTokenRegistry({ alice: ALICE, bob: BOB }, () => {}, { accessController: new TestAccess() });
    key = createPrivateKey(await readFile(join(r.root, 'auth', 'token-signing-key.pem')));
    kid = await calculateJwkThumbprint(key.export({ format: 'jwk' }) as JWK);
  });
  after(async () => {
    // nothing issued in these tests, and no password, ever reaches a log line
    for (const secret of [ALICE, BOB, ...issued]) assert.ok(!r.logs().includes(secret), 'a secret reached the log');
    await r?.stop();
  });

  it('challenges with Bearer realm, service and the scope of the refused operation', async () => {
    const realm = `${r.url}/auth/token`;
    const base = await fetch(`${r.url}/v2/`);
    assert.equal(base.status, 401);
    assert.equal(base.headers.get('www-authenticate'), `Bearer realm="${realm}",service="berth-test"`);
    const cases: Array<[string, string, string]> = [
      ['GET', '/v2/team/app/manifests/v1', 'repository:team/app:pull'],
      ['HEAD', `/v2/team/app/blobs/${sha256('x')}`, 'repository:team/app:pull'],
      ['POST', '/v2/team/app/blobs/uploads/', 'repository:team/app:pull,push'],
      ['PUT', '/v2/team/app/manifests/v1', 'repository:team/app:pull,push'],
      ['DELETE', '/v2/team/app/manifests/v1', 'repository:team/app:delete'],
      ['GET', '/v2/_catalog', 'registry:catalog:*'],
    ];
    for (const [method, path, scope] of cases) {
      const res = await fetch(`${r.url}${path}`, { method });
      assert.equal(res.status, 401, path);
      assert.equal(res.headers.get('www-authenticate'), `Bearer realm="${realm}",service="berth-test",scope="${scope}"`, `${method} ${path}`);
    }
  });

  it('issues anonymous tokens that grant nothing, and user tokens with requested ∩ allowed, never more', async () => {
    const anon = await getToken(r.url, ['repository:pub/x:pull']);
    assert.equal(anon.status, 200);
    assert.deepEqual(Object.keys(anon.body).sort(), ['access_token', 'expires_in', 'issued_at', 'token']);
    assert.equal(anon.body.token, anon.body.access_token);
    assert.equal(anon.body.expires_in, 300);
    assert.deepEqual(claims(anon.body.token as string).access, []);
    assert.equal(claims(anon.body.token as string).sub, '');
    // a valid token, even anonymous, passes GET /v2/; it grants nothing else
    assert.equal((await fetch(`${r.url}/v2/`, { headers: { Authorization: bearer(anon.body.token as string) } })).status, 200);
    const pull = await fetch(`${r.url}/v2/pub/x/tags/list`, { headers: { Authorization: bearer(anon.body.token as string) } });
    assert.equal(pull.status, 401);
    assert.match(pull.headers.get('www-authenticate')!, /error="insufficient_scope"/);

    const t = await token(
      r.url,
      ['repository:alice/app:pull,push,delete', 'repository:pub/x:pull,push,*', 'repository:bob/app:pull,push', 'registry:catalog:*', 'repository:../etc:pull', 'nonsense'],
      basic('bob', BOB),
    );
    issued.push(t);
    const c = claims(t);
    assert.equal(c.sub, 'bob');
    assert.equal(c.iss, 'berth-test-issuer');
    assert.equal(c.aud, 'berth-test');
    assert.ok(typeof c.jti === 'string' && (c.jti as string).length >= 16, 'a random jti');
    assert.ok((c.exp as number) - (c.iat as number) === 300 && c.nbf === c.iat, 'exp = iat + 300, nbf = iat');
    assert.deepEqual(c.access, [
      { type: 'repository', name: 'pub/x', actions: ['pull'] },
      { type: 'repository', name: 'bob/app', actions: ['pull', 'push'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
    const h = header(t);
    assert.equal(h.alg, 'ES256');
    assert.equal(h.kid, kid);
    assert.ok(Array.isArray(h.x5c) && h.x5c.length === 1, 'the certificate travels in x5c');
  });

  it('takes the token for the granted operations and refuses scope escalation with insufficient_scope', async () => {
    const bobPush = await token(r.url, ['repository:bob/app:pull,push'], basic('bob', BOB));
    const bobPull = await token(r.url, ['repository:bob/app:pull'], basic('bob', BOB));
    issued.push(bobPush, bobPull);
    assert.equal((await upload(r.url, 'bob/app', bearer(bobPush))).status, 201);
    // a pull token used to push
    const pushWithPull = await upload(r.url, 'bob/app', bearer(bobPull));
    assert.equal(pushWithPull.status, 401);
    assert.equal(pushWithPull.headers.get('www-authenticate'), `Bearer realm="${r.url}/auth/token",service="berth-test",scope="repository:bob/app:pull,push",error="insufficient_scope"`);
    assert.deepEqual((await errorBody(pushWithPull)).map((e) => e.code), ['UNAUTHORIZED']);
    // a token for repository A used on repository B
    const other = await upload(r.url, 'bob/other', bearer(bobPush));
    assert.equal(other.status, 401);
    assert.match(other.headers.get('www-authenticate')!, /scope="repository:bob\/other:pull,push",error="insufficient_scope"/);
    assert.equal((await fetch(`${r.url}/v2/alice/app/tags/list`, { headers: { Authorization: bearer(bobPush) } })).status, 401);
    // DELETE needs the delete action, which push does not include
    assert.equal((await fetch(`${r.url}/v2/bob/app/manifests/v1`, { method: 'DELETE', headers: { Authorization: bearer(bobPush) } })).status, 401);
    // asking again does not help: the token server grants bob no push on alice/app
    const again = await token(r.url, ['repository:alice/app:pull,push'], basic('bob', BOB));
    assert.deepEqual(claims(again).access, []);
  });

  it('mounts with a token only when it also grants pull on the source; otherwise it is a plain upload', async () => {
    const data = randomBytes(300);
    const alice = await token(r.url, ['repository:alice/src:pull,push'], basic('alice', ALICE));
    issued.push(alice);
    assert.equal((await upload(r.url, 'alice/src', bearer(alice), data)).status, 201);
    // bob asks for the source too (as docker does before a mount), but is not granted it
    const bobs = await token(r.url, ['repository:bob/dst:pull,push', 'repository:alice/src:pull'], basic('bob', BOB));
    issued.push(bobs);
    assert.deepEqual(claims(bobs).access, [{ type: 'repository', name: 'bob/dst', actions: ['pull', 'push'] }]);
    const mount = await fetch(`${r.url}/v2/bob/dst/blobs/uploads/?mount=${sha256(data)}&from=alice/src`, { method: 'POST', headers: { Authorization: bearer(bobs) } });
    assert.equal(mount.status, 202);
    assert.equal((await fetch(`${r.url}/v2/bob/dst/blobs/${sha256(data)}`, { method: 'HEAD', headers: { Authorization: bearer(bobs) } })).status, 404);
    // alice, with pull on the source in her token, mounts
    const both = await token(r.url, ['repository:alice/dst:pull,push', 'repository:alice/src:pull'], basic('alice', ALICE));
    issued.push(both);
    const ok = await fetch(`${r.url}/v2/alice/dst/blobs/uploads/?mount=${sha256(data)}&from=alice/src`, { method: 'POST', headers: { Authorization: bearer(both) } });
    assert.equal(ok.status, 201);
  });

  it('re-checks its own tokens against the AccessController: a token claiming more than allowed gets DENIED', async () => {
    // signed with berth's real key, but claiming what the controller never granted bob
    const forged = await sign({ ...base(), access: [{ type: 'repository', name: 'alice/app', actions: ['pull', 'push'] }], berth: { kind: 'user', teams: [], admin: true } });
    const res = await upload(r.url, 'alice/app', bearer(forged));
    assert.equal(res.status, 403);
    assert.deepEqual((await errorBody(res)).map((e) => e.code), ['DENIED']);
  });

  it('refuses expired, not-yet-valid, tampered, foreign-audience, foreign-issuer and unsigned tokens', async () => {
    const access = [{ type: 'repository', name: 'bob/app', actions: ['pull'] }];
    const ok = await sign({ ...base(), access });
    const path = `${r.url}/v2/bob/app/tags/list`;
    const status = async (t: string) => {
      const res = await fetch(path, { headers: { Authorization: bearer(t) } });
      if (res.status === 401) assert.match(res.headers.get('www-authenticate')!, /^Bearer realm=/);
      return res.status;
    };
    assert.notEqual(await status(ok), 401, 'the reference token is accepted (404: no tags yet is fine)');
    // within distribution's 60 s of leeway: still accepted
    assert.notEqual(await status(await sign({ ...base({ exp: now() - 30 }), access })), 401);
    const bad: Record<string, string> = {
      expired: await sign({ ...base({ exp: now() - 120 }), access }),
      'not yet valid': await sign({ ...base({ nbf: now() + 600 }), access }),
      'no exp': await sign({ ...base({ exp: undefined }), access }),
      'other service': await sign({ ...base({ aud: 'another-registry' }), access }),
      'other issuer': await sign({ ...base({ iss: 'evil-issuer' }), access }),
      'unknown key, our kid': await sign({ ...base(), access }, { key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }),
      'unknown kid': await sign({ ...base(), access }, { kid: 'ABCD:EFGH' }),
    };
    // tampered: claims changed after signing, signature kept
    const [h, , s] = ok.split('.');
    const morePayload = Buffer.from(JSON.stringify({ ...base(), access: [{ type: 'repository', name: 'bob/app', actions: ['pull', 'push', 'delete'] }] })).toString('base64url');
    bad.tampered = `${h}.${morePayload}.${s}`;
    bad['tampered signature'] = `${ok.slice(0, -6)}AAAAAA`;
    // alg none, and HS256 keyed with the public key (algorithm confusion)
    bad['alg none'] = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid })).toString('base64url')}.${ok.split('.')[1]}.`;
    const spki = key.export({ format: 'pem', type: 'pkcs8' });
    bad.hs256 = await new SignJWT({ ...base(), access }).setProtectedHeader({ alg: 'HS256', kid }).sign(new Uint8Array(Buffer.from(spki)));
    bad.garbage = 'not.a.jwt';
    for (const [what, t] of Object.entries(bad)) assert.equal(await status(t), 401, what);
    assert.match(r.logs(), /"reason":"token expired"/);
    assert.match(r.logs(), /"reason":"claim check failed: aud"/);
  });

  it('serves its public key as a JWKS whose kid matches the token header', async () => {
    const res = await fetch(`${r.url}/auth/jwks.json`);
    assert.equal(res.status, 200);
    const jwks = (await res.json()) as { keys: JWK[] };
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0].kid, kid);
    assert.equal(jwks.keys[0].alg, 'ES256');
    assert.equal(jwks.keys[0].use, 'sig');
    assert.equal(jwks.keys[0].d, undefined, 'no private part');
  });

  it('implements the OAuth2 form: password grant with refresh token, refresh grant, revocation', async () => {
    const wrong = await postToken(r.url, { grant_type: 'password', username: 'bob', password: 'wrong', access_type: 'offline' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_grant');
    assert.deepEqual((wrong.body.errors as Array<{ code: string }>).map((e) => e.code), ['UNAUTHORIZED']);
    assert.equal(wrong.headers.get('cache-control'), 'no-store');

    const login = await postToken(r.url, { grant_type: 'password', username: 'bob', password: BOB, access_type: 'offline', scope: 'repository:bob/app:pull,push repository:alice/app:pull' });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const refresh = login.body.refresh_token as string;
    issued.push(refresh, login.body.access_token as string);
    assert.ok(refresh && refresh.length > 40, 'a refresh token');
    assert.equal(login.body.scope, 'repository:bob/app:pull,push');
    assert.equal(login.body.expires_in, 300);
    assert.equal(login.headers.get('cache-control'), 'no-store');
    // without access_type=offline there is no refresh token (containerd's password grant)
    const online = await postToken(r.url, { grant_type: 'password', username: 'bob', password: BOB });
    assert.equal(online.body.refresh_token, undefined);

    const renewed = await postToken(r.url, { grant_type: 'refresh_token', refresh_token: refresh, scope: 'repository:pub/x:pull,push' });
    assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
    assert.equal(renewed.body.refresh_token, refresh, 'the same refresh token comes back');
    assert.equal(renewed.body.scope, 'repository:pub/x:pull');
    assert.equal(claims(renewed.body.access_token as string).sub, 'bob');
    // GET with offline_token=true (the docker CLI's login) also returns one
    const viaGet = await getToken(r.url, [], basic('bob', BOB), { offline_token: 'true', client_id: 'docker' });
    assert.ok(typeof viaGet.body.refresh_token === 'string', 'GET offline_token=true gives a refresh token');
    issued.push(viaGet.body.refresh_token as string);
    // a refresh token is not an access token
    assert.equal((await fetch(`${r.url}/v2/`, { headers: { Authorization: bearer(refresh) } })).status, 401);

    // revoked explicitly (RFC 7009)
    const revoke = await fetch(`${r.url}/auth/revoke`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: refresh }).toString() });
    assert.equal(revoke.status, 200);
    const afterRevoke = await postToken(r.url, { grant_type: 'refresh_token', refresh_token: refresh });
    assert.equal(afterRevoke.status, 401);
    assert.match(String(afterRevoke.body.error_description), /revoked/);
    const revocations = await readFile(join(r.root, 'auth', 'revoked-refresh-tokens.json'), 'utf8');
    assert.equal((JSON.parse(revocations) as unknown[]).length, 1);
    assert.ok(!revocations.includes(refresh), 'the list keeps token ids, not tokens');

    // revoked implicitly: a new password ends every refresh token issued under the old one
    const other = viaGet.body.refresh_token as string;
    assert.equal((await postToken(r.url, { grant_type: 'refresh_token', refresh_token: other })).status, 200);
    const hash = (await bcrypt.hash('bob-New-Pa55word', 4)).replace('$2b$', '$2y$');
    await updateFile(join(r.root, 'htpasswd'), (lines) => setUser(lines, 'bob', hash).lines);
    const stale = await postToken(r.url, { grant_type: 'refresh_token', refresh_token: other });
    assert.equal(stale.status, 401);
    assert.match(String(stale.body.error_description), /log in again/);
    // and a removed user cannot refresh either
    const fresh = await postToken(r.url, { grant_type: 'password', username: 'bob', password: 'bob-New-Pa55word', access_type: 'offline' });
    issued.push(fresh.body.refresh_token as string);
    await updateFile(join(r.root, 'htpasswd'), (lines) => removeUser(lines, 'bob').lines);
    assert.equal((await postToken(r.url, { grant_type: 'refresh_token', refresh_token: fresh.body.refresh_token as string })).status, 401);
    await updateFile(join(r.root, 'htpasswd'), (lines) => setUser(lines, 'bob', hash).lines);

    // malformed requests
    assert.equal((await postToken(r.url, { grant_type: 'client_credentials' })).status, 400);
    assert.equal((await postToken(r.url, { grant_type: 'refresh_token', refresh_token: 'x.y.z' })).status, 401);
    assert.equal((await postToken(r.url, { grant_type: 'password', username: 'bob', password: BOB, service: 'another' })).status, 400);
    const json = await fetch(`${r.url}/auth/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(json.status, 400);
    assert.equal((await fetch(`${r.url}/auth/token`, { method: 'DELETE' })).status, 405);
    const getWrong = await getToken(r.url, [], basic('alice', 'nope'));
    assert.equal(getWrong.status, 401);
    assert.equal((await getToken(r.url, [], undefined, { service: 'another' })).status, 400);
  });

  it('accepts Basic credentials on /v2 as well, and filters the catalog of a token holder', async () => {
    const alice = basic('alice', ALICE);
    for (const name of ['pub/one', 'priv/two', 'bob/three']) await pushImage(r.url, name, 'v1', alice);
    // the catalog needs registry:catalog:* in the token...
    const noScope = await token(r.url, ['repository:pub/one:pull'], basic('bob', 'bob-New-Pa55word'));
    assert.equal((await fetch(`${r.url}/v2/_catalog`, { headers: { Authorization: bearer(noScope) } })).status, 401);
    // ...and then shows what the caller may pull
    const cat = await token(r.url, ['registry:catalog:*'], basic('bob', 'bob-New-Pa55word'));
    issued.push(noScope, cat);
    const listing = (await (await fetch(`${r.url}/v2/_catalog`, { headers: { Authorization: bearer(cat) } })).json()) as { repositories: string[] };
    assert.deepEqual(listing.repositories, ['bob/three', 'pub/one']);
    const everything = (await (await fetch(`${r.url}/v2/_catalog`, { headers: { Authorization: alice } })).json()) as { repositories: string[] };
    assert.deepEqual(everything.repositories, ['bob/three', 'priv/two', 'pub/one']);
    // an anonymous token never gets the catalog scope
    assert.deepEqual(claims(await token(r.url, ['registry:catalog:*'])).access, []);
  });
});
