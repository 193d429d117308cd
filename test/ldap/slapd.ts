// A real OpenLDAP slapd for the LDAP tests: its own cn=config (slapadd -n0 of an LDIF), its own
// mdb database and certificates in a temp dir, listening on 127.0.0.1 (ldap:// with StartTLS,
// and ldaps://) on free ports, in the foreground (-d) so it dies with its process group. The
// directory is seeded online through ldapadd, so the memberof overlay fills memberOf and the
// ppolicy overlay pwdChangedTime as on a real server; an "AD-like" corner (sAMAccountName,
// memberOf, a DN with an escaped comma) sits next to the usual inetOrgPerson/groupOfNames layout.
//
// Needs the Debian packages slapd and ldap-utils (.ci/run installs them). Without them the tests
// fail with a message saying so, unless BERTH_SKIP_LDAP=1.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, run, stopProcess, tempDir } from '../helpers/processes.ts';

export const SKIP_LDAP = process.env.BERTH_SKIP_LDAP === '1';
const SLAPD = '/usr/sbin/slapd';
const SLAPADD = '/usr/sbin/slapadd';

/** Throws a clear message when slapd or the ldap-utils are missing (call in `before`). */
export function requireSlapd(): void {
  const missing = [SLAPD, SLAPADD, '/usr/bin/ldapadd', '/usr/bin/ldapmodify', '/usr/bin/openssl'].filter((p) => !existsSync(p));
  if (missing.length) {
    throw new Error(`LDAP tests need OpenLDAP's slapd and ldap-utils (missing: ${missing.join(', ')}): apt-get install slapd ldap-utils, or set BERTH_SKIP_LDAP=1 to skip them`);
  }
}

export const SUFFIX = 'dc=example,dc=org';
export const ROOT_DN = `cn=admin,${SUFFIX}`;
export const ROOT_PW = 'root-secret-7f3a';
export const SERVICE_DN = `cn=berth,ou=services,${SUFFIX}`;
export const SERVICE_PW = 'svc-bind-Secr3t-0xC0FFEE';

/** The seeded users: uid -> password. */
export const PASSWORDS = {
  alice: 'alice-pass-1',
  bob: 'bob-pass-2',
  carol: 'carol-pass-3',
  jsmith: 'john-smith-4',
  twin1: 'twin-pass',
  twin2: 'twin-pass',
} as const;

/** RFC 2307 {SSHA}: SHA-1 over password + salt, base64 of digest + salt. */
export function ssha(password: string): string {
  const salt = randomBytes(8);
  return `{SSHA}${Buffer.concat([createHash('sha1').update(password).update(salt).digest(), salt]).toString('base64')}`;
}

export interface Certs {
  ca: string;
  cert: string;
  key: string;
  /** A CA that did not sign the server certificate. */
  otherCa: string;
}

export interface Slapd {
  /** ldap://127.0.0.1:port (StartTLS available) */
  url: string;
  /** ldaps://127.0.0.1:port */
  ldapsUrl: string;
  certs: Certs;
  pid: number;
  /** Everything slapd wrote (stats log level: one line per connection and operation). */
  logs(): string;
  /** Number of connections accepted so far. */
  connections(): number;
  /** LDIF changes as the root DN (ldapmodify). */
  modify(ldif: string): Promise<void>;
  setPassword(dn: string, password: string): Promise<void>;
  /** SIGSTOP / SIGCONT: the port still accepts connections but nothing answers. */
  /** SIGSTOP; resolves once every slapd thread is stopped. */
  pause(): Promise<void>;
  resume(): void;
  stop(): Promise<void>;
}

