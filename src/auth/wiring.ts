// Puts the optional identity sources and the access model in front of the HTTP layer:
//   berth.auth.accesscontrol  users, teams and roles from the metadata store (src/auth/access),
//                             personal access tokens and robot accounts, the audit log and the
//                             /api/v1 admin API; `admins` name the site administrators
//   berth.auth.ldap           LDAP / Active Directory logins (src/auth/ldap), groups -> teams
// Without either, authentication is exactly registry:2's (auth.htpasswd / auth.token) and any
// authenticated user may do everything.
import type { Logger } from 'pino';
import type { BerthConfig } from '../config/index.ts';
import { ConfigError } from '../config/types.ts';
import type { AccessStore } from '../metadata/access/store.ts';
import type { AuthOverrides } from '../http/auth-middleware.ts';
import type { AccessServices } from './access/index.ts';
import type { AccessController, Action, PasswordVerifier, Principal } from './types.ts';

export interface AuthExtras {
  overrides: AuthOverrides;
  /** Present when berth.auth.accesscontrol is enabled. */
  access?: AccessServices;
  /** Marks the configured site administrators (berth.auth.accesscontrol.admins) as such. */
  liftAdmin(p: Principal): Principal;
  close(): Promise<void>;
}

function liftAdmin(p: Principal, admins: Set<string>): Principal {
  // Only a full login: a token scoped to some repositories never becomes a site administrator.
  return p.kind === 'user' && !p.restrictedTo && admins.has(p.name) ? { ...p, admin: true } : p;
}

/** Users named in berth.auth.accesscontrol.admins (e.g. htpasswd's `admin`) are site administrators. */
class ConfiguredAdmins implements AccessController {
  constructor(
    private readonly inner: AccessController,
    private readonly admins: Set<string>,
  ) {}

  private lift(p: Principal): Principal {
    return liftAdmin(p, this.admins);
  }

  allowedActions(p: Principal, repository: string, wanted: Action[]): Promise<Action[]> {
    return this.inner.allowedActions(this.lift(p), repository, wanted);
  }

  canList(p: Principal, repository: string): Promise<boolean> {
    return this.inner.canList(this.lift(p), repository);
  }
}

export async function buildAuthExtras(
  config: BerthConfig,
  accessStore: AccessStore | undefined,
  log: Logger,
  repositoryVisibilities?: () => Promise<{ repository: string; visibility: 'public' | 'private' }[]>,
): Promise<AuthExtras> {
  const { accessControl, ldap } = config.berth.auth;
  const verifiers: PasswordVerifier[] = [];
  let access: AccessServices | undefined;
  let accessController: AccessController | undefined;

  if (accessControl.enabled) {
    if (!accessStore) throw new ConfigError('config: berth.auth.accesscontrol needs the SQLite or PostgreSQL metadata store', 'berth.auth.accesscontrol');
    const { createAccessServices } = await import('./access/index.ts');
    access = createAccessServices(accessStore, { log, repositoryVisibilities });
    // Tokens first: a berth_pat_/robot$ credential is never offered to LDAP or htpasswd.
    verifiers.push(access.tokenVerifier, access.localVerifier);
    accessController = new ConfiguredAdmins(access.controller, new Set(accessControl.admins));
  }

  if (ldap) {
    const { createLdapVerifier, syncLdapLogin } = await import('./ldap/index.ts');
    const store = access?.store;
    verifiers.push(
      createLdapVerifier(ldap, log, {
        // Directory groups become team memberships, so roles granted to teams apply to LDAP users.
        ...(store && { onLogin: async (login) => void (await syncLdapLogin(store, login, { teamMapping: ldap.teamMapping })) }),
      }),
    );
  }

  return {
    overrides: {
      ...(verifiers.length && { verifiers }),
      ...(accessController && { accessController, liftAdmin: (p: Principal) => liftAdmin(p, new Set(accessControl.admins)) }),
      ...(access && { onLogin: recordHtpasswdLogins(access.store, log) }),
    },
    ...(access && { access }),
    liftAdmin: (p) => liftAdmin(p, new Set(accessControl.enabled ? accessControl.admins : [])),
    close: async () => {
      await access?.close();
    },
  };
}

/**
 * htpasswd users get a row in the access model when they log in (as LDAP users do), so that an
 * administrator can add them to teams and grant them roles by name. Every Basic request is a
 * login, so a user is recorded at most once per RECORD_EVERY_MS per process.
 */
const RECORD_EVERY_MS = 10 * 60_000;
function recordHtpasswdLogins(store: AccessStore, log: Logger): (p: Principal) => void {
  const recorded = new Map<string, number>();
  return (p) => {
    if (p.kind !== 'user' || p.via !== 'htpasswd') return;
    const now = Date.now();
    const last = recorded.get(p.name);
    if (last !== undefined && now - last < RECORD_EVERY_MS) return;
    if (recorded.size >= 10_000) recorded.clear();
    recorded.set(p.name, now);
    store.users.recordLogin(p.name, 'htpasswd').catch((err: unknown) => {
      recorded.delete(p.name);
      log.warn({ err, user: p.name }, 'access control: could not record an htpasswd login');
    });
  };
}
