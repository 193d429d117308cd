// berth's token service, under the registry's own origin:
//   GET  /auth/token    Docker token spec: ?service=&scope=... with Basic credentials or none
//                       (anonymous); offline_token=true adds a refresh token.
//   POST /auth/token    OAuth2 form (what docker and containerd use): grant_type=password
//                       (username, password; access_type=offline adds a refresh token) or
//                       grant_type=refresh_token; client_id and scope as in the spec.
//   POST /auth/revoke   RFC 7009 revocation of a refresh token (token=...).
//   GET  /auth/jwks.json the public signing key, for registries that verify berth's tokens.
// Errors carry both the registry envelope (docker's client reads it) and the OAuth2 fields.
// Nothing here logs or echoes a credential; responses are `Cache-Control: no-store`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { send, sendJSON } from '../http/respond.ts';
import type { ErrorCode } from '../registry/errors.ts';
import type { AccessController, Action, PasswordVerifier, Principal, ScopeGrant } from './types.ts';
import { canLookup } from './capabilities.ts';
import { basicChallenge } from './challenge.ts';
import { clientAddress } from './client-address.ts';
import { readCredentials } from './credentials.ts';
import { anonymous } from './default-access.ts';
import { grantScopes } from './grant.ts';
import type { PasswordChain } from './password-chain.ts';
import { LoginError, type PasswordLogin } from './password-login.ts';
import { RefreshRejected, type RefreshClaims, type RefreshTokens } from './refresh-tokens.ts';
import { formatScope, merge, parseScopes } from './scope.ts';
import type { SigningKey } from './signing-key.ts';
import type { TokenIssuer } from './token-issue.ts';

export interface TokenEndpointDeps {
  issuer: TokenIssuer;
  refresh: RefreshTokens;
  login: PasswordLogin;
  chain: PasswordChain;
  access: AccessController;
  key: SigningKey;
  /** Realm of the Basic challenge sent with a 401 (the htpasswd realm, or the token realm). */
  basicRealm: string;
  trustForwardedFor: boolean;
  log: Logger;
  /**
   * The repository a Notary GUN (`host:port/team/app`, host one of the registry's names) stands
   * for; such scopes are granted by that repository's permissions, under the GUN's name.
   */
  gunRepository?: (name: string, req: IncomingMessage) => string | undefined;
  /**
   * Marks the configured site administrators (berth.auth.accesscontrol.admins) as such. Applied
   * to the principal a token is issued for, so the token's admin claim says so: the registry
   * re-checks a token's principal, which (limited to the token's scopes) is not lifted again.
   */
  liftAdmin?: (principal: Principal) => Principal;
}

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
const MAX_FORM = 64 * 1024;

class EndpointError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly oauth: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export class TokenEndpoint {
  constructor(private readonly d: TokenEndpointDeps) {}

