// Which `handler` label a request gets in registry_http_* (src/metrics/http.ts): distribution's
// route names for /v2 (known once the route matched), fixed names for berth's other surfaces.
// A bounded set: never anything taken from the path itself.
import type { HandlerName } from '../metrics/http.ts';
import type { Route } from '../registry/routes.ts';

const ROUTE_HANDLERS: Record<Route['kind'], HandlerName> = {
  base: 'base',
  catalog: 'catalog',
  tags: 'tags',
  manifest: 'manifest',
  blob: 'blob',
  uploads: 'blob_upload',
  upload: 'blob_upload_chunk',
  referrers: 'referrers',
};

export function handlerForRoute(route: Route): HandlerName {
  return ROUTE_HANDLERS[route.kind];
}

/** The handler by path alone, before any routing (a /v2 path is renamed once its route is known). */
export function handlerForPath(pathname: string): HandlerName {
  if (pathname.startsWith('/v2/') || pathname === '/v2') return pathname.includes('/_trust/') ? 'notary' : 'other';
  if (pathname === '/v1/search') return 'search';
  if (pathname === '/v1/_ping') return 'v1_ping';
  if (pathname === '/ui' || pathname.startsWith('/ui/') || pathname === '/') return 'console';
  if (pathname.startsWith('/api/')) return 'api';
  if (pathname.startsWith('/auth/')) return 'token';
  if (pathname.startsWith('/extensions/')) return 'signatures';
  if (pathname.startsWith('/_notary_server/')) return 'notary';
  if (pathname === '/livez' || pathname === '/readyz') return 'health';
  return 'other';
}
