// Docker's registry search API, so that `podman search host/term` (and `docker search`) ask berth
// instead of walking the whole catalog:
//
//   GET /v1/_ping                  200 {"standalone":true}, X-Docker-Registry-Standalone: true
//   GET /v1/search?q=&n=&page=     200 {"num_pages","num_results","results":[{"name","description",
//                                  "star_count","is_official","is_automated"}],"page_size","query","page"}
//
// `q` is a case-insensitive substring of the repository name (empty: every repository), `n` the
// page size (default 25, at most 100, as Docker Hub), `page` from 1. Results are the repositories
// the caller may pull, by name, from one indexed query per page (src/metadata/console/search-query.ts)
// narrowed to the caller's namespaces, then checked row by row with the access controller as the
// console's list does (src/console/data/repository-list.ts). num_results counts within the
// caller's namespaces: a private repository inside a public namespace is counted, not shown.
//
// Authentication as on /v2: none configured = open; otherwise Basic or Bearer credentials, and
// anonymous callers see what anonymous pulls may read. containers/image sends this request
// without credentials and falls back to its authenticated /v2/_catalog walk when it is refused:
// so an anonymous caller who may pull nothing gets 401 with the challenge, not an empty list.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessServices } from '../auth/access/index.ts';
import { readCredentials } from '../auth/credentials.ts';
import { withinRestriction } from '../auth/grant.ts';
import type { Principal } from '../auth/types.ts';
import { Viewer } from '../console/viewer.ts';
import { RegistryError } from '../registry/errors.ts';
import type { RegistryServices } from '../registry/services.ts';
import type { AuthMiddleware } from './auth-middleware.ts';
import { send, sendJSON } from './respond.ts';

export interface SearchDeps {
  services: RegistryServices;
  auth: AuthMiddleware | undefined;
  /** The access model (berth.auth.accesscontrol), when enabled. */
  access: AccessServices | undefined;
  liftAdmin(p: Principal): Principal;
}

export interface SearchResponse {
  num_pages: number;
  num_results: number;
  results: { name: string; description: string; star_count: number; is_official: boolean; is_automated: boolean }[];
  page_size: number;
  query: string;
  page: number;
}

const DEFAULT_PAGE_SIZE = 25;
const MAX_PAGE_SIZE = 100;
/** Deep enough for any listing; keeps OFFSET (and its cost) bounded. */
const MAX_PAGE = 100_000;

function intParam(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name);
  if (raw === null || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new RegistryError('UNSUPPORTED', { status: 400, message: `${name} must be an integer`, detail: { [name]: raw.slice(0, 50) } });
  return Math.max(min, Math.min(max, n));
}

/** Serves /v1/_ping and /v1/search; false for other paths. Throws the RegistryError to answer with. */
export async function serveSearch(req: IncomingMessage, res: ServerResponse, url: URL, pathname: string, deps: SearchDeps): Promise<boolean> {
  if (pathname !== '/v1/_ping' && pathname !== '/v1/search') return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    throw new RegistryError('UNSUPPORTED', { status: 405, message: `method ${req.method} not allowed here`, headers: { Allow: 'GET, HEAD' } });
  }
  if (pathname === '/v1/_ping') {
    // What Docker's client reads from a v1 ping: standalone = no separate index to authenticate with.
    sendJSON(res, 200, { standalone: true }, { 'X-Docker-Registry-Version': '0.6.0', 'X-Docker-Registry-Standalone': 'true', 'Cache-Control': 'no-cache' });
    return true;
  }
  const params = url.searchParams;
  const query = (params.get('q') ?? '').trim().slice(0, 255);
  const pageSize = intParam(params, 'n', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);
  const page = intParam(params, 'page', 1, 1, MAX_PAGE);
  const viewer = await viewerOf(req, deps);
  const store = deps.services.metadata.console;
  const within = await viewer.visibleScopes(async () => (await store.settings.visibilities()).filter((v) => v.visibility === 'public').map((v) => v.repository));
  if (within && within.length === 0 && viewer.mode === 'anonymous' && deps.auth) throw unauthorized(deps.auth);
  const found = await store.search({ q: query, within, offset: (page - 1) * pageSize, limit: pageSize });
  const restricted = viewer.principal.restrictedTo !== undefined;
  const allowed = within || restricted ? await Promise.all(found.items.map(async (r) => withinRestriction(viewer.principal, 'repository', r.name, 'pull') && (await viewer.can(r.name, 'pull')))) : undefined;
  const body: SearchResponse = {
    num_pages: Math.ceil(found.total / pageSize),
    num_results: found.total,
    results: found.items
      .filter((_, i) => !allowed || allowed[i])
      .map((r) => ({ name: r.name, description: r.description ?? '', star_count: 0, is_official: false, is_automated: false })),
    page_size: pageSize,
    query,
    page,
  };
  if (req.method === 'HEAD') send(res, 200, { 'Content-Type': 'application/json' });
  else sendJSON(res, 200, body);
  return true;
}

function unauthorized(auth: AuthMiddleware): RegistryError {
  return new RegistryError('UNAUTHORIZED', { message: 'authentication required', headers: { 'WWW-Authenticate': auth.challenge } });
}

/** The caller by the registry's rules: credentials that do not check out are refused, not treated as anonymous. */
async function viewerOf(req: IncomingMessage, deps: SearchDeps): Promise<Viewer> {
  const { auth } = deps;
  if (!auth) return Viewer.open();
  if (readCredentials(req).kind === 'none') return Viewer.of(undefined, deps.access);
  const principal = await auth.authenticate(req);
  if (!principal) throw unauthorized(auth);
  return Viewer.of(deps.liftAdmin(principal), deps.access);
}
