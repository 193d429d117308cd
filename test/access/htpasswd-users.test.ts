// With access control, an htpasswd user gets a row in the access model at login (as an LDAP user
// does), so an administrator can add them to a team by name right away.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { basic, startHtpasswdRegistry, type AuthRegistry } from '../auth/harness.ts';

describe('htpasswd users in the access model', () => {
  let r: AuthRegistry;
  before(async () => {
    r = await startHtpasswdRegistry({ admin: 'admin-pw', carol: 'carol-pw' }, (c) => {
      c.berth.auth.accessControl = { enabled: true, admins: ['admin'] };
    });
  });
  after(() => r?.stop());

  it('are recorded when they log in and can then join a team', async () => {
    const admin = basic('admin', 'admin-pw');
    const json = { authorization: admin, 'content-type': 'application/json' };
    assert.equal((await fetch(`${r.url}/api/v1/teams`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'ops' }) })).status, 201);
    const add = () => fetch(`${r.url}/api/v1/teams/ops/members/carol`, { method: 'PUT', headers: json, body: '{}' });
    const before = await add();
    assert.equal(before.status, 404, 'unknown before any login');
    // docker login: GET /v2/ with Basic credentials.
    assert.equal((await fetch(`${r.url}/v2/`, { headers: { authorization: basic('carol', 'carol-pw') } })).status, 200);
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await add()).status;
      if (status !== 200) await new Promise((ok) => setTimeout(ok, 20));
    }
    assert.equal(status, 200, 'recorded at login, so the membership is accepted');
    const { user, teams } = (await (await fetch(`${r.url}/api/v1/users/carol`, { headers: { authorization: admin } })).json()) as { user: { source: string; lastLoginAt: string | null }; teams: unknown[] };
    assert.equal(user.source, 'htpasswd');
    assert.ok(user.lastLoginAt);
    assert.equal(teams.length, 1);
  });
});
