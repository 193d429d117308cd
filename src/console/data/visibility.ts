// A repository's effective visibility as the access controller decides it: its own setting (the
// console's "public/private"), else the longest enclosing namespace with a setting, else private.
// Without access control there is no visibility (the registry:2 model): undefined.
import { enclosingNamespaces } from '../../auth/access/roles.ts';
import type { ConsoleDeps } from '../deps.ts';

export type Visibility = 'public' | 'private';
export type VisibilityOf = (repository: string, own: Visibility | null) => Visibility | undefined;
/** `undefined` as the namespace: a repository outside any namespace. */
export type NamespaceVisibilityOf = (namespace: string | undefined) => Visibility | undefined;

/**
 * Both resolvers from one namespace query: a repository's (its own setting, else its
 * namespace's) and a namespace's (its own setting, else the longest enclosing namespace's, else
 * private: what a repository in it without a setting of its own gets).
 */
export async function visibilityResolvers(deps: ConsoleDeps): Promise<{ ofRepository: VisibilityOf; ofNamespace: NamespaceVisibilityOf }> {
  if (!deps.access) return { ofRepository: () => undefined, ofNamespace: () => undefined };
  const namespaces = new Map((await deps.access.store.namespaces.list()).map((n) => [n.name, n.public]));
  const ofNamespace: NamespaceVisibilityOf = (namespace) => {
    if (namespace === undefined) return 'private';
    for (const ns of [namespace, ...enclosingNamespaces(namespace)]) {
      const v = namespaces.get(ns);
      if (v !== undefined) return v ? 'public' : 'private';
    }
    return 'private';
  };
  const ofRepository: VisibilityOf = (repository, own) => own ?? ofNamespace(enclosingNamespaces(repository)[0]);
  return { ofRepository, ofNamespace };
}

/** One namespace query per page, then a lookup per repository. */
export async function visibilityResolver(deps: ConsoleDeps): Promise<VisibilityOf> {
  return (await visibilityResolvers(deps)).ofRepository;
}

export async function namespaceVisibilityResolver(deps: ConsoleDeps): Promise<NamespaceVisibilityOf> {
  return (await visibilityResolvers(deps)).ofNamespace;
}
