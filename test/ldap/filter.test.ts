// LDAP filters (src/auth/ldap/filter.ts): escaping into the configured templates, parsing with
// ldapts, and the BER that goes to the server: no character of a user name may change the
// structure of the filter, and the server compares the exact UTF-8 bytes of the name as typed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AndFilter, BerReader, BerWriter, EqualityFilter, ExtensibleFilter, FilterParser, NotFilter, OrFilter, PresenceFilter, SubstringFilter, type Filter } from 'ldapts';
import { escapeFilterValue, parseFilter, renderFilter, FilterSyntaxError } from '../../src/auth/ldap/filter.ts';

const USER = '(&(objectClass=person)(uid={username}))';

/** The filter as the server receives it: BER, read back the way a server decodes it. */
function onTheWire(filter: Filter): { ber: Buffer; decoded: Filter } {
  const writer = new BerWriter();
  filter.write(writer);
  const ber = writer.buffer;
  return { ber, decoded: FilterParser.parse(new BerReader(ber)) };
}

/** The equality value the user name ends up in, as bytes on the wire. */
function userValue(filter: Filter): Buffer {
  const { decoded } = onTheWire(filter);
  assert.ok(decoded instanceof AndFilter);
  assert.equal(decoded.filters.length, 2);
  const [objectClass, uid] = decoded.filters;
  assert.ok(objectClass instanceof EqualityFilter && objectClass.attribute === 'objectclass');
  assert.ok(uid instanceof EqualityFilter, `an equality assertion, got ${uid?.constructor.name}`);
  assert.equal(uid.attribute, 'uid');
  return Buffer.from(uid.value as string, 'utf8');
}

describe('LDAP filter escaping (RFC 4515)', () => {
  it('escapes the characters that carry structure, and NUL', () => {
    assert.equal(escapeFilterValue('alice'), 'alice');
    assert.equal(escapeFilterValue('*'), '\\2a');
    assert.equal(escapeFilterValue(')(uid=*'), '\\29\\28uid=\\2a');
    assert.equal(escapeFilterValue('a\\b'), 'a\\5cb');
    assert.equal(escapeFilterValue('a\u0000b'), 'a\\00b');
    assert.equal(escapeFilterValue('\\2a'), '\\5c2a', 'an escape typed by the user is escaped again, not passed through');
    assert.equal(escapeFilterValue('é'), 'é', 'non-ASCII stays a character: ldapts sends it as UTF-8');
  });

  it('any user name reaches the server as its exact bytes, in a single equality assertion', () => {
    const hostile = ['*', 'a*', '*)(uid=*', ')(uid=*', 'alice)(|(uid=*', 'alice\u0000', '\u0000', 'alice\\00', 'x\\2a', '(uid=alice)', 'admin)(!(uid=x', 'Jöhn 李', '\\', '\\\\', ')', '(', '**', 'a:=b', '😀', 'tab\there', '\\c3\\a9', 'é\\e9'];
    for (const name of hostile) {
      assert.deepEqual(userValue(renderFilter(USER, { username: name })), Buffer.from(name, 'utf8'), JSON.stringify(name));
    }
  });

  it('a wildcard in a user name goes over as the character, not as escape text', () => {
    const { ber } = onTheWire(renderFilter(USER, { username: 'a*)(x' }));
    assert.ok(ber.includes(Buffer.from('a*)(x')), 'the value goes over as typed');
    assert.ok(!ber.includes(Buffer.from('\\2a')), 'not as escape text');
  });
});

describe('LDAP filter parsing (ldapts)', () => {
  it('parses the shapes used in user and group filters', () => {
    assert.ok(parseFilter('uid=x') instanceof EqualityFilter, 'outer parentheses may be left out');
    assert.ok(parseFilter('(cn=*)') instanceof PresenceFilter);
    const sub = parseFilter('(cn=a*b*c)');
    assert.ok(sub instanceof SubstringFilter);
    assert.deepEqual([sub.initial, sub.any, sub.final], ['a', ['b'], 'c']);
    assert.ok(parseFilter('(!(cn=x))') instanceof NotFilter);
    assert.ok(parseFilter('(|(sAMAccountName=x)(userPrincipalName=x))') instanceof OrFilter);
    // AD's nested-membership rule (LDAP_MATCHING_RULE_IN_CHAIN), a DN with an escaped comma
    const chain = parseFilter('(member:1.2.840.113556.1.4.1941:=cn=a\\2cb)');
    assert.ok(chain instanceof ExtensibleFilter);
    assert.deepEqual([chain.matchType, chain.rule, chain.dnAttributes, chain.value], ['member', '1.2.840.113556.1.4.1941', false, 'cn=a,b']);
    // AD's "account not disabled" bit test
    assert.ok(parseFilter('(&(objectCategory=person)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))') instanceof AndFilter);
  });

  it('refuses malformed filters', () => {
    for (const bad of ['(uid=a', '(uid=a))', '(&)', '(=x)', '(uid=a(b)', '(uid=\\zz)', '(uid=\\2)', '(a=b)(c=d)', '', `(cn=${'x'.repeat(9000)})`]) {
      assert.throws(() => parseFilter(bad), FilterSyntaxError, bad);
    }
  });

  it('refuses a non-ASCII byte written as an escape (ldapts would send other characters)', () => {
    assert.throws(() => parseFilter('(cn=J\\c3\\b6hn)'), /\\c3 is a byte of a non-ASCII character: write the character itself/);
    assert.throws(() => parseFilter('(cn=\\E9)'), FilterSyntaxError);
    const written = parseFilter('(cn=Jöhn)');
    assert.ok(written instanceof EqualityFilter);
    assert.equal(written.value, 'Jöhn');
    // ASCII escapes are fine
    assert.equal((parseFilter('(cn=a\\2ab)') as EqualityFilter).value, 'a*b');
  });
});
