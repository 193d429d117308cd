// Refresh tokens (OAuth2 `access_type=offline`, GET `offline_token=true`): what docker stores as
// `identitytoken` in ~/.docker/config.json instead of the password. They are HS256 JWTs under a
// secret derived from the signing key: opaque to clients, unusable as access tokens (the registry
// accepts asymmetric signatures only), bound to one service (aud), and they expire.
// Revocation, kept simple:
//   - implicit: the token carries a stamp of the user's credential (PrincipalLookup); a new
//     password or a removed user changes it, and every refresh token issued before is dead;
//   - explicit: POST /auth/revoke (RFC 7009) adds the token's jti to a list kept in memory and in
//     <rootdirectory>/auth/revoked-refresh-tokens.json, each entry until the token would expire.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { jwtVerify, SignJWT } from 'jose';
import type { Principal, ScopeGrant } from './types.ts';
import { accessFromClaim, accessToClaim } from './scope.ts';
import { writeAtomically } from './htpasswd-edit.ts';
import type { PrincipalClaim } from './token-issue.ts';

export interface RefreshClaims {
  jti: string;
  exp: number;
  subject: string;
  /** Name of the PasswordVerifier that authenticated the user. */
  via: string;
  /** HMAC of the credential stamp at issue time (absent when the verifier cannot look users up). */
  stamp?: string;
  principal: PrincipalClaim;
  /** The credential's own limits (a personal access token's scopes), carried over to every renewal. */
  restrictedTo?: ScopeGrant[];
}

export class RefreshRejected extends Error {}

const TYPE = 'berth-refresh+jwt';

export class RefreshTokens {
  private revoked = new Map<string, number>();

  private constructor(
    private readonly secret: Uint8Array,
    private readonly opts: { issuer: string; service: string; ttlS: number; revocationFile: string },
  ) {}

  static async open(secret: Uint8Array, opts: { issuer: string; service: string; ttlS: number; revocationFile: string }): Promise<RefreshTokens> {
    const r = new RefreshTokens(secret, opts);
    await r.loadRevocations();
    return r;
  }

  /** Keyed hash of a PrincipalLookup stamp: the token never carries anything derived from a hash without the key. */
  stampOf(raw: string): string {
    return createHmac('sha256', this.secret).update(raw).digest('base64url').slice(0, 22);
  }

  async issue(principal: Principal, via: string, rawStamp: string | undefined, clientId: string | undefined): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      via,
      berth: { kind: principal.kind, teams: principal.teams, admin: principal.admin } satisfies PrincipalClaim,
      ...(rawStamp !== undefined && { st: this.stampOf(rawStamp) }),
      ...(principal.restrictedTo && { rt: accessToClaim(principal.restrictedTo) }),
      // client_id is for auditing only (RFC 6749 lets unregistered clients name themselves).
      ...(clientId && { cid: clientId.slice(0, 64) }),
    };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: TYPE })
      .setIssuer(this.opts.issuer)
      .setSubject(principal.name)
      .setAudience(this.opts.service)
      .setIssuedAt(now)
      .setExpirationTime(now + this.opts.ttlS)
      .setJti(randomBytes(16).toString('base64url'))
      .sign(this.secret);
  }

  /** Checks signature, type, issuer, audience, expiry and the revocation list. */
  async verify(token: string, { ignoreExpiry = false } = {}): Promise<RefreshClaims> {
    if (token.length > 4096) throw new RefreshRejected('malformed refresh token');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.secret, {
        algorithms: ['HS256'],
        typ: TYPE,
        issuer: this.opts.issuer,
        audience: this.opts.service,
        requiredClaims: ['exp', 'jti', 'sub'],
        // A revocation request may name an expired token; it is then simply a no-op.
        ...(ignoreExpiry && { currentDate: new Date(0) }),
      }));
    } catch {
      throw new RefreshRejected('invalid or expired refresh token');
    }
    const jti = String(payload.jti);
    if (this.revoked.has(jti)) throw new RefreshRejected('refresh token revoked');
    return {
      jti,
      exp: payload.exp!,
      subject: String(payload.sub),
      via: typeof payload.via === 'string' ? payload.via : '',
      ...(typeof payload.st === 'string' && { stamp: payload.st }),
      principal: (payload.berth ?? {}) as PrincipalClaim,
      ...(payload.rt !== undefined && { restrictedTo: accessFromClaim(payload.rt) }),
    };
  }

  /** RFC 7009: revoking an unknown, invalid or already revoked token is not an error. */
  async revoke(token: string): Promise<boolean> {
    let claims: RefreshClaims;
    try {
      claims = await this.verify(token, { ignoreExpiry: true });
    } catch {
      return false;
    }
    this.revoked.set(claims.jti, claims.exp);
    await this.saveRevocations();
    return true;
  }

  private async loadRevocations(): Promise<void> {
    let entries: unknown;
    try {
      entries = JSON.parse(await readFile(this.opts.revocationFile, 'utf8'));
    } catch {
      return; // none yet (or unreadable: then nothing was revoked that we could honour anyway)
    }
    const now = Date.now() / 1000;
    if (!Array.isArray(entries)) return;
    for (const e of entries as Array<{ jti?: unknown; exp?: unknown }>) {
      if (typeof e?.jti === 'string' && typeof e.exp === 'number' && e.exp > now) this.revoked.set(e.jti, e.exp);
    }
  }

  private async saveRevocations(): Promise<void> {
    const now = Date.now() / 1000;
    // Entries past their token's expiry are useless: the token fails on `exp` anyway.
    for (const [jti, exp] of this.revoked) if (exp <= now) this.revoked.delete(jti);
    await mkdir(dirname(this.opts.revocationFile), { recursive: true, mode: 0o700 });
    await writeAtomically(this.opts.revocationFile, `${JSON.stringify([...this.revoked].map(([jti, exp]) => ({ jti, exp })))}\n`);
  }
}
