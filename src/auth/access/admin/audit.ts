// /api/v1/audit: the audit log, newest first, with filters (actor, repository, namespace, action,
// from/to) and an opaque cursor. Site administrators see everything; a namespace or repository
// admin sees the events of what they administer; everyone sees their own (actor=<self>).
import type { AuditFilter } from '../../../metadata/access/store.ts';
import type { AdminContext } from './context.ts';
import { ApiError, denied } from './http.ts';
import type { Route } from './router.ts';
import { auditQuery } from './schemas.ts';

async function query(ctx: AdminContext): Promise<void> {
  const q = ctx.query(auditQuery);
  const allowed =
    (await ctx.isSiteAdmin()) ||
    (q.actor !== undefined && ctx.isSelf(q.actor)) ||
    (q.namespace !== undefined && (await ctx.canAdminister({ kind: 'namespace', name: q.namespace }))) ||
    (q.repository !== undefined && (await ctx.canAdminister({ kind: 'repository', name: q.repository })));
  if (!allowed) throw denied('filter by a namespace or repository you administer, or by actor=<yourself>');
  const filter: AuditFilter = {
    ...(q.actor !== undefined && { actor: q.actor }),
    ...(q.repository !== undefined && { repository: q.repository }),
    ...(q.namespace !== undefined && { namespace: q.namespace }),
    ...(q.action !== undefined && { action: q.action }),
    ...(q.from !== undefined && { from: new Date(q.from) }),
    ...(q.to !== undefined && { to: new Date(q.to) }),
  };
  // Events recorded a moment ago are still buffered; the reader expects to see them.
  await ctx.services.audit.flush();
  try {
    const page = await ctx.services.audit.query(filter, { limit: q.limit, ...(q.cursor !== undefined && { cursor: q.cursor }) });
    ctx.send(200, page);
  } catch (e) {
    if (e instanceof RangeError) throw new ApiError('INVALID', 'cursor: not a cursor from this API');
    throw e;
  }
}

export const auditRoutes: Route[] = [{ method: 'GET', path: '/audit', handler: query }];
