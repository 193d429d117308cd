// TLS to the directory against a real slapd: ldaps:// and StartTLS succeed with the CA that
// signed slapd's certificate, fail (as a backend error, not a wrong password) with another CA or
// with Node's bundled roots, and insecureskipverify turns the check off.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthBackendError } from '../../src/auth/types.ts';
import { build, ldapSection, until } from './harness.ts';
import { PASSWORDS, SKIP_LDAP, startSlapd, type Slapd } from './slapd.ts';

async function tlsFailure(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => assert.fail('expected a TLS failure'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof AuthBackendError, `expected AuthBackendError, got ${String(e)}`);
  return e.message;
}

describe('LDAP over TLS (real slapd)', { skip: SKIP_LDAP && 'BERTH_SKIP_LDAP=1' }, () => {
  let slapd: Slapd;
  before(async () => {
    slapd = await startSlapd();
  });
  after(async () => {
    await slapd?.stop();
  });

  it('ldaps:// with the right CA', async () => {
    const { verifier, warnings } = build(ldapSection(slapd, { url: slapd.ldapsUrl, cafile: slapd.certs.ca, cachettl: 0 }));
    assert.deepEqual(warnings, []);
    assert.equal((await verifier.verify('alice', PASSWORDS.alice))?.name, 'alice');
    assert.equal(await verifier.verify('alice', 'nope-nope'), undefined);
    // by name too: the certificate carries DNS:localhost
    const byName = build(ldapSection(slapd, { url: slapd.ldapsUrl.replace('127.0.0.1', 'localhost'), cafile: slapd.certs.ca, cachettl: 0 })).verifier;
    assert.equal((await byName.verify('bob', PASSWORDS.bob))?.name, 'bob');
  });

  it('StartTLS on ldap:// with the right CA, before any credentials are sent', async () => {
    const { verifier } = build(ldapSection(slapd, { starttls: true, cafile: slapd.certs.ca, cachettl: 0 }));
    const mark = slapd.logs().length;
    assert.equal((await verifier.verify('bob', PASSWORDS.bob))?.name, 'bob');
    // slapd logs asynchronously, and the previous test's connections may still log their last
    // operations after the mark: judge each connection opened after it on its own lines.
    const perConn = (): Map<string, string[]> => {
      const byConn = new Map<string, string[]>();
      for (const line of slapd.logs().slice(mark).split('\n')) {
        const m = / conn=(\d+) /.exec(` ${line}`);
        if (!m) continue;
        if (!byConn.has(m[1]!)) {
          if (!line.includes('ACCEPT')) continue; // opened before the mark
          byConn.set(m[1]!, []);
        }
        byConn.get(m[1]!)!.push(line);
      }
      return byConn;
    };
    await until(() => [...perConn().values()].some((lines) => lines.some((l) => l.includes('BIND dn='))));
    let binds = 0;
    for (const lines of perConn().values()) {
      const bind = lines.findIndex((l) => l.includes('BIND dn='));
      if (bind < 0) continue;
      binds++;
      const ext = lines.findIndex((l) => l.includes('EXT oid=1.3.6.1.4.1.1466.20037'));
      assert.ok(ext >= 0, 'StartTLS was requested on every connection that binds');
      assert.ok(bind > ext, 'the first bind came after StartTLS');
    }
    assert.ok(binds > 0);
  });

  it('a CA that did not sign the server certificate: refused, for ldaps:// and StartTLS', async () => {
    const ldaps = build(ldapSection(slapd, { url: slapd.ldapsUrl, cafile: slapd.certs.otherCa, cachettl: 0 })).verifier;
    assert.match(await tlsFailure(ldaps.verify('alice', PASSWORDS.alice)), /connect failed: .*(certificate|self.signed|verify)/i);
    const starttls = build(ldapSection(slapd, { starttls: true, cafile: slapd.certs.otherCa, cachettl: 0 })).verifier;
    assert.match(await tlsFailure(starttls.verify('alice', PASSWORDS.alice)), /StartTLS failed: .*(certificate|self.signed|verify)/i);
    // and without cafile, Node's bundled public roots do not know the test CA either
    const roots = build(ldapSection(slapd, { url: slapd.ldapsUrl, cachettl: 0 })).verifier;
    await tlsFailure(roots.verify('alice', PASSWORDS.alice));
  });

  it('insecureskipverify accepts any certificate, with a loud warning', async () => {
    const { verifier, warnings } = build(ldapSection(slapd, { url: slapd.ldapsUrl, cafile: slapd.certs.otherCa, insecureskipverify: true, cachettl: 0 }));
    assert.match(warnings[0]!, /^berth\.auth\.ldap\.insecureskipverify: the directory's certificate is not checked/);
    assert.equal((await verifier.verify('alice', PASSWORDS.alice))?.name, 'alice');
  });

  it('an unreadable cafile stops the start with the key\'s name', () => {
    assert.throws(() => build(ldapSection(slapd, { url: slapd.ldapsUrl, cafile: '/nonexistent/ca.pem' })), /^ConfigError: config: berth\.auth\.ldap\.cafile: cannot read \/nonexistent\/ca\.pem: ENOENT/);
    assert.throws(() => build(ldapSection(slapd, { url: slapd.ldapsUrl, cafile: '/etc/hostname' })), /holds no PEM certificate/);
  });
});
