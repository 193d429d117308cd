// PasswordVerifier for LDAP and Active Directory users. A check, on a fresh connection:
//   1. bind as the service account (binddn/bindpassword; anonymous without them),
//   2. search the user under basedn with userfilter ({username} escaped, RFC 4515): exactly one
//      entry or nobody (two entries = an ambiguous filter, refused and logged),
//   3. bind as the entry's DN with the password: this is the password check,
//   4. only then the groups: the user entry's groupattribute (memberOf) and/or, rebound as the
//      service account (the user may not read groups), a search with groupfilter ({dn}, {username}).
// Groups become teams through teammapping and the admin flag through admingroups. lookup()
// (PrincipalLookup) does steps 1, 2 and 4 without a password, for refresh-token renewal.
//
// Per-login connections, no pool: a login changes the connection's identity (step 3), so a pooled
// connection would need a rebind anyway; ldapts has no pool; and a fresh connection never
// trips over a socket the directory (or a firewall) silently dropped while it sat idle. The cost,
// a TCP (and TLS) handshake per uncached login, is paid about once per user per cachettl.
//
// Successes are remembered for cachettl (default 60 s) under an HMAC of (user name, password)
// with a per-process key, so the many requests of a `docker push` (each with Basic credentials)
// cost one directory round trip, and concurrent requests share it. Failures are never
// remembered: a password fixed in the directory works at once. The TTL is how long a disabled
// account, a changed password or a removed group membership can still be used here.
//
// Outcomes: a Principal; undefined for an unknown user, a wrong or empty password (an empty
// password would be an "unauthenticated bind", which many servers accept without any check);
// AuthBackendError when the directory cannot answer (down, timeout, TLS failure, service
// account refused). Passwords never reach a log line or an error message.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import type { LdapConfig } from '../../config/types.ts';
import { userName } from '../access/admin/schemas.ts';
import { ROBOT_PREFIX } from '../access/controller.ts';
import { TtlCache } from '../../util/ttl-cache.ts';
import type { PrincipalLookup } from '../capabilities.ts';
import { AuthBackendError, type PasswordVerifier, type Principal } from '../types.ts';
import { LdapConnection, LdapResultError, type LdapEntry } from './connection.ts';
import type { Filter } from 'ldapts';
import { FilterSyntaxError, renderFilter } from './filter.ts';
import { GroupMatcher, groupRef, normalizeDn, teamsFor } from './groups.ts';

export interface LdapLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A successful LDAP login with what the directory said about the user. */
export interface LdapLogin {
  principal: Principal;
  dn: string;
  displayName?: string;
  email?: string;
  /** DNs of the user's groups (groupattribute and group search together). */
  groups: string[];
}

export interface LdapVerifierOptions {
  log: LdapLog;
  /**
   * Awaited after every successful check that asked the directory (not for cached ones), e.g.
   * syncLdapLogin to record the user and mirror groups into teams. If it throws, the login
   * fails with AuthBackendError and nothing is cached.
   */
  onLogin?: (login: LdapLogin) => Promise<void> | void;
  now?: () => number;
}

// Bind results that mean "these credentials are refused" rather than "the directory is broken":
// invalidCredentials (AD: also disabled/expired/locked accounts), inappropriateAuthentication,
// insufficientAccessRights, unwillingToPerform, constraintViolation (OpenLDAP ppolicy lockout).
const REFUSED = new Set([49, 48, 50, 53, 19]);
const NO_SUCH_OBJECT = 32;
const MAX_USERNAME_BYTES = 256;
const MAX_PASSWORD_BYTES = 1024;
const MAX_GROUPS = 1000;
/** Password-change times (OpenLDAP ppolicy, AD); servers ignore the ones they do not know. */
const STAMP_ATTRIBUTES = ['pwdChangedTime', 'pwdLastSet'];
/** Account state: AD's disabled bit, OpenLDAP ppolicy's lockout. */
const STATE_ATTRIBUTES = ['userAccountControl', 'pwdAccountLockedTime'];
const AD_ACCOUNTDISABLE = 0x2;

export class LdapPasswordVerifier implements PasswordVerifier, PrincipalLookup {
  readonly name = 'ldap';
  private readonly cache: TtlCache<LdapLogin | undefined>;
  /** Per-process key: cache keys are worthless outside this process. */
  private readonly key = randomBytes(32);
  private readonly admins: GroupMatcher;
  private downSince: number | undefined;
  private lastDownLog = 0;
  private readonly now: () => number;

  constructor(
    private readonly config: LdapConfig,
    private readonly tls: ConnectionOptions,
    private readonly options: LdapVerifierOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.cache = new TtlCache(config.cacheTtlMs, 10_000, this.now);
    this.admins = new GroupMatcher(config.adminGroups);
  }

