// One password check as every entry point does it (Basic on /v2, the token endpoint's GET and
// its OAuth2 password grant): brute-force throttle first, then the verifier chain, then the
// bookkeeping. Log lines carry the client address and, only when a verifier knows that name, the
// user: people type passwords into user name fields, and those must not reach a log.
import type { Logger } from 'pino';
import type { PasswordVerifier, Principal } from './types.ts';
import type { PasswordChain } from './password-chain.ts';
import type { LoginThrottle } from './throttle.ts';
import { authFailure } from '../metrics/berth.ts';

export type LoginFailure = { kind: 'invalid' } | { kind: 'locked'; retryAfterS: number } | { kind: 'unavailable' };

export class LoginError extends Error {
  constructor(readonly failure: LoginFailure) {
    super(failure.kind === 'locked' ? 'too many failed logins' : failure.kind === 'unavailable' ? 'authentication backend unavailable' : 'invalid credentials');
  }
}

/** Longer than any real user name or password (bcrypt reads 72 bytes; tokens are a few hundred). */
const MAX_USER = 256;
const MAX_PASSWORD = 4096;

export class PasswordLogin {
  constructor(
    readonly chain: PasswordChain,
    private readonly throttle: LoginThrottle,
    private readonly log: Logger,
    /** Told of each accepted login (fire and forget: it must not slow the request). */
    private readonly onLogin?: (principal: Principal) => void,
  ) {}

  async login(username: string, password: string, address: string): Promise<{ principal: Principal; verifier: PasswordVerifier }> {
    const refused = this.throttle.check(username, address);
    if (refused) {
      this.log.warn({ remote: address, retryAfterS: refused.retryAfterS }, 'login refused: too many failed attempts');
      authFailure('locked');
      throw new LoginError({ kind: 'locked', retryAfterS: refused.retryAfterS });
    }
    const result =
      username.length > MAX_USER || password.length > MAX_PASSWORD || username === ''
        ? ({ ok: false, backendDown: false } as const)
        : await this.chain.verify(username, password);
    if (result.ok) {
      this.throttle.success(username, address);
      this.onLogin?.(result.principal);
      return { principal: result.principal, verifier: result.verifier };
    }
    if (result.backendDown) {
      // Not the client's fault: no failure is counted.
      this.log.error({ remote: address }, 'login failed: an authentication backend is unavailable');
      authFailure('unavailable');
      throw new LoginError({ kind: 'unavailable' });
    }
    const { delayMs, locked } = this.throttle.failure(username, address);
    authFailure('password');
    const user = username.length <= MAX_USER && (await this.chain.knows(username)) ? username : undefined;
    this.log.warn({ remote: address, ...(user !== undefined && { user }), ...(locked && { lockedForS: locked.retryAfterS }) }, locked ? 'login failed; locked out after too many failures' : 'login failed');
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    throw new LoginError(locked ? { kind: 'locked', retryAfterS: locked.retryAfterS } : { kind: 'invalid' });
  }
}
