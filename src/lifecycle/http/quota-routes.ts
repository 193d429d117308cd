// Storage quotas (src/lifecycle/quotas.ts) and usage. GET /api/v1/quotas lists every quota, from
// config.yml and from this API, with its usage (site administrators). Per namespace (admins of it):
// GET/PUT/DELETE /api/v1/quotas/<namespace>, body {"limit": "50GiB"} (or a number of bytes),
// covering the namespace and every repository below it. GET /api/v1/usage[?namespace=NS]: usage
// per namespace and repository with the quotas concerned (site administrators; admins of NS).
import { z } from 'zod';
import { ApiError } from '../../auth/access/admin/http.ts';
import { isValidName } from '../../oci/reference.ts';
import { formatBytes, type QuotaScope } from '../quotas.ts';
import { quotaEntry, usageReport } from '../usage-report.ts';
import { parseQuotaLimit, QuotaLimitError, quotaBody } from '../rule-bodies.ts';
import type { LifecycleContext } from './context.ts';
import { administeredNamespace } from './rule-helpers.ts';
import type { LifecycleRoute } from './route.ts';

async function namespaceScope(ctx: LifecycleContext, namespace: string): Promise<QuotaScope> {
  const scope = (await ctx.services.quotas.scopes()).find((s) => s.source === 'api' && s.namespace === namespace);
  if (!scope) throw new ApiError('NOT_FOUND', `no quota for namespace ${namespace}`);
  return scope;
}

async function show(ctx: LifecycleContext, scope: QuotaScope): Promise<Record<string, unknown>> {
  const entry = await quotaEntry(ctx.services.quotas, scope);
  return { ...entry, limit: formatBytes(entry.limitBytes), used: formatBytes(entry.usedBytes) };
}

export const quotaRoutes: LifecycleRoute[] = [
  {
    method: 'GET',
    path: '/quotas',
    async handler(ctx) {
      await ctx.requireSiteAdmin();
      const quotas = ctx.services.quotas;
      ctx.send(200, { quotas: await Promise.all((await quotas.scopes()).map((s) => show(ctx, s))) });
    },
  },
  {
    method: 'GET',
    path: '/quotas/*namespace',
    async handler(ctx) {
      const namespace = await administeredNamespace(ctx);
      ctx.send(200, await show(ctx, await namespaceScope(ctx, namespace)));
    },
  },
  {
    method: 'PUT',
    path: '/quotas/*namespace',
    async handler(ctx) {
      const namespace = await administeredNamespace(ctx);
      const body = await ctx.body(quotaBody);
      let limitBytes: number;
      try {
        limitBytes = parseQuotaLimit(body.limit);
      } catch (e) {
        if (e instanceof QuotaLimitError) throw new ApiError('INVALID', e.message);
        throw e;
      }
      await ctx.services.quotas.namespaceRules.put(namespace, { limitBytes }, ctx.actorName);
      ctx.send(200, await show(ctx, await namespaceScope(ctx, namespace)));
    },
  },
  {
    method: 'DELETE',
    path: '/quotas/*namespace',
    async handler(ctx) {
      const namespace = await administeredNamespace(ctx);
      if (!(await ctx.services.quotas.namespaceRules.delete(namespace))) throw new ApiError('NOT_FOUND', `no quota for namespace ${namespace}`);
      ctx.send(204, null);
    },
  },
  {
    method: 'GET',
    path: '/usage',
    async handler(ctx) {
      const { namespace } = ctx.query(z.object({ namespace: z.string().min(1).max(255).optional() }));
      if (namespace === undefined) await ctx.requireSiteAdmin();
      else {
        if (!isValidName(namespace)) throw new ApiError('INVALID', 'namespace: not a valid repository namespace');
        await ctx.requireAdminOf(namespace);
      }
      ctx.send(200, await usageReport(ctx.services.quotas, ctx.services.metadata.lifecycle.usage, namespace));
    },
  },
];
