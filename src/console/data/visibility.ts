// A repository's effective visibility as the access controller decides it: its own setting (the
// console's "public/private"), else the longest enclosing namespace with a setting, else private.
// Without access control there is no visibility (the registry:2 model): undefined.
import { enclosingNamespaces } from '../../auth/access/roles.ts';
import type { ConsoleDeps } from '../deps.ts';

export type Visibility = 'public' | 'private';
export type VisibilityOf = (repository: string, own: Visibility | null) => Visibility | undefined;

/** One namespace query per page, then a lookup per repository. */
export async function visibilityResolver(deps: ConsoleDeps): Promise<VisibilityOf> {
  if (!deps.access) return () => undefined;
  const namespaces = new Map((await deps.access.store.namespaces.list()).map((n) => [n.name, n.public]));
  return (repository, own) => {
    if (own) return own;
    for (const ns of enclosingNamespaces(repository)) {
      const v = namespaces.get(ns);
      if (v !== undefined) return v ? 'public' : 'private';
    }
    return 'private';
  };
}
