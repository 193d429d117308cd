// The AccessController backed by the access model (users, teams, grants, namespace visibility).
//
// A decision for (principal, repository):
//  1. anonymous: pull where the repository's namespace is public, nothing else;
//  2. a user or robot that is disabled (or a robot expired or deleted): nothing at all;
//  3. a site administrator (Principal.admin from the authenticator, or the user's admin flag):
//     every action;
//  4. otherwise the role from grants (roles.ts resolveRole: per subject the most specific grant
//     among exact repository and enclosing namespaces, an admin grant anywhere above always
//     counting in full, then the highest over user and teams), raised to read on a public namespace;
//  5. finally the credential's own limits (Principal.restrictedTo: PAT scopes, bearer token
//     scopes) intersect, for site administrators too: a read-only token stays read-only.
// Teams are the union of the principal's (e.g. LDAP groups at login) and the memberships stored
// in the database. Lookups are cached for a few seconds (src/util/ttl-cache.ts).
import type { AccessStore, NamespaceRecord, Scope, SubjectFacts, SubjectKind } from '../../metadata/access/store.ts';
import type { AccessController, Action, Principal, Role } from '../types.ts';
import { ALL_ACTIONS, applicableScopes, atLeast, enclosingNamespaces, isWithin, maxRole, resolveRole, restrictionAllowsManaging, restrictionFor, roleActions } from './roles.ts';
import { TtlCache } from '../../util/ttl-cache.ts';

export interface AccessControllerOptions {
  /** How long a lookup is reused; default 5 s. 0 disables caching (tests). */
  cacheTtlMs?: number;
  now?: () => number;
  /**
   * Repositories with their own visibility (set in the console), which overrides their
   * namespaces'. Absent: only namespaces have a visibility.
   */
  repositoryVisibilities?: () => Promise<{ repository: string; visibility: 'public' | 'private' }[]>;
}

export const ROBOT_PREFIX = 'robot$';

export class StoreAccessController implements AccessController {
  private readonly facts: TtlCache<SubjectFacts>;
  private readonly roles: TtlCache<Role | undefined>;
  private readonly visibility: TtlCache<NamespaceRecord[]>;
  private readonly repoVisibility: TtlCache<Map<string, boolean>>;
  private readonly repositoryVisibilities?: AccessControllerOptions['repositoryVisibilities'];

  constructor(
    private readonly store: AccessStore,
    options: AccessControllerOptions = {},
  ) {
    const ttl = options.cacheTtlMs ?? 5000;
    this.facts = new TtlCache(ttl, 10_000, options.now);
    this.roles = new TtlCache(ttl, 50_000, options.now);
    this.visibility = new TtlCache(ttl, 1, options.now);
    this.repoVisibility = new TtlCache(ttl, 1, options.now);
    this.repositoryVisibilities = options.repositoryVisibilities;
  }

  async allowedActions(principal: Principal, repository: string, wanted: Action[]): Promise<Action[]> {
    const possible = await this.possibleActions(principal, { kind: 'repository', name: repository });
    const limit = restrictionFor(principal.restrictedTo, repository);
    return [...new Set(wanted)].filter((a) => possible.includes(a) && (limit === undefined || limit.has(a)));
  }

  async canList(principal: Principal, repository: string): Promise<boolean> {
    return (await this.allowedActions(principal, repository, ['pull'])).length > 0;
  }

  /** The role from grants and visibility on a repository or namespace, before restrictedTo. */
  async roleOn(principal: Principal, target: Scope): Promise<Role | 'site-admin' | undefined> {
    if (principal.kind === 'anonymous') return (await this.isPublic(target)) ? 'read' : undefined;
    const facts = await this.factsOf(principal);
    if (facts.disabled) return undefined;
    if (principal.kind === 'user' && (principal.admin || facts.admin)) return 'site-admin';
    const key = `${cacheKey(principal, facts)}|${target.kind}:${target.name}`;
    const granted = await this.roles.get(key, () => this.grantedRole(principal, facts, target));
    return maxRole(granted, (await this.isPublic(target)) ? 'read' : undefined);
  }

