// Builds authentication and authorization from the configuration and gives the HTTP layer two
// small steps: `serve` for berth's token service endpoints (/auth/...), and `authorize` in front
// of every /v2 request. Without auth.htpasswd, auth.token or berth.auth.tokenservice the registry
// stays open, as registry:2 is without an auth section.
//
//   auth.htpasswd only             Basic credentials on /v2, challenge `Basic realm=...`
//   auth.token (external issuer)   bearer tokens only, challenge `Bearer realm,service,scope`
//   berth.auth.tokenservice        berth issues the tokens itself (/auth/token) for the users of
//                                  the password chain (htpasswd, ...); /v2 takes those tokens
//                                  (verified like any issuer's) and also Basic credentials.
//
// LDAP, personal access tokens and the access model plug in through `AuthOverrides`.
import type { IncomingMessage } from 'node:http';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { BerthConfig } from '../config/index.ts';
import type { Route } from '../registry/routes.ts';
import type { RequestContext } from '../registry/services.ts';
import { externalBaseURL } from '../registry/urls.ts';
import type { AccessController, PasswordVerifier, Principal, ScopeGrant } from '../auth/types.ts';
import { Authorizer, type BearerSettings } from '../auth/authorizer.ts';
import { BearerVerifier } from '../auth/bearer-verify.ts';
import { AuthenticatedFullAccess } from '../auth/default-access.ts';
import { HtpasswdFile } from '../auth/htpasswd.ts';
import { provisionHtpasswd } from '../auth/htpasswd-edit.ts';
import { PasswordChain } from '../auth/password-chain.ts';
import { PasswordLogin } from '../auth/password-login.ts';
import { RefreshTokens } from '../auth/refresh-tokens.ts';
import { loadSigningKey } from '../auth/signing-key.ts';
import { LoginThrottle } from '../auth/throttle.ts';
import { TokenEndpoint } from '../auth/token-endpoint.ts';
import { TokenIssuer } from '../auth/token-issue.ts';
import { TrustStore } from '../auth/trust.ts';
import { gunMapper, requestHost } from '../trust/notary/gun.ts';

export interface AuthOverrides {
  /** Verifiers tried before htpasswd (e.g. personal access tokens, local users, LDAP); any turns authentication on. */
  verifiers?: PasswordVerifier[];
  /** Told of each accepted password login (the access model records htpasswd users with it). */
  onLogin?: (principal: Principal) => void;
  /** Replaces the default "authenticated may do everything" controller. */
  accessController?: AccessController;
  /** Marks the configured site administrators, for the admin claim of the tokens berth issues. */
  liftAdmin?: (principal: Principal) => Principal;
}

export interface AuthMiddleware {
  /** Serves /auth/token, /auth/revoke and /auth/jwks.json; false for any other path. */
  serve(req: IncomingMessage, res: RequestContext['res'], url: URL, pathname: string): Promise<boolean>;
  /** Throws the RegistryError to answer with; returns the caller. */
  authorize(ctx: RequestContext, route: Route): Promise<Principal>;
  /**
   * Authorizes a request for resources named like repositories outside /v2 (the Notary API's
   * GUNs): a token must carry `needs` as named, permissions are those of `repositoryOf(name)`.
   * Throws the RegistryError to answer with (401 with the challenge, 403, 429).
   */
  authorizeScopes(req: IncomingMessage, needs: ScopeGrant[], repositoryOf: (name: string) => string): Promise<Principal>;
  /** The caller of a request outside /v2 (admin API), or undefined. */
  authenticate(req: IncomingMessage): Promise<Principal | undefined>;
  /** WWW-Authenticate for requests outside /v2. */
  challenge: string;
  /**
   * Checks a user name and password as Basic auth on /v2 does (throttle, verifier chain), for the
   * console's login form; absent when berth cannot check passwords (an external token issuer only).
   */
  login?(username: string, password: string, address: string): Promise<Principal>;
}

/** Default names when berth's token service runs without an auth.token section. */
export const DEFAULT_SERVICE = 'berth';
export const DEFAULT_ISSUER = 'berth';

