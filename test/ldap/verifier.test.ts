// LdapPasswordVerifier against a real slapd (test/ldap/slapd.ts): passwords, groups -> teams and
// admin, the AD-like layout, LDAP injection, an unavailable directory, the cache, and that no
// password (the service account's least of all) reaches an error or a log line.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { AuthBackendError } from '../../src/auth/types.ts';
import type { LdapLogin } from '../../src/auth/ldap/index.ts';
import { freePort } from '../helpers/processes.ts';
import { build, elapsed, everyLogLine, ldapSection, until } from './harness.ts';
import { DN, PASSWORDS, ROOT_PW, SERVICE_PW, SKIP_LDAP, startSlapd, type Slapd } from './slapd.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const errors: string[] = [];
/** Asserts an AuthBackendError and keeps its message for the secret check. */
async function backendError(p: Promise<unknown>, re?: RegExp): Promise<AuthBackendError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AuthBackendError, `expected AuthBackendError, got ${String(e)}`);
    errors.push(e.message, String(e.stack));
    if (re) assert.match(e.message, re);
    return e;
  }
  assert.fail('expected an AuthBackendError');
}

describe('LDAP password verifier (real slapd)', { skip: SKIP_LDAP && 'BERTH_SKIP_LDAP=1' }, () => {
  let slapd: Slapd;
  before(async () => {
    slapd = await startSlapd();
  });
  after(async () => {
    await slapd?.stop();
    // Nothing secret anywhere: not in any error message, not in any log line of any test here.
    const seen = [...errors, everyLogLine()].join('\n');
    for (const secret of [SERVICE_PW, ROOT_PW, ...Object.values(PASSWORDS), 'wrong-password-xyz']) assert.ok(!seen.includes(secret), `a password leaked into an error or log line`);
  });

  it('right password: a principal with teams from the groups and the admin flag from the admin group', async () => {
    const { verifier } = build(ldapSection(slapd, { cachettl: 0 }));
    assert.deepEqual(await verifier.verify('alice', PASSWORDS.alice), { name: 'alice', kind: 'user', via: 'ldap', teams: ['dev'], admin: true });
    assert.deepEqual(await verifier.verify('bob', PASSWORDS.bob), { name: 'bob', kind: 'user', via: 'ldap', teams: ['dev', 'qa'], admin: false });
    // memberOf holds `cn=Docker Users,ou=Groups,...`; the mapping spells it in AD's style.
    assert.deepEqual(await verifier.verify('carol', PASSWORDS.carol), { name: 'carol', kind: 'user', via: 'ldap', teams: ['docker'], admin: false });
    const login = (await verifier.verifyLogin('alice', PASSWORDS.alice))!;
    assert.equal(login.dn.toLowerCase(), DN.alice);
    assert.equal(login.displayName, 'Alice Liddell');
    assert.equal(login.email, 'alice@example.org');
    assert.deepEqual(login.groups.map((g) => g.toLowerCase()).sort(), [DN.developers, DN.admins].sort());
  });

  it('the user name is the directory\'s spelling, whatever case was typed', async () => {
    const { verifier } = build(ldapSection(slapd, { cachettl: 0 }));
    assert.equal((await verifier.verify('ALICE', PASSWORDS.alice))?.name, 'alice');
  });

  it('wrong password, unknown user, empty password or user name: undefined, not an error', async () => {
    const { verifier } = build(ldapSection(slapd, { cachettl: 0 }));
    assert.equal(await verifier.verify('alice', 'wrong-password-xyz'), undefined);
    assert.equal(await verifier.verify('alice', PASSWORDS.bob), undefined);
    assert.equal(await verifier.verify('nobody', PASSWORDS.alice), undefined);
    const before = slapd.connections();
    // An empty password would be an unauthenticated bind: never sent at all.
    assert.equal(await verifier.verify('alice', ''), undefined);
    assert.equal(await verifier.verify('', PASSWORDS.alice), undefined);
    assert.equal(slapd.connections(), before, 'the directory was not asked');
  });

  it('LDAP injection in the user name never matches another user', async () => {
    const { verifier } = build(ldapSection(slapd, { cachettl: 0 }));
    const attempts = ['*', 'a*', 'ali*', '*lice', '*)(uid=*', ')(uid=*', 'alice)(|(uid=*', 'alice)(objectClass=*', '*)(|(objectClass=*', 'alice\u0000', '\u0000', 'alice\\00', 'alice\\2a', '\\2a', '(uid=alice)', 'alice)(!(uid=x'];
    for (const name of attempts) {
      for (const password of [PASSWORDS.alice, PASSWORDS.twin1]) {
        assert.equal(await verifier.verify(name, password), undefined, JSON.stringify(name));
      }
    }
    // What the server was asked: the escaped value, one equality assertion.
    assert.match(slapd.logs(), /filter="\(&\(objectClass=person\)\(uid=\\2A\)\)"/);
    assert.match(slapd.logs(), /filter="\(&\(objectClass=person\)\(uid=\\2A\\29\\28uid=\\2A\)\)"/);
    assert.doesNotMatch(slapd.logs(), /filter="[^"]*\(uid=\*\)/, 'a wildcard never reached the server');
  });

  it('a filter that matches several entries refuses the login and says so', async () => {
    const { verifier, logs } = build(ldapSection(slapd, { cachettl: 0, userfilter: '(&(objectClass=person)(mail={username}))' }));
    assert.equal(await verifier.verify('twins@example.org', PASSWORDS.twin1), undefined);
    assert.match(logs(), /the user filter matches several entries/);
  });

  it('groups by a group search, with {dn} escaped: a DN with an escaped comma finds its groups', async () => {
    const { verifier } = build(ldapSection(slapd, { cachettl: 0, groupattribute: '', groupfilter: '(&(objectClass=groupOfNames)(member={dn}))' }));
    assert.deepEqual(await verifier.verify('bob', PASSWORDS.bob), { name: 'bob', kind: 'user', via: 'ldap', teams: ['dev', 'qa'], admin: false });
    const ad = build(ldapSection(slapd, { cachettl: 0, groupattribute: '', groupfilter: '(member={dn})', userfilter: '(sAMAccountName={username})', usernameattribute: 'sAMAccountName' })).verifier;
    assert.deepEqual((await ad.verifyLogin('jsmith', PASSWORDS.jsmith))?.principal.teams, ['docker']);
  });

  it('an AD-like directory: sAMAccountName, memberOf and CN=Last\\, First DNs', async () => {
    const { verifier } = build(
      ldapSection(slapd, {
        cachettl: 0,
        userfilter: '(&(objectClass=person)(|(sAMAccountName={username})(mail={username})))',
        usernameattribute: 'sAMAccountName',
        admingroups: ['CN=Docker Users,OU=Groups,DC=example,DC=org'],
      }),
    );
    const login = (await verifier.verifyLogin('JSmith', PASSWORDS.jsmith))!;
    assert.deepEqual(login.principal, { name: 'jsmith', kind: 'user', via: 'ldap', teams: ['docker'], admin: true });
    assert.equal(login.displayName, 'John Smith');
    assert.match(login.dn, /^cn=smith\\(2c|,) john,ou=staff,dc=example,dc=org$/i);
    assert.equal((await verifier.verify('jsmith@corp.example.org', PASSWORDS.jsmith))?.name, 'jsmith');
    assert.equal(await verifier.verify('jsmith', PASSWORDS.alice), undefined);
  });

  it('a refused service account or a missing base DN is a backend error that names the key, not the password', async () => {
    const wrong = build(ldapSection(slapd, { bindpassword: 'not-the-service-password' }));
    const e = await backendError(wrong.verifier.verify('alice', PASSWORDS.alice), /service account bind: InvalidCredentialsError .*binddn and bindpassword/);
    assert.ok(!e.message.includes('not-the-service-password'));
    assert.ok(!wrong.logs().includes('not-the-service-password'));
    assert.match(wrong.logs(), /directory unavailable/);
    await backendError(build(ldapSection(slapd, { basedn: 'ou=nowhere,dc=example,dc=org' })).verifier.verify('alice', PASSWORDS.alice), /basedn/);
  });

  it('the directory down: refused, silent, or paused answers AuthBackendError within the timeouts', async () => {
    const closed = await freePort();
    const refused = build(ldapSection(slapd, { url: `ldap://127.0.0.1:${closed}` }));
    let r = await elapsed(() => backendError(refused.verifier.verify('alice', PASSWORDS.alice), /ECONNREFUSED/));
    assert.equal(r.result.status, 'fulfilled');
    assert.ok(r.ms < 1500, `refused took ${r.ms} ms`);

    // Accepts TCP, never speaks: the TLS handshake of ldaps:// hangs -> connect timeout.
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
    const port = (silent.address() as { port: number }).port;
    try {
      const hang = build(ldapSection(slapd, { url: `ldaps://127.0.0.1:${port}`, connecttimeout: '300ms', cafile: slapd.certs.ca }));
      r = await elapsed(() => backendError(hang.verifier.verify('alice', PASSWORDS.alice), /connect/));
      assert.equal(r.result.status, 'fulfilled');
      assert.ok(r.ms >= 250 && r.ms < 2000, `connect timeout took ${r.ms} ms`);
      // Plain ldap:// to the same silent port: connected, but the bind is never answered.
      const mute = build(ldapSection(slapd, { url: `ldap://127.0.0.1:${port}`, timeout: '400ms' }));
      r = await elapsed(() => backendError(mute.verifier.verify('alice', PASSWORDS.alice), /timed out after 400 ms/));
      assert.ok(r.ms >= 350 && r.ms < 2000, `operation timeout took ${r.ms} ms`);
    } finally {
      silent.close();
    }

    // slapd itself stopped (SIGSTOP): the kernel still accepts, nothing answers.
    const paused = build(ldapSection(slapd, { timeout: '500ms', cachettl: 0 }));
    await slapd.pause();
    try {
      r = await elapsed(() => backendError(paused.verifier.verify('alice', PASSWORDS.alice), /timed out/));
      assert.equal(r.result.status, 'fulfilled', String(r.result.status === 'rejected' && r.result.reason));
      assert.ok(r.ms < 2500, `paused directory took ${r.ms} ms`);
    } finally {
      slapd.resume();
    }
    assert.equal((await paused.verifier.verify('alice', PASSWORDS.alice))?.name, 'alice', 'works again once the directory is back');
    assert.match(paused.logs(), /directory reachable again/);
  });

  it('several URLs: an unreachable first one falls through to the next', async () => {
    const { verifier } = build(ldapSection(slapd, { url: [`ldap://127.0.0.1:${await freePort()}`, slapd.url], cachettl: 0 }));
    assert.equal((await verifier.verify('bob', PASSWORDS.bob))?.name, 'bob');
  });

  it('the cache: repeated and concurrent checks within the TTL cost one directory connection', async () => {
    const logins: LdapLogin[] = [];
    const { verifier } = build(ldapSection(slapd, { cachettl: '1500ms' }), { onLogin: (l) => void logins.push(l) });
    const before = slapd.connections();
    const all = await Promise.all(Array.from({ length: 8 }, () => verifier.verify('bob', PASSWORDS.bob)));
    assert.ok(all.every((p) => p?.name === 'bob'));
    assert.equal(await verifier.verify('bob', PASSWORDS.bob).then((p) => p?.name), 'bob');
    await until(() => slapd.connections() > before);
    await sleep(200); // any second connection would be logged by now
    assert.equal(slapd.connections() - before, 1, 'one connection for nine checks');
    assert.equal(logins.length, 1, 'onLogin runs when the directory was asked, not for cached checks');

    // Proof without the log: with slapd paused, the cached login still answers at once...
    await slapd.pause();
    try {
      const r = await elapsed(() => verifier.verify('bob', PASSWORDS.bob));
      assert.equal(r.result.status === 'fulfilled' && r.result.value?.name, 'bob');
      assert.ok(r.ms < 1000, `cached check took ${r.ms} ms (an uncached one waits for the 2 s timeout)`);
      // ...while a wrong password is not answered from the cache (it needs the directory).
      await backendError(verifier.verify('bob', 'wrong-password-xyz'), /timed out/);
    } finally {
      slapd.resume();
    }
  });

  it('a password changed in the directory: the old one works until the TTL ends, then only the new one', async () => {
    const { verifier } = build(ldapSection(slapd, { cachettl: '1s' }));
    assert.equal((await verifier.verify('carol', PASSWORDS.carol))?.name, 'carol');
    await slapd.setPassword(DN.carol, 'carol-new-pass');
    try {
      assert.equal((await verifier.verify('carol', PASSWORDS.carol))?.name, 'carol', 'cached within the TTL');
      assert.equal((await verifier.verify('carol', 'carol-new-pass'))?.name, 'carol', 'the new one works at once');
      await sleep(1100);
      assert.equal(await verifier.verify('carol', PASSWORDS.carol), undefined, 'the old one is refused after the TTL');
      assert.equal((await verifier.verify('carol', 'carol-new-pass'))?.name, 'carol');
    } finally {
      await slapd.setPassword(DN.carol, PASSWORDS.carol);
    }
  });

  it('cachettl 0: every check asks the directory', async () => {
    const { verifier } = build(ldapSection(slapd, { cachettl: 0 }));
    const before = slapd.connections();
    await verifier.verify('bob', PASSWORDS.bob);
    await verifier.verify('bob', PASSWORDS.bob);
    await until(() => slapd.connections() - before >= 2);
    await sleep(200);
    assert.equal(slapd.connections() - before, 2);
  });

  it('lookup (refresh tokens): fresh teams without a password; the stamp follows password changes; gone or locked = undefined', async () => {
    const { verifier } = build(ldapSection(slapd));
    const before = (await verifier.lookup('bob'))!;
    assert.deepEqual(before.principal, { name: 'bob', kind: 'user', via: 'ldap', teams: ['dev', 'qa'], admin: false });
    assert.equal((await verifier.lookup('bob'))!.stamp, before.stamp, 'stable while nothing changes');
    assert.equal(await verifier.lookup('BOB'), undefined, 'only the exact name a login produced');
    assert.equal(await verifier.lookup('nobody'), undefined);
    assert.equal(await verifier.lookup('*'), undefined);
    await sleep(1100); // pwdChangedTime has a resolution of one second
    await slapd.setPassword(DN.bob, 'bob-new-pass');
    try {
      assert.notEqual((await verifier.lookup('bob'))!.stamp, before.stamp, 'a password change ends refresh tokens');
      // bob leaves the qa group: the next lookup says so
      await slapd.modify(`dn: ${DN.qa}\nchangetype: modify\nadd: member\nmember: ${DN.carol}\n-\ndelete: member\nmember: ${DN.bob}\n`);
      assert.deepEqual((await verifier.lookup('bob'))!.principal.teams, ['dev']);
      // a locked account (ppolicy) is not renewed
      await slapd.modify(`dn: ${DN.bob}\nchangetype: modify\nadd: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n`);
      assert.equal(await verifier.lookup('bob'), undefined);
      assert.equal(await verifier.verify('bob', 'bob-new-pass'), undefined, 'and cannot log in');
    } finally {
      await slapd.modify(`dn: ${DN.bob}\nchangetype: modify\ndelete: pwdAccountLockedTime\n`);
      await slapd.modify(`dn: ${DN.qa}\nchangetype: modify\nadd: member\nmember: ${DN.bob}\n-\ndelete: member\nmember: ${DN.carol}\n`);
      await slapd.setPassword(DN.bob, PASSWORDS.bob);
    }
    assert.equal((await verifier.verify('bob', PASSWORDS.bob))?.name, 'bob');
  });

  it('a failing onLogin (e.g. the team sync) refuses the login and is not cached', async () => {
    let fail = true;
    const { verifier, logs } = build(ldapSection(slapd), {
      onLogin: () => {
        if (fail) throw new Error('database is down');
      },
    });
    await backendError(verifier.verify('alice', PASSWORDS.alice), /could not be recorded/);
    assert.match(logs(), /recording the login failed/);
    fail = false;
    assert.equal((await verifier.verify('alice', PASSWORDS.alice))?.name, 'alice');
  });
});
