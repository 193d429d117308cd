// What the immutable-tag and quota routes share: the namespace in the path, and the rule sets of
// the running registry (built in openServices; built here for services assembled without them).
import { ApiError } from '../../auth/access/admin/http.ts';
import { isValidName } from '../../oci/reference.ts';
import { ImmutableTags } from '../immutable-tags.ts';
import { Quotas } from '../quotas.ts';
import type { LifecycleContext } from './context.ts';

export function namespaceParam(ctx: LifecycleContext): string {
  const namespace = ctx.params.namespace ?? '';
  if (!isValidName(namespace)) throw new ApiError('INVALID', `namespace: ${JSON.stringify(namespace.slice(0, 100))} is not a valid repository namespace`);
  return namespace;
}

/** The namespace in the path, once the caller is known to administer it (or the site). */
export async function administeredNamespace(ctx: LifecycleContext): Promise<string> {
  const namespace = namespaceParam(ctx);
  await ctx.requireAdminOf(namespace);
  return namespace;
}

export function immutableTagsOf(ctx: LifecycleContext): ImmutableTags {
  const s = ctx.services;
  return (s.immutableTags ??= new ImmutableTags(s.config.berth.lifecycle.immutableTags, s.metadata.lifecycle));
}

export function quotasOf(ctx: LifecycleContext): Quotas {
  const s = ctx.services;
  return (s.quotas ??= new Quotas(s.config.berth.lifecycle.quotas, s.metadata.lifecycle));
}
