// berth.auth.ldap in config.yml and REGISTRY_BERTH_AUTH_LDAP_*: defaults, the rules that stop the
// start, the warnings, and that the bind password never appears in a warning or an error.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/index.ts';

const V = 'version: 0.1\n';
const SECRET = 'Sup3r-S3cret-bind-pw';
const load = (ldap: string, env: NodeJS.ProcessEnv = {}) => loadConfig({ text: `${V}berth:\n  auth:\n    ldap:\n${ldap.replace(/^/gm, '      ')}\n`, env });

function rejects(ldap: string, re: RegExp, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    load(ldap, env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    assert.match(e.message, re);
    assert.ok(!e.message.includes(SECRET), 'the bind password is never quoted');
    return e;
  }
  assert.fail(`accepted:\n${ldap}`);
}

describe('berth.auth.ldap configuration', () => {
  it('is absent by default and filled with defaults when present', () => {
    assert.equal(loadConfig({ text: V, env: {} }).config.berth.auth.ldap, undefined);
    const { config, warnings } = load(`url: ldaps://ldap.example.org\nbasedn: dc=example,dc=org\nbinddn: cn=berth,dc=example,dc=org\nbindpassword: ${SECRET}`);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.berth.auth.ldap, {
      urls: ['ldaps://ldap.example.org'],
      bindDn: 'cn=berth,dc=example,dc=org',
      bindPassword: SECRET,
      baseDn: 'dc=example,dc=org',
      userFilter: '(&(objectClass=person)(uid={username}))',
      usernameAttribute: 'uid',
      displayNameAttribute: 'displayName',
      emailAttribute: 'mail',
      groupAttribute: 'memberOf',
      groupBaseDn: 'dc=example,dc=org',
      adminGroups: [],
      teamMapping: {},
      startTls: false,
      insecureSkipVerify: false,
      connectTimeoutMs: 5000,
      timeoutMs: 10_000,
      cacheTtlMs: 60_000,
    });
  });

  it('reads every key, an AD setup included', () => {
    const { config } = load(
      [
        'url: [ldaps://dc1.corp.example, ldaps://dc2.corp.example:636]',
        'binddn: CN=svc-berth,OU=Service Accounts,DC=corp,DC=example',
        `bindpassword: ${SECRET}`,
        'basedn: DC=corp,DC=example',
        "userfilter: '(&(objectCategory=person)(sAMAccountName={username})(!(userAccountControl:1.2.840.113556.1.4.803:=2)))'",
        'usernameattribute: sAMAccountName',
        'displaynameattribute: displayName',
        'emailattribute: userPrincipalName',
        'groupattribute: ""',
        'groupbasedn: OU=Groups,DC=corp,DC=example',
        "groupfilter: '(member:1.2.840.113556.1.4.1941:={dn})'",
        'admingroups: [Registry Admins, "CN=Domain Admins,CN=Users,DC=corp,DC=example"]',
        'teammapping:',
        '  "CN=Developers,OU=Groups,DC=corp,DC=example": dev',
        '  QA: qa',
        'cafile: /etc/ssl/corp-ca.pem',
        'timeout: 3s',
        'connecttimeout: 1500ms',
        'cachettl: 2m',
      ].join('\n'),
    );
    const l = config.berth.auth.ldap!;
    assert.deepEqual(l.urls, ['ldaps://dc1.corp.example', 'ldaps://dc2.corp.example:636']);
    assert.equal(l.groupAttribute, '');
    assert.equal(l.groupFilter, '(member:1.2.840.113556.1.4.1941:={dn})');
    assert.deepEqual(l.adminGroups, ['Registry Admins', 'CN=Domain Admins,CN=Users,DC=corp,DC=example']);
    assert.deepEqual(l.teamMapping, { 'CN=Developers,OU=Groups,DC=corp,DC=example': 'dev', QA: 'qa' });
    assert.deepEqual([l.caFile, l.timeoutMs, l.connectTimeoutMs, l.cacheTtlMs], ['/etc/ssl/corp-ca.pem', 3000, 1500, 120_000]);
  });

  it('takes REGISTRY_BERTH_AUTH_LDAP_* from the environment, the bind password included', () => {
    const { config, warnings } = load('url: ldaps://ldap.example.org\nbasedn: dc=example,dc=org', {
      REGISTRY_BERTH_AUTH_LDAP_BINDDN: 'cn=berth,dc=example,dc=org',
      REGISTRY_BERTH_AUTH_LDAP_BINDPASSWORD: SECRET,
      REGISTRY_BERTH_AUTH_LDAP_TEAMMAPPING: '{developers: dev}',
      REGISTRY_BERTH_AUTH_LDAP_STARTTLS: 'false',
    });
    assert.deepEqual(warnings, []);
    assert.equal(config.berth.auth.ldap!.bindPassword, SECRET);
    assert.deepEqual(config.berth.auth.ldap!.teamMapping, { developers: 'dev' });
  });

  it('stops the start on a mistake, naming the key and never the password', () => {
    const base = `basedn: dc=example,dc=org\nbinddn: cn=b\nbindpassword: ${SECRET}`;
    rejects(base, /^config: berth\.auth\.ldap\.url: required/);
    rejects(`url: ldap://h\nbinddn: cn=b\nbindpassword: ${SECRET}`, /^config: berth\.auth\.ldap\.basedn: required/);
    rejects(`url: http://h\n${base}`, /^config: berth\.auth\.ldap\.url: expected an ldap:\/\/ or ldaps:\/\/ URL/);
    rejects(`url: [ldaps://h, "not a url"]\n${base}`, /^config: berth\.auth\.ldap\.url\.1: expected an ldap/);
    rejects(`url: "ldaps://cn=b:${SECRET}@h"\nbasedn: dc=x`, /^config: berth\.auth\.ldap\.url: must not contain credentials/);
    rejects(`url: ldaps://h/dc=example,dc=org\n${base}`, /only scheme, host and port/);
    rejects(`url: ldaps://h\nstarttls: true\n${base}`, /^config: berth\.auth\.ldap\.starttls: not with an ldaps:\/\/ url/);
    rejects('url: ldaps://h\nbasedn: dc=x\nbinddn: cn=b', /^config: berth\.auth\.ldap\.bindpassword: required with berth\.auth\.ldap\.binddn/);
    rejects(`url: ldaps://h\nbasedn: dc=x\nbindpassword: ${SECRET}`, /^config: berth\.auth\.ldap\.binddn: required with/);
    rejects(`url: ldaps://h\n${base}\nuserfilter: (uid=admin)`, /^config: berth\.auth\.ldap\.userfilter: must contain \{username\}/);
    rejects(`url: ldaps://h\n${base}\nuserfilter: "(uid={username}"`, /^config: berth\.auth\.ldap\.userfilter: not a valid LDAP filter \(RFC 4515\)/);
    rejects(`url: ldaps://h\n${base}\nuserfilter: "(uid={user})"`, /unknown placeholder \{user\}/);
    rejects(`url: ldaps://h\n${base}\ngroupfilter: (objectClass=groupOfNames)`, /^config: berth\.auth\.ldap\.groupfilter: must contain \{dn\} or \{username\}/);
    rejects(`url: ldaps://h\n${base}\ngroupattribute: "member of"`, /groupattribute: expected an attribute name/);
    rejects(`url: ldaps://h\n${base}\nteammapping: {developers: Dev Team}`, /teammapping: team names are lower-case/);
    rejects(`url: ldaps://h\n${base}\ntimeout: 0s`, /timeout: must be greater than 0/);
    rejects(`url: ldaps://h\nbasedn: dc=x\nbinddn: cn=b\nbindpassword: [${SECRET}]`, /^config: berth\.auth\.ldap\.bindpassword: expected a string, got list$/);
    rejects('url: ldaps://h\nbasedn: dc=x\nbinddn: cn=b', /bindpassword/, { REGISTRY_BERTH_AUTH_LDAP_BINDPASSWORD: `[${SECRET}` });
  });

  it('warns loudly about passwords in clear text and unchecked certificates', () => {
    const clear = load('url: ldap://ldap.example.org\nbasedn: dc=x');
    assert.match(clear.warnings[0]!, /^berth\.auth\.ldap: passwords are sent to the directory in clear text; use an ldaps:\/\/ url or starttls: true/);
    assert.deepEqual(load('url: ldap://ldap.example.org\nstarttls: true\nbasedn: dc=x').warnings, []);
    assert.deepEqual(load('url: ldap://127.0.0.1:3890\nbasedn: dc=x').warnings, [], 'loopback is not the network');
    const skip = load('url: ldaps://ldap.example.org\nbasedn: dc=x\ninsecureskipverify: true');
    assert.match(skip.warnings[0]!, /^berth\.auth\.ldap\.insecureskipverify: the directory's certificate is not checked/);
    assert.match(load('url: ldap://127.0.0.1\nbasedn: dc=x\ncafile: /ca.pem').warnings[0]!, /cafile is not used without TLS/);
  });
});
