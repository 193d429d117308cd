// RFC 4515 escaping and parsing (src/auth/ldap/filter.ts), and the BER that goes to the server:
// no character of a user name may change the structure of the filter.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapeFilterValue, parseFilter, renderFilter, FilterSyntaxError, type FilterNode } from '../../src/auth/ldap/filter.ts';
import { toLdapjsFilter } from '../../src/auth/ldap/ldapjs-filter.ts';

const USER = '(&(objectClass=person)(uid={username}))';

/** The equality value the user name ends up in. */
function userValue(node: FilterNode): Buffer {
  assert.equal(node.type, 'and');
  const f = (node as { filters: FilterNode[] }).filters;
  assert.equal(f.length, 2);
  assert.deepEqual(f[0], { type: 'equal', attribute: 'objectClass', value: Buffer.from('person') });
  assert.equal(f[1]!.type, 'equal');
  return (f[1] as { value: Buffer }).value;
}

describe('LDAP filter escaping (RFC 4515)', () => {
  it('escapes the special characters, NUL and every non-printable or non-ASCII byte', () => {
    assert.equal(escapeFilterValue('alice'), 'alice');
    assert.equal(escapeFilterValue('*'), '\\2a');
    assert.equal(escapeFilterValue(')(uid=*'), '\\29\\28uid=\\2a');
    assert.equal(escapeFilterValue('a\\b'), 'a\\5cb');
    assert.equal(escapeFilterValue('a\u0000b'), 'a\\00b');
    assert.equal(escapeFilterValue('\\2a'), '\\5c2a', 'an escape typed by the user is escaped again, not passed through');
    assert.equal(escapeFilterValue('é'), '\\c3\\a9');
    assert.equal(escapeFilterValue('tab\there'), 'tab\\09here');
  });

  it('any user name round-trips to its exact bytes in a single equality assertion', () => {
    const hostile = ['*', 'a*', '*)(uid=*', ')(uid=*', 'alice)(|(uid=*', 'alice\u0000', '\u0000', 'alice\\00', 'x\\2a', '(uid=alice)', 'admin)(!(uid=x', 'Jöhn 李', '\\', '\\\\', ')', '(', '**', 'a:=b', '😀'];
    for (const name of hostile) {
      const value = userValue(renderFilter(USER, { username: name }));
      assert.deepEqual(value, Buffer.from(name, 'utf8'), JSON.stringify(name));
    }
  });

  it('sends the raw bytes in BER, unlike ldapjs\'s own string parser', () => {
    const filter = toLdapjsFilter(renderFilter(USER, { username: 'a*)(x' })) as unknown as { toBer(): { buffer: Buffer } };
    const ber = filter.toBer().buffer;
    assert.ok(ber.includes(Buffer.from('a*)(x')), 'the value goes over as typed');
    assert.ok(!ber.includes(Buffer.from('\\2a')), 'not as escape text');
  });
});

describe('LDAP filter parsing', () => {
  it('parses the shapes used in user and group filters', () => {
    assert.deepEqual(parseFilter('uid=x'), { type: 'equal', attribute: 'uid', value: Buffer.from('x') });
    assert.deepEqual(parseFilter('(cn=*)'), { type: 'present', attribute: 'cn' });
    assert.deepEqual(parseFilter('(cn=a*b*c)'), { type: 'substring', attribute: 'cn', initial: Buffer.from('a'), any: [Buffer.from('b')], final: Buffer.from('c') });
    assert.deepEqual(parseFilter('(cn=*b*)'), { type: 'substring', attribute: 'cn', any: [Buffer.from('b')] });
    assert.deepEqual(parseFilter('(!(cn=x))'), { type: 'not', filter: { type: 'equal', attribute: 'cn', value: Buffer.from('x') } });
    assert.deepEqual(parseFilter('(uidNumber>=1000)'), { type: 'ge', attribute: 'uidNumber', value: Buffer.from('1000') });
    // AD's nested-membership rule (LDAP_MATCHING_RULE_IN_CHAIN)
    assert.deepEqual(parseFilter('(member:1.2.840.113556.1.4.1941:=cn=a\\2cb)'), {
      type: 'extensible',
      attribute: 'member',
      rule: '1.2.840.113556.1.4.1941',
      dnAttributes: false,
      value: Buffer.from('cn=a,b'),
    });
    assert.deepEqual(parseFilter('(cn:dn:=x)'), { type: 'extensible', attribute: 'cn', dnAttributes: true, value: Buffer.from('x') });
    const or = parseFilter('(|(sAMAccountName=x) (userPrincipalName=x))');
    assert.equal(or.type, 'or');
    // AD's "account not disabled" bit test
    assert.equal(parseFilter('(&(objectCategory=person)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))').type, 'and');
  });

  it('refuses malformed filters', () => {
    for (const bad of ['(uid=a', '(uid=a))', '(&)', '(=x)', '(uid=a(b)', '(uid=\\zz)', '(uid=\\2)', '(cn=a**b)', '(a=b)(c=d)', '(&'.repeat(40) + '(a=b)' + ')'.repeat(40)]) {
      assert.throws(() => parseFilter(bad), FilterSyntaxError, bad);
    }
    assert.throws(() => parseFilter('(&'.repeat(40) + '(a=b)' + ')'.repeat(40)), /nested too deeply/);
    assert.equal(parseFilter('(&'.repeat(20) + '(a=b)' + ')'.repeat(20)).type, 'and');
  });
});
