// One admin API request: who asks (an authenticated Principal), what they sent, and the
// authorization questions every route asks. Rules, in one place:
//  - site administrators may do everything (a scoped credential, e.g. a PAT, never counts as one);
//  - an admin of a namespace or repository (admin role there) manages its grants, visibility,
//    robots and audit events, and nothing outside it;
//  - every signed-in user manages their own tokens and profile;
//  - robots and anonymous callers get nothing.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditEventInput, Scope } from '../../../metadata/access/store.ts';
import type { Principal } from '../../types.ts';
import type { AccessServices } from '../index.ts';
import type { LoggerLike } from '../token-verifier.ts';
import { ApiError, denied, JsonApiRequest } from './http.ts';
import { mayCreateCredentials } from './operations.ts';

export interface AdminApiDeps {
  services: AccessServices;
  /** The caller's principal from the request (session, Basic or Bearer); undefined = not signed in. */
  authenticate(req: IncomingMessage): Promise<Principal | undefined>;
  /** Path prefix in front of /api/v1 (config http.prefix); default none. */
  prefix?: string;
  /** WWW-Authenticate value sent with 401 answers. */
  challenge?: string;
  /** The client's address for the audit log (behind a proxy: from X-Forwarded-For); default the socket's. */
  clientAddress?(req: IncomingMessage): string | undefined;
  /** bcrypt cost for local passwords; default 12. */
  bcryptRounds?: number;
  /** Unexpected failures are logged here (message and code only; never a request body). */
  log?: LoggerLike;
}

export class AdminContext extends JsonApiRequest {
  private siteAdminAnswer: Promise<boolean> | undefined;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    params: Record<string, string>,
    readonly principal: Principal,
    readonly deps: AdminApiDeps,
  ) {
    super(req, res, url, params);
  }

  get services(): AccessServices {
    return this.deps.services;
  }

  get store() {
    return this.deps.services.store;
  }

  isSiteAdmin(): Promise<boolean> {
    return (this.siteAdminAnswer ??= this.services.controller.isSiteAdmin(this.principal));
  }

  async requireSiteAdmin(): Promise<void> {
    if (!(await this.isSiteAdmin())) throw denied('site administrators only');
  }

  /** Admin of the namespace or repository (or of a namespace around it), or site admin. */
  async canAdminister(scope: Scope): Promise<boolean> {
    return (await this.isSiteAdmin()) || this.services.controller.canAdminister(this.principal, scope);
  }

  async requireAdminOf(scope: Scope): Promise<void> {
    if (!(await this.canAdminister(scope))) throw denied(`requires the admin role on ${scope.kind} ${scope.name}`);
  }

  isSelf(name: string): boolean {
    return this.principal.kind === 'user' && this.principal.name === name;
  }

  async requireSelfOrSiteAdmin(name: string): Promise<void> {
    if (!this.isSelf(name) && !(await this.isSiteAdmin())) throw denied();
  }

  /** Creating credentials needs a full sign-in: a scoped token must not mint a broader one. */
  requireUnrestricted(): void {
    if (!mayCreateCredentials(this.principal)) {
      throw denied('a personal access token or scoped token cannot create credentials; sign in with your password');
    }
  }

  clientAddress(): string | null {
    return this.deps.clientAddress?.(this.req) ?? this.req.socket.remoteAddress ?? null;
  }

  /** Records a change made through the API; then the short-lived caches are dropped. */
  changed(event: Omit<AuditEventInput, 'actor' | 'actorKind' | 'clientAddress' | 'outcome'> & { outcome?: AuditEventInput['outcome'] }): void {
    this.services.audit.record({ outcome: 'success', ...event, ...this.actor() });
    this.services.invalidate();
  }

  actor(): Pick<AuditEventInput, 'actor' | 'actorKind' | 'clientAddress'> {
    return { actor: this.principal.name, actorKind: this.principal.kind, clientAddress: this.clientAddress() };
  }
}

export function invalidInput(message: string): ApiError {
  return new ApiError('INVALID', message);
}
