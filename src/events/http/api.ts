// The notifications part of the admin JSON API, served with the lifecycle routes
// (src/lifecycle/http/api.ts: the same mount, errors {"errors":[{"code","message"}]}, and caller
// rules; site administrators only, open when no authentication is configured, as /v2 is):
//
//   GET    /api/v1/notifications/endpoints                each endpoint: backlog, failures, last error, lease, dead letters
//   GET    /api/v1/notifications/deadletters?endpoint=&last=&n=   oldest first; `next` names the following page's `last`
//   GET    /api/v1/notifications/deadletters/:id
//   POST   /api/v1/notifications/deadletters/:id/retry    queues it again for its endpoint (same event id)
//   POST   /api/v1/notifications/deadletters/retry        body {"endpoint"?: name, "ids"?: [..]}: many at once (all of an endpoint, or all)
//   DELETE /api/v1/notifications/deadletters/:id
// The console's notifications page asks the same questions (src/events/admin.ts).
import { z } from 'zod';
import { ApiError } from '../../auth/access/admin/http.ts';
import type { LifecycleContext } from '../../lifecycle/http/context.ts';
import type { LifecycleRoute } from '../../lifecycle/http/route.ts';
import type { DeadLetter } from '../../metadata/events/store.ts';
import { deadLetterEvent, deadLetterPage, deleteDeadLetter, endpointStatuses, retryAllDeadLetters, retryDeadLetters } from '../admin.ts';

const MAX_PAGE = 1000;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function show(d: DeadLetter): Record<string, unknown> {
  return {
    id: d.id,
    endpoint: d.endpoint,
    eventId: d.eventId,
    queuedAt: iso(d.createdAt),
    failedAt: iso(d.failedAt),
    attempts: d.attempts,
    lastError: d.lastError,
    event: deadLetterEvent(d),
  };
}

function idParam(ctx: LifecycleContext): number {
  const id = Number(ctx.params.id);
  if (!Number.isSafeInteger(id) || id <= 0) throw new ApiError('NOT_FOUND', 'no such dead letter');
  return id;
}

export const notificationRoutes: LifecycleRoute[] = [
  {
    method: 'GET',
    path: '/notifications/endpoints',
    async handler(ctx) {
      await ctx.requireSiteAdmin();
      const rows = (await endpointStatuses(ctx.services)).map(({ nextAttemptAt, lastSuccessAt, ...s }) => ({
        ...s,
        ...(nextAttemptAt !== null && { nextAttemptAt: iso(nextAttemptAt) }),
        lastSuccessAt: iso(lastSuccessAt),
      }));
      ctx.send(200, { endpoints: rows });
    },
  },
  {
    method: 'GET',
    path: '/notifications/deadletters',
    async handler(ctx) {
      await ctx.requireSiteAdmin();
      const q = ctx.query(
        z.object({
          endpoint: z.string().min(1).optional(),
          last: z.coerce.number().int().min(0).optional(),
          n: z.coerce.number().int().min(1).max(MAX_PAGE).optional(),
        }),
      );
      const page = await deadLetterPage(ctx.services, { ...(q.endpoint && { endpoint: q.endpoint }), ...(q.last !== undefined && { after: q.last }), limit: q.n ?? 100 });
      ctx.send(200, { deadLetters: page.letters.map(show), ...(page.next !== undefined && { next: page.next }) });
    },
  },
  {
    method: 'POST',
    path: '/notifications/deadletters/retry',
    async handler(ctx) {
      await ctx.requireSiteAdmin();
      const body = await ctx.body(z.object({ endpoint: z.string().min(1).optional(), ids: z.array(z.number().int().positive()).max(10_000).optional() }).strict());
      const retried = body.ids ? await retryDeadLetters(ctx.services, body.ids) : await retryAllDeadLetters(ctx.services, body.endpoint);
      ctx.send(200, { retried });
    },
  },
  {
    method: 'GET',
    path: '/notifications/deadletters/:id',
    async handler(ctx) {
      await ctx.requireSiteAdmin();
      const d = await ctx.services.metadata.events.deadLetterById(idParam(ctx));
      if (!d) throw new ApiError('NOT_FOUND', 'no such dead letter');
      ctx.send(200, show(d));
    },
  },
  {
    method: 'POST',
    path: '/notifications/deadletters/:id/retry',
    async handler(ctx) {
      await ctx.requireSiteAdmin();
      if ((await retryDeadLetters(ctx.services, [idParam(ctx)])) === 0) throw new ApiError('NOT_FOUND', 'no such dead letter');
      ctx.send(200, { retried: 1 });
    },
  },
  {
    method: 'DELETE',
    path: '/notifications/deadletters/:id',
    async handler(ctx) {
      await ctx.requireSiteAdmin();
      if (!(await deleteDeadLetter(ctx.services, idParam(ctx)))) throw new ApiError('NOT_FOUND', 'no such dead letter');
      ctx.send(204, null);
    },
  },
];
