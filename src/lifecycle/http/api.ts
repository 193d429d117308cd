// The lifecycle part of the admin JSON API under <prefix>/api/v1/: garbage collection, retention,
// immutable tags, quotas and usage, and the pull policies and notifications that share its
// conventions. Each concern lists its routes in its own file; this module
// matches them and renders errors in the admin API's envelope {"errors":[{"code","message"}]}.
// handleLifecycleApi answers (and returns true) only for paths some route here knows, so the
// access-control admin API (src/auth/access/admin-api.ts) still answers everything else.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, sendApiError } from '../../auth/access/admin/http.ts';
import { matchPath } from '../../auth/access/admin/router.ts';
import { LifecycleContext, type LifecycleApiDeps } from './context.ts';
import { gcRoutes } from './gc-routes.ts';
import { retentionRoutes } from './retention-routes.ts';
import { immutableTagRoutes } from './immutable-routes.ts';
import { quotaRoutes } from './quota-routes.ts';
import { trustPolicyRoutes } from '../../trust/policy/http.ts';
import { notificationRoutes } from '../../events/http/api.ts';
import type { LifecycleRoute } from './route.ts';
import { LeaseBusyError } from '../jobs.ts';

const ROUTES: LifecycleRoute[] = [...gcRoutes, ...retentionRoutes, ...immutableTagRoutes, ...quotaRoutes, ...trustPolicyRoutes, ...notificationRoutes];
const BASE = '/api/v1';

function segmentsOf(pathname: string, prefix: string): string[] | undefined {
  const p = prefix.replace(/\/+$/, '');
  let path = pathname;
  if (p) {
    if (!path.startsWith(`${p}/`)) return undefined;
    path = path.slice(p.length);
  }
  if (!path.startsWith(`${BASE}/`)) return undefined;
  const parts = path.slice(BASE.length).split('/').slice(1);
  if (parts.length && parts[parts.length - 1] === '') parts.pop();
  try {
    return parts.map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

export async function handleLifecycleApi(req: IncomingMessage, res: ServerResponse, deps: LifecycleApiDeps): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://lifecycle.invalid');
  const segments = segmentsOf(url.pathname, deps.prefix);
  if (!segments) return false;
  const matching = ROUTES.flatMap((r) => {
    const params = matchPath(r.path, segments);
    return params ? [{ r, params }] : [];
  });
  if (matching.length === 0) return false;
  try {
    const hit = matching.find((x) => x.r.method === req.method);
    if (!hit) {
      const allow = [...new Set(matching.map((x) => x.r.method))].join(', ');
      throw new ApiError('METHOD_NOT_ALLOWED', `use ${allow}`, { Allow: allow });
    }
    const caller = await deps.caller(req);
    await hit.r.handler(new LifecycleContext(req, res, url, hit.params, caller, deps));
  } catch (e) {
    if (e instanceof ApiError) sendApiError(res, e);
    // Another run holds a job's lease (gc, retention).
    else if (e instanceof LeaseBusyError) sendApiError(res, new ApiError('CONFLICT', e.message));
    else {
      deps.services.log.error({ err: e, method: req.method, path: url.pathname }, 'lifecycle API request failed');
      sendApiError(res, new ApiError('INTERNAL', 'internal error'));
    }
  } finally {
    if (!req.readableEnded && !req.destroyed) req.resume();
  }
  return true;
}
