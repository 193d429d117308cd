// The authorization step in front of every /v2 request: who is calling (Basic credentials through
// the password chain, or a bearer token through the verifier), then whether they may do what the
// route needs (required-access.ts). Answers, as distribution and the clients expect them:
//   401 UNAUTHORIZED + challenge  no or invalid credentials, or a token without the needed scope
//                                 (error="insufficient_scope": the client fetches a new token);
//   403 DENIED                    authenticated, but the AccessController says no;
//   429 TOOMANYREQUESTS           too many failed logins (Retry-After).
// Tokens of an external issuer are the grant themselves (as in distribution); berth's own tokens
// are also re-checked against the AccessController, so a revoked permission ends before the token.
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { assertValidName } from '../oci/reference.ts';
import { RegistryError } from '../registry/errors.ts';
import type { Route } from '../registry/routes.ts';
import type { RequestContext } from '../registry/services.ts';
import type { AccessController, Principal, ScopeGrant } from './types.ts';
import { BearerVerifier, TokenRejected, type VerifiedToken } from './bearer-verify.ts';
import { accessDetail, basicChallenge, bearerChallenge, type BearerError } from './challenge.ts';
import { clientAddress } from './client-address.ts';
import { readCredentials } from './credentials.ts';
import { anonymous } from './default-access.ts';
import { withinRestriction } from './grant.ts';
import { LoginError, type PasswordLogin } from './password-login.ts';
import { requiredAccess } from './required-access.ts';
import { covers } from './scope.ts';
import { principalFromClaims } from './token-issue.ts';
import { authFailure } from '../metrics/berth.ts';

export interface BearerSettings {
  verifier: BearerVerifier;
  service: string;
  /** The token realm for this request (fixed, or derived from the request's host). */
  realm(req: IncomingMessage): string;
}

export interface AuthorizerOptions {
  /** Basic credentials are checked with this; without it a Basic header is refused. */
  login?: PasswordLogin;
  /** Realm of the Basic challenge (auth.htpasswd.realm); used when there is no bearer setting. */
  basicRealm: string;
  /** Bearer tokens are required (auth.token and/or berth's token service). */
  bearer?: BearerSettings;
  access: AccessController;
  trustForwardedFor: boolean;
  log: Logger;
}

interface Identity {
  principal: Principal;
  token?: VerifiedToken;
  /** For berth's own tokens: the principal without the token's scopes, to filter the catalog. */
  forListing?: Principal;
}

type Verdict = 'ok' | 'scope' | 'denied';

export class Authorizer {
  constructor(private readonly o: AuthorizerOptions) {}

  /** Throws the RegistryError to answer with, or returns the caller (also set on ctx). */
  async authorize(ctx: RequestContext, route: Route): Promise<Principal> {
    const { req } = ctx;
    const { needs, mountFrom } = requiredAccess(route, req.method ?? 'GET', ctx.url);
    const identity = await this.identify(req, needs);
    ctx.principal = identity.principal;
    if (route.kind === 'base') {
      // docker login relies on GET /v2/ answering 401 until it sends valid credentials.
      if (identity.principal.kind === 'anonymous' && !identity.token) throw this.unauthorized(req, needs, 'authentication required');
      return identity.principal;
    }
    const verdict = await this.evaluate(identity, needs);
    if (verdict === 'scope') throw this.unauthorized(req, needs, 'insufficient scope: the token does not grant this operation', 'insufficient_scope');
    if (verdict === 'denied') {
      if (identity.principal.kind === 'anonymous') throw this.unauthorized(req, needs, 'authentication required');
      authFailure('denied');
      throw new RegistryError('DENIED', { detail: accessDetail(needs) });
    }
    if (mountFrom !== undefined) {
      assertValidName(mountFrom);
      // Without pull on the source the mount must not reveal or copy anything: it becomes a
      // plain upload session (the spec's fallback when a mount cannot be done).
      const source: ScopeGrant[] = [{ type: 'repository', name: mountFrom, actions: ['pull'] }];
      if ((await this.evaluate(identity, source)) !== 'ok') {
        ctx.url.searchParams.delete('mount');
        ctx.url.searchParams.delete('from');
      }
    }
    if (route.kind === 'catalog') ctx.canList = (repository) => this.canList(identity, repository);
    if (route.kind === 'uploads') ctx.canPull = async (repository) => (await this.evaluate(identity, [{ type: 'repository', name: repository, actions: ['pull'] }])) === 'ok';
    // A manifest HEAD under a pull policy is answered to those who may push (signing tools
    // resolve the digest they sign with it); see src/registry/manifests.ts.
    if (route.kind === 'manifest' && ctx.req.method === 'HEAD') ctx.canPush = async (repository) => (await this.evaluate(identity, [{ type: 'repository', name: repository, actions: ['push'] }])) === 'ok';
    return identity.principal;
  }

