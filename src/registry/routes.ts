// The /v2 path matcher. Repository names contain slashes, so a route is found by its suffix
// (/manifests/<ref>, /blobs/<digest>, ...) and the rest is the name, checked against the grammar.
import { assertValidName, isValidName } from '../oci/reference.ts';
import { RegistryError } from './errors.ts';

export type Route =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; uuid: string }
  | { kind: 'referrers'; name: string; digest: string };

const suffixes: Array<[RegExp, (name: string, arg: string) => Route]> = [
  [/^(.+)\/tags\/list$/, (name) => ({ kind: 'tags', name })],
  [/^(.+)\/manifests\/([^/]+)$/, (name, reference) => ({ kind: 'manifest', name, reference })],
  [/^(.+)\/blobs\/uploads\/?$/, (name) => ({ kind: 'uploads', name })],
  [/^(.+)\/blobs\/uploads\/([^/]+)$/, (name, uuid) => ({ kind: 'upload', name, uuid })],
  [/^(.+)\/blobs\/([^/]+)$/, (name, digest) => ({ kind: 'blob', name, digest })],
  [/^(.+)\/referrers\/([^/]+)$/, (name, digest) => ({ kind: 'referrers', name, digest })],
];

/**
 * Matches a request path. Returns undefined for paths outside /v2/ (the caller answers a plain 404);
 * throws NAME_INVALID when the path has an API shape but the repository name breaks the grammar,
 * and a 404 in the JSON error envelope for any other /v2/ path that is no route (see unknownPath).
 */
export function matchRoute(pathname: string): Route | undefined {
  if (pathname === '/v2' || pathname === '/v2/') return { kind: 'base' };
  if (!pathname.startsWith('/v2/')) return undefined;
  const rest = pathname.slice(4);
  if (rest === '_catalog') return { kind: 'catalog' };
  for (const [pattern, build] of suffixes) {
    const m = pattern.exec(rest);
    if (!m) continue;
    const name = m[1]!;
    assertValidName(name);
    return build(name, m[2] ?? '');
  }
  throw unknownPath(rest);
}

/**
 * A /v2/ path that is no route is still an API error, in the envelope with a spec error code:
 * NAME_UNKNOWN when it starts like a repository name (`/v2/<name>/<unknown>`), otherwise
 * UNSUPPORTED with status 404 (the spec has no "not found" code for an endpoint it does not define).
 */
function unknownPath(rest: string): RegistryError {
  const detail = { path: `/v2/${rest}`.slice(0, 300) };
  const first = rest.split('/')[0]!;
  if (isValidName(first)) return new RegistryError('NAME_UNKNOWN', { message: 'repository name not known to registry: no such endpoint', detail });
  return new RegistryError('UNSUPPORTED', { status: 404, message: 'not found: no such endpoint under /v2/', detail });
}
