// Verifies a bearer token as distribution does (docs/spec/auth/jwt.md, "Verifying the token"):
// a trusted signing key (trust.ts) and an allowed asymmetric algorithm, `iss` = auth.token.issuer,
// `aud` = auth.token.service, `exp`/`nbf` within 60 s of leeway (distribution's), then the
// `access` claim is the grant. HMAC algorithms are never accepted: berth's refresh tokens are
// HMAC-signed, and a refresh token must never work as an access token.
import { jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import type { ScopeGrant } from './types.ts';
import { ASYMMETRIC_ALGORITHMS } from './algorithms.ts';
import { accessFromClaim } from './scope.ts';
import { UntrustedKey, type TrustStore } from './trust.ts';

export const LEEWAY_S = 60;
const MAX_TOKEN = 8192;

export interface VerifiedToken {
  subject: string;
  access: ScopeGrant[];
  /** Issued by berth's own token service. */
  own: boolean;
  payload: JWTPayload;
}

/** Why a token was refused; the reason is short and safe to log (no token, no claim values). */
export class TokenRejected extends Error {}

export interface BearerVerifierOptions {
  trust: TrustStore;
  issuer: string;
  service: string;
  algorithms?: readonly string[];
}

export class BearerVerifier {
  private readonly algorithms: string[];

  constructor(private readonly opts: BearerVerifierOptions) {
    this.algorithms = (opts.algorithms ?? ASYMMETRIC_ALGORITHMS).filter((a) => (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(a));
  }

  async verify(token: string): Promise<VerifiedToken> {
    if (token.length > MAX_TOKEN || token.split('.').length !== 3) throw new TokenRejected('malformed token');
    let own = false;
    try {
      const { payload } = await jwtVerify(
        token,
        async (header) => {
          const resolved = await this.opts.trust.resolve(header);
          own = resolved.own;
          return resolved.key;
        },
        {
          issuer: this.opts.issuer,
          audience: this.opts.service,
          algorithms: this.algorithms,
          clockTolerance: LEEWAY_S,
          requiredClaims: ['exp'],
        },
      );
      return { subject: typeof payload.sub === 'string' ? payload.sub : '', access: accessFromClaim(payload.access), own, payload };
    } catch (e) {
      throw new TokenRejected(reason(e));
    }
  }
}

function reason(e: unknown): string {
  if (e instanceof UntrustedKey) return `untrusted signing key: ${e.message}`;
  if (e instanceof joseErrors.JWTExpired) return 'token expired';
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `claim check failed: ${e.claim}`;
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad signature';
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'signing algorithm not allowed';
  if (e instanceof joseErrors.JOSEError) return `invalid token (${e.code})`;
  return 'invalid token';
}
