// Access tokens of berth's token service: short-lived JWTs in distribution's format
// (docs/spec/auth/jwt.md): iss, sub ('' when anonymous), aud = the service, exp/nbf/iat, a random
// jti and the `access` claim; the header names the key (`kid`) and, when berth has a certificate
// for it, carries it (`x5c`) so a registry:2 trusting that certificate accepts these tokens too.
// A private `berth` claim keeps the principal's kind, teams and admin flag, so the registry can
// re-check the AccessController with the same principal the token was granted for.
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Principal, ScopeGrant } from './types.ts';
import { accessFromClaim, accessToClaim } from './scope.ts';
import type { SigningKey } from './signing-key.ts';

export interface IssuedToken {
  token: string;
  expiresIn: number;
  issuedAt: Date;
}

export interface PrincipalClaim {
  kind: Principal['kind'];
  teams: string[];
  admin: boolean;
  /** The credential's own limits (Principal.restrictedTo of a personal access token), if any. */
  rt?: Array<{ type: string; name: string; actions: string[] }>;
}

export class TokenIssuer {
  constructor(
    private readonly key: SigningKey,
    private readonly opts: { issuer: string; service: string; expiresInS: number },
  ) {}

  get service(): string {
    return this.opts.service;
  }

  async accessToken(principal: Principal, access: ScopeGrant[]): Promise<IssuedToken> {
    const now = Math.floor(Date.now() / 1000);
    const berth: PrincipalClaim = {
      kind: principal.kind,
      teams: principal.teams,
      admin: principal.admin,
      ...(principal.restrictedTo && { rt: accessToClaim(principal.restrictedTo) }),
    };
    const token = await new SignJWT({ access: accessToClaim(access), berth })
      .setProtectedHeader({ alg: this.key.alg, typ: 'JWT', kid: this.key.kid, ...(this.key.x5c && { x5c: this.key.x5c }) })
      .setIssuer(this.opts.issuer)
      .setSubject(principal.kind === 'anonymous' ? '' : principal.name)
      .setAudience(this.opts.service)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + this.opts.expiresInS)
      .setJti(randomBytes(16).toString('base64url'))
      .sign(this.key.privateKey);
    return { token, expiresIn: this.opts.expiresInS, issuedAt: new Date(now * 1000) };
  }
}

/**
 * The principal a verified berth token stands for (teams and admin as they were when it was
 * issued), limited to the token's scopes; and the same principal with only the credential's own
 * limits, for listing the catalog (a token carries the catalog scope, not every repository's).
 */
export function principalFromClaims(subject: string, claim: unknown, access: ScopeGrant[]): { principal: Principal; forListing: Principal } {
  const c = (typeof claim === 'object' && claim !== null ? claim : {}) as Partial<PrincipalClaim>;
  const kind = subject === '' ? 'anonymous' : c.kind === 'robot' ? 'robot' : 'user';
  const teams = Array.isArray(c.teams) ? c.teams.filter((t): t is string => typeof t === 'string') : [];
  const base: Principal = { name: subject, kind, via: 'token', teams, admin: kind !== 'anonymous' && c.admin === true };
  const own = c.rt !== undefined ? accessFromClaim(c.rt) : undefined;
  return { principal: { ...base, restrictedTo: access }, forListing: own ? { ...base, restrictedTo: own } : base };
}
