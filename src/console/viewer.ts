// Who is looking at a console page and what they may do, by the same rules as the registry API:
// - no authentication configured: the console is open, as /v2 is;
// - authentication without access control (registry:2's model): a signed-in user may do
//   everything, an anonymous visitor nothing (the console asks them to sign in); a credential that
//   carries its own scopes (a bearer token's access claim, a scoped personal access token) is held
//   to them, as /v2 holds it, and administers the site only with `repository:*:*`;
// - access control (berth.auth.accesscontrol): the roles and visibility that decide /v2 requests
//   (src/auth/access/controller.ts), asked through the same controller.
import type { AccessServices } from '../auth/access/index.ts';
import { restrictionCoversEverything, restrictionFor } from '../auth/access/roles.ts';
import { anonymous as anonymousPrincipal } from '../auth/default-access.ts';
import type { Action, Principal } from '../auth/types.ts';
import type { ConsoleSession } from '../metadata/console/console-store.ts';
import type { Subject } from '../metadata/access/store.ts';

export type ViewerMode = 'open' | 'signed-in' | 'anonymous';

export class Viewer {
  private siteAdmin?: Promise<boolean>;
  private scopes?: Promise<string[] | undefined>;

  constructor(
    readonly mode: ViewerMode,
    readonly principal: Principal,
    private readonly access: AccessServices | undefined,
    /** The console session when the viewer signed in through the form (not a Basic/Bearer script). */
    readonly session?: ConsoleSession,
  ) {}

  static open(): Viewer {
    return new Viewer('open', anonymousPrincipal(), undefined);
  }

  static of(principal: Principal | undefined, access: AccessServices | undefined, session?: ConsoleSession): Viewer {
    if (!principal || principal.kind === 'anonymous') return new Viewer('anonymous', principal ?? anonymousPrincipal(), access);
    return new Viewer('signed-in', principal, access, session);
  }

  get name(): string | undefined {
    return this.mode === 'signed-in' ? this.principal.name : undefined;
  }

  async can(repository: string, action: Exclude<Action, '*'>): Promise<boolean> {
    if (this.mode === 'open') return true;
    if (!this.access) return this.mode === 'signed-in' && this.scopesAllow(repository, action);
    return (await this.access.controller.allowedActions(this.principal, repository, [action])).includes(action);
  }

  /** May change a repository's visibility and description, or delete it (admin role there). */
  async canAdminister(repository: string): Promise<boolean> {
    if (this.mode === 'open') return true;
    if (!this.access) return this.mode === 'signed-in' && this.scopesAllow(repository, '*');
    if (this.mode !== 'signed-in') return false;
    return (await this.isSiteAdmin()) || this.access.controller.canAdminister(this.principal, { kind: 'repository', name: repository });
  }

  isSiteAdmin(): Promise<boolean> {
    if (this.mode === 'open') return Promise.resolve(true);
    if (this.mode !== 'signed-in') return Promise.resolve(false);
    if (!this.access) return Promise.resolve(restrictionCoversEverything(this.principal.restrictedTo));
    return (this.siteAdmin ??= this.access.controller.isSiteAdmin(this.principal));
  }

  /** Without access control: what the credential's own scopes allow (everything when it has none). */
  private scopesAllow(repository: string, action: Action): boolean {
    return restrictionFor(this.principal.restrictedTo, repository)?.has(action) ?? true;
  }

  /**
   * The namespaces (ending in '/') and repositories whose contents this viewer may list, for the
   * repository query's `within`; undefined = everything. Rows are still checked one by one afterwards (a
   * private namespace inside a public one).
   */
  visibleScopes(publicRepositories: () => Promise<string[]>): Promise<string[] | undefined> {
    return (this.scopes ??= this.computeScopes(publicRepositories));
  }

  private async computeScopes(publicRepositories: () => Promise<string[]>): Promise<string[] | undefined> {
    if (this.mode === 'open' || (await this.isSiteAdmin())) return undefined;
    if (!this.access) return this.mode === 'signed-in' ? scopesOfGrants(this.principal) : [];
    const store = this.access.store;
    const out = new Set<string>();
    for (const ns of await store.namespaces.list()) if (ns.public) out.add(`${ns.name}/`);
    for (const r of await publicRepositories()) out.add(r);
    if (this.mode === 'signed-in') {
      const subjects: Subject[] =
        this.principal.kind === 'robot'
          ? [{ kind: 'robot' as const, name: this.principal.name.replace(/^robot\$/, '') }]
          : [{ kind: 'user' as const, name: this.principal.name }, ...this.principal.teams.map((t) => ({ kind: 'team' as const, name: t }))];
      // Memberships recorded in the database count as well as the teams the login named.
      const facts = await store.permissions.facts(this.principal.kind === 'robot' ? 'robot' : 'user', subjects[0].name, this.principal.teams);
      const teams = facts.teamIds.length ? await store.teams.list({ limit: 10_000 }) : [];
      for (const t of teams) if (facts.teamIds.includes(t.id)) subjects.push({ kind: 'team', name: t.name });
      for (const s of subjects) for (const p of await store.permissions.list({ subject: s })) out.add(p.scope.kind === 'namespace' ? `${p.scope.name}/` : p.scope.name);
    }
    return [...out];
  }
}

/**
 * The repositories and namespaces (ending in '/') a credential's own scopes let it pull from, in
 * the form visibleScopes returns; undefined = everything (`*`, or no scopes of its own).
 */
function scopesOfGrants(principal: Principal): string[] | undefined {
  if (principal.restrictedTo === undefined) return undefined;
  const out = new Set<string>();
  for (const g of principal.restrictedTo) {
    if (g.type !== 'repository' || !(g.actions.includes('pull') || g.actions.includes('*'))) continue;
    if (g.name === '*') return undefined;
    out.add(g.name.endsWith('/*') ? g.name.slice(0, -1) : g.name);
  }
  return [...out];
}