  /** Serves the path when it is one of the token service's; false otherwise. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, pathname: string): Promise<boolean> {
    const routes: Record<string, Record<string, () => Promise<void>>> = {
      '/auth/token': { GET: () => this.getToken(req, res, url), POST: () => this.postToken(req, res) },
      '/auth/revoke': { POST: () => this.revoke(req, res) },
      '/auth/jwks.json': { GET: async () => sendJSON(res, 200, { keys: [this.d.key.jwk] }, { 'Cache-Control': 'public, max-age=300' }) },
    };
    const table = routes[pathname];
    if (!table) return false;
    const method = req.method === 'HEAD' && table.GET ? 'GET' : (req.method ?? '');
    try {
      const handler = table[method];
      if (!handler) throw new EndpointError(405, 'UNSUPPORTED', 'invalid_request', `method ${req.method} not allowed here`, { Allow: Object.keys(table).join(', ') });
      await handler();
    } catch (e) {
      if (!(e instanceof EndpointError)) throw e;
      sendJSON(res, e.status, { errors: [{ code: e.code, message: e.message }], error: e.oauth, error_description: e.message }, { ...NO_STORE, ...e.headers });
    }
    return true;
  }

  private async getToken(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const q = url.searchParams;
    this.checkService(q.get('service'));
    const creds = readCredentials(req);
    let principal: Principal = anonymous();
    let verifier: PasswordVerifier | undefined;
    if (creds.kind === 'basic') ({ principal, verifier } = await this.login(req, creds.username, creds.password));
    else if (creds.kind !== 'none') throw this.unauthorized('the token endpoint takes Basic credentials (or none, for anonymous access)');
    // The refresh token below keeps the login as it is: a site administrator is lifted anew each time.
    const holder = this.d.liftAdmin ? this.d.liftAdmin(principal) : principal;
    const scopes = parseScopes(q.getAll('scope'), this.acceptGun(req));
    const grants = await this.grant(holder, scopes, req);
    const issued = await this.d.issuer.accessToken(holder, grants);
    const body: Record<string, unknown> = { token: issued.token, access_token: issued.token, expires_in: issued.expiresIn, issued_at: issued.issuedAt.toISOString() };
    if (q.get('offline_token') === 'true' && verifier) body.refresh_token = await this.newRefreshToken(principal, verifier, q.get('client_id'));
    sendJSON(res, 200, body, NO_STORE);
  }

  private async postToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    this.checkService(form.get('service'));
    const scopes = parseScopes(form.getAll('scope'), this.acceptGun(req));
    const grantType = form.get('grant_type');
    let principal: Principal;
    let refreshToken: string | undefined;
    if (grantType === 'password') {
      let username = form.get('username');
      let password = form.get('password');
      if (username === null || password === null) {
        // RFC 6749 also allows the credentials in a Basic header.
        const creds = readCredentials(req);
        if (creds.kind !== 'basic') throw new EndpointError(400, 'UNAUTHORIZED', 'invalid_request', 'grant_type=password needs username and password');
        ({ username, password } = creds);
      }
      const login = await this.login(req, username, password);
      principal = login.principal;
      if (form.get('access_type') === 'offline') refreshToken = await this.newRefreshToken(principal, login.verifier, form.get('client_id'));
    } else if (grantType === 'refresh_token') {
      refreshToken = form.get('refresh_token') ?? '';
      principal = await this.principalFromRefresh(refreshToken, req);
    } else {
      throw new EndpointError(400, 'UNSUPPORTED', 'unsupported_grant_type', 'grant_type must be password or refresh_token');
    }
    if (this.d.liftAdmin) principal = this.d.liftAdmin(principal);
    const grants = await this.grant(principal, scopes, req);
    const issued = await this.d.issuer.accessToken(principal, grants);
    sendJSON(
      res,
      200,
      {
        access_token: issued.token,
        token: issued.token,
        expires_in: issued.expiresIn,
        issued_at: issued.issuedAt.toISOString(),
        scope: grants.map(formatScope).join(' '),
        ...(refreshToken !== undefined && { refresh_token: refreshToken }),
      },
      NO_STORE,
    );
  }

  private acceptGun(req: IncomingMessage): ((name: string) => boolean) | undefined {
    const map = this.d.gunRepository;
    return map && ((name) => map(name, req) !== undefined);
  }

  /**
   * grantScopes, with Notary GUNs granted by the permissions on their repository: pull and push
   * as they are, and `*` (what notary asks for to delete trust data or rotate a server key) when
   * the caller may delete in the repository. The token names the GUN, as the client asked.
   */
  private async grant(principal: Principal, scopes: ScopeGrant[], req: IncomingMessage): Promise<ScopeGrant[]> {
    const map = this.d.gunRepository;
    const repositoryOf = (s: ScopeGrant) => (map && s.type === 'repository' ? map(s.name, req) : undefined);
    if (!scopes.some((s) => repositoryOf(s) !== undefined)) return grantScopes(principal, scopes, this.d.access);
    const plain = scopes.filter((s) => repositoryOf(s) === undefined);
    const out = await grantScopes(principal, plain, this.d.access);
    for (const s of scopes) {
      const repository = repositoryOf(s);
      if (repository === undefined) continue;
      const asked = [...new Set(s.actions.map((a): Action => (a === '*' ? 'delete' : a)))];
      const granted = new Set((await grantScopes(principal, [{ type: 'repository', name: repository, actions: asked }], this.d.access)).flatMap((g) => g.actions));
      const actions = s.actions.filter((a) => granted.has(a === '*' ? 'delete' : a));
      if (actions.length) out.push({ type: 'repository', name: s.name, actions });
    }
    return merge(out);
  }

