// The access model wired into the running registry (berth.auth.accesscontrol): htpasswd users,
// a site admin from `admins`, teams and namespace roles granted through /api/v1, personal access
// tokens usable as docker passwords, and manifest pushes recorded in the audit log.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { basic, errorBody, startHtpasswdRegistry, type AuthRegistry } from '../auth/harness.ts';
import { body, pushImage, sha256 } from '../http/harness.ts';

const USERS = { admin: 'admin-password-1', alice: 'alice-password-1', bob: 'bob-password-1' };

describe('access control wired into the registry', () => {
  let r: AuthRegistry;
  const as = (user: keyof typeof USERS) => ({ Authorization: basic(user, USERS[user]) });
  const api = (path: string, user: keyof typeof USERS, method = 'GET', json?: unknown) =>
    fetch(`${r.url}/api/v1${path}`, {
      method,
      headers: { ...as(user), ...(json !== undefined && { 'Content-Type': 'application/json' }) },
      ...(json !== undefined && { body: JSON.stringify(json) }),
    });
  const push = async (user: keyof typeof USERS | { Authorization: string }, repo: string) => {
    const auth = typeof user === 'string' ? as(user) : user;
    const data = Buffer.from(`layer of ${repo} ${Math.random()}`);
    const digest = sha256(data);
    return fetch(`${r.url}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: auth, body: body(data) });
  };

  before(async () => {
    r = await startHtpasswdRegistry(USERS, (c) => {
      c.berth.auth.accessControl = { enabled: true, admins: ['admin'] };
    });
    // The site admin (from `admins`) sets up a team with a namespace.
    assert.equal((await api('/teams', 'admin', 'POST', { name: 'team-a' })).status, 201);
    assert.equal((await api('/users', 'admin', 'POST', { name: 'alice' })).status, 201);
    const member = await api('/teams/team-a/members/alice', 'admin', 'PUT', {});
    assert.ok(member.status < 300, `membership: ${member.status} ${await member.text()}`);
    const grant = await api('/permissions', 'admin', 'POST', { subject: { kind: 'team', name: 'team-a' }, scope: { kind: 'namespace', name: 'team-a' }, role: 'write' });
    assert.equal(grant.status, 201, await grant.text());
  });
  after(() => r.stop());

  it('lets a team member push to the team namespace and refuses another team\'s namespace', async () => {
    assert.equal((await push('alice', 'team-a/app')).status, 201);
    const other = await push('alice', 'team-b/app');
    assert.equal(other.status, 403);
    assert.equal((await errorBody(other))[0]?.code, 'DENIED');
    // bob is authenticated but has no role anywhere.
    assert.equal((await push('bob', 'team-a/app')).status, 403);
    // anonymous: challenged.
    const anon = await fetch(`${r.url}/v2/team-a/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic realm=/);
  });

  it('lets anyone pull from a public namespace, and only pull', async () => {
    assert.equal((await push('alice', 'team-a/public-app')).status, 201);
    const anonTags = () => fetch(`${r.url}/v2/team-a/public-app/tags/list`);
    assert.equal((await anonTags()).status, 401, 'private by default');
    const visibility = await fetch(`${r.url}/api/v1/namespaces/team-a`, {
      method: 'PUT',
      headers: { ...as('admin'), 'Content-Type': 'application/json' },
      body: JSON.stringify({ visibility: 'public' }),
    });
    assert.ok(visibility.status < 300, `visibility: ${visibility.status} ${await visibility.text()}`);
    // no tags yet, but the repository is readable: NAME_UNKNOWN/empty list rather than a challenge
    assert.notEqual((await anonTags()).status, 401);
    assert.equal((await fetch(`${r.url}/v2/team-a/public-app/blobs/uploads/`, { method: 'POST' })).status, 401);
  });

  it('refuses the admin API to a user who is not an administrator', async () => {
    const res = await api('/permissions', 'bob', 'POST', { subject: { kind: 'user', name: 'bob' }, scope: { kind: 'namespace', name: 'team-a' }, role: 'admin' });
    assert.equal(res.status, 403);
    assert.equal((await api('/users', 'alice', 'GET')).status, 200);
    assert.equal((await fetch(`${r.url}/api/v1/users`)).status, 401);
  });

  it('accepts a personal access token as the password, within its scopes only', async () => {
    const created = await api('/tokens', 'alice', 'POST', { name: 'ci', scopes: [{ type: 'repository', name: 'team-a/app', actions: ['pull'] }] });
    assert.equal(created.status, 201, await created.clone().text());
    const { secret } = (await created.json()) as { secret: string };
    assert.match(secret, /^berth_pat_/);
    const pat = { Authorization: basic('alice', secret) };
    const image = await pushImage(r.url, 'team-a/app', 'v1', {}).catch(() => undefined);
    assert.equal(image, undefined, 'an anonymous pushImage must fail');
    assert.equal((await fetch(`${r.url}/v2/team-a/app/tags/list`, { headers: pat })).status, 200);
    assert.equal((await push(pat, 'team-a/app')).status, 403, 'a pull-only token cannot push');
    // A wrong token is refused, and never offered to htpasswd as a password.
    assert.equal((await fetch(`${r.url}/v2/team-a/app/tags/list`, { headers: { Authorization: basic('alice', `${secret}x`) } })).status, 401);
  });

  it('records manifest pushes in the audit log, queryable by the admin', async () => {
    const config = Buffer.from('{}');
    const layer = Buffer.from('audited layer');
    for (const b of [config, layer]) {
      assert.equal((await fetch(`${r.url}/v2/team-a/audited/blobs/uploads/?digest=${sha256(b)}`, { method: 'POST', headers: as('alice'), body: body(b) })).status, 201);
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
      }),
    );
    const put = await fetch(`${r.url}/v2/team-a/audited/manifests/v1`, {
      method: 'PUT',
      headers: { ...as('alice'), 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
      body: body(manifest),
    });
    assert.equal(put.status, 201);
    let events: Array<{ actor: string; action: string; repository: string; reference: string }> = [];
    for (let i = 0; i < 20 && events.length === 0; i++) {
      await new Promise((d) => setTimeout(d, 150)); // the audit log writes in batches
      const res = await api('/audit?repository=team-a/audited&action=push', 'admin');
      assert.equal(res.status, 200);
      events = ((await res.json()) as { events: typeof events }).events;
    }
    assert.equal(events[0]?.actor, 'alice');
    assert.equal(events[0]?.reference, sha256(manifest));
    // logins and failed logins too (a wrong password names the claimed user, never the password).
    assert.equal((await fetch(`${r.url}/v2/`, { headers: as('bob') })).status, 200);
    assert.equal((await fetch(`${r.url}/v2/`, { headers: { Authorization: basic('bob', 'wrong-password-x') } })).status, 401);
    const seen = async (action: string) => {
      for (let i = 0; i < 20; i++) {
        const res = await api(`/audit?actor=bob&action=${action}`, 'admin');
        const page = (await res.json()) as { events: Array<{ actor: string; details?: unknown }> };
        if (page.events.length) return page.events;
        await new Promise((d) => setTimeout(d, 150));
      }
      return [];
    };
    assert.equal((await seen('login'))[0]?.actor, 'bob');
    const failed = await seen('login_failed');
    assert.equal(failed[0]?.actor, 'bob');
    assert.ok(!JSON.stringify(failed).includes('wrong-password-x'), 'the password is never recorded');
    // alice may read her own events, not bob's.
    assert.equal((await api('/audit?actor=alice', 'alice')).status, 200);
    assert.equal((await api('/audit?actor=bob', 'alice')).status, 403);
  });
});
