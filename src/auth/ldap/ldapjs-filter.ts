// FilterNode (filter.ts) -> ldapjs filter objects, which encode themselves to BER. Equality
// values go over as raw bytes; the other kinds take strings in ldapjs, so their values are UTF-8
// decoded (only configured templates use them, never a user's input on its own).
import ldap from 'ldapjs';
import type { FilterNode } from './filter.ts';

type LdapFilter = InstanceType<typeof ldap.EqualityFilter>;

export function toLdapjsFilter(node: FilterNode): LdapFilter {
  switch (node.type) {
    case 'and':
      return new ldap.AndFilter({ filters: node.filters.map(toLdapjsFilter) });
    case 'or':
      return new ldap.OrFilter({ filters: node.filters.map(toLdapjsFilter) });
    case 'not':
      return new ldap.NotFilter({ filter: toLdapjsFilter(node.filter) });
    case 'equal':
      // A Buffer value is copied as is (ldapjs's `raw`): no re-escaping, no text round trip.
      return new ldap.EqualityFilter({ attribute: node.attribute, value: node.value });
    case 'approx':
      return new ldap.ApproximateFilter({ attribute: node.attribute, value: node.value.toString('utf8') });
    case 'ge':
      return new ldap.GreaterThanEqualsFilter({ attribute: node.attribute, value: node.value.toString('utf8') });
    case 'le':
      return new ldap.LessThanEqualsFilter({ attribute: node.attribute, value: node.value.toString('utf8') });
    case 'present':
      return new ldap.PresenceFilter({ attribute: node.attribute });
    case 'substring':
      return new ldap.SubstringFilter({
        attribute: node.attribute,
        initial: node.initial?.toString('utf8') ?? '',
        any: node.any.map((b) => b.toString('utf8')),
        ...(node.final && { final: node.final.toString('utf8') }),
      });
    case 'extensible':
      return new ldap.ExtensibleFilter({
        ...(node.attribute !== undefined && { matchType: node.attribute }),
        ...(node.rule !== undefined && { rule: node.rule }),
        dnAttributes: node.dnAttributes,
        value: node.value.toString('utf8'),
      });
  }
}
