// After a successful LDAP login: record the user (created with source 'ldap' on first login,
// display name and email refreshed) and mirror the user's groups into team memberships.
//
// A team follows the directory when its ldapGroup (set through the admin API: a group DN or
// common name) or berth.auth.ldap.teammapping names a group. For those teams the user's
// membership is made to match the directory: added (owned by the sync, ldapSync) when the user is
// in the group, removed when not, but only a membership the sync owns: one an administrator added
// by hand stays. Teams that follow no group are never touched.
//
// A name that belongs to a local or htpasswd user is refused: the directory must not be able to
// log in as (and inherit the grants and admin flag of) an account berth manages itself.
import type { AccessStore, UserRecord } from '../../metadata/access/store.ts';
import { GroupMatcher, groupRef } from './groups.ts';
import type { LdapLogin } from './verifier.ts';

export class LdapNameConflictError extends Error {}

export interface LdapSyncResult {
  user: UserRecord;
  /** Teams the user was added to / removed from by this sync. */
  added: string[];
  removed: string[];
}

const PAGE = 500;

export async function syncLdapLogin(store: AccessStore, login: LdapLogin, options: { teamMapping?: Record<string, string> } = {}): Promise<LdapSyncResult> {
  const name = login.principal.name;
  const existing = await store.users.get(name);
  if (existing && existing.source !== 'ldap') {
    throw new LdapNameConflictError(`the user name ${JSON.stringify(name)} belongs to a ${existing.source} user, not to the directory`);
  }
  const user = await store.users.recordLogin(name, 'ldap', {
    ...(login.displayName !== undefined && { displayName: login.displayName }),
    ...(login.email !== undefined && { email: login.email }),
  });

  const groups = login.groups.map(groupRef);
  const mapped = new Set(Object.values(options.teamMapping ?? {}));
  // Teams that follow the directory, and those of them the user belongs in.
  const linked = new Set<string>(mapped);
  const wanted = new Set<string>(login.principal.teams.filter((t) => mapped.has(t)));
  for (let after: string | undefined; ; ) {
    const page = await store.teams.list({ limit: PAGE, ...(after !== undefined && { after }) });
    for (const team of page) {
      if (!team.ldapGroup) continue;
      linked.add(team.name);
      if (new GroupMatcher([team.ldapGroup]).any(groups)) wanted.add(team.name);
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.name;
  }

  const current = new Set(await store.teams.teamsOf(name));
  const added: string[] = [];
  const removed: string[] = [];
  for (const team of [...wanted].sort()) {
    // 'no-team': a teammapping value naming a team nobody created yet; nothing to add to.
    if (!current.has(team) && (await store.teams.addMember(team, name, { ldapSync: true })) === 'added') added.push(team);
  }
  for (const team of [...current].sort()) {
    if (!linked.has(team) || wanted.has(team)) continue;
    const member = (await store.teams.members(team))?.find((m) => m.user === name);
    if (member?.ldapSync && (await store.teams.removeMember(team, name, { force: true })) === 'removed') removed.push(team);
  }
  return { user, added, removed };
}
