// From a user's LDAP groups (DNs, from memberOf or a group search) to berth's teams and the
// site-administrator flag. A configured group is named either by its DN (contains "=") or by its
// common name; DNs are compared after normalisation (attribute names and values lower-cased,
// spaces around separators and escaping differences ignored: `CN=Devs, OU=Groups` and
// `cn=devs,ou=groups` are the same group, as directories treat them), names case-insensitively.
import { parseDn } from './dn.ts';

export interface GroupRef {
  dn: string;
  /** Normalised DN (normalizeDn). */
  key: string;
  /** Value of the leading RDN when it is a cn (AD: CN=...), lower-cased; undefined otherwise. */
  cn?: string;
}

/** The RDNs of a DN as [name, value] pairs (names lower-cased, values unescaped); undefined if unparsable. */
function rdnsOf(dn: string): [string, string][][] | undefined {
  try {
    return parseDn(dn);
  } catch {
    return undefined;
  }
}

// Separators inside values are escaped again, so distinct DNs never share a key.
const keyValue = (v: string) => v.trim().toLowerCase().replace(/[\\,+=]/g, (c) => `\\${c}`);

export function normalizeDn(dn: string): string {
  const rdns = rdnsOf(dn);
  // Not a DN (RFC 4514): compare the text, which still matches an identical spelling.
  if (!rdns) return dn.trim().toLowerCase().replace(/\s*([,=+])\s*/g, '$1');
  return rdns.map((avas) => avas.map(([k, v]) => `${k}=${keyValue(v)}`).sort().join('+')).join(',');
}

export function groupRef(dn: string): GroupRef {
  const first = rdnsOf(dn)?.[0];
  const cn = first?.length === 1 && first[0]![0] === 'cn' ? first[0]![1].trim().toLowerCase() : undefined;
  return { dn, key: normalizeDn(dn), ...(cn !== undefined && { cn }) };
}

/** Matches configured group names/DNs against a user's groups. */
export class GroupMatcher {
  private readonly dns = new Set<string>();
  private readonly names = new Set<string>();

  constructor(configured: Iterable<string>) {
    for (const g of configured) {
      if (g.includes('=')) this.dns.add(normalizeDn(g));
      else this.names.add(g.trim().toLowerCase());
    }
  }

  matches(group: GroupRef): boolean {
    return this.dns.has(group.key) || (group.cn !== undefined && this.names.has(group.cn));
  }

  any(groups: GroupRef[]): boolean {
    return groups.some((g) => this.matches(g));
  }
}

/** Teams of the user: the mapping's values for every group that matches one of its keys. */
export function teamsFor(groups: GroupRef[], mapping: Record<string, string>): string[] {
  const teams = new Set<string>();
  for (const [group, team] of Object.entries(mapping)) {
    if (new GroupMatcher([group]).any(groups)) teams.add(team);
  }
  return [...teams].sort();
}
