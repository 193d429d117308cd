// LDAP users at the registry: Basic logins checked against a real slapd, directory groups mapped
// to teams (so roles granted to a team apply), the directory's admin group administering berth.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/index.ts';
import { basic, startAuthRegistry, type AuthRegistry } from '../auth/harness.ts';
import { body, sha256 } from '../http/harness.ts';
import { ldapSection } from './harness.ts';
import { PASSWORDS, SKIP_LDAP, startSlapd, type Slapd } from './slapd.ts';

describe('LDAP logins at the registry, with access control', { skip: SKIP_LDAP && 'BERTH_SKIP_LDAP=1' }, () => {
  let slapd: Slapd;
  let r: AuthRegistry;
  const as = (user: 'alice' | 'bob' | 'carol', password: string = PASSWORDS[user]) => ({ Authorization: basic(user, password) });
  const push = (auth: Record<string, string>, repo: string) => {
    const data = Buffer.from(`${repo} ${Math.random()}`);
    return fetch(`${r.url}/v2/${repo}/blobs/uploads/?digest=${sha256(data)}`, { method: 'POST', headers: auth, body: body(data) });
  };

  before(async () => {
    slapd = await startSlapd();
    const ldap = loadConfig({ text: stringify({ version: 0.1, berth: { auth: { ldap: ldapSection(slapd) } } }), env: {} }).config.berth.auth.ldap!;
    r = await startAuthRegistry((c) => {
      c.berth.auth.ldap = ldap;
      c.berth.auth.accessControl = { enabled: true, admins: [] };
    });
  });
  after(async () => {
    await r?.stop();
    await slapd?.stop();
  });

  it('checks passwords against the directory', async () => {
    assert.equal((await fetch(`${r.url}/v2/`, { headers: as('bob') })).status, 200);
    assert.equal((await fetch(`${r.url}/v2/`, { headers: as('bob', 'not-his-password') })).status, 401);
    assert.equal((await fetch(`${r.url}/v2/`, { headers: { Authorization: basic('nobody', 'x') } })).status, 401);
  });

  it('maps directory groups to teams whose roles apply, with the admin group administering berth', async () => {
    // bob (group developers -> team dev) has no role yet.
    assert.equal((await push(as('bob'), 'dev/app')).status, 403);
    // alice is in registry-admins: a site administrator, who sets up the team's namespace.
    const api = (path: string, json: unknown) =>
      fetch(`${r.url}/api/v1${path}`, { method: 'POST', headers: { ...as('alice'), 'Content-Type': 'application/json' }, body: JSON.stringify(json) });
    const team = await api('/teams', { name: 'dev' });
    assert.ok(team.status === 201 || team.status === 409, `team: ${team.status} ${await team.text()}`);
    const grant = await api('/permissions', { subject: { kind: 'team', name: 'dev' }, scope: { kind: 'namespace', name: 'dev' }, role: 'write' });
    assert.equal(grant.status, 201, await grant.text());
    assert.equal((await push(as('bob'), 'dev/app')).status, 201);
    // carol's groups map to team docker, which has no role in dev/.
    assert.equal((await push(as('carol'), 'dev/app')).status, 403);
  });
});
