// PasswordVerifier for credentials berth issues itself: personal access tokens
// (`docker login -u alice -p berth_pat_...`) and robot accounts (`-u 'robot$ci' -p berth_rbt_...`).
//
// owns() tells a verifier chain that such credentials belong here alone: put this verifier first
// and stop after it when owns() is true, so a token (right or wrong) is never offered to htpasswd
// or LDAP as a password, and a `robot$` name never reaches the directory.
//
// A PAT must be presented with its owner's name: tools that send a fixed user name
// ("oauth2accesstoken") are refused rather than guessed at, so the audit trail always names the
// user the token acts for. Successful checks are remembered for a few seconds, keyed by the
// token's hash (as stored), so a push of many layers costs one lookup; revocation, expiry and
// disabling therefore take effect within that time (at once in this process, see invalidate()).
import type { AccessStore } from '../../metadata/access/store.ts';
import type { PasswordVerifier, Principal } from '../types.ts';
import { ROBOT_PREFIX } from './controller.ts';
import { hashSecret, PAT_PREFIX, ROBOT_SECRET_PREFIX, sameHash } from './secrets.ts';
import { TtlCache } from '../../util/ttl-cache.ts';

export interface LoggerLike {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface TokenVerifierOptions {
  /** How long a successful check is reused; default 5 s. */
  cacheTtlMs?: number;
  /** last_used_at is written at most this often per token; default 60 s. */
  touchIntervalMs?: number;
  log?: LoggerLike;
  now?: () => number;
}

/** Optional ability of a PasswordVerifier: credentials only it may judge (see the top of this file). */
export interface ExclusiveCredentials {
  owns(username: string, password: string): boolean;
}

export function ownsCredentials(v: PasswordVerifier, username: string, password: string): boolean {
  const owns = (v as Partial<ExclusiveCredentials>).owns;
  return typeof owns === 'function' && owns.call(v, username, password);
}

export class AccessTokenVerifier implements PasswordVerifier, ExclusiveCredentials {
  readonly name = 'access-token';
  private readonly verified: TtlCache<Principal | undefined>;
  private readonly touched = new Map<string, number>();
  private readonly touchIntervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: AccessStore,
    private readonly options: TokenVerifierOptions = {},
  ) {
    this.verified = new TtlCache(options.cacheTtlMs ?? 5000, 10_000, options.now);
    this.touchIntervalMs = options.touchIntervalMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  owns(username: string, password: string): boolean {
    return username.startsWith(ROBOT_PREFIX) || password.startsWith(PAT_PREFIX) || password.startsWith(ROBOT_SECRET_PREFIX);
  }

  async verify(username: string, password: string): Promise<Principal | undefined> {
    if (!this.owns(username, password)) return undefined;
    const hash = hashSecret(password);
    // Only successes are cached: a wrong guess must not pin a "no" for a token created a moment later.
    const key = `${username}\u0000${hash}`;
    const principal = await this.verified.get(key, () => this.check(username, password, hash));
    if (!principal) this.verified.delete(key);
    return principal && structuredClone(principal);
  }

  /** Forgets remembered successes (after a token or robot changes through this process). */
  invalidate(): void {
    this.verified.clear();
  }

  private async check(username: string, password: string, hash: string): Promise<Principal | undefined> {
    if (username.startsWith(ROBOT_PREFIX)) {
      return password.startsWith(ROBOT_SECRET_PREFIX) ? this.checkRobot(username.slice(ROBOT_PREFIX.length), hash) : undefined;
    }
    return password.startsWith(PAT_PREFIX) ? this.checkPat(username, hash) : undefined;
  }

  private async checkPat(username: string, hash: string): Promise<Principal | undefined> {
    const found = await this.store.tokens.byHash(hash);
    if (!found) return undefined;
    const { token, owner } = found;
    const now = this.now();
    if (owner.name !== username || owner.disabled || token.revokedAt || (token.expiresAt && token.expiresAt.getTime() <= now)) return undefined;
    this.touch(`pat:${token.id}`, () => this.store.tokens.touch(token.id, new Date(now)));
    return {
      name: owner.name,
      kind: 'user',
      via: 'pat',
      teams: await this.store.teams.teamsOf(owner.name),
      admin: owner.admin,
      // Scopes are what the token may reach at most; the owner's roles still apply on top.
      restrictedTo: token.scopes,
    };
  }

  private async checkRobot(name: string, hash: string): Promise<Principal | undefined> {
    const found = await this.store.robots.withSecret(name);
    // Compare even when the robot is unknown, so timing does not tell which robot names exist.
    const ok = sameHash(hash, found?.secretHash ?? '0'.repeat(64)) && found !== undefined;
    if (!ok || !found) return undefined;
    const { robot } = found;
    const now = this.now();
    if (robot.disabled || (robot.expiresAt && robot.expiresAt.getTime() <= now)) return undefined;
    this.touch(`robot:${robot.id}`, () => this.store.robots.touch(robot.id, new Date(now)));
    return { name: `${ROBOT_PREFIX}${robot.name}`, kind: 'robot', via: 'robot', teams: [], admin: false };
  }

  /** Records last use without holding up the request, and at most once per interval per credential. */
  private touch(key: string, write: () => Promise<void>): void {
    const now = this.now();
    const last = this.touched.get(key);
    if (last !== undefined && now - last < this.touchIntervalMs) return;
    if (this.touched.size > 10_000) this.touched.clear();
    this.touched.set(key, now);
    write().catch((err: unknown) => this.options.log?.warn({ err: errorSummary(err) }, 'could not record the last use of an access token'));
  }
}

/** An error for a log line: message and code only (a driver error may carry the query's parameters). */
export function errorSummary(err: unknown): { message: string; code?: string } {
  const e = err as { message?: unknown; code?: unknown };
  return { message: String(e?.message ?? err), ...(typeof e?.code === 'string' && { code: e.code }) };
}