  private async revoke(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    const token = form.get('token');
    if (token && (await this.d.refresh.revoke(token))) this.d.log.info({ remote: clientAddress(req, this.d.trustForwardedFor) }, 'refresh token revoked');
    send(res, 200, NO_STORE);
  }

  private checkService(service: string | null): void {
    if (service !== null && service !== '' && service !== this.d.issuer.service) {
      throw new EndpointError(400, 'DENIED', 'invalid_request', `unknown service: this token server issues tokens for ${JSON.stringify(this.d.issuer.service)}`);
    }
  }

  private async login(req: IncomingMessage, username: string, password: string): Promise<{ principal: Principal; verifier: PasswordVerifier }> {
    try {
      return await this.d.login.login(username, password, clientAddress(req, this.d.trustForwardedFor));
    } catch (e) {
      if (!(e instanceof LoginError)) throw e;
      const f = e.failure;
      if (f.kind === 'locked') {
        throw new EndpointError(429, 'TOOMANYREQUESTS', 'invalid_grant', `too many failed login attempts; try again in ${f.retryAfterS} seconds`, { 'Retry-After': String(f.retryAfterS) });
      }
      if (f.kind === 'unavailable') throw new EndpointError(503, 'UNKNOWN', 'temporarily_unavailable', 'authentication backend unavailable; try again later');
      throw this.unauthorized('invalid username or password');
    }
  }

  private unauthorized(message: string): EndpointError {
    return new EndpointError(401, 'UNAUTHORIZED', 'invalid_grant', message, { 'WWW-Authenticate': basicChallenge(this.d.basicRealm) });
  }

  private async newRefreshToken(principal: Principal, verifier: PasswordVerifier, clientId: string | null): Promise<string> {
    const found = canLookup(verifier) ? await verifier.lookup(principal.name) : undefined;
    return this.d.refresh.issue(principal, verifier.name, found?.stamp, clientId ?? undefined);
  }

  /** The principal behind a refresh token, as of now: a removed user or a changed password ends it. */
  private async principalFromRefresh(token: string, req: IncomingMessage): Promise<Principal> {
    let claims: RefreshClaims;
    try {
      claims = await this.d.refresh.verify(token);
    } catch (e) {
      if (!(e instanceof RefreshRejected)) throw e;
      throw this.unauthorized(e.message);
    }
    const verifier = this.d.chain.byName(claims.via);
    const restrictedTo = claims.restrictedTo;
    if (!verifier) throw this.unauthorized('refresh token from a login source that is no longer configured');
    if (canLookup(verifier)) {
      const found = await verifier.lookup(claims.subject);
      const stampOk = found && (claims.stamp === undefined || same(this.d.refresh.stampOf(found.stamp), claims.stamp));
      if (!found || !stampOk) {
        this.d.log.info({ remote: clientAddress(req, this.d.trustForwardedFor), user: claims.subject }, 'refresh token refused: the user was removed or the password changed');
        throw this.unauthorized('refresh token no longer valid: log in again');
      }
      return { ...found.principal, ...(found.principal.restrictedTo === undefined && restrictedTo && { restrictedTo }) };
    }
    const p = claims.principal;
    return {
      name: claims.subject,
      kind: p.kind === 'robot' ? 'robot' : 'user',
      via: claims.via,
      teams: Array.isArray(p.teams) ? p.teams : [],
      admin: p.admin === true,
      ...(restrictedTo && { restrictedTo }),
    };
  }
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new EndpointError(400, 'UNSUPPORTED', 'invalid_request', 'expected Content-Type: application/x-www-form-urlencoded');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM) throw new EndpointError(413, 'UNSUPPORTED', 'invalid_request', 'request body too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