  async verify(username: string, password: string): Promise<Principal | undefined> {
    const login = await this.verifyLogin(username, password);
    return login && structuredClone(login.principal);
  }

  /** As verify(), with the directory's details (DN, profile, groups). */
  async verifyLogin(username: string, password: string): Promise<LdapLogin | undefined> {
    if (!acceptable(username, MAX_USERNAME_BYTES) || !acceptable(password, MAX_PASSWORD_BYTES)) return undefined;
    // Length-prefixed: no (user, password) pair can collide with another by moving a separator.
    const key = createHmac('sha256', this.key).update(`${Buffer.byteLength(username)}:${username}`).update(password).digest('base64url');
    const login = await this.cache.get(key, () => this.check(username, password));
    if (!login) this.cache.delete(key);
    return login && structuredClone(login);
  }

  /** Forgets remembered logins (e.g. after an administrator changed something in the directory). */
  invalidate(): void {
    this.cache.clear();
  }

  private async check(username: string, password: string): Promise<LdapLogin | undefined> {
    const login = await this.ask(username, password);
    if (login && this.options.onLogin) {
      try {
        await this.options.onLogin(login);
      } catch (e) {
        this.options.log.error({ user: login.principal.name, err: e instanceof Error ? e.message : String(e) }, 'ldap: recording the login failed; login refused');
        throw new AuthBackendError('LDAP login could not be recorded');
      }
    }
    return login;
  }

  /** The directory's answer, on a connection of its own. */
  private ask(username: string, password: string): Promise<LdapLogin | undefined> {
    return this.withDirectory(async (conn) => {
      const entry = await this.findUser(conn, username);
      if (!entry) return undefined;
      try {
        await conn.bind(entry.dn, password, 'user bind');
      } catch (e) {
        if (e instanceof LdapResultError && REFUSED.has(e.code)) return undefined;
        throw e;
      }
      return this.loginOf(conn, entry, username, true);
    });
  }

  /**
   * The user as the directory sees it now, without a password (PrincipalLookup: berth's token
   * service renews a refresh token only while this answers, with fresh teams and admin flag).
   * undefined when the user is gone, disabled (AD) or locked (ppolicy). The stamp changes with the
   * DN and with the password-change time when the directory keeps one (OpenLDAP ppolicy's
   * pwdChangedTime, AD's pwdLastSet); without it a password change does not end refresh tokens.
   */
  async lookup(username: string): Promise<{ principal: Principal; stamp: string } | undefined> {
    if (!acceptable(username, MAX_USERNAME_BYTES)) return undefined;
    return this.withDirectory(async (conn) => {
      const entry = await this.findUser(conn, username);
      if (!entry || disabled(entry)) return undefined;
      const login = await this.loginOf(conn, entry, username, false);
      // Only the exact name a login produced: lookups by another spelling are not the same user.
      if (!login || login.principal.name !== username) return undefined;
      const stamp = createHash('sha256')
        .update([normalizeDn(entry.dn), ...STAMP_ATTRIBUTES.map((a) => entry.attributes.get(a.toLowerCase())?.[0] ?? '')].join('\0'))
        .digest('base64url');
      return { principal: login.principal, stamp };
    });
  }

  /** Connect, bind the service account, run `fn`, close; errors become AuthBackendError. */
  private async withDirectory<T>(fn: (conn: LdapConnection) => Promise<T>): Promise<T> {
    let conn: LdapConnection | undefined;
    try {
      conn = await this.connect();
      await this.bindService(conn);
      return this.backendUp(await fn(conn));
    } catch (e) {
      // Anything else is a bug here, not an unavailable directory: let it surface as such.
      if (e instanceof AuthBackendError || e instanceof LdapResultError) throw this.backendDown(e);
      throw e;
    } finally {
      conn?.close();
    }
  }

  /** The configured URLs in order; the first that answers is used. */
  private async connect(): Promise<LdapConnection> {
    let last: unknown;
    for (const url of this.config.urls) {
      try {
        return await LdapConnection.open({ url, startTls: this.config.startTls, tls: this.tls, connectTimeoutMs: this.config.connectTimeoutMs, timeoutMs: this.config.timeoutMs });
      } catch (e) {
        last = e;
      }
    }
    throw last;
  }

  private async bindService(conn: LdapConnection): Promise<void> {
    if (this.config.bindDn === undefined) return;
    try {
      await conn.bind(this.config.bindDn, this.config.bindPassword ?? '', 'service account bind');
    } catch (e) {
      // The service account itself is refused: a configuration problem, not the user's fault.
      if (e instanceof LdapResultError) throw new AuthBackendError(`${e.message}: check berth.auth.ldap.binddn and bindpassword`);
      throw e;
    }
  }