export async function startSlapd(): Promise<Slapd> {
  requireSlapd();
  const work = await tempDir('berth-slapd');
  const dir = work.path;
  const p = (s: string) => join(dir, s);
  const certs = await makeCerts(dir);
  const [port, ldapsPort] = [await freePort(), await freePort()];
  await run('mkdir', ['-p', p('slapd.d'), p('db')]);
  await writeFile(p('config.ldif'), configLdif(dir, certs));
  await run(SLAPADD, ['-n0', '-F', p('slapd.d'), '-l', p('config.ldif')], { timeoutMs: 30_000 });

  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = `ldaps://127.0.0.1:${ldapsPort}`;
  // -d stats: stay in the foreground and log connections/operations to stderr.
  const child: ChildProcess = spawn(SLAPD, ['-d', 'stats', '-h', `${url}/ ${ldapsUrl}/`, '-F', p('slapd.d')], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const watchdog = startWatchdog(child.pid!, dir);
  let log = '';
  const append = (b: Buffer) => {
    log += b.toString('utf8');
    if (log.length > 4 << 20) log = log.slice(-(2 << 20));
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));

  const stop = async () => {
    watchdog.kill('SIGKILL');
    if (!exited) {
      try {
        process.kill(-child.pid!, 'SIGCONT');
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* gone */
      }
      const t = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 5000);
      await exit;
      clearTimeout(t);
    }
    await work.cleanup();
  };

  const deadline = Date.now() + 20_000;
  while (!(await listening(port))) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`slapd did not start\n--- log ---\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const ldif = async (tool: string, text: string) => {
    await run(tool, ['-x', '-H', url, '-D', ROOT_DN, '-w', ROOT_PW], { input: text, timeoutMs: 30_000 });
  };
  try {
    await ldif('/usr/bin/ldapadd', dataLdif());
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    url,
    ldapsUrl,
    certs,
    pid: child.pid!,
    logs: () => log,
    connections: () => (log.match(/ ACCEPT from /g) ?? []).length,
    modify: (text) => ldif('/usr/bin/ldapmodify', text),
    setPassword: (dn, password) => ldif('/usr/bin/ldapmodify', `dn: ${dn}\nchangetype: modify\nreplace: userPassword\nuserPassword: ${ssha(password)}\n`),
    pause: () => stopProcess(child.pid!),
    resume: () => process.kill(child.pid!, 'SIGCONT'),
    stop,
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** A CA, a server certificate for 127.0.0.1/localhost signed by it, and an unrelated CA. */
async function makeCerts(dir: string): Promise<Certs> {
  const p = (s: string) => join(dir, s);
  const ssl = (args: string[]) => run('openssl', args, { timeoutMs: 30_000 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await ssl(['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '2', '-subj', '/CN=berth test LDAP CA']);
  await ssl(['req', '-x509', ...ec, '-keyout', p('other-ca.key'), '-out', p('other-ca.crt'), '-days', '2', '-subj', '/CN=some other CA']);
  await ssl(['req', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1']);
  await writeFile(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await ssl(['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.crt'), '-days', '2', '-extfile', p('server.ext')]);
  return { ca: p('ca.crt'), cert: p('server.crt'), key: p('server.key'), otherCa: p('other-ca.crt') };
}

function configLdif(dir: string, certs: Certs): string {
  return `dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: ${join(dir, 'slapd.pid')}
olcArgsFile: ${join(dir, 'slapd.args')}
olcTLSCACertificateFile: ${certs.ca}
olcTLSCertificateFile: ${certs.cert}
olcTLSCertificateKeyFile: ${certs.key}

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: {0}back_mdb
olcModuleLoad: {1}memberof
olcModuleLoad: {2}ppolicy

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif

include: file:///etc/ldap/schema/cosine.ldif

include: file:///etc/ldap/schema/inetorgperson.ldif

dn: cn=adlike,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: adlike
olcAttributeTypes: ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcObjectClasses: ( 1.3.6.1.4.1.4203.666.100.1 NAME 'berthAdLikeUser' SUP top AUXILIARY MAY sAMAccountName )

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: 500

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: ${join(dir, 'db')}
olcDbMaxSize: 67108864
olcSuffix: ${SUFFIX}
olcRootDN: ${ROOT_DN}
olcRootPW: ${ssha(ROOT_PW)}
olcDbIndex: objectClass eq
olcDbIndex: uid,member eq
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by users read by * none

dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {0}memberof
olcMemberOfRefInt: TRUE
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf

dn: olcOverlay={1}ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {1}ppolicy
olcPPolicyDefault: cn=default,ou=policies,${SUFFIX}
`;
}

const person = (uid: string, cn: string, extra = '') => `dn: uid=${uid},ou=people,${SUFFIX}
objectClass: inetOrgPerson
uid: ${uid}
cn: ${cn}
sn: ${cn.split(' ').pop()}
${extra}userPassword: ${ssha(PASSWORDS[uid as keyof typeof PASSWORDS])}
`;

const group = (dn: string, cn: string, members: string[]) => `dn: ${dn}
objectClass: groupOfNames
cn: ${cn}
${members.map((m) => `member: ${m}`).join('\n')}
`;

export const DN = {
  alice: `uid=alice,ou=people,${SUFFIX}`,
  bob: `uid=bob,ou=people,${SUFFIX}`,
  carol: `uid=carol,ou=people,${SUFFIX}`,
  jsmith: 'CN=Smith\\, John,OU=Staff,DC=example,DC=org',
  developers: `cn=developers,ou=groups,${SUFFIX}`,
  admins: `cn=registry-admins,ou=groups,${SUFFIX}`,
  qa: `cn=qa,ou=groups,${SUFFIX}`,
  dockerUsers: `CN=Docker Users,OU=Groups,DC=example,DC=org`,
};

function dataLdif(): string {
  return [
    `dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n`,
    ...['people', 'groups', 'services', 'Staff', 'policies'].map((ou) => `dn: ou=${ou},${SUFFIX}\nobjectClass: organizationalUnit\nou: ${ou}\n`),
    // ppolicy keeps pwdChangedTime (what lookup()'s stamp follows) and can lock accounts.
    `dn: cn=default,ou=policies,${SUFFIX}\nobjectClass: organizationalRole\nobjectClass: pwdPolicy\ncn: default\npwdAttribute: userPassword\npwdLockout: TRUE\n`,
    `dn: ${SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: berth\nuserPassword: ${ssha(SERVICE_PW)}\n`,
    person('alice', 'Alice Liddell', 'displayName: Alice Liddell\nmail: alice@example.org\n'),
    person('bob', 'Bob Builder', 'mail: bob@example.org\n'),
    person('carol', 'Carol Danvers'),
    // Two entries sharing a mail: a filter on mail would be ambiguous.
    person('twin1', 'Twin One', 'mail: twins@example.org\n'),
    person('twin2', 'Twin Two', 'mail: twins@example.org\n'),
    // AD-like: CN-named entry with an escaped comma, logs in by sAMAccountName.
    `dn: ${DN.jsmith}\nobjectClass: inetOrgPerson\nobjectClass: berthAdLikeUser\ncn: Smith, John\nsn: Smith\nsAMAccountName: jsmith\ndisplayName: John Smith\nmail: jsmith@corp.example.org\nuserPassword: ${ssha(PASSWORDS.jsmith)}\n`,
    group(DN.developers, 'developers', [DN.alice, DN.bob]),
    group(DN.admins, 'registry-admins', [DN.alice]),
    group(DN.qa, 'qa', [DN.bob]),
    group(DN.dockerUsers, 'Docker Users', [DN.jsmith, DN.carol]),
  ].join('\n');
}

/** Takes slapd's process group down and removes its dir if the test process dies first. */
function startWatchdog(pgid: number, dir: string): ChildProcess {
  const script = 'cat >/dev/null; kill -s CONT -- "-$1" 2>/dev/null; kill -s TERM -- "-$1" 2>/dev/null; sleep 5; kill -s KILL -- "-$1" 2>/dev/null; rm -rf "$2"';
  const w = spawn('sh', ['-c', script, 'berth-slapd-watchdog', String(pgid), dir], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  w.on('error', () => undefined);
  w.unref();
  (w.stdin as unknown as { unref?: () => void }).unref?.();
  return w;
}
