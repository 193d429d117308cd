// What a registry request needs: each /v2 route and method mapped to (resource, actions), the
// way distribution maps them (GET/HEAD = pull, writes = pull+push, DELETE = delete, catalog =
// registry:catalog:*). Kept apart from the handlers so that a new route cannot be added without
// deciding what it requires.
import type { Route } from '../registry/routes.ts';
import type { ScopeGrant } from './types.ts';

export interface Requirement {
  /** Everything the request needs; empty for `GET /v2/` (any authenticated caller). */
  needs: ScopeGrant[];
  /** Source repository of a cross-repository mount: needs pull there, or the mount becomes a plain upload. */
  mountFrom?: string;
}

const pull = (name: string): ScopeGrant => ({ type: 'repository', name, actions: ['pull'] });
const write = (name: string): ScopeGrant => ({ type: 'repository', name, actions: ['pull', 'push'] });
const remove = (name: string): ScopeGrant => ({ type: 'repository', name, actions: ['delete'] });

/** GET/HEAD read, DELETE deletes, any other method writes (unknown methods then get 405 from dispatch). */
function byMethod(method: string, name: string): ScopeGrant {
  if (method === 'GET' || method === 'HEAD') return pull(name);
  if (method === 'DELETE') return remove(name);
  return write(name);
}

export function requiredAccess(route: Route, method: string, url: URL): Requirement {
  switch (route.kind) {
    case 'base':
      return { needs: [] };
    case 'catalog':
      return { needs: [{ type: 'registry', name: 'catalog', actions: ['*'] }] };
    case 'tags':
    case 'referrers':
      return { needs: [pull(route.name)] };
    case 'manifest':
    case 'blob':
      return { needs: [byMethod(method, route.name)] };
    case 'uploads': {
      // Every upload request is part of a push, including status and cancel (distribution asks
      // only pull for the status GET and delete for the cancel; push is what they are about).
      const from = method === 'POST' && url.searchParams.has('mount') ? url.searchParams.get('from') : null;
      return { needs: [write(route.name)], ...(from && { mountFrom: from }) };
    }
    case 'upload':
      return { needs: [write(route.name)] };
  }
}
