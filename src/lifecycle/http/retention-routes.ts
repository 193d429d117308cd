// Retention policies through the admin API:
//   GET    /api/v1/retention              the config's policies and every namespace's (site admins)
//   GET    /api/v1/retention/<namespace>  one namespace's policy (its admins)
//   PUT    /api/v1/retention/<namespace>  sets it: {deleteUntagged, deleteReferrers, keepTags: [...]}
//   DELETE /api/v1/retention/<namespace>  removes it
//   POST   /api/v1/retention/preview      {namespace?}: what a run would delete now, deleting nothing
//   POST   /api/v1/retention/run          {namespace?, dryRun?}: runs now and answers with the report
// A namespace policy covers `<namespace>/**` and takes precedence over berth.retention.policies
// there. Without a namespace, preview and run are for site administrators.
import { z } from 'zod';
import { isValidName } from '../../oci/reference.ts';
import { ApiError } from '../../auth/access/admin/http.ts';
import type { RetentionRunner } from '../retention-runner.ts';
import { formatDuration } from '../retention-policy.ts';
import { namespacePolicyBody, policyToJson } from '../retention-rules.ts';
import type { LifecycleContext } from './context.ts';
import type { LifecycleRoute } from './route.ts';
import { administeredNamespace } from './rule-helpers.ts';

const KIND = 'retention';

function runner(ctx: LifecycleContext): RetentionRunner {
  const retention = ctx.deps.jobs.retention as RetentionRunner | undefined;
  if (!retention) throw new ApiError('UNAVAILABLE', 'retention is not available in this process');
  return retention;
}

const scopeBody = z
  .object({
    namespace: z.string().refine((n) => isValidName(n.replace(/\/+$/, '')), 'not a valid namespace').optional(),
  })
  .strict();

const runBody = scopeBody.extend({ dryRun: z.boolean().optional() }).strict();

/** Who may preview or run: a namespace's admins for their namespace, site administrators for everything. */
async function authorizeScope(ctx: LifecycleContext, namespace: string | undefined): Promise<string | undefined> {
  if (namespace === undefined) {
    await ctx.requireSiteAdmin();
    return undefined;
  }
  const ns = namespace.replace(/\/+$/, '');
  await ctx.requireAdminOf(ns);
  return ns;
}

export const retentionRoutes: LifecycleRoute[] = [
  {
    method: 'GET',
    path: '/retention',
    async handler(ctx) {
      await ctx.requireSiteAdmin();
      const settings = ctx.services.config.berth.lifecycle.retention;
      const rules = await ctx.services.metadata.lifecycle.rules(KIND);
      const last = (ctx.deps.jobs.retention as RetentionRunner | undefined)?.lastRun;
      ctx.send(200, {
        dryrun: settings.dryrun,
        interval: formatDuration(settings.intervalMs),
        policies: settings.policies.map(policyToJson),
        namespaces: rules.map((r) => ({ namespace: r.namespace, policy: r.body, updatedAt: new Date(r.updatedAt).toISOString(), updatedBy: r.updatedBy })),
        ...(last && {
          lastRun: { id: last.id, trigger: last.trigger, dryRun: last.dryRun, status: last.status, startedAt: last.startedAt, finishedAt: last.finishedAt, tagsDeleted: last.tagsDeleted, manifestsDeleted: last.manifestsDeleted },
        }),
      });
    },
  },
  {
    method: 'POST',
    path: '/retention/preview',
    async handler(ctx) {
      const body = await ctx.body(scopeBody);
      const namespace = await authorizeScope(ctx, body.namespace);
      ctx.send(200, await runner(ctx).preview(namespace === undefined ? {} : { namespace }));
    },
  },
  {
    method: 'POST',
    path: '/retention/run',
    async handler(ctx) {
      const body = await ctx.body(runBody);
      const namespace = await authorizeScope(ctx, body.namespace);
      // A busy lease rejects with RetentionBusyError: 409 (api.ts).
      ctx.send(200, await runner(ctx).run({ trigger: 'api', ...(namespace !== undefined && { namespace }), ...(body.dryRun !== undefined && { dryRun: body.dryRun }) }));
    },
  },
  {
    method: 'GET',
    path: '/retention/*namespace',
    async handler(ctx) {
      const namespace = await administeredNamespace(ctx);
      const rule = (await ctx.services.metadata.lifecycle.rules(KIND)).find((r) => r.namespace === namespace);
      if (!rule) throw new ApiError('NOT_FOUND', `no retention policy for namespace ${namespace}`);
      ctx.send(200, { namespace, policy: rule.body, updatedAt: new Date(rule.updatedAt).toISOString(), updatedBy: rule.updatedBy });
    },
  },
  {
    method: 'PUT',
    path: '/retention/*namespace',
    async handler(ctx) {
      const namespace = await administeredNamespace(ctx);
      const policy = policyToJson(await ctx.body(namespacePolicyBody));
      await ctx.services.metadata.lifecycle.putRule(KIND, namespace, policy, ctx.actorName);
      ctx.send(200, { namespace, policy });
    },
  },
  {
    method: 'DELETE',
    path: '/retention/*namespace',
    async handler(ctx) {
      const namespace = await administeredNamespace(ctx);
      if (!(await ctx.services.metadata.lifecycle.deleteRule(KIND, namespace))) throw new ApiError('NOT_FOUND', `no retention policy for namespace ${namespace}`);
      ctx.send(204, null);
    },
  },
];