export async function createAuthMiddleware(config: BerthConfig, log: Logger, overrides: AuthOverrides = {}): Promise<AuthMiddleware | undefined> {
  const auth = config.auth ?? {};
  const ts = config.berth.auth.tokenservice;
  // Verifiers plugged in by the caller (LDAP, local users, access tokens) mean logins are wanted
  // even without an htpasswd file: Basic on /v2, realm "berth".
  if (!auth.htpasswd && !auth.token && !ts.enabled && !overrides.verifiers?.length) return undefined;

  const verifiers = [...(overrides.verifiers ?? [])];
  if (auth.htpasswd) {
    const created = await provisionHtpasswd(auth.htpasswd.path);
    if (created) {
      // Shown once, on the terminal only: never through the JSON log, which is often shipped elsewhere.
      process.stderr.write(
        `\nberth: ${auth.htpasswd.path} did not exist; created it with user "${created.user}" and password:\n\n    ${created.password}\n\n` +
          `Change it with: berth user passwd ${created.user}\n\n`,
      );
      log.warn({ path: auth.htpasswd.path, user: created.user }, 'auth.htpasswd: created the missing file with a generated password (printed once on stderr)');
    }
    verifiers.push(await HtpasswdFile.open(auth.htpasswd.path, log));
  }
  const bf = config.berth.auth.bruteforce;
  const chain = new PasswordChain(verifiers);
  const login = new PasswordLogin(chain, new LoginThrottle({ maxFailures: bf.maxFailures, lockoutMs: bf.lockoutMs }), log, overrides.onLogin);
  const access = overrides.accessController ?? new AuthenticatedFullAccess();
  const basicRealm = auth.htpasswd?.realm ?? 'berth';

  if (!auth.token && !ts.enabled) {
    const authorizer = new Authorizer({ login, basicRealm, access, trustForwardedFor: bf.trustForwardedFor, log });
    return {
      serve: async () => false,
      authorize: (ctx, route) => authorizer.authorize(ctx, route),
      authorizeScopes: (req, needs, repositoryOf) => authorizer.authorizeScopes(req, needs, repositoryOf),
      authenticate: (req) => authorizer.authenticate(req),
      challenge: `Basic realm="${basicRealm}"`,
      login: async (u, p, address) => (await login.login(u, p, address)).principal,
    };
  }

  const service = auth.token?.service ?? DEFAULT_SERVICE;
  const issuer = auth.token?.issuer ?? DEFAULT_ISSUER;
  const dataDir = resolve(config.storage.filesystem.rootdirectory);
  const key = ts.enabled
    ? await loadSigningKey({ ...(ts.key && { keyPath: ts.key }), ...(ts.certificate && { certificatePath: ts.certificate }), algorithm: ts.algorithm, dataDir }, log)
    : undefined;
  const trust = await TrustStore.load({ ...(auth.token?.rootcertbundle && { rootcertbundle: auth.token.rootcertbundle }), ...(auth.token?.jwks && { jwks: auth.token.jwks }), ...(key && { own: key }) });
  const verifier = new BearerVerifier({ trust, issuer, service, ...(auth.token?.signingalgorithms && { algorithms: auth.token.signingalgorithms }) });
  const bearer: BearerSettings = { verifier, service, realm: realmFor(config) };
  // Basic on /v2 only where berth itself knows the users: an external issuer owns its logins.
  const authorizer = new Authorizer({ ...(ts.enabled && { login }), basicRealm, bearer, access, trustForwardedFor: bf.trustForwardedFor, log });

  let endpoint: TokenEndpoint | undefined;
  if (key) {
    if (verifiers.length === 0) log.warn('berth.auth.tokenservice: no password source (auth.htpasswd) is configured; only anonymous tokens can be issued');
    const refresh = await RefreshTokens.open(key.refreshSecret, {
      issuer,
      service,
      ttlS: Math.round(ts.refreshExpirationMs / 1000),
      revocationFile: join(dataDir, 'auth', 'revoked-refresh-tokens.json'),
    });
    const tokenIssuer = new TokenIssuer(key, { issuer, service, expiresInS: Math.round(ts.expirationMs / 1000) });
    const gun = gunMapper(config);
    const gunRepository = (name: string, req: IncomingMessage) => gun(name, requestHost(req.headers));
    endpoint = new TokenEndpoint({ issuer: tokenIssuer, refresh, login, chain, access, key, basicRealm, trustForwardedFor: bf.trustForwardedFor, log, gunRepository, ...(overrides.liftAdmin && { liftAdmin: overrides.liftAdmin }) });
  }
  return {
    serve: async (req, res, url, pathname) => (endpoint ? endpoint.handle(req, res, url, pathname) : false),
    authorize: (ctx, route) => authorizer.authorize(ctx, route),
    authorizeScopes: (req, needs, repositoryOf) => authorizer.authorizeScopes(req, needs, repositoryOf),
    authenticate: (req) => authorizer.authenticate(req),
    challenge: `Basic realm="${basicRealm}"`,
    ...(ts.enabled && { login: async (u: string, p: string, address: string) => (await login.login(u, p, address)).principal }),
  };
}

/**
 * The realm clients are sent to: auth.token.realm as configured, or (autoredirect, or berth's
 * own token service without a realm) this registry's external URL + the token path.
 */
function realmFor(config: BerthConfig): (req: IncomingMessage) => string {
  const t = config.auth?.token;
  if (t?.realm && !t.autoredirect) return () => t.realm!;
  const path = t?.autoredirectpath ?? `${config.http.prefix}auth/token`;
  return (req) => `${externalBaseURL(req, config.http.host, false)}${path.startsWith('/') ? path : `/${path}`}`;
}
