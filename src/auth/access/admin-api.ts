// The admin JSON API under /api/v1/ (users, teams, memberships, permissions, namespace visibility,
// personal access tokens, robot accounts, audit log), for the web UI and scripts.
//
// Mounting: call handleAdminApi(req, res, deps) first in the request listener; it answers every
// path under <prefix>/api/v1/ (and returns true), and returns false for anything else, having
// touched nothing. deps.authenticate turns the request into a Principal (session cookie, Basic
// or Bearer: the HTTP layer's choice); this module only authorizes. Errors use the envelope
// {"errors":[{"code","message"}]}. Refused changes are written to the audit log as 'denied'.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthBackendError, type Principal } from '../types.ts';
import { auditRoutes } from './admin/audit.ts';
import { AdminContext, type AdminApiDeps } from './admin/context.ts';
import { ApiError, sendApiError } from './admin/http.ts';
import { permissionRoutes } from './admin/permissions.ts';
import { robotRoutes } from './admin/robots.ts';
import { matchPath, type Route } from './admin/router.ts';
import { teamRoutes } from './admin/teams.ts';
import { tokenRoutes } from './admin/tokens.ts';
import { userRoutes } from './admin/users.ts';
import { errorSummary } from './token-verifier.ts';

export type { AdminApiDeps } from './admin/context.ts';

const ROUTES: Route[] = [...userRoutes, ...teamRoutes, ...permissionRoutes, ...tokenRoutes, ...robotRoutes, ...auditRoutes];
const BASE = '/api/v1';

/** The raw path below <prefix>/api/v1, or undefined when the request is not for this API. */
function apiPath(rawPath: string, prefix: string): string | undefined {
  const p = prefix.replace(/\/+$/, '');
  let path = rawPath;
  if (p) {
    if (path !== p && !path.startsWith(`${p}/`)) return undefined;
    path = path.slice(p.length) || '/';
  }
  if (path !== BASE && !path.startsWith(`${BASE}/`)) return undefined;
  return path.slice(BASE.length);
}

/** Decoded segments; a trailing slash is ignored. Throws URIError on malformed percent-encoding. */
function segmentsOf(path: string): string[] {
  const parts = path.split('/').slice(1);
  if (parts.length && parts[parts.length - 1] === '') parts.pop();
  return parts.map((s) => decodeURIComponent(s));
}

export async function handleAdminApi(req: IncomingMessage, res: ServerResponse, deps: AdminApiDeps): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://admin.invalid');
  const path = apiPath(url.pathname, deps.prefix ?? '');
  if (path === undefined) return false;
  let route: Route | undefined;
  let principal: Principal | undefined;
  try {
    let segments: string[];
    try {
      segments = segmentsOf(path);
    } catch {
      throw new ApiError('INVALID', 'malformed percent-encoding in path');
    }
    const matching = ROUTES.flatMap((r) => {
      const params = matchPath(r.path, segments);
      return params ? [{ r, params }] : [];
    });
    if (matching.length === 0) throw new ApiError('NOT_FOUND', 'no such API endpoint');
    const hit = matching.find((x) => x.r.method === req.method);
    if (!hit) {
      const allow = [...new Set(matching.map((x) => x.r.method))].join(', ');
      throw new ApiError('METHOD_NOT_ALLOWED', `use ${allow}`, { Allow: allow });
    }
    route = hit.r;
    principal = await authenticate(req, deps);
    await route.handler(new AdminContext(req, res, url, hit.params, principal, deps));
  } catch (e) {
    const err = asApiError(e, deps, req, url);
    if (err.code === 'DENIED' && principal && route?.action && req.method !== 'GET') recordDenied(req, url, deps, principal, route.action, err);
    sendApiError(res, err);
  } finally {
    // Whatever body a handler did not read, so the connection can be reused.
    if (!req.readableEnded && !req.destroyed) req.resume();
  }
  return true;
}

async function authenticate(req: IncomingMessage, deps: AdminApiDeps): Promise<Principal> {
  let principal: Principal | undefined;
  try {
    principal = await deps.authenticate(req);
  } catch (e) {
    if (e instanceof AuthBackendError) throw new ApiError('UNAVAILABLE', 'authentication backend unavailable');
    throw e;
  }
  if (!principal || principal.kind === 'anonymous') {
    throw new ApiError('UNAUTHORIZED', 'sign in to use this API', deps.challenge ? { 'WWW-Authenticate': deps.challenge } : {});
  }
  if (principal.kind === 'robot') throw new ApiError('DENIED', 'robot accounts cannot use the admin API');
  return principal;
}

function asApiError(e: unknown, deps: AdminApiDeps, req: IncomingMessage, url: URL): ApiError {
  if (e instanceof ApiError) return e;
  deps.log?.error({ err: errorSummary(e), method: req.method, path: url.pathname }, 'admin API request failed');
  return new ApiError('INTERNAL', 'internal error');
}

/** A refused change goes to the audit log: attempts to raise one's rights are worth seeing. */
function recordDenied(req: IncomingMessage, url: URL, deps: AdminApiDeps, principal: Principal, action: string, err: ApiError): void {
  deps.services.audit.record({
    actor: principal.name,
    actorKind: principal.kind,
    clientAddress: deps.clientAddress?.(req) ?? req.socket.remoteAddress ?? null,
    action,
    outcome: 'denied',
    details: { method: req.method, path: url.pathname, reason: err.message },
  });
}