  private async findUser(conn: LdapConnection, username: string): Promise<LdapEntry | undefined> {
    const c = this.config;
    let filter: Filter;
    try {
      filter = renderFilter(c.userFilter, { username });
    } catch (e) {
      // Escaped input cannot break a valid template; this is a template using {username} oddly.
      if (e instanceof FilterSyntaxError) return undefined;
      throw e;
    }
    const attributes = [c.usernameAttribute, c.displayNameAttribute, c.emailAttribute, c.groupAttribute, ...STAMP_ATTRIBUTES, ...STATE_ATTRIBUTES].filter(Boolean);
    const found = await this.search(conn, c.baseDn, filter, attributes, 2, 'user search');
    if (found.entries.length > 1 || found.truncated) {
      this.options.log.warn({ entries: found.entries.map((e) => e.dn) }, 'ldap: the user filter matches several entries; login refused (make berth.auth.ldap.userfilter match one entry)');
      return undefined;
    }
    return found.entries[0];
  }

  /** `userBound`: the connection is bound as the user now, so the service account reads the groups. */
  private async loginOf(conn: LdapConnection, entry: LdapEntry, typed: string, userBound: boolean): Promise<LdapLogin | undefined> {
    const c = this.config;
    const first = (attr: string) => (attr ? entry.attributes.get(attr.toLowerCase())?.[0] : undefined);
    // The directory's spelling: `Alice` and `alice` find the same entry and must be one berth user.
    const name = first(c.usernameAttribute) ?? typed;
    if (!userName.safeParse(name).success || name.toLowerCase().startsWith(ROBOT_PREFIX)) {
      this.options.log.warn({ dn: entry.dn }, 'ldap: the directory user name is not usable as a berth user name (letters, digits, . _ @ -); login refused');
      return undefined;
    }
    const groupDns = new Set(c.groupAttribute ? (entry.attributes.get(c.groupAttribute.toLowerCase()) ?? []) : []);
    if (c.groupFilter !== undefined) {
      if (userBound && c.bindDn !== undefined) await conn.bind(c.bindDn, c.bindPassword ?? '', 'service account bind');
      else if (userBound) await conn.bind('', '', 'anonymous bind');
      const filter = renderFilter(c.groupFilter, { dn: entry.dn, username: name });
      const found = await this.search(conn, c.groupBaseDn, filter, ['cn'], MAX_GROUPS, 'group search');
      if (found.truncated) this.options.log.warn({ user: name, limit: MAX_GROUPS }, 'ldap: group search truncated');
      for (const g of found.entries) groupDns.add(g.dn);
    }
    const groups = [...groupDns].map(groupRef);
    const displayName = first(c.displayNameAttribute);
    const email = first(c.emailAttribute);
    return {
      principal: { name, kind: 'user', via: 'ldap', teams: teamsFor(groups, c.teamMapping), admin: this.admins.any(groups) },
      dn: entry.dn,
      ...(displayName !== undefined && { displayName }),
      ...(email !== undefined && { email }),
      groups: groups.map((g) => g.dn),
    };
  }

  private async search(conn: LdapConnection, base: string, filter: Filter, attributes: string[], sizeLimit: number, what: string) {
    try {
      return await conn.search(base, { scope: 'sub', filter, attributes, sizeLimit }, what);
    } catch (e) {
      // A base DN that does not exist is a configuration mistake; "no such user" would hide it.
      if (e instanceof LdapResultError && e.code === NO_SUCH_OBJECT) throw new AuthBackendError(`${e.message}: check berth.auth.ldap.basedn / groupbasedn`);
      throw e;
    }
  }

  /** Every failure here is "the directory could not answer"; logged at most every 30 s while it lasts. */
  private backendDown(e: AuthBackendError | LdapResultError): AuthBackendError {
    const err = e instanceof AuthBackendError ? e : new AuthBackendError(e.message);
    const t = this.now();
    this.downSince ??= t;
    if (t - this.lastDownLog >= 30_000) {
      this.lastDownLog = t;
      this.options.log.error({ err: err.message, urls: this.config.urls }, 'ldap: directory unavailable; LDAP users cannot log in');
    }
    return err;
  }

  private backendUp<T>(result: T): T {
    if (this.downSince !== undefined) {
      this.options.log.info({ downMs: this.now() - this.downSince }, 'ldap: directory reachable again');
      this.downSince = undefined;
      this.lastDownLog = 0;
    }
    return result;
  }
}

function disabled(entry: LdapEntry): boolean {
  const uac = Number(entry.attributes.get('useraccountcontrol')?.[0] ?? 0);
  return (uac & AD_ACCOUNTDISABLE) !== 0 || entry.attributes.has('pwdaccountlockedtime');
}

/** Non-empty and bounded: an empty password is never sent (unauthenticated bind). */
function acceptable(s: string, maxBytes: number): boolean {
  return s.length > 0 && Buffer.byteLength(s, 'utf8') <= maxBytes;
}
