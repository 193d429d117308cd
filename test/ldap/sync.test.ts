// syncLdapLogin: the user is recorded (source 'ldap'), teams that follow a group (teammapping or
// the team's ldapGroup) get the user added and removed with the directory, memberships added by
// hand stay, and a name owned by a local user is refused. Real SQLite access store; the last
// case goes end to end through a real slapd and the verifier's onLogin hook.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LdapNameConflictError, syncLdapLogin, type LdapLogin } from '../../src/auth/ldap/index.ts';
import { AuthBackendError } from '../../src/auth/types.ts';
import type { AccessStore } from '../../src/metadata/access/store.ts';
import { openSqliteMetadata } from '../../src/metadata/sqlite.ts';
import { build, ldapSection } from './harness.ts';
import { DN, PASSWORDS, SKIP_LDAP, startSlapd, type Slapd } from './slapd.ts';

const MAPPING = { developers: 'dev', [DN.qa]: 'qa' };

function login(name: string, groups: string[], teams: string[], extra: Partial<LdapLogin> = {}): LdapLogin {
  return { principal: { name, kind: 'user', via: 'ldap', teams, admin: false }, dn: `uid=${name},ou=people,dc=example,dc=org`, groups, ...extra };
}

async function memberships(store: AccessStore, team: string): Promise<string[]> {
  return ((await store.teams.members(team)) ?? []).map((m) => `${m.user}${m.ldapSync ? ' (ldap)' : ''}`);
}

describe('LDAP group sync into berth teams', () => {
  let dir: string;
  let db: Awaited<ReturnType<typeof openSqliteMetadata>>;
  let store: AccessStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-ldap-sync-'));
    db = await openSqliteMetadata(join(dir, 'berth.sqlite'));
    store = db.access;
    for (const team of ['dev', 'qa', 'ops', 'docker', 'manual']) await store.teams.create({ name: team });
    // Linked through the admin API instead of the config: by DN in AD spelling, and by name.
    await store.teams.update('docker', { ldapGroup: 'CN=Docker Users, OU=Groups, DC=example, DC=org' });
    await store.teams.update('ops', { ldapGroup: 'registry-admins' });
  });
  after(async () => {
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records the user and adds the memberships its groups call for', async () => {
    const r = await syncLdapLogin(store, login('alice', [DN.developers, DN.admins], ['dev'], { displayName: 'Alice L', email: 'alice@example.org' }), { teamMapping: MAPPING });
    assert.deepEqual([r.added, r.removed], [['dev', 'ops'], []]);
    assert.equal(r.user.source, 'ldap');
    assert.equal(r.user.displayName, 'Alice L');
    assert.ok(r.user.lastLoginAt);
    assert.deepEqual(await store.teams.teamsOf('alice'), ['dev', 'ops']);
    assert.deepEqual(await memberships(store, 'dev'), ['alice (ldap)']);
    // again: nothing to do
    const again = await syncLdapLogin(store, login('alice', [DN.developers, DN.admins], ['dev']), { teamMapping: MAPPING });
    assert.deepEqual([again.added, again.removed], [[], []]);
  });

  it('removes sync-owned memberships the directory no longer grants, never hand-made ones', async () => {
    await syncLdapLogin(store, login('bob', [DN.developers, DN.qa, 'cn=Docker Users,ou=Groups,dc=example,dc=org'], ['dev', 'qa']), { teamMapping: MAPPING });
    assert.deepEqual(await store.teams.teamsOf('bob'), ['dev', 'docker', 'qa']);
    // An administrator adds bob to 'manual' (no group) and to 'ops' by hand.
    assert.equal(await store.teams.addMember('manual', 'bob'), 'added');
    assert.equal(await store.teams.addMember('ops', 'bob'), 'added');
    // bob left developers and Docker Users in the directory
    const r = await syncLdapLogin(store, login('bob', [DN.qa], ['qa']), { teamMapping: MAPPING });
    assert.deepEqual([r.added, r.removed], [[], ['dev', 'docker']]);
    assert.deepEqual(await store.teams.teamsOf('bob'), ['manual', 'ops', 'qa'], 'hand-made memberships stay, even in a linked team');
  });

  it('a teammapping to a team nobody created is skipped', async () => {
    const r = await syncLdapLogin(store, login('carol', ['cn=ghosts,ou=groups,dc=example,dc=org'], ['ghosts']), { teamMapping: { ghosts: 'ghosts' } });
    assert.deepEqual([r.added, r.removed], [[], []]);
  });

  it('refuses a name that belongs to a local user', async () => {
    await store.users.create({ name: 'root', source: 'local', admin: true });
    await assert.rejects(syncLdapLogin(store, login('root', [DN.admins], [])), LdapNameConflictError);
    assert.deepEqual(await store.teams.teamsOf('root'), []);
  });

  describe('end to end through slapd and onLogin', { skip: SKIP_LDAP && 'BERTH_SKIP_LDAP=1' }, () => {
    let slapd: Slapd;
    before(async () => {
      slapd = await startSlapd();
    });
    after(async () => {
      await slapd?.stop();
    });

    it('a login syncs the user\'s teams; a conflicting name fails as a backend error', async () => {
      const section = ldapSection(slapd, { teammapping: MAPPING });
      const { verifier, config } = build(section, { onLogin: (l) => syncLdapLogin(store, l, { teamMapping: config.teamMapping }).then(() => undefined) });
      const principal = await verifier.verify('jsmith@corp.example.org', PASSWORDS.jsmith).catch(() => undefined);
      assert.equal(principal, undefined, 'jsmith has no uid: the default userfilter does not find him');
      const ad = build({ ...section, userfilter: '(sAMAccountName={username})', usernameattribute: 'sAMAccountName' }, { onLogin: (l) => syncLdapLogin(store, l, { teamMapping: MAPPING }).then(() => undefined) });
      assert.equal((await ad.verifier.verify('jsmith', PASSWORDS.jsmith))?.name, 'jsmith');
      assert.deepEqual(await store.teams.teamsOf('jsmith'), ['docker']);
      assert.equal((await store.users.get('jsmith'))?.email, 'jsmith@corp.example.org');

      // twin1 exists in the directory, and as a local berth user: the directory may not log in as it
      assert.ok(await store.users.create({ name: 'twin1', source: 'local' }));
      await assert.rejects(verifier.verify('twin1', PASSWORDS.twin1), AuthBackendError);
    });
  });
});