  /**
   * Authorization outside the /v2 routes for resources named like repositories: the Notary API's
   * GUNs (`host:port/team/app`). A token must carry `needs` as named (the GUN); the
   * AccessController decides on `repositoryOf(name)`. Throws the RegistryError to answer with.
   */
  async authorizeScopes(req: IncomingMessage, needs: ScopeGrant[], repositoryOf: (name: string) => string): Promise<Principal> {
    const identity = await this.identify(req, needs);
    const verdict = await this.evaluate(identity, needs, repositoryOf);
    if (verdict === 'scope') throw this.unauthorized(req, needs, 'insufficient scope: the token does not grant this operation', 'insufficient_scope');
    if (verdict === 'denied') {
      if (identity.principal.kind === 'anonymous') throw this.unauthorized(req, needs, 'authentication required');
      authFailure('denied');
      throw new RegistryError('DENIED', { detail: accessDetail(needs) });
    }
    return identity.principal;
  }

  /** The caller of a non-registry request (the admin API); undefined when anonymous or refused. */
  async authenticate(req: IncomingMessage): Promise<Principal | undefined> {
    try {
      const { principal } = await this.identify(req, []);
      return principal.kind === 'anonymous' ? undefined : principal;
    } catch (e) {
      if (e instanceof RegistryError) return undefined;
      throw e;
    }
  }

  private async identify(req: IncomingMessage, needs: ScopeGrant[]): Promise<Identity> {
    const creds = readCredentials(req);
    switch (creds.kind) {
      case 'none':
        return { principal: anonymous() };
      case 'invalid':
        throw this.unauthorized(req, needs, 'malformed Authorization header', 'invalid_token');
      case 'basic':
        if (!this.o.login) throw this.unauthorized(req, needs, 'this registry takes bearer tokens from its token server, not Basic credentials');
        return { principal: await this.basic(req, creds.username, creds.password) };
      case 'bearer': {
        if (!this.o.bearer) throw this.unauthorized(req, needs, 'this registry takes Basic credentials, not bearer tokens');
        let token: VerifiedToken;
        try {
          token = await this.o.bearer.verifier.verify(creds.token);
        } catch (e) {
          if (!(e instanceof TokenRejected)) throw e;
          this.o.log.info({ remote: clientAddress(req, this.o.trustForwardedFor), reason: e.message }, 'bearer token refused');
          authFailure('token');
          throw this.unauthorized(req, needs, `invalid token: ${e.message}`, 'invalid_token');
        }
        if (token.own) return { ...principalFromClaims(token.subject, token.payload.berth, token.access), token };
        const principal: Principal = { name: token.subject, kind: token.subject ? 'user' : 'anonymous', via: 'external-token', teams: [], admin: false, restrictedTo: token.access };
        return { principal, token };
      }
    }
  }

  private async basic(req: IncomingMessage, username: string, password: string): Promise<Principal> {
    try {
      return (await this.o.login!.login(username, password, clientAddress(req, this.o.trustForwardedFor))).principal;
    } catch (e) {
      if (!(e instanceof LoginError)) throw e;
      const f = e.failure;
      if (f.kind === 'locked') {
        throw new RegistryError('TOOMANYREQUESTS', { message: `too many failed login attempts; try again in ${f.retryAfterS} seconds`, headers: { 'Retry-After': String(f.retryAfterS) } });
      }
      if (f.kind === 'unavailable') throw new RegistryError('UNKNOWN', { status: 503, message: 'authentication backend unavailable; try again later' });
      throw this.unauthorized(req, [], 'invalid username or password');
    }
  }

  /** 'scope': a token lacks it (the client may fetch a better one); 'denied': the AccessController refuses. */
  private async evaluate(identity: Identity, needs: ScopeGrant[], repositoryOf?: (name: string) => string): Promise<Verdict> {
    const { token } = identity;
    let { principal } = identity;
    // A token's scopes name the GUN; the AccessController's checks below are about its repository.
    if (repositoryOf && principal.restrictedTo) principal = { ...principal, restrictedTo: principal.restrictedTo.map((g) => (g.type === 'repository' ? { ...g, name: repositoryOf(g.name) } : g)) };
    for (let need of needs) {
      if (token && !need.actions.every((a) => covers(token.access, need.type, need.name, a))) return 'scope';
      // An external issuer decided already; the token is the grant, as in distribution.
      if (token && !token.own) continue;
      if (need.type === 'registry') {
        if (principal.kind === 'anonymous' || !withinRestriction(principal, 'registry', need.name, '*')) return 'denied';
        continue;
      }
      if (repositoryOf) need = { ...need, name: repositoryOf(need.name) };
      const allowed = new Set(await this.o.access.allowedActions(principal, need.name, need.actions));
      if (!need.actions.every((a) => allowed.has(a) && withinRestriction(principal, 'repository', need.name, a))) return 'denied';
    }
    return 'ok';
  }

  private async canList(identity: Identity, repository: string): Promise<boolean> {
    if (identity.token && !identity.token.own) return true; // the catalog scope was the grant
    const p = identity.forListing ?? identity.principal;
    return withinRestriction(p, 'repository', repository, 'pull') && (await this.o.access.canList(p, repository));
  }

  private unauthorized(req: IncomingMessage, needs: ScopeGrant[], message: string, error?: BearerError): RegistryError {
    const b = this.o.bearer;
    const challenge = b ? bearerChallenge(b.realm(req), b.service, needs, error) : basicChallenge(this.o.basicRealm);
    return new RegistryError('UNAUTHORIZED', { message, ...(needs.length && { detail: accessDetail(needs) }), headers: { 'WWW-Authenticate': challenge } });
  }
}
