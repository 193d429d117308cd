// The access model, run against every metadata backend (SQLite and PostgreSQL): role resolution,
// token and robot verification, teams and LDAP sync, and the audit log.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessStore } from '../../src/metadata/access/store.ts';
import { StoreAccessController } from '../../src/auth/access/controller.ts';
import { AccessTokenVerifier } from '../../src/auth/access/token-verifier.ts';
import { LocalPasswordVerifier, hashPassword } from '../../src/auth/access/local-verifier.ts';
import { AuditLog } from '../../src/auth/access/audit-log.ts';
import { newSecret, PAT_PREFIX, ROBOT_SECRET_PREFIX } from '../../src/auth/access/secrets.ts';
import type { Action, Principal, ScopeGrant } from '../../src/auth/types.ts';

export interface AccessContractOptions {
  skip?: string | false;
}

const user = (name: string, extra: Partial<Principal> = {}): Principal => ({ name, kind: 'user', via: 'htpasswd', teams: [], admin: false, ...extra });
const anonymous: Principal = { name: '', kind: 'anonymous', via: 'anonymous', teams: [], admin: false };
const ALL: Action[] = ['pull', 'push', 'delete', '*'];

export function accessContract(name: string, open: () => Promise<{ access: AccessStore; cleanup(): Promise<void> }>, options: AccessContractOptions = {}): void {
  describe(`access model: ${name}`, { skip: options.skip }, () => {
    let access: AccessStore;
    let cleanup: () => Promise<void>;
    let ac: StoreAccessController;
    const allowed = (p: Principal, repo: string, wanted: Action[] = ALL) => ac.allowedActions(p, repo, wanted);

    before(async () => {
      ({ access, cleanup } = await open());
      ac = new StoreAccessController(access, { cacheTtlMs: 0 });
      for (const n of ['alice', 'bob', 'carol', 'root', 'erin']) assert.ok(await access.users.create({ name: n, source: 'local', admin: n === 'root' }));
      await access.users.update('carol', { disabled: true });
      for (const t of ['devs', 'ops']) assert.ok(await access.teams.create({ name: t }));
      assert.equal(await access.teams.addMember('devs', 'alice'), 'added');
      assert.equal(await access.teams.addMember('devs', 'bob'), 'added');
      assert.equal(await access.teams.addMember('devs', 'bob'), 'exists');
      assert.equal(await access.teams.addMember('ops', 'bob'), 'added');
      assert.equal(await access.teams.addMember('devs', 'carol'), 'added');
      assert.equal(await access.teams.addMember('nope', 'bob'), 'no-team');
      assert.equal(await access.teams.addMember('ops', 'nobody'), 'no-user');
      const g = async (kind: 'user' | 'team', subject: string, scopeKind: 'namespace' | 'repository', scope: string, role: 'read' | 'write' | 'delete' | 'admin') =>
        assert.ok(await access.permissions.grant({ kind, name: subject }, { kind: scopeKind, name: scope }, role, 'root'));
      await g('team', 'devs', 'namespace', 'team', 'write');
      await g('team', 'devs', 'repository', 'team/releases', 'read');
      await g('team', 'ops', 'repository', 'team/releases', 'delete');
      await g('team', 'devs', 'namespace', 'team/infra', 'admin');
      await g('user', 'erin', 'namespace', 'team', 'read');
      await g('user', 'erin', 'repository', 'team/app', 'admin');
      await g('user', 'carol', 'namespace', 'team', 'admin');
      await access.namespaces.setVisibility('library', true, 'root');
      await access.namespaces.setVisibility('library/internal', false, 'root');
    });
    after(() => cleanup?.());

    it('gives a team grant on a namespace to every member, for every repository below it', async () => {
      assert.deepEqual(await allowed(user('alice'), 'team/app'), ['pull', 'push']);
      assert.deepEqual(await allowed(user('alice'), 'team/deep/er/app'), ['pull', 'push']);
      // Namespaces are path segments, not string prefixes.
      assert.deepEqual(await allowed(user('alice'), 'teamx/app'), []);
      assert.deepEqual(await allowed(user('alice'), 'team'), []);
    });

    it('takes each subject’s most specific grant, then the highest over user and teams', async () => {
      // devs: write on team/, read on team/releases -> read there for alice.
      assert.deepEqual(await allowed(user('alice'), 'team/releases'), ['pull']);
      // bob is also in ops (delete on team/releases): the highest wins.
      assert.deepEqual(await allowed(user('bob'), 'team/releases'), ['pull', 'push', 'delete']);
      // A longer namespace beats a shorter one.
      assert.deepEqual(await allowed(user('alice'), 'team/infra/tool'), ALL);
      // ...but never narrows an admin: devs stay admins of team/infra/locked despite a read grant there.
      const narrow = await access.permissions.grant({ kind: 'team', name: 'devs' }, { kind: 'namespace', name: 'team/infra/locked' }, 'read');
      assert.deepEqual(await allowed(user('alice'), 'team/infra/locked/x'), ALL);
      await access.permissions.revoke(narrow!.id);
      // erin: read on the namespace, admin on one repository.
      assert.deepEqual(await allowed(user('erin'), 'team/app'), ALL);
      assert.deepEqual(await allowed(user('erin'), 'team/other'), ['pull']);
      assert.deepEqual(await allowed(user('erin'), 'team/app', ['push']), ['push']);
    });

    it('answers only the actions asked for', async () => {
      assert.deepEqual(await allowed(user('alice'), 'team/app', ['push']), ['push']);
      assert.deepEqual(await allowed(user('alice'), 'team/app', ['delete', 'pull']), ['pull']);
      assert.equal(await ac.canList(user('alice'), 'team/app'), true);
      assert.equal(await ac.canList(user('alice'), 'other/app'), false);
    });

    it('honours the teams a principal brings along (LDAP groups) even without a user row', async () => {
      assert.deepEqual(await allowed(user('dave'), 'team/app'), []);
      assert.deepEqual(await allowed(user('dave', { teams: ['devs', 'no-such-team'] }), 'team/app'), ['pull', 'push']);
    });

    it('lets anyone pull from public namespaces, and nothing more', async () => {
      assert.deepEqual(await allowed(anonymous, 'library/alpine'), ['pull']);
      assert.deepEqual(await allowed(anonymous, 'library/sub/alpine'), ['pull']);
      assert.deepEqual(await allowed(anonymous, 'library/internal/tool'), []);
      // A repository named like the namespace is not inside it.
      assert.deepEqual(await allowed(anonymous, 'library'), []);
      assert.deepEqual(await allowed(anonymous, 'team/app'), []);
      assert.deepEqual(await allowed(user('alice'), 'library/alpine'), ['pull']);
      assert.equal(await ac.canList(anonymous, 'library/alpine'), true);
      assert.equal(await ac.canList(anonymous, 'team/app'), false);
    });

    it('allows site administrators everything, from the user row or from the authenticator', async () => {
      assert.deepEqual(await allowed(user('root'), 'any/where'), ALL);
      assert.deepEqual(await allowed(user('ldap-admin', { admin: true }), 'x'), ALL);
      assert.equal(await ac.isSiteAdmin(user('root')), true);
      assert.equal(await ac.isSiteAdmin(user('alice')), false);
      // A scoped credential is never a site administrator in the admin API.
      assert.equal(await ac.isSiteAdmin(user('root', { restrictedTo: [] })), false);
    });

    it('gives a disabled user nothing, not even public pulls', async () => {
      assert.deepEqual(await allowed(user('carol'), 'team/app'), []);
      assert.deepEqual(await allowed(user('carol'), 'library/alpine'), []);
      assert.deepEqual(await allowed(user('carol', { admin: true }), 'team/app'), []);
      await access.users.update('root', { disabled: true });
      assert.deepEqual(await allowed(user('root'), 'any/where'), []);
      await access.users.update('root', { disabled: false });
    });

    it('intersects with the credential’s own scopes, for administrators too', async () => {
      const pullTeam: ScopeGrant[] = [{ type: 'repository', name: 'team/*', actions: ['pull'] }];
      assert.deepEqual(await allowed(user('alice', { restrictedTo: pullTeam }), 'team/app'), ['pull']);
      assert.deepEqual(await allowed(user('root', { restrictedTo: pullTeam }), 'team/app'), ['pull']);
      assert.deepEqual(await allowed(user('root', { restrictedTo: pullTeam }), 'other/app'), []);
      const exact: ScopeGrant[] = [{ type: 'repository', name: 'team/app', actions: ['*'] }];
      assert.deepEqual(await allowed(user('alice', { restrictedTo: exact }), 'team/app'), ['pull', 'push']);
      assert.deepEqual(await allowed(user('alice', { restrictedTo: exact }), 'team/other'), []);
      assert.deepEqual(await allowed(user('alice', { restrictedTo: [] }), 'team/app'), []);
      // A scope never adds: anonymous with a broad scope still only pulls public images.
      assert.deepEqual(await allowed({ ...anonymous, restrictedTo: [{ type: 'repository', name: '*', actions: ['*'] }] }, 'library/x'), ['pull']);
    });

    it('decides who administers a namespace or repository', async () => {
      assert.equal(await ac.canAdminister(user('alice'), { kind: 'namespace', name: 'team/infra' }), true);
      assert.equal(await ac.canAdminister(user('alice'), { kind: 'namespace', name: 'team/infra/sub' }), true);
      assert.equal(await ac.canAdminister(user('alice'), { kind: 'namespace', name: 'team' }), false);
      assert.equal(await ac.canAdminister(user('erin'), { kind: 'repository', name: 'team/app' }), true);
      assert.equal(await ac.canAdminister(user('erin'), { kind: 'namespace', name: 'team' }), false);
      assert.equal(await ac.canAdminister(user('root'), { kind: 'namespace', name: 'anything' }), true);
      const pullOnly: ScopeGrant[] = [{ type: 'repository', name: '*', actions: ['pull'] }];
      assert.equal(await ac.canAdminister(user('alice', { restrictedTo: pullOnly }), { kind: 'namespace', name: 'team/infra' }), false);
      const manage: ScopeGrant[] = [{ type: 'repository', name: 'team/*', actions: ['*'] }];
      assert.equal(await ac.canAdminister(user('alice', { restrictedTo: manage }), { kind: 'namespace', name: 'team/infra' }), true);
    });

    it('lists grants by scope (with nested ones) and by subject', async () => {
      const onTeam = await access.permissions.list({ scope: { kind: 'namespace', name: 'team' } });
      assert.deepEqual(onTeam.map((p) => `${p.subject.kind}:${p.subject.name}:${p.role}`).sort(), ['team:devs:write', 'user:carol:admin', 'user:erin:read']);
      const nested = await access.permissions.list({ scope: { kind: 'namespace', name: 'team', nested: true } });
      assert.equal(nested.length, 7);
      assert.ok(nested.every((p) => p.scope.name === 'team' || p.scope.name.startsWith('team/')));
      const erin = await access.permissions.list({ subject: { kind: 'user', name: 'erin' } });
      assert.deepEqual(erin.map((p) => `${p.scope.kind}:${p.scope.name}`), ['namespace:team', 'repository:team/app']);
      assert.equal(erin[0]!.createdBy, 'root');
      // Granting again changes the role instead of adding a row.
      const again = await access.permissions.grant({ kind: 'user', name: 'erin' }, { kind: 'namespace', name: 'team' }, 'write');
      assert.equal(again?.id, erin[0]!.id);
      assert.equal(again?.role, 'write');
      await access.permissions.grant({ kind: 'user', name: 'erin' }, { kind: 'namespace', name: 'team' }, 'read');
      assert.equal(await access.permissions.grant({ kind: 'user', name: 'nobody' }, { kind: 'namespace', name: 'team' }, 'read'), undefined);
    });

    it('forgets the grants of a deleted user: a new user of the same name starts with nothing', async () => {
      assert.ok(await access.users.create({ name: 'temp', source: 'ldap' }));
      const p = await access.permissions.grant({ kind: 'user', name: 'temp' }, { kind: 'namespace', name: 'tmp' }, 'admin');
      assert.ok(p);
      assert.ok(await access.tokens.create({ user: 'temp', name: 't', tokenHash: newSecret(PAT_PREFIX).hash, hint: 'x', scopes: [] }));
      assert.equal(await access.users.delete('temp'), true);
      assert.equal(await access.permissions.get(p.id), undefined);
      assert.ok(await access.users.create({ name: 'temp', source: 'ldap' }));
      assert.deepEqual(await allowed(user('temp'), 'tmp/app'), []);
      assert.deepEqual(await access.tokens.list('temp'), []);
      assert.equal(await access.users.delete('temp'), true);
      assert.equal(await access.users.delete('temp'), false);
    });

    it('caches lookups for a few seconds, and invalidate() drops them', async () => {
      let t = 1_000_000;
      const cached = new StoreAccessController(access, { cacheTtlMs: 5000, now: () => t });
      assert.deepEqual(await cached.allowedActions(user('bob'), 'cache/app', ['push']), []);
      const p = await access.permissions.grant({ kind: 'user', name: 'bob' }, { kind: 'namespace', name: 'cache' }, 'write');
      assert.deepEqual(await cached.allowedActions(user('bob'), 'cache/app', ['push']), [], 'still the cached answer');
      t += 5001;
      assert.deepEqual(await cached.allowedActions(user('bob'), 'cache/app', ['push']), ['push']);
      await access.permissions.revoke(p!.id);
      assert.deepEqual(await cached.allowedActions(user('bob'), 'cache/app', ['push']), ['push']);
      cached.invalidate();
      assert.deepEqual(await cached.allowedActions(user('bob'), 'cache/app', ['push']), []);
    });

    describe('personal access tokens', () => {
      let verifier: AccessTokenVerifier;
      before(() => {
        verifier = new AccessTokenVerifier(access, { cacheTtlMs: 0, touchIntervalMs: 0 });
      });
      const mint = async (owner: string, scopes: ScopeGrant[], expiresAt: Date | null = null) => {
        const s = newSecret(PAT_PREFIX);
        const token = await access.tokens.create({ user: owner, name: 'ci', tokenHash: s.hash, hint: s.hint, scopes, expiresAt });
        assert.ok(token);
        return { secret: s.secret, token };
      };

      it('accepts the right secret with its owner’s name and carries the token’s scopes', async () => {
        const scopes: ScopeGrant[] = [{ type: 'repository', name: 'team/*', actions: ['pull'] }];
        const { secret, token } = await mint('alice', scopes);
        assert.ok(secret.startsWith('berth_pat_') && secret.length > 40);
        const p = await verifier.verify('alice', secret);
        assert.equal(p?.name, 'alice');
        assert.equal(p?.kind, 'user');
        assert.equal(p?.via, 'pat');
        assert.deepEqual(p?.teams, ['devs']);
        assert.deepEqual(p?.restrictedTo, scopes);
        // Scope intersection: alice may push to team/app, her pull-only token may not.
        assert.deepEqual(await allowed(p!, 'team/app'), ['pull']);
        await new Promise((r) => setTimeout(r, 50));
        assert.ok((await access.tokens.get(token.id))?.lastUsedAt, 'last use recorded');
        assert.equal(verifier.owns('alice', secret), true);
      });

      it('refuses a wrong secret, another user’s name, an expired or revoked token, a disabled owner', async () => {
        const { secret, token } = await mint('bob', [{ type: 'repository', name: '*', actions: ['*'] }]);
        assert.ok(await verifier.verify('bob', secret));
        assert.equal(await verifier.verify('bob', `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`), undefined);
        assert.equal(await verifier.verify('alice', secret), undefined);
        assert.equal(await verifier.verify('bob', `${PAT_PREFIX}nope`), undefined);
        const expired = await mint('bob', [], new Date(Date.now() - 1000));
        assert.equal(await verifier.verify('bob', expired.secret), undefined);
        assert.equal(await access.tokens.revoke('alice', token.id), false, 'not alice’s token');
        assert.equal(await access.tokens.revoke('bob', token.id), true);
        assert.equal(await access.tokens.revoke('bob', token.id), false, 'already revoked');
        assert.equal(await verifier.verify('bob', secret), undefined);
        const live = await mint('carol', [{ type: 'repository', name: '*', actions: ['pull'] }]);
        assert.equal(await verifier.verify('carol', live.secret), undefined, 'carol is disabled');
        const listed = await access.tokens.list('bob');
        assert.equal(listed.length, 2);
        assert.ok(listed.every((t) => !JSON.stringify(t).includes(secret)));
      });

      it('leaves ordinary passwords to the other verifiers', async () => {
        assert.equal(verifier.owns('alice', 'hunter2'), false);
        assert.equal(await verifier.verify('alice', 'hunter2'), undefined);
        assert.equal(verifier.owns('robot$x', 'whatever'), true);
      });

      it('remembers a success briefly; invalidate() forgets it', async () => {
        const caching = new AccessTokenVerifier(access, { cacheTtlMs: 60_000 });
        const { secret, token } = await mint('alice', []);
        assert.ok(await caching.verify('alice', secret));
        await access.tokens.revoke('alice', token.id);
        assert.ok(await caching.verify('alice', secret), 'cached');
        caching.invalidate();
        assert.equal(await caching.verify('alice', secret), undefined);
      });
    });

    describe('robot accounts', () => {
      let verifier: AccessTokenVerifier;
      let secret: string;
      const ci: Principal = { name: 'robot$ci', kind: 'robot', via: 'robot', teams: [], admin: false };
      before(async () => {
        verifier = new AccessTokenVerifier(access, { cacheTtlMs: 0 });
        const s = newSecret(ROBOT_SECRET_PREFIX);
        secret = s.secret;
        const robot = await access.robots.create({
          name: 'ci',
          namespace: 'team',
          secretHash: s.hash,
          hint: s.hint,
          createdBy: 'alice',
          permissions: [{ scope: { kind: 'repository', name: 'team/app' }, role: 'write' }],
        });
        assert.ok(robot);
        assert.equal(await access.robots.create({ name: 'ci', namespace: 'x', secretHash: s.hash, hint: s.hint, permissions: [] }), undefined);
      });

      it('logs in with its secret and acts within its grants', async () => {
        const p = await verifier.verify('robot$ci', secret);
        assert.deepEqual(p, ci);
        assert.deepEqual(await allowed(ci, 'team/app'), ['pull', 'push']);
        assert.deepEqual(await allowed(ci, 'team/other'), []);
        assert.deepEqual(await allowed(ci, 'library/alpine'), ['pull']);
      });

      it('never reaches outside its namespace, whatever grants exist', async () => {
        await access.permissions.grant({ kind: 'robot', name: 'ci' }, { kind: 'namespace', name: 'other' }, 'write');
        assert.deepEqual(await allowed(ci, 'other/app'), []);
      });

      it('refuses a wrong secret, a PAT-shaped secret, a disabled or expired robot, and an old secret after rotation', async () => {
        assert.equal(await verifier.verify('robot$ci', `${ROBOT_SECRET_PREFIX}wrong`), undefined);
        assert.equal(await verifier.verify('robot$ci', 'plain-password'), undefined);
        assert.equal(await verifier.verify('robot$nobody', secret), undefined);
        assert.equal(await verifier.verify('ci', secret), undefined, 'the robot$ prefix is part of the name');
        await access.robots.update('ci', { disabled: true });
        assert.equal(await verifier.verify('robot$ci', secret), undefined);
        assert.deepEqual(await allowed(ci, 'team/app'), [], 'a bearer token of a disabled robot is worthless too');
        await access.robots.update('ci', { disabled: false, expiresAt: new Date(Date.now() - 1) });
        assert.equal(await verifier.verify('robot$ci', secret), undefined);
        await access.robots.update('ci', { expiresAt: null });
        const s = newSecret(ROBOT_SECRET_PREFIX);
        assert.ok(await access.robots.rotate('ci', s.hash, s.hint));
        assert.equal(await verifier.verify('robot$ci', secret), undefined);
        assert.ok(await verifier.verify('robot$ci', s.secret));
        secret = s.secret;
      });

      it('is deleted with its grants', async () => {
        assert.equal((await access.permissions.list({ subject: { kind: 'robot', name: 'ci' } })).length, 2);
        assert.equal(await access.robots.delete('ci'), true);
        assert.equal((await access.permissions.list({ subject: { kind: 'robot', name: 'ci' } })).length, 0);
        assert.equal(await verifier.verify('robot$ci', secret), undefined);
        assert.deepEqual(await allowed(ci, 'team/app'), []);
      });
    });

    it('checks local passwords with bcrypt, for local users only', async () => {
      const local = new LocalPasswordVerifier(access);
      assert.ok(await access.users.create({ name: 'lina', source: 'local', passwordHash: await hashPassword('correct horse', 4) }));
      assert.equal((await local.verify('lina', 'correct horse'))?.via, 'local');
      assert.equal(await local.verify('lina', 'wrong horse'), undefined);
      assert.ok(await access.users.create({ name: 'lars', source: 'ldap', passwordHash: await hashPassword('correct horse', 4) }));
      assert.equal(await local.verify('lars', 'correct horse'), undefined, 'directory users are checked by the directory');
      await access.users.update('lina', { disabled: true });
      assert.equal(await local.verify('lina', 'correct horse'), undefined);
      assert.equal((await access.users.get('lina'))?.hasPassword, true);
      assert.ok(!JSON.stringify(await access.users.get('lina')).includes('$2'), 'no hash in the record');
    });

    it('searches and pages users and teams', async () => {
      await access.users.update('alice', { displayName: 'Alice Liddell', email: 'alice@example.com' });
      assert.deepEqual((await access.users.list({ query: 'LIDD', limit: 10 })).map((u) => u.name), ['alice']);
      assert.deepEqual((await access.users.list({ query: 'EXAMPLE.com', limit: 10 })).map((u) => u.name), ['alice']);
      assert.deepEqual((await access.users.list({ query: '%', limit: 10 })).map((u) => u.name), [], 'wildcards are literal');
      const page1 = await access.users.list({ limit: 2 });
      const page2 = await access.users.list({ limit: 2, after: page1[1]!.name });
      assert.deepEqual(page1.map((u) => u.name), ['alice', 'bob']);
      assert.equal(page2[0]!.name, 'carol');
      assert.deepEqual((await access.teams.list({ limit: 10 })).map((t) => t.name), ['devs', 'ops']);
      assert.deepEqual(await access.teams.teamsOf('bob'), ['devs', 'ops']);
    });

    it('records logins of directory users without touching their admin or disabled flags', async () => {
      const first = await access.users.recordLogin('lucy', 'ldap', { displayName: 'Lucy', email: 'lucy@example.com' });
      assert.equal(first.source, 'ldap');
      assert.ok(first.lastLoginAt);
      await access.users.update('lucy', { admin: true, disabled: true });
      const again = await access.users.recordLogin('lucy', 'ldap', { displayName: 'Lucy L.' });
      assert.equal(again.displayName, 'Lucy L.');
      assert.equal(again.email, 'lucy@example.com');
      assert.equal(again.admin, true);
      assert.equal(again.disabled, true);
    });

    it('syncs LDAP group members without touching memberships added by hand', async () => {
      assert.ok(await access.teams.create({ name: 'ldap-devs', ldapGroup: 'cn=devs,ou=groups,dc=example,dc=com' }));
      assert.equal(await access.teams.addMember('ldap-devs', 'alice'), 'added');
      assert.deepEqual(await access.teams.syncLdapMembers('ldap-devs', ['alice', 'bob', 'newbie']), { added: ['bob', 'newbie'], removed: [] });
      assert.equal((await access.users.get('newbie'))?.source, 'ldap');
      assert.deepEqual(await access.teams.syncLdapMembers('ldap-devs', ['newbie']), { added: [], removed: ['bob'] });
      const members = await access.teams.members('ldap-devs');
      assert.deepEqual(members?.map((m) => [m.user, m.ldapSync]), [
        ['alice', false],
        ['newbie', true],
      ]);
      assert.equal(await access.teams.removeMember('ldap-devs', 'newbie'), 'ldap');
      assert.equal(await access.teams.removeMember('ldap-devs', 'newbie', { force: true }), 'removed');
      assert.equal(await access.teams.removeMember('ldap-devs', 'alice'), 'removed');
      assert.equal(await access.teams.removeMember('ldap-devs', 'alice'), 'missing');
      assert.equal(await access.teams.syncLdapMembers('no-team', []), undefined);
      await access.permissions.grant({ kind: 'team', name: 'ldap-devs' }, { kind: 'namespace', name: 'ld' }, 'read');
      assert.equal(await access.teams.delete('ldap-devs'), true);
      assert.deepEqual(await access.permissions.list({ scope: { kind: 'namespace', name: 'ld' } }), []);
    });

    describe('audit log', () => {
      let audit: AuditLog;
      const base = Date.UTC(2030, 0, 1);
      before(async () => {
        audit = new AuditLog(access.audit, { flushIntervalMs: 10_000 });
        const events: [string, string, string | null, number][] = [
          ['alice', 'push', 'team/app', 0],
          ['alice', 'pull', 'team/app', 1],
          ['bob', 'pull', 'team/app', 2],
          ['bob', 'delete', 'team/lib', 3],
          ['alice', 'login', null, 4],
          ['bob', 'push', 'other/app', 5],
          ['alice', 'pull', 'teamx/app', 6],
        ];
        for (const [actor, action, repository, i] of events) {
          audit.record({ time: new Date(base + i * 1000), actor, actorKind: 'user', action, repository, reference: repository ? 'latest' : null, outcome: 'success', clientAddress: '10.0.0.1' });
        }
        // Two events in the same millisecond: the id breaks the tie, so paging loses neither.
        audit.record({ time: new Date(base + 3000), actor: 'carol', actorKind: 'user', action: 'login_failed', outcome: 'failure' });
        await audit.flush();
      });

      it('filters by actor, repository, namespace, action and time range, newest first', async () => {
        const actors = (await audit.query({ actor: 'alice' }, { limit: 100 })).events;
        assert.deepEqual(actors.map((e) => e.action), ['pull', 'login', 'pull', 'push']);
        assert.equal(actors[0]!.clientAddress, '10.0.0.1');
        assert.deepEqual((await audit.query({ repository: 'team/app' }, { limit: 100 })).events.map((e) => e.actor), ['bob', 'alice', 'alice']);
        assert.deepEqual((await audit.query({ namespace: 'team' }, { limit: 100 })).events.map((e) => e.repository), ['team/lib', 'team/app', 'team/app', 'team/app']);
        assert.deepEqual((await audit.query({ action: 'pull', actor: 'alice' }, { limit: 100 })).events.map((e) => e.repository), ['teamx/app', 'team/app']);
        const range = await audit.query({ from: new Date(base + 2000), to: new Date(base + 5000) }, { limit: 100 });
        assert.deepEqual(range.events.map((e) => e.action), ['login', 'login_failed', 'delete', 'pull']);
      });

      it('pages with a cursor, without duplicates or gaps', async () => {
        const seen: number[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await audit.query({ from: new Date(base), to: new Date(base + 10_000) }, { limit: 3, ...(cursor && { cursor }) });
          seen.push(...page.events.map((e) => e.id));
          cursor = page.next ?? undefined;
          pages++;
        } while (cursor);
        assert.equal(pages, 3);
        assert.equal(seen.length, 8);
        assert.equal(new Set(seen).size, 8);
        await assert.rejects(audit.query({}, { limit: 3, cursor: 'not-a-cursor' }), RangeError);
      });

      it('never stores a token or password, wherever it appears in the details', async () => {
        const pat = `${PAT_PREFIX}${'x'.repeat(43)}`;
        audit.record({
          time: new Date(base + 20_000),
          actor: pat,
          actorKind: 'anonymous',
          action: 'login_failed',
          outcome: 'failure',
          details: { password: 'hunter2', nested: { token: 'abc', note: `tried ${pat}`, header: 'Basic dXNlcjpwYXNzd29yZA==' }, list: [pat] },
        });
        await audit.flush();
        const [e] = (await audit.query({ action: 'login_failed', from: new Date(base + 20_000) }, { limit: 1 })).events;
        const text = JSON.stringify(e);
        assert.ok(!text.includes('hunter2') && !text.includes('x'.repeat(43)) && !text.includes('dXNlcjpwYXNzd29yZA'), text);
        assert.equal(e!.details?.password, '[redacted]');
      });

      it('keeps events when the database fails once, and never blocks the caller', async () => {
        let fail = true;
        const flaky = {
          insert: async (events: Parameters<typeof access.audit.insert>[0]) => {
            if (fail) {
              fail = false;
              throw new Error('database down');
            }
            return access.audit.insert(events);
          },
          query: access.audit.query.bind(access.audit),
          deleteBefore: access.audit.deleteBefore.bind(access.audit),
        };
        const errors: string[] = [];
        const log = { warn: () => undefined, error: (_o: object, msg: string) => void errors.push(msg) };
        const a = new AuditLog(flaky, { flushIntervalMs: 10_000, log });
        a.record({ time: new Date(base + 30_000), actor: 'zed', actorKind: 'user', action: 'push', outcome: 'success' });
        await a.flush();
        assert.deepEqual(errors, ['audit events could not be written']);
        await a.close();
        assert.equal((await a.query({ actor: 'zed' }, { limit: 10 })).events.length, 1);
      });

      it('records events of a principal, anonymous ones under "anonymous"', async () => {
        audit.recordBy(anonymous, { time: new Date(base + 40_000), action: 'pull', repository: 'library/alpine', reference: 'sha256:abc', outcome: 'success' });
        audit.recordBy(user('alice'), { time: new Date(base + 40_001), action: 'push', repository: 'team/app', outcome: 'denied' });
        await audit.flush();
        const events = (await audit.query({ from: new Date(base + 40_000) }, { limit: 10 })).events;
        assert.deepEqual(events.map((e) => [e.actor, e.actorKind, e.action, e.outcome]), [
          ['alice', 'user', 'push', 'denied'],
          ['anonymous', 'anonymous', 'pull', 'success'],
        ]);
      });

      it('prunes old events', async () => {
        const removed = await access.audit.deleteBefore(new Date(base + 1000));
        assert.equal(removed, 1);
      });
    });
  });
}
