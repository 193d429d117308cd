// The auth part of the configuration: distribution's `auth` section (htpasswd, token) and
// berth's `berth.auth` (its own token service, brute-force limits), with distribution's rules
// (htpasswd needs realm and path; token needs realm, service, issuer and a key source) and the
// one berth adds: htpasswd and token together only when berth issues the tokens itself.
import { ASYMMETRIC_ALGORITHMS } from '../auth/algorithms.ts';
import type { FileConfig } from './schema.ts';
import { ConfigError, type AuthConfig, type BerthAuthConfig } from './types.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export function buildAuth(f: FileConfig): { auth?: AuthConfig; berthAuth: BerthAuthConfig } {
  const ts = f.berth?.auth?.tokenservice;
  const bf = f.berth?.auth?.bruteforce;
  const enabled = ts?.enabled ?? false;
  const expirationMs = ts?.expiration ?? 5 * MINUTE;
  // The token spec: "a token should never be returned with less than 60 seconds to live".
  if (expirationMs < MINUTE) throw new ConfigError('config: berth.auth.tokenservice.expiration: must be at least 60s (clients assume a token lives that long)', 'berth.auth.tokenservice.expiration');
  const berthAuth: BerthAuthConfig = {
    tokenservice: {
      enabled,
      ...(ts?.key !== undefined && { key: ts.key }),
      ...(ts?.certificate !== undefined && { certificate: ts.certificate }),
      algorithm: ts?.algorithm ?? 'ES256',
      expirationMs,
      refreshExpirationMs: ts?.refreshexpiration ?? 720 * HOUR,
    },
    bruteforce: { maxFailures: bf?.maxfailures ?? 10, lockoutMs: bf?.lockout ?? 5 * MINUTE, trustForwardedFor: bf?.trustforwardedfor ?? false },
    accessControl: { enabled: f.berth?.auth?.accesscontrol?.enabled ?? false, admins: f.berth?.auth?.accesscontrol?.admins ?? ['admin'] },
  };
  if (ts?.certificate !== undefined && ts.key === undefined) {
    throw new ConfigError('config: berth.auth.tokenservice.certificate: needs berth.auth.tokenservice.key (the certificate of a generated key is written next to it)', 'berth.auth.tokenservice.certificate');
  }
  const h = f.auth?.htpasswd;
  const t = f.auth?.token;
  if (!h && !t) return { berthAuth };
  if (h && t && !enabled) {
    throw new ConfigError('config: auth: configure one of auth.htpasswd and auth.token, as distribution requires (both together only with berth.auth.tokenservice.enabled, where htpasswd users log in to berth\'s token service)', 'auth');
  }
  const auth: AuthConfig = {};
  if (h) {
    if (!h.realm) throw new ConfigError('config: auth.htpasswd.realm: required', 'auth.htpasswd.realm');
    if (!h.path) throw new ConfigError('config: auth.htpasswd.path: required', 'auth.htpasswd.path');
    auth.htpasswd = { realm: h.realm, path: h.path };
  }
  if (t) {
    for (const key of ['service', 'issuer'] as const) {
      if (!t[key] && !enabled) throw new ConfigError(`config: auth.token.${key}: required`, `auth.token.${key}`);
    }
    if (!t.realm && !t.autoredirect && !enabled) throw new ConfigError('config: auth.token.realm: required (or autoredirect: true)', 'auth.token.realm');
    if (!t.rootcertbundle && !t.jwks && !enabled) {
      throw new ConfigError('config: auth.token: rootcertbundle or jwks is required to verify the issuer\'s tokens', 'auth.token.rootcertbundle');
    }
    const bad = t.signingalgorithms?.find((a) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(a));
    if (bad !== undefined) {
      throw new ConfigError(`config: auth.token.signingalgorithms: ${JSON.stringify(bad.slice(0, 20))} is not accepted; use asymmetric algorithms (${ASYMMETRIC_ALGORITHMS.join(', ')})`, 'auth.token.signingalgorithms');
    }
    auth.token = {
      service: t.service ?? 'berth',
      issuer: t.issuer ?? 'berth',
      autoredirect: t.autoredirect ?? false,
      ...(t.realm && { realm: t.realm }),
      ...(t.rootcertbundle !== undefined && { rootcertbundle: t.rootcertbundle }),
      ...(t.jwks !== undefined && { jwks: t.jwks }),
      ...(t.autoredirectpath && { autoredirectpath: t.autoredirectpath }),
      ...(t.signingalgorithms?.length && { signingalgorithms: t.signingalgorithms }),
    };
  }
  return { auth, berthAuth };
}
