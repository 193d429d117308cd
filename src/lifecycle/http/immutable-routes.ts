// Immutable tag rules (src/lifecycle/immutable-tags.ts). GET /api/v1/immutabletags lists every rule,
// from config.yml and from this API (site administrators). Per namespace (admins of it):
// GET/PUT/DELETE /api/v1/immutabletags/<namespace>, body {"tags": ["^v[0-9]+\\.", ...]}: regular
// expressions matched against whole tags, in every repository of the namespace and below.
import { ApiError } from '../../auth/access/admin/http.ts';
import { describeImmutableRule, type ImmutableRule } from '../immutable-tags.ts';
import { immutableRuleBody as ruleBody } from '../rule-bodies.ts';
import type { LifecycleContext } from './context.ts';
import { administeredNamespace } from './rule-helpers.ts';
import type { LifecycleRoute } from './route.ts';

function show(rule: ImmutableRule): Record<string, unknown> {
  return {
    source: rule.source,
    ...(rule.index !== undefined && { index: rule.index }),
    ...(rule.namespace !== undefined && { namespace: rule.namespace }),
    repositories: rule.repositories,
    tags: rule.tags,
    description: describeImmutableRule(rule),
    ...(rule.updatedAt !== undefined && { updatedAt: new Date(rule.updatedAt).toISOString(), updatedBy: rule.updatedBy ?? null }),
  };
}

async function namespaceRule(ctx: LifecycleContext, namespace: string): Promise<ImmutableRule | undefined> {
  return (await ctx.services.immutableTags.rules()).find((r) => r.source === 'api' && r.namespace === namespace);
}

export const immutableTagRoutes: LifecycleRoute[] = [
  {
    method: 'GET',
    path: '/immutabletags',
    async handler(ctx) {
      await ctx.requireSiteAdmin();
      ctx.send(200, { rules: (await ctx.services.immutableTags.rules()).map(show) });
    },
  },
  {
    method: 'GET',
    path: '/immutabletags/*namespace',
    async handler(ctx) {
      const namespace = await administeredNamespace(ctx);
      const rule = await namespaceRule(ctx, namespace);
      if (!rule) throw new ApiError('NOT_FOUND', `no immutable tag rule for namespace ${namespace}`);
      ctx.send(200, show(rule));
    },
  },
  {
    method: 'PUT',
    path: '/immutabletags/*namespace',
    async handler(ctx) {
      const namespace = await administeredNamespace(ctx);
      const body = await ctx.body(ruleBody);
      const rules = ctx.services.immutableTags;
      await rules.namespaceRules.put(namespace, { tags: body.tags }, ctx.actorName);
      ctx.send(200, show((await namespaceRule(ctx, namespace))!));
    },
  },
  {
    method: 'DELETE',
    path: '/immutabletags/*namespace',
    async handler(ctx) {
      const namespace = await administeredNamespace(ctx);
      if (!(await ctx.services.immutableTags.namespaceRules.delete(namespace))) throw new ApiError('NOT_FOUND', `no immutable tag rule for namespace ${namespace}`);
      ctx.send(204, null);
    },
  },
];
