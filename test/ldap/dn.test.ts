// Distinguished names (src/auth/ldap/dn.ts) and the group matching built on them
// (src/auth/ldap/groups.ts): one group however the directory or the configuration spells it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DnSyntaxError, parseDn } from '../../src/auth/ldap/dn.ts';
import { GroupMatcher, groupRef, normalizeDn } from '../../src/auth/ldap/groups.ts';

describe('LDAP DN parsing (RFC 4514)', () => {
  it('splits RDNs and multi-valued RDNs, lower-cases attribute types, unescapes values', () => {
    assert.deepEqual(parseDn('uid=alice,ou=people,dc=example,dc=org'), [[['uid', 'alice']], [['ou', 'people']], [['dc', 'example']], [['dc', 'org']]]);
    assert.deepEqual(parseDn('CN=Smith\\, John,OU=Staff'), [[['cn', 'Smith, John']], [['ou', 'Staff']]]);
    assert.deepEqual(parseDn('cn=Smith\\2c John'), [[['cn', 'Smith, John']]]);
    assert.deepEqual(parseDn('cn=J\\c3\\b6hn+sn=x'), [[['cn', 'Jöhn'], ['sn', 'x']]], 'hex escapes are UTF-8 bytes');
    assert.deepEqual(parseDn('cn=Jöhn'), [[['cn', 'Jöhn']]]);
    assert.deepEqual(parseDn('cn=a\\+b\\=c\\\\d'), [[['cn', 'a+b=c\\d']]]);
    assert.deepEqual(parseDn(' CN = Docker Users , OU=Groups '), [[['cn', 'Docker Users']], [['ou', 'Groups']]], 'spaces around separators are not part of values');
    assert.deepEqual(parseDn('cn=trailing\\ ,dc=x'), [[['cn', 'trailing ']], [['dc', 'x']]], 'an escaped space is');
    assert.deepEqual(parseDn('cn="Smith, John";o=x'), [[['cn', 'Smith, John']], [['o', 'x']]], 'RFC 2253 quotes and ";"');
    assert.deepEqual(parseDn('1.3.6.1.4.1.1466.0=#04024869'), [[['1.3.6.1.4.1.1466.0', '#04024869']]]);
    assert.deepEqual(parseDn(''), []);
  });

  it('refuses what is not a DN', () => {
    for (const bad of ['not a dn', 'cn', '=x', 'cn=a,', 'cn=a\\', 'cn=a\\zz', 'cn="open', 'cn=#zz', 'cn=a,,dc=x']) {
      assert.throws(() => parseDn(bad), DnSyntaxError, bad);
    }
  });
});

describe('LDAP group matching', () => {
  it('one group however it is spelled; distinct DNs stay distinct', () => {
    assert.equal(normalizeDn('CN=Docker Users, OU=Groups, DC=example, DC=org'), normalizeDn('cn=docker users,ou=groups,dc=example,dc=org'));
    assert.equal(normalizeDn('cn=Smith\\, John,dc=x'), normalizeDn('CN=smith\\2C john, DC=X'));
    assert.equal(normalizeDn('cn=a+sn=b,dc=x'), normalizeDn('sn=b+cn=a,dc=x'), 'the order inside a multi-valued RDN does not matter');
    assert.notEqual(normalizeDn('cn=a\\,b,dc=x'), normalizeDn('cn=a,cn=b,dc=x'), 'an escaped comma is not a separator');
    assert.equal(normalizeDn('not a dn'), 'not a dn', 'text that is not a DN is compared as text');
  });

  it('matches configured groups by DN or by common name', () => {
    const g = groupRef('CN=Registry Admins,OU=Groups,DC=corp,DC=example');
    assert.equal(g.cn, 'registry admins');
    assert.ok(new GroupMatcher(['registry admins']).matches(g));
    assert.ok(new GroupMatcher(['cn=registry admins, ou=groups, dc=corp, dc=example']).matches(g));
    assert.ok(!new GroupMatcher(['cn=registry admins,ou=other,dc=corp,dc=example']).matches(g));
    assert.equal(groupRef('uid=x,dc=y').cn, undefined);
  });
});
