// Pull policies through the admin API (served with the lifecycle routes, same authorization):
//   GET    /api/v1/trust/policies              every policy, from config.yml and this API (site admins)
//   GET    /api/v1/trust/policies/<namespace>  one namespace's policy (its admins)
//   PUT    /api/v1/trust/policies/<namespace>  sets it: {"require": "cosign"|"gpg"|"notary"|"any",
//          "keys": ["-----BEGIN PUBLIC KEY-----…", "-----BEGIN PGP PUBLIC KEY BLOCK-----…"],
//          "notaryroles": ["targets", "targets/releases"]}; the keys are the keys' text, not paths
//   DELETE /api/v1/trust/policies/<namespace>  removes it
// A namespace policy covers `<namespace>/**` and applies on top of the config's policies.
import { ApiError } from '../../auth/access/admin/http.ts';
import type { LifecycleContext } from '../../lifecycle/http/context.ts';
import type { LifecycleRoute } from '../../lifecycle/http/route.ts';
import { administeredNamespace } from '../../lifecycle/http/rule-helpers.ts';
import { keysFromTexts, PolicyKeyError } from './keys.ts';
import type { TrustPolicy } from './policy.ts';
import { describeRule, missingKeys, trustNamespaceBody, type CompiledRule } from './rules.ts';

function policyOf(ctx: LifecycleContext): TrustPolicy {
  const trust = ctx.services.trust;
  if (!trust) throw new ApiError('UNAVAILABLE', 'the pull policy is not available in this process');
  return trust;
}

function show(rule: CompiledRule): Record<string, unknown> {
  const keys = rule.keySet();
  return {
    source: rule.source,
    ...(rule.index !== undefined && { index: rule.index }),
    ...(rule.namespace !== undefined && { namespace: rule.namespace }),
    repositories: rule.repositories,
    require: rule.require,
    // Config rules name files; API rules hold the keys (public keys: shown as they were given).
    keys: rule.keys,
    keyCount: { pem: keys.pem.length, gpg: keys.gpg.length },
    notaryroles: rule.notaryRoles,
    description: describeRule(rule),
    ...(rule.updatedAt !== undefined && { updatedAt: new Date(rule.updatedAt).toISOString(), updatedBy: rule.updatedBy ?? null }),
  };
}

async function namespaceRule(ctx: LifecycleContext, namespace: string): Promise<CompiledRule | undefined> {
  return (await policyOf(ctx).rules()).find((r) => r.source === 'api' && r.namespace === namespace);
}

export const trustPolicyRoutes: LifecycleRoute[] = [
  {
    method: 'GET',
    path: '/trust/policies',
    async handler(ctx) {
      await ctx.requireSiteAdmin();
      ctx.send(200, { policies: (await policyOf(ctx).rules()).map(show) });
    },
  },
  {
    method: 'GET',
    path: '/trust/policies/*namespace',
    async handler(ctx) {
      const namespace = await administeredNamespace(ctx);
      const rule = await namespaceRule(ctx, namespace);
      if (!rule) throw new ApiError('NOT_FOUND', `no pull policy for namespace ${namespace}`);
      ctx.send(200, show(rule));
    },
  },
  {
    method: 'PUT',
    path: '/trust/policies/*namespace',
    async handler(ctx) {
      const namespace = await administeredNamespace(ctx);
      const body = await ctx.body(trustNamespaceBody);
      try {
        const missing = missingKeys(body.require, await keysFromTexts(body.keys));
        if (missing) throw new ApiError('INVALID', missing);
      } catch (e) {
        if (e instanceof PolicyKeyError) throw new ApiError('INVALID', e.message);
        throw e;
      }
      const trust = policyOf(ctx);
      await trust.namespaceRules.put(namespace, body, ctx.actorName);
      await trust.rulesChanged();
      ctx.send(200, show((await namespaceRule(ctx, namespace))!));
    },
  },
  {
    method: 'DELETE',
    path: '/trust/policies/*namespace',
    async handler(ctx) {
      const namespace = await administeredNamespace(ctx);
      const trust = policyOf(ctx);
      if (!(await trust.namespaceRules.delete(namespace))) throw new ApiError('NOT_FOUND', `no pull policy for namespace ${namespace}`);
      await trust.rulesChanged();
      ctx.send(204, null);
    },
  },
];