  /** A site administrator in the admin API: a user, admin, not disabled, not limited by a scoped credential. */
  async isSiteAdmin(principal: Principal): Promise<boolean> {
    if (principal.kind !== 'user' || principal.restrictedTo !== undefined) return false;
    const facts = await this.factsOf(principal);
    return !facts.disabled && (principal.admin || facts.admin);
  }

  /** May manage grants, visibility and robots of a namespace or repository (admin role there, or site admin). */
  async canAdminister(principal: Principal, target: Scope): Promise<boolean> {
    if (principal.kind !== 'user') return false;
    const role = await this.roleOn(principal, target);
    if (role !== 'site-admin' && !atLeast(role, 'admin')) return false;
    return restrictionAllowsManaging(principal.restrictedTo, target);
  }

  /** Forgets every cached lookup (after a change through the admin API). */
  invalidate(): void {
    this.facts.clear();
    this.roles.clear();
    this.visibility.clear();
    this.repoVisibility.clear();
  }

  private async possibleActions(principal: Principal, target: Scope): Promise<readonly Action[]> {
    const role = await this.roleOn(principal, target);
    return role === 'site-admin' ? ALL_ACTIONS : roleActions(role);
  }

  private factsOf(principal: Principal): Promise<SubjectFacts> {
    const teams = [...new Set(principal.teams)].sort();
    if (principal.kind === 'robot') {
      const name = principal.name.startsWith(ROBOT_PREFIX) ? principal.name.slice(ROBOT_PREFIX.length) : principal.name;
      return this.facts.get(`robot:${name}`, () => this.store.permissions.facts('robot', name, []));
    }
    return this.facts.get(`user:${principal.name}\u0000${teams.join('\u0000')}`, () => this.store.permissions.facts('user', principal.name, teams));
  }

  private async grantedRole(principal: Principal, facts: SubjectFacts, target: Scope): Promise<Role | undefined> {
    const subjects: { kind: SubjectKind; id: number }[] = facts.teamIds.map((id) => ({ kind: 'team', id }));
    if (facts.id !== undefined) subjects.push({ kind: principal.kind === 'robot' ? 'robot' : 'user', id: facts.id });
    // A robot acts only inside the namespace that owns it, whatever grants exist (they are
    // checked at creation too; this keeps a hand-edited row from reaching further).
    if (principal.kind === 'robot' && (facts.namespace === undefined || !isWithin(target.name, facts.namespace))) return undefined;
    const scopes = applicableScopes(target);
    return resolveRole(await this.store.permissions.grantsOn(subjects, scopes), scopes);
  }

  /**
   * The visibility of the longest namespace with a setting decides (`library` public,
   * `library/internal` private). A repository is never its own namespace: the setting of
   * namespace `library` covers `library/alpine`, not a repository named `library`. A repository's
   * own setting (the console's public/private) comes before any namespace's.
   */
  private async isPublic(target: Scope): Promise<boolean> {
    if (target.kind === 'repository' && this.repositoryVisibilities) {
      const load = this.repositoryVisibilities;
      const own = await this.repoVisibility.get('all', async () => new Map((await load()).map((r) => [r.repository, r.visibility === 'public'])));
      const v = own.get(target.name);
      if (v !== undefined) return v;
    }
    const all = await this.visibility.get('all', () => this.store.namespaces.list());
    if (all.length === 0) return false;
    const byName = new Map(all.map((n) => [n.name, n.public]));
    const namespaces = enclosingNamespaces(target.name);
    if (target.kind === 'namespace') namespaces.unshift(target.name);
    for (const ns of namespaces) {
      const v = byName.get(ns);
      if (v !== undefined) return v;
    }
    return false;
  }
}

function cacheKey(principal: Principal, facts: SubjectFacts): string {
  return `${principal.kind}:${facts.id ?? `?${principal.name}`}:${facts.teamIds.join(',')}`;
}
