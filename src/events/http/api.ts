// The notifications part of the admin JSON API under <prefix>/api/v1/notifications/ (site
// administrators; no authentication configured = open, as /v2 is), with the lifecycle API's
// conventions (src/lifecycle/http/): errors as {"errors":[{"code","message"}]}.
//
//   GET    /api/v1/notifications/endpoints                each endpoint: cursor, backlog, failures, last error, lease, dead letters
//   GET    /api/v1/notifications/deadletters?endpoint=&last=&n=   oldest first; `next` names the following page's `last`
//   GET    /api/v1/notifications/deadletters/:id
//   POST   /api/v1/notifications/deadletters/:id/retry    queues it again for its endpoint (same event id)
//   POST   /api/v1/notifications/deadletters/retry        body {"endpoint"?: name, "ids"?: [..]}: many at once (all of an endpoint, or all)
//   DELETE /api/v1/notifications/deadletters/:id
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ApiError, sendApiError } from '../../auth/access/admin/http.ts';
import { matchPath } from '../../auth/access/admin/router.ts';
import { LifecycleContext, type LifecycleApiDeps } from '../../lifecycle/http/context.ts';
import type { LifecycleRoute } from '../../lifecycle/http/route.ts';
import type { DeadLetter } from '../../metadata/events/store.ts';

const BASE = '/api/v1/notifications';
const MAX_PAGE = 1000;

function show(d: DeadLetter): Record<string, unknown> {
  let event: unknown = d.body;
  try {
    event = JSON.parse(d.body);
  } catch {
    // kept as text
  }
  return {
    id: d.id,
    endpoint: d.endpoint,
    eventId: d.eventId,
    queuedAt: new Date(d.createdAt).toISOString(),
    failedAt: new Date(d.failedAt).toISOString(),
    attempts: d.attempts,
    lastError: d.lastError,
    event,
  };
}

function idParam(ctx: LifecycleContext): number {
  const id = Number(ctx.params.id);
  if (!Number.isSafeInteger(id) || id <= 0) throw new ApiError('NOT_FOUND', 'no such dead letter');
  return id;
}

const routes: LifecycleRoute[] = [
  {
    method: 'GET',
    path: '/endpoints',
    async handler(ctx) {
      await ctx.requireSiteAdmin();
      const store = ctx.services.metadata.events;
      const configured = new Map((ctx.services.config.notifications?.endpoints ?? []).map((e) => [e.name, e]));
      const known = await store.endpoints();
      const rows = [];
      for (const s of known) {
        const e = configured.get(s.name);
        rows.push({
          name: s.name,
          configured: !!e,
          ...(e && { url: e.url, disabled: e.disabled }),
          backlog: s.backlog,
          failures: s.failures,
          ...(s.nextAttemptAt > Date.now() && { nextAttemptAt: new Date(s.nextAttemptAt).toISOString() }),
          lastError: s.lastError,
          lastSuccessAt: s.lastSuccessAt ? new Date(s.lastSuccessAt).toISOString() : null,
          deliveredBy: s.holder && s.leaseUntil > Date.now() ? s.holder : null,
          deadLetters: await store.deadLetterCount(s.name),
        });
      }
      ctx.send(200, { endpoints: rows });
    },
  },
  {
    method: 'GET',
    path: '/deadletters',
    async handler(ctx) {
      await ctx.requireSiteAdmin();
      const q = ctx.query(
        z.object({
          endpoint: z.string().min(1).optional(),
          last: z.coerce.number().int().min(0).optional(),
          n: z.coerce.number().int().min(1).max(MAX_PAGE).optional(),
        }),
      );
      const limit = q.n ?? 100;
      const rows = await ctx.services.metadata.events.deadLetters({ ...(q.endpoint && { endpoint: q.endpoint }), ...(q.last !== undefined && { after: q.last }), limit: limit + 1 });
      const page = rows.slice(0, limit);
      ctx.send(200, { deadLetters: page.map(show), ...(rows.length > limit && { next: page[page.length - 1]!.id }) });
    },
  },
  {
    method: 'POST',
    path: '/deadletters/retry',
    async handler(ctx) {
      await ctx.requireSiteAdmin();
      const body = await ctx.body(z.object({ endpoint: z.string().min(1).optional(), ids: z.array(z.number().int().positive()).max(10_000).optional() }).strict());
      const store = ctx.services.metadata.events;
      let retried = 0;
      if (body.ids) retried = await store.retryDeadLetters(body.ids);
      else {
        // Page by page, oldest first, so the endpoint gets them in their original order.
        for (;;) {
          const page = await store.deadLetters({ ...(body.endpoint && { endpoint: body.endpoint }), limit: 500 });
          if (page.length === 0) break;
          retried += await store.retryDeadLetters(page.map((d) => d.id));
        }
      }
      ctx.services.events?.delivery?.wake();
      ctx.send(200, { retried });
    },
  },
  {
    method: 'GET',
    path: '/deadletters/:id',
    async handler(ctx) {
      await ctx.requireSiteAdmin();
      const d = await ctx.services.metadata.events.deadLetterById(idParam(ctx));
      if (!d) throw new ApiError('NOT_FOUND', 'no such dead letter');
      ctx.send(200, show(d));
    },
  },
  {
    method: 'POST',
    path: '/deadletters/:id/retry',
    async handler(ctx) {
      await ctx.requireSiteAdmin();
      if ((await ctx.services.metadata.events.retryDeadLetters([idParam(ctx)])) === 0) throw new ApiError('NOT_FOUND', 'no such dead letter');
      ctx.services.events?.delivery?.wake();
      ctx.send(200, { retried: 1 });
    },
  },
  {
    method: 'DELETE',
    path: '/deadletters/:id',
    async handler(ctx) {
      await ctx.requireSiteAdmin();
      if ((await ctx.services.metadata.events.deleteDeadLetters([idParam(ctx)])) === 0) throw new ApiError('NOT_FOUND', 'no such dead letter');
      ctx.send(204, null);
    },
  },
];

function segmentsOf(pathname: string, prefix: string): string[] | undefined {
  const p = prefix.replace(/\/+$/, '');
  let path = pathname;
  if (p) {
    if (!path.startsWith(`${p}/`)) return undefined;
    path = path.slice(p.length);
  }
  if (path !== BASE && !path.startsWith(`${BASE}/`)) return undefined;
  const parts = path.slice(BASE.length).split('/').slice(1);
  if (parts.length && parts[parts.length - 1] === '') parts.pop();
  try {
    return parts.map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

/** Answers (and returns true) for the paths above; anything else is left to the other APIs. */
export async function handleNotificationsApi(req: IncomingMessage, res: ServerResponse, deps: LifecycleApiDeps): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://notifications.invalid');
  const segments = segmentsOf(url.pathname, deps.prefix);
  if (!segments) return false;
  const matching = routes.flatMap((r) => {
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
    else {
      deps.services.log.error({ err: e, method: req.method, path: url.pathname }, 'notifications API request failed');
      sendApiError(res, new ApiError('INTERNAL', 'internal error'));
    }
  } finally {
    if (!req.readableEnded && !req.destroyed) req.resume();
  }
  return true;
}
