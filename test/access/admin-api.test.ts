// The admin API over HTTP: a small server with handleAdminApi in front, an SQLite store, and
// callers signing in with Basic credentials (local passwords, personal access tokens, robots).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteMetadata } from '../../src/metadata/sqlite.ts';
import type { KyselyMetadataStore } from '../../src/metadata/kysely-store.ts';
import { createAccessServices, handleAdminApi, hashPassword, type AccessServices, type AdminApiDeps } from '../../src/auth/access/index.ts';
import { decodeBasic } from '../../src/auth/credentials.ts';
import type { Principal } from '../../src/auth/types.ts';

type Creds = [string, string];
const ROOT: Creds = ['root', 'root-password-1'];
const ALICE: Creds = ['alice', 'alice-password-1'];
const CAROL: Creds = ['carol', 'carol-password-1'];

interface Answer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

describe('admin API', () => {
  let dir: string;
  let store: KyselyMetadataStore;
  let services: AccessServices;
  let server: Server;
  let base: string;
  const logLines: string[] = [];
  /** Every secret the API handed out or was given: none may show up in a log or a later response. */
  const secrets: string[] = [ROOT[1], ALICE[1], CAROL[1]];

  const log = {
    warn: (obj: object, msg: string) => void logLines.push(JSON.stringify({ ...obj, msg })),
    error: (obj: object, msg: string) => void logLines.push(JSON.stringify({ ...obj, msg })),
  };

  async function authenticate(req: IncomingMessage): Promise<Principal | undefined> {
    const header = req.headers.authorization;
    if (req.headers['x-test-explode']) throw new Error('authenticator failed');
    if (!header?.startsWith('Basic ')) return undefined;
    const creds = decodeBasic(header.slice(6));
    if (!creds) return undefined;
    if (services.tokenVerifier.owns(creds.username, creds.password)) return services.tokenVerifier.verify(creds.username, creds.password);
    return services.localVerifier.verify(creds.username, creds.password);
  }

  async function api(method: string, path: string, options: { as?: Creds; body?: unknown; raw?: string; type?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.as) headers.authorization = `Basic ${Buffer.from(`${options.as[0]}:${options.as[1]}`).toString('base64')}`;
    let body: string | undefined;
    if (options.body !== undefined || options.raw !== undefined) {
      body = options.raw ?? JSON.stringify(options.body);
      headers['content-type'] = options.type ?? 'application/json';
    }
    const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined && { body }) });
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  function assertError(a: Answer, status: number, code: string): void {
    assert.equal(a.status, status, a.text);
    assert.equal(a.body?.errors?.[0]?.code, code, a.text);
    assert.equal(typeof a.body.errors[0].message, 'string');
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-admin-api-'));
    store = await openSqliteMetadata(join(dir, 'berth.sqlite'));
    services = createAccessServices(store.access, { log, audit: { flushIntervalMs: 20 } });
    await store.access.users.create({ name: 'root', source: 'local', admin: true, passwordHash: await hashPassword(ROOT[1], 4) });
    const deps: AdminApiDeps = { services, authenticate, log, bcryptRounds: 4, challenge: 'Basic realm="berth"' };
    server = createServer((req, res) => {
      void handleAdminApi(req, res, deps).then((mine) => {
        if (!mine) {
          res.statusCode = 418;
          res.end('not the admin API');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await services.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers only its own paths', async () => {
    assert.equal((await api('GET', '/v2/')).status, 418);
    assert.equal((await api('GET', '/api/v1x/users')).status, 418);
    assert.equal((await api('GET', '/api/v2/users')).status, 418);
    assertError(await api('GET', '/api/v1/nothing-here', { as: ROOT }), 404, 'NOT_FOUND');
    const wrongMethod = await api('PUT', '/api/v1/users', { as: ROOT });
    assertError(wrongMethod, 405, 'METHOD_NOT_ALLOWED');
    assert.equal(wrongMethod.headers.get('allow'), 'GET, POST');
    assertError(await api('GET', '/api/v1/users/%E0%A4%A', { as: ROOT }), 400, 'INVALID');
  });

  it('serves under a path prefix', async () => {
    const prefixed = createServer((req, res) => {
      void handleAdminApi(req, res, { services, authenticate, prefix: '/registry/' }).then((mine) => {
        if (!mine) res.writeHead(418).end();
      });
    });
    await new Promise<void>((r) => prefixed.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(prefixed.address() as AddressInfo).port}`;
    const auth = { authorization: `Basic ${Buffer.from(ROOT.join(':')).toString('base64')}` };
    try {
      assert.equal((await fetch(`${url}/registry/api/v1/users`, { headers: auth })).status, 200);
      assert.equal((await fetch(`${url}/api/v1/users`, { headers: auth })).status, 418);
    } finally {
      await new Promise<void>((r) => prefixed.close(() => r()));
    }
  });

  it('requires a signed-in user', async () => {
    const anon = await api('GET', '/api/v1/users');
    assertError(anon, 401, 'UNAUTHORIZED');
    assert.equal(anon.headers.get('www-authenticate'), 'Basic realm="berth"');
    assertError(await api('GET', '/api/v1/users', { as: ['root', 'wrong'] }), 401, 'UNAUTHORIZED');
    assertError(await api('GET', '/api/v1/users', { headers: { 'x-test-explode': '1' } }), 500, 'INTERNAL');
    assert.ok(logLines.some((l) => l.includes('admin API request failed')));
  });

  describe('users', () => {
    it('lets a site administrator create users, and refuses duplicates and bad input', async () => {
      const created = await api('POST', '/api/v1/users', { as: ROOT, body: { name: 'alice', email: 'alice@example.com', password: ALICE[1] } });
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(
        { ...created.body.user, createdAt: undefined, updatedAt: undefined },
        { name: 'alice', displayName: null, email: 'alice@example.com', source: 'local', admin: false, disabled: false, hasPassword: true, createdAt: undefined, updatedAt: undefined, lastLoginAt: null },
      );
      assert.equal((await api('POST', '/api/v1/users', { as: ROOT, body: { name: 'carol', password: CAROL[1] } })).status, 201);
      assert.equal((await api('POST', '/api/v1/users', { as: ROOT, body: { name: 'bob', source: 'ldap' } })).status, 201);
      assertError(await api('POST', '/api/v1/users', { as: ROOT, body: { name: 'alice' } }), 409, 'CONFLICT');
      assertError(await api('POST', '/api/v1/users', { as: ROOT, body: { name: 'robot$x' } }), 400, 'INVALID');
      assertError(await api('POST', '/api/v1/users', { as: ROOT, body: { name: 'dan', password: 'short' } }), 400, 'INVALID');
      assertError(await api('POST', '/api/v1/users', { as: ROOT, body: { name: 'dan', isAdmin: true } }), 400, 'INVALID');
      assertError(await api('POST', '/api/v1/users', { as: ROOT, body: { name: 'dan', source: 'ldap', password: 'long-enough-1' } }), 400, 'INVALID');
      assertError(await api('POST', '/api/v1/users', { as: ROOT, raw: '{"name":' }), 400, 'INVALID');
      assertError(await api('POST', '/api/v1/users', { as: ROOT, raw: 'name=dan', type: 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      assertError(await api('POST', '/api/v1/users', { as: ALICE, body: { name: 'eve' } }), 403, 'DENIED');
    });

    it('lists users: everything for administrators, names only for others', async () => {
      const full = await api('GET', '/api/v1/users?limit=2', { as: ROOT });
      assert.equal(full.status, 200);
      assert.deepEqual(full.body.users.map((u: { name: string }) => u.name), ['alice', 'bob']);
      assert.equal(full.body.users[0].email, 'alice@example.com');
      assert.equal(full.body.next, 'bob');
      const rest = await api('GET', `/api/v1/users?limit=2&after=${full.body.next}`, { as: ROOT });
      assert.deepEqual(rest.body.users.map((u: { name: string }) => u.name), ['carol', 'root']);
      const brief = await api('GET', '/api/v1/users?q=ali', { as: CAROL });
      assert.deepEqual(brief.body.users, [{ name: 'alice', displayName: null }]);
      // Not searchable by e-mail address for non-administrators.
      assert.deepEqual((await api('GET', '/api/v1/users?q=example.com', { as: CAROL })).body.users, []);
      assertError(await api('GET', '/api/v1/users?limit=0', { as: ROOT }), 400, 'INVALID');
    });

    it('shows a user to themselves and to administrators only', async () => {
      const self = await api('GET', '/api/v1/users/alice', { as: ALICE });
      assert.equal(self.status, 200);
      assert.equal(self.body.user.name, 'alice');
      assert.deepEqual(self.body.teams, []);
      assertError(await api('GET', '/api/v1/users/alice', { as: CAROL }), 403, 'DENIED');
      assertError(await api('GET', '/api/v1/users/nobody', { as: ROOT }), 404, 'NOT_FOUND');
    });

    it('lets users edit their profile but never raise themselves to administrator', async () => {
      const ok = await api('PATCH', '/api/v1/users/alice', { as: ALICE, body: { displayName: 'Alice' } });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.user.displayName, 'Alice');
      assertError(await api('PATCH', '/api/v1/users/alice', { as: ALICE, body: { admin: true } }), 403, 'DENIED');
      assertError(await api('PATCH', '/api/v1/users/carol', { as: ALICE, body: { displayName: 'x' } }), 403, 'DENIED');
      assert.equal((await store.access.users.get('alice'))?.admin, false);
      assertError(await api('PATCH', '/api/v1/users/root', { as: ROOT, body: { admin: false } }), 409, 'CONFLICT');
      assertError(await api('DELETE', '/api/v1/users/root', { as: ROOT }), 409, 'CONFLICT');
    });

    it('lets administrators disable, enable, reset passwords and delete', async () => {
      assert.equal((await api('POST', '/api/v1/users/carol/disable', { as: ROOT })).status, 200);
      assertError(await api('GET', '/api/v1/users/carol', { as: CAROL }), 401, 'UNAUTHORIZED');
      assert.equal((await api('POST', '/api/v1/users/carol/enable', { as: ROOT })).status, 200);
      assert.equal((await api('GET', '/api/v1/users/carol', { as: CAROL })).status, 200);
      const newPassword = 'carol-password-2';
      secrets.push(newPassword);
      assert.equal((await api('PATCH', '/api/v1/users/carol', { as: ROOT, body: { password: newPassword } })).status, 200);
      assertError(await api('GET', '/api/v1/users/carol', { as: CAROL }), 401, 'UNAUTHORIZED');
      assert.equal((await api('GET', '/api/v1/users/carol', { as: ['carol', newPassword] })).status, 200);
      assert.equal((await api('PATCH', '/api/v1/users/carol', { as: ROOT, body: { password: CAROL[1] } })).status, 200);
      assertError(await api('PATCH', '/api/v1/users/bob', { as: ROOT, body: { password: 'ldap-user-pass' } }), 400, 'INVALID');
      assert.equal((await api('POST', '/api/v1/users', { as: ROOT, body: { name: 'temp' } })).status, 201);
      assert.equal((await api('DELETE', '/api/v1/users/temp', { as: ROOT })).status, 204);
      assertError(await api('DELETE', '/api/v1/users/temp', { as: ROOT }), 404, 'NOT_FOUND');
      assertError(await api('DELETE', '/api/v1/users/bob', { as: ALICE }), 403, 'DENIED');
    });
  });

  describe('teams', () => {
    it('are managed by site administrators', async () => {
      const created = await api('POST', '/api/v1/teams', { as: ROOT, body: { name: 'devs', description: 'Developers' } });
      assert.equal(created.status, 201, created.text);
      assertError(await api('POST', '/api/v1/teams', { as: ROOT, body: { name: 'devs' } }), 409, 'CONFLICT');
      assertError(await api('POST', '/api/v1/teams', { as: ROOT, body: { name: 'Dev Team' } }), 400, 'INVALID');
      assertError(await api('POST', '/api/v1/teams', { as: ALICE, body: { name: 'mine' } }), 403, 'DENIED');
      assert.equal((await api('PATCH', '/api/v1/teams/devs', { as: ROOT, body: { ldapGroup: 'cn=devs,dc=example,dc=com' } })).body.team.ldapGroup, 'cn=devs,dc=example,dc=com');
      assert.deepEqual((await api('GET', '/api/v1/teams', { as: CAROL })).body.teams.map((t: { name: string }) => t.name), ['devs']);
      assert.equal((await api('GET', '/api/v1/teams/devs', { as: CAROL })).body.team.description, 'Developers');
      assert.equal((await api('POST', '/api/v1/teams', { as: ROOT, body: { name: 'gone' } })).status, 201);
      assert.equal((await api('DELETE', '/api/v1/teams/gone', { as: ROOT })).status, 204);
      assertError(await api('GET', '/api/v1/teams/gone', { as: ROOT }), 404, 'NOT_FOUND');
    });

    it('have members added and removed by administrators, visible to members', async () => {
      assert.equal((await api('PUT', '/api/v1/teams/devs/members/alice', { as: ROOT })).status, 201);
      assert.equal((await api('PUT', '/api/v1/teams/devs/members/alice', { as: ROOT })).status, 200);
      assertError(await api('PUT', '/api/v1/teams/devs/members/nobody', { as: ROOT }), 404, 'NOT_FOUND');
      assertError(await api('PUT', '/api/v1/teams/devs/members/carol', { as: ALICE }), 403, 'DENIED');
      const members = await api('GET', '/api/v1/teams/devs/members', { as: ALICE });
      assert.deepEqual(members.body.members.map((m: { user: string }) => m.user), ['alice']);
      assertError(await api('GET', '/api/v1/teams/devs/members', { as: CAROL }), 403, 'DENIED');
      // A membership of the LDAP sync is the directory's to remove.
      await store.access.teams.syncLdapMembers('devs', ['bob']);
      assertError(await api('DELETE', '/api/v1/teams/devs/members/bob', { as: ROOT }), 409, 'CONFLICT');
      assert.equal((await api('DELETE', '/api/v1/teams/devs/members/bob?force=true', { as: ROOT })).status, 204);
      assertError(await api('DELETE', '/api/v1/teams/devs/members/bob', { as: ROOT }), 404, 'NOT_FOUND');
    });
  });

  describe('permissions and namespaces', () => {
    it('lets a site administrator make a team admin of a namespace', async () => {
      const g = await api('POST', '/api/v1/permissions', { as: ROOT, body: { subject: { kind: 'team', name: 'devs' }, scope: { kind: 'namespace', name: 'team' }, role: 'admin' } });
      assert.equal(g.status, 201, g.text);
      assert.deepEqual({ ...g.body.permission, id: 0, createdAt: 0 }, { id: 0, subject: { kind: 'team', name: 'devs' }, scope: { kind: 'namespace', name: 'team' }, role: 'admin', createdAt: 0, createdBy: 'root' });
      assert.equal((await api('POST', '/api/v1/permissions', { as: ROOT, body: { subject: { kind: 'user', name: 'root' }, scope: { kind: 'namespace', name: 'other' }, role: 'admin' } })).status, 201);
    });

    it('lets the namespace admin grant inside the namespace, with immediate effect', async () => {
      const carol: Principal = { name: 'carol', kind: 'user', via: 'local', teams: [], admin: false };
      assert.deepEqual(await services.controller.allowedActions(carol, 'team/app', ['push']), []);
      const g = await api('POST', '/api/v1/permissions', { as: ALICE, body: { subject: { kind: 'user', name: 'carol' }, scope: { kind: 'repository', name: 'team/app' }, role: 'write' } });
      assert.equal(g.status, 201, g.text);
      assert.deepEqual(await services.controller.allowedActions(carol, 'team/app', ['push']), ['push']);
      const sub = await api('POST', '/api/v1/permissions', { as: ALICE, body: { subject: { kind: 'team', name: 'devs' }, scope: { kind: 'namespace', name: 'team/sub' }, role: 'read' } });
      assert.equal(sub.status, 201, sub.text);
    });

    it('refuses grants outside what the caller administers', async () => {
      // A namespace admin cannot touch another namespace, nor a look-alike one.
      for (const scope of [
        { kind: 'namespace', name: 'other' },
        { kind: 'namespace', name: 'teamx' },
        { kind: 'repository', name: 'other/app' },
        { kind: 'namespace', name: 'te' },
      ]) {
        assertError(await api('POST', '/api/v1/permissions', { as: ALICE, body: { subject: { kind: 'user', name: 'alice' }, scope, role: 'admin' } }), 403, 'DENIED');
      }
      // A user with write cannot raise themselves to admin.
      assertError(await api('POST', '/api/v1/permissions', { as: CAROL, body: { subject: { kind: 'user', name: 'carol' }, scope: { kind: 'repository', name: 'team/app' }, role: 'admin' } }), 403, 'DENIED');
      const other = (await store.access.permissions.list({ scope: { kind: 'namespace', name: 'other' } }))[0]!;
      assertError(await api('DELETE', `/api/v1/permissions/${other.id}`, { as: ALICE }), 403, 'DENIED');
      assertError(await api('DELETE', '/api/v1/permissions/999999', { as: ALICE }), 404, 'NOT_FOUND');
      assertError(await api('DELETE', '/api/v1/permissions/abc', { as: ALICE }), 400, 'INVALID');
    });

    it('validates grants', async () => {
      const post = (body: unknown) => api('POST', '/api/v1/permissions', { as: ROOT, body });
      assertError(await post({ subject: { kind: 'user', name: 'alice' }, scope: { kind: 'namespace', name: 'team' }, role: 'owner' }), 400, 'INVALID');
      assertError(await post({ subject: { kind: 'group', name: 'alice' }, scope: { kind: 'namespace', name: 'team' }, role: 'read' }), 400, 'INVALID');
      assertError(await post({ subject: { kind: 'user', name: 'alice' }, scope: { kind: 'namespace', name: 'Team/' }, role: 'read' }), 400, 'INVALID');
      assertError(await post({ subject: { kind: 'user', name: 'nobody' }, scope: { kind: 'namespace', name: 'team' }, role: 'read' }), 404, 'NOT_FOUND');
    });

    it('lists grants for those who may see them', async () => {
      const nested = await api('GET', '/api/v1/permissions?namespace=team&nested=true', { as: ALICE });
      assert.equal(nested.status, 200, nested.text);
      assert.deepEqual(nested.body.permissions.map((p: { scope: { name: string } }) => p.scope.name), ['team', 'team/app', 'team/sub']);
      assert.equal((await api('GET', '/api/v1/permissions?namespace=team', { as: ALICE })).body.permissions.length, 1);
      assertError(await api('GET', '/api/v1/permissions?namespace=other', { as: ALICE }), 403, 'DENIED');
      assert.equal((await api('GET', '/api/v1/permissions?user=carol', { as: CAROL })).body.permissions.length, 1);
      assertError(await api('GET', '/api/v1/permissions?user=alice', { as: CAROL }), 403, 'DENIED');
      assert.equal((await api('GET', '/api/v1/permissions?team=devs', { as: ALICE })).status, 200);
      assertError(await api('GET', '/api/v1/permissions?team=devs', { as: CAROL }), 403, 'DENIED');
      assertError(await api('GET', '/api/v1/permissions', { as: ALICE }), 403, 'DENIED');
      assert.ok((await api('GET', '/api/v1/permissions', { as: ROOT })).body.permissions.length >= 4);
    });

    it('revokes grants', async () => {
      const sub = (await store.access.permissions.list({ scope: { kind: 'namespace', name: 'team/sub' } }))[0]!;
      assert.equal((await api('DELETE', `/api/v1/permissions/${sub.id}`, { as: ALICE })).status, 204);
      assertError(await api('DELETE', `/api/v1/permissions/${sub.id}`, { as: ALICE }), 404, 'NOT_FOUND');
    });

    it('sets namespace visibility for namespace admins', async () => {
      const anon: Principal = { name: '', kind: 'anonymous', via: 'anonymous', teams: [], admin: false };
      assert.deepEqual(await services.controller.allowedActions(anon, 'team/app', ['pull']), []);
      const set = await api('PUT', '/api/v1/namespaces/team', { as: ALICE, body: { visibility: 'public' } });
      assert.equal(set.status, 200, set.text);
      assert.equal(set.body.namespace.visibility, 'public');
      assert.deepEqual(await services.controller.allowedActions(anon, 'team/app', ['pull', 'push']), ['pull']);
      assert.equal((await api('PUT', '/api/v1/namespaces/team/sub', { as: ALICE, body: { visibility: 'private' } })).status, 200);
      assertError(await api('PUT', '/api/v1/namespaces/other', { as: ALICE, body: { visibility: 'public' } }), 403, 'DENIED');
      assertError(await api('PUT', '/api/v1/namespaces/team', { as: ALICE, body: { visibility: 'open' } }), 400, 'INVALID');
      const listed = await api('GET', '/api/v1/namespaces', { as: CAROL });
      assert.deepEqual(listed.body.namespaces.map((n: { name: string; visibility: string }) => `${n.name}:${n.visibility}`), ['team:public', 'team/sub:private']);
      const one = await api('GET', '/api/v1/namespaces/team', { as: CAROL });
      assert.equal(one.body.canAdminister, false);
      assert.equal(one.body.yourRole, 'read');
      assert.equal((await api('GET', '/api/v1/namespaces/team', { as: ALICE })).body.canAdminister, true);
    });
  });

  describe('personal access tokens', () => {
    let secret: string;
    let id: number;

    it('are created by their owner, the secret shown once', async () => {
      const created = await api('POST', '/api/v1/tokens', { as: ALICE, body: { name: 'laptop', scopes: [{ type: 'repository', name: 'team/*', actions: ['pull'] }] } });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.headers.get('cache-control'), 'no-store');
      secret = created.body.secret;
      id = created.body.token.id;
      secrets.push(secret);
      assert.match(secret, /^berth_pat_[A-Za-z0-9_-]{43}$/);
      assert.equal(created.body.token.state, 'active');
      assert.ok(secret.startsWith(created.body.token.hint.replace('…', '')));
      const listed = await api('GET', '/api/v1/tokens', { as: ALICE });
      assert.equal(listed.body.tokens.length, 1);
      assert.ok(!listed.text.includes(secret));
    });

    it('work as a password, limited by their scopes, and cannot mint more tokens', async () => {
      const asToken: Creds = ['alice', secret];
      assert.equal((await api('GET', '/api/v1/tokens', { as: asToken })).status, 200);
      assertError(await api('POST', '/api/v1/tokens', { as: asToken, body: { name: 'more', scopes: [{ type: 'repository', name: '*', actions: ['*'] }] } }), 403, 'DENIED');
      // alice administers team/, but a pull-only token does not.
      assertError(await api('PUT', '/api/v1/namespaces/team', { as: asToken, body: { visibility: 'private' } }), 403, 'DENIED');
      const p = await services.tokenVerifier.verify('alice', secret);
      assert.deepEqual(await services.controller.allowedActions(p!, 'team/app', ['pull', 'push']), ['pull']);
      assertError(await api('GET', '/api/v1/tokens', { as: ['carol', secret] }), 401, 'UNAUTHORIZED');
    });

    it('validate their input', async () => {
      const post = (body: unknown) => api('POST', '/api/v1/tokens', { as: ALICE, body });
      assertError(await post({ name: 'x', scopes: [] }), 400, 'INVALID');
      assertError(await post({ name: 'x', scopes: [{ type: 'repository', name: 'Bad Name', actions: ['pull'] }] }), 400, 'INVALID');
      assertError(await post({ name: 'x', scopes: [{ type: 'repository', name: 'a/b', actions: ['fly'] }] }), 400, 'INVALID');
      assertError(await post({ name: 'x', scopes: [{ type: 'repository', name: 'a/b', actions: ['pull'] }], expiresAt: '2001-01-01T00:00:00Z' }), 400, 'INVALID');
      const future = new Date(Date.now() + 86_400_000).toISOString();
      const ok = await post({ name: 'short-lived', scopes: [{ type: 'repository', name: 'a/b', actions: ['pull'] }], expiresAt: future });
      assert.equal(ok.status, 201, ok.text);
      secrets.push(ok.body.secret);
      assert.equal(ok.body.token.expiresAt, future);
    });

    it('are listed for administrators and revoked by owner or administrator', async () => {
      const forRoot = await api('GET', '/api/v1/users/alice/tokens', { as: ROOT });
      assert.equal(forRoot.body.tokens.length, 2);
      assertError(await api('GET', '/api/v1/users/alice/tokens', { as: CAROL }), 403, 'DENIED');
      assertError(await api('DELETE', `/api/v1/users/alice/tokens/${id}`, { as: CAROL }), 403, 'DENIED');
      assertError(await api('DELETE', `/api/v1/tokens/${id}`, { as: CAROL }), 404, 'NOT_FOUND');
      assert.equal((await api('DELETE', `/api/v1/tokens/${id}`, { as: ALICE })).status, 204);
      assertError(await api('GET', '/api/v1/tokens', { as: ['alice', secret] }), 401, 'UNAUTHORIZED');
      assertError(await api('DELETE', `/api/v1/users/alice/tokens/${id}`, { as: ROOT }), 404, 'NOT_FOUND');
      const states = (await api('GET', '/api/v1/users/alice/tokens', { as: ROOT })).body.tokens.map((t: { state: string }) => t.state);
      assert.deepEqual(states, ['revoked', 'active']);
    });
  });

  describe('robot accounts', () => {
    let secret: string;

    it('are created by namespace admins with grants inside the namespace', async () => {
      const body = { name: 'ci', namespace: 'team', description: 'CI', permissions: [{ repository: 'team/app', role: 'write' }, { namespace: 'team/sub', role: 'read' }] };
      assertError(await api('POST', '/api/v1/robots', { as: CAROL, body }), 403, 'DENIED');
      assertError(await api('POST', '/api/v1/robots', { as: ALICE, body: { ...body, namespace: 'other' } }), 403, 'DENIED');
      assertError(await api('POST', '/api/v1/robots', { as: ALICE, body: { ...body, permissions: [{ repository: 'other/app', role: 'write' }] } }), 400, 'INVALID');
      assertError(await api('POST', '/api/v1/robots', { as: ALICE, body: { ...body, permissions: [{ repository: 'team/app', role: 'admin' }] } }), 400, 'INVALID');
      assertError(await api('POST', '/api/v1/robots', { as: ALICE, body: { ...body, permissions: [{ repository: 'team/app', namespace: 'team', role: 'read' }] } }), 400, 'INVALID');
      const created = await api('POST', '/api/v1/robots', { as: ALICE, body });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.robot.name, 'robot$ci');
      secret = created.body.secret;
      secrets.push(secret);
      assert.match(secret, /^berth_rbt_/);
      assertError(await api('POST', '/api/v1/robots', { as: ALICE, body: { ...body, name: 'robot$ci' } }), 409, 'CONFLICT');
      const p = await services.tokenVerifier.verify('robot$ci', secret);
      assert.equal(p?.kind, 'robot');
      assert.deepEqual(await services.controller.allowedActions(p!, 'team/app', ['pull', 'push', 'delete']), ['pull', 'push']);
    });

    it('cannot use the admin API themselves', async () => {
      assertError(await api('GET', '/api/v1/tokens', { as: ['robot$ci', secret] }), 403, 'DENIED');
    });

    it('are shown, listed, updated and granted by namespace admins', async () => {
      const got = await api('GET', '/api/v1/robots/robot$ci', { as: ALICE });
      assert.equal(got.status, 200, got.text);
      assert.deepEqual(got.body.permissions.map((x: { scope: { name: string }; role: string }) => `${x.scope.name}:${x.role}`), ['team/app:write', 'team/sub:read']);
      assert.ok(!got.text.includes(secret));
      assertError(await api('GET', '/api/v1/robots/ci', { as: CAROL }), 403, 'DENIED');
      assert.equal((await api('GET', '/api/v1/robots?namespace=team', { as: ALICE })).body.robots.length, 1);
      assertError(await api('GET', '/api/v1/robots', { as: ALICE }), 403, 'DENIED');
      assert.equal((await api('GET', '/api/v1/robots', { as: ROOT })).body.robots.length, 1);
      assert.equal((await api('PATCH', '/api/v1/robots/ci', { as: ALICE, body: { description: 'deploys' } })).body.robot.description, 'deploys');
      const grantOutside = { subject: { kind: 'robot', name: 'robot$ci' }, scope: { kind: 'namespace', name: 'other' }, role: 'read' };
      assertError(await api('POST', '/api/v1/permissions', { as: ROOT, body: grantOutside }), 400, 'INVALID');
      const grantInside = { subject: { kind: 'robot', name: 'robot$ci' }, scope: { kind: 'repository', name: 'team/web' }, role: 'delete' };
      assert.equal((await api('POST', '/api/v1/permissions', { as: ALICE, body: grantInside })).status, 201);
      assert.equal((await api('GET', '/api/v1/permissions?robot=robot$ci', { as: ALICE })).body.permissions.length, 3);
    });

    it('get a new secret on rotation, and are deleted', async () => {
      const rotated = await api('POST', '/api/v1/robots/robot$ci/rotate', { as: ALICE });
      assert.equal(rotated.status, 200, rotated.text);
      secrets.push(rotated.body.secret);
      assert.notEqual(rotated.body.secret, secret);
      assert.equal(await services.tokenVerifier.verify('robot$ci', secret), undefined);
      assert.ok(await services.tokenVerifier.verify('robot$ci', rotated.body.secret));
      assert.equal((await api('DELETE', '/api/v1/robots/ci', { as: ALICE })).status, 204);
      assert.equal(await services.tokenVerifier.verify('robot$ci', rotated.body.secret), undefined);
      assertError(await api('DELETE', '/api/v1/robots/ci', { as: ALICE }), 404, 'NOT_FOUND');
    });
  });

  describe('audit', () => {
    it('records every change and every refused change', async () => {
      const all = await api('GET', '/api/v1/audit?limit=500', { as: ROOT });
      assert.equal(all.status, 200, all.text);
      const actions = new Set(all.body.events.map((e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`));
      for (const a of [
        'user_created:success',
        'user_updated:success',
        'user_updated:denied',
        'user_deleted:success',
        'team_created:success',
        'membership_change:success',
        'permission_change:success',
        'permission_change:denied',
        'visibility_change:success',
        'token_created:success',
        'token_revoked:success',
        'robot_created:success',
        'robot_rotated:success',
        'robot_deleted:success',
      ]) {
        assert.ok(actions.has(a), `${a} in ${[...actions].join(' ')}`);
      }
      const created = all.body.events.find((e: { action: string }) => e.action === 'token_created');
      assert.equal(typeof created.details.tokenId, 'number', 'ids are not secrets');
      const denied = all.body.events.find((e: { action: string; outcome: string; actor: string }) => e.action === 'user_updated' && e.outcome === 'denied');
      assert.equal(denied.actor, 'alice');
      assert.equal(denied.clientAddress, '127.0.0.1');
    });

    it('filters and pages', async () => {
      const grants = await api('GET', '/api/v1/audit?action=permission_change&limit=2', { as: ROOT });
      assert.equal(grants.body.events.length, 2);
      assert.ok(grants.body.next);
      const next = await api('GET', `/api/v1/audit?action=permission_change&limit=2&cursor=${grants.body.next}`, { as: ROOT });
      assert.equal(next.status, 200);
      const ids = [...grants.body.events, ...next.body.events].map((e: { id: number }) => e.id);
      assert.equal(new Set(ids).size, ids.length);
      assert.ok(ids[0] > ids[ids.length - 1], 'newest first');
      const future = await api('GET', `/api/v1/audit?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, { as: ROOT });
      assert.deepEqual(future.body, { events: [], next: null });
      assertError(await api('GET', '/api/v1/audit?cursor=bogus', { as: ROOT }), 400, 'INVALID');
      assertError(await api('GET', '/api/v1/audit?from=yesterday', { as: ROOT }), 400, 'INVALID');
    });

    it('shows namespace admins their namespace and everyone their own events', async () => {
      const team = await api('GET', '/api/v1/audit?namespace=team', { as: ALICE });
      assert.equal(team.status, 200, team.text);
      assert.ok(team.body.events.every((e: { repository: string }) => e.repository.startsWith('team/')));
      assertError(await api('GET', '/api/v1/audit', { as: ALICE }), 403, 'DENIED');
      assertError(await api('GET', '/api/v1/audit?namespace=other', { as: ALICE }), 403, 'DENIED');
      const own = await api('GET', '/api/v1/audit?actor=carol', { as: CAROL });
      assert.equal(own.status, 200);
      assert.ok(own.body.events.every((e: { actor: string }) => e.actor === 'carol'));
      assertError(await api('GET', '/api/v1/audit?actor=alice', { as: CAROL }), 403, 'DENIED');
    });
  });

  it('never puts a secret or a hash in a response, the audit log or a log line', async () => {
    const everything = [
      (await api('GET', '/api/v1/users?limit=500', { as: ROOT })).text,
      (await api('GET', '/api/v1/users/alice/tokens', { as: ROOT })).text,
      (await api('GET', '/api/v1/audit?limit=500', { as: ROOT })).text,
      (await api('GET', '/api/v1/permissions', { as: ROOT })).text,
      logLines.join('\n'),
    ].join('\n');
    for (const s of secrets) assert.ok(!everything.includes(s), `a secret leaked (${s.slice(0, 12)}…)`);
    assert.ok(!/\$2[aby]\$/.test(everything), 'a bcrypt hash leaked');
    const hashes = await store.access.tokens.list('alice');
    assert.ok(hashes.length > 0);
    assert.ok(!everything.includes('token_hash') && !everything.includes('secret_hash') && !everything.includes('password_hash'));
  });
});
