// Pure rules of the access model: what each role allows, which grants apply to a repository or
// namespace (most specific first), and how a credential's own scopes (Principal.restrictedTo)
// narrow what the roles allow. No I/O here, so every rule is testable on its own.
import type { Scope } from '../../metadata/access/store.ts';
import type { Action, Role, ScopeGrant } from '../types.ts';

export const ROLES: readonly Role[] = ['read', 'write', 'delete', 'admin'];
const RANK: Record<Role, number> = { read: 1, write: 2, delete: 3, admin: 4 };

/** Actions each role allows: each role includes the ones before it; admin adds '*' (manage). */
const ACTIONS: Record<Role, Action[]> = {
  read: ['pull'],
  write: ['pull', 'push'],
  delete: ['pull', 'push', 'delete'],
  admin: ['pull', 'push', 'delete', '*'],
};

export const ALL_ACTIONS: readonly Action[] = ACTIONS.admin;

export function maxRole(a: Role | undefined, b: Role | undefined): Role | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

export function atLeast(role: Role | undefined, wanted: Role): boolean {
  return role !== undefined && RANK[role] >= RANK[wanted];
}

export function roleActions(role: Role | undefined): Action[] {
  return role ? ACTIONS[role] : [];
}

/** `team/app` is within `team` (and is `team/app` itself); `teamx/app` is not within `team`. */
export function isWithin(name: string, namespace: string): boolean {
  return name === namespace || name.startsWith(`${namespace}/`);
}

/** The namespaces a name sits in, longest first: `a/b/c` -> `a/b`, `a`. */
export function enclosingNamespaces(name: string): string[] {
  const out: string[] = [];
  for (let i = name.lastIndexOf('/'); i > 0; i = name.lastIndexOf('/', i - 1)) out.push(name.slice(0, i));
  return out;
}

/**
 * The grant scopes that apply to a target, most specific first. For a repository: the exact
 * repository, then its namespaces from the longest. For a namespace (managing it): the namespace
 * itself, then the namespaces around it.
 */
export function applicableScopes(target: Scope): Scope[] {
  const first: Scope = target.kind === 'repository' ? { kind: 'repository', name: target.name } : { kind: 'namespace', name: target.name };
  return [first, ...enclosingNamespaces(target.name).map((name): Scope => ({ kind: 'namespace', name }))];
}

export interface GrantLike {
  subjectKind: string;
  subjectId: number;
  scope: Scope;
  role: Role;
}

/**
 * The effective role from grants: for each subject (the user, each of its teams, or the robot)
 * the grant on its most specific applicable scope counts, so a narrower grant can lower that
 * subject's role on one repository ("devs: write on team/, read on team/releases"). Admin is the
 * exception: an admin of a namespace stays admin of everything inside it, since they could remove
 * any narrower grant anyway (and would otherwise lock themselves out of a sub-namespace by giving
 * their own team a smaller role there). The result is the highest role over the subjects, so one
 * team's narrow grant never takes away what the user holds through another team or on their own.
 */
export function resolveRole(grants: GrantLike[], scopes: Scope[]): Role | undefined {
  const specificity = new Map(scopes.map((s, i) => [`${s.kind}:${s.name}`, i]));
  const best = new Map<string, { rank: number; role: Role }>();
  let role: Role | undefined;
  for (const g of grants) {
    const rank = specificity.get(`${g.scope.kind}:${g.scope.name}`);
    if (rank === undefined) continue;
    if (g.role === 'admin') return 'admin';
    const key = `${g.subjectKind}:${g.subjectId}`;
    const current = best.get(key);
    if (!current || rank < current.rank) best.set(key, { rank, role: g.role });
  }
  for (const { role: r } of best.values()) role = maxRole(role, r);
  return role;
}

/** Whether a credential scope name (`*`, `team/*`, or an exact name) covers a repository. */
export function scopeNameCovers(pattern: string, repository: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('/*')) return repository.startsWith(pattern.slice(0, -1));
  return pattern === repository;
}

/**
 * The actions a credential's own scopes allow on a repository; undefined = no restriction.
 * '*' in a scope's actions stands for every action.
 */
export function restrictionFor(restrictedTo: ScopeGrant[] | undefined, repository: string): Set<Action> | undefined {
  if (restrictedTo === undefined) return undefined;
  const allowed = new Set<Action>();
  for (const grant of restrictedTo) {
    if (grant.type !== 'repository' || !scopeNameCovers(grant.name, repository)) continue;
    for (const a of grant.actions) {
      if (a === '*') for (const x of ALL_ACTIONS) allowed.add(x);
      else allowed.add(a);
    }
  }
  return allowed;
}

/**
 * Whether a credential's scopes leave it every power over every repository (none of its own, or
 * `repository:*:*`): without berth's access control, that is what makes a site administrator.
 */
export function restrictionCoversEverything(restrictedTo: ScopeGrant[] | undefined): boolean {
  return restrictedTo === undefined || restrictedTo.some((g) => g.type === 'repository' && g.name === '*' && g.actions.includes('*'));
}

/**
 * Whether a credential's scopes allow managing ('*') a whole namespace: a scope covering every
 * repository below it (`*`, or `ns/*` for the namespace or one around it) with '*'.
 */
export function restrictionAllowsManaging(restrictedTo: ScopeGrant[] | undefined, target: Scope): boolean {
  if (restrictedTo === undefined) return true;
  if (target.kind === 'repository') return restrictionFor(restrictedTo, target.name)?.has('*') ?? true;
  return restrictedTo.some(
    (g) => g.type === 'repository' && g.actions.includes('*') && (g.name === '*' || (g.name.endsWith('/*') && isWithin(target.name, g.name.slice(0, -2)))),
  );
}
