// What the namespace routes share: the namespace in the path, checked, and administered by the caller.
import { ApiError } from '../../auth/access/admin/http.ts';
import { isValidName } from '../../oci/reference.ts';
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
