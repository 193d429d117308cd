// Maps a matched route and method to its handler; the one place that knows the API's shape.
import { sendJSON } from '../http/respond.ts';
import { RegistryError } from './errors.ts';
import { deleteBlob, getBlob } from './blobs.ts';
import { listCatalog, listTags } from './listing.ts';
import { deleteManifest, getManifest, putManifest } from './manifests.ts';
import { listReferrers } from './referrers.ts';
import type { Route } from './routes.ts';
import type { RequestContext } from './services.ts';
import { cancelUpload, completeUpload, patchUpload, startUpload, uploadStatus } from './uploads.ts';

type Handler = (ctx: RequestContext) => Promise<void> | void;

function methods(ctx: RequestContext, table: Record<string, Handler>): Promise<void> | void {
  const method = ctx.req.method === 'HEAD' && !table.HEAD && table.GET ? 'GET' : ctx.req.method!;
  const handler = table[method];
  if (!handler) {
    throw new RegistryError('UNSUPPORTED', { message: `method ${ctx.req.method} not allowed here`, headers: { Allow: Object.keys(table).join(', ') } });
  }
  return handler(ctx);
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function dispatch(ctx: RequestContext, route: Route): Promise<void> | void {
  // storage.maintenance.readonly: registry:2 refuses every write while it is set (e.g. during GC).
  if (ctx.services.config.storage.maintenance.readonly.enabled && WRITES.has(ctx.req.method ?? '')) {
    throw new RegistryError('UNSUPPORTED', { message: 'The operation is unsupported: the registry is in read-only mode (storage.maintenance.readonly)' });
  }
  // Pull-through caches refuse pushes and deletes of mirrored names, as registry:2's proxy does (src/mirror/).
  if (WRITES.has(ctx.req.method ?? '')) ctx.services.mirror?.refuseWrite(route);
  switch (route.kind) {
    case 'base':
      return methods(ctx, { GET: (c) => sendJSON(c.res, 200, {}) });
    case 'catalog':
      return methods(ctx, { GET: listCatalog });
    case 'tags':
      return methods(ctx, { GET: (c) => listTags(c, route.name) });
    case 'manifest':
      return methods(ctx, {
        GET: (c) => getManifest(c, route.name, route.reference),
        PUT: (c) => putManifest(c, route.name, route.reference),
        DELETE: (c) => deleteManifest(c, route.name, route.reference),
      });
    case 'blob':
      return methods(ctx, { GET: (c) => getBlob(c, route.name, route.digest), DELETE: (c) => deleteBlob(c, route.name, route.digest) });
    case 'uploads':
      return methods(ctx, { POST: (c) => startUpload(c, route.name) });
    case 'upload':
      return methods(ctx, {
        GET: (c) => uploadStatus(c, route.name, route.uuid),
        PATCH: (c) => patchUpload(c, route.name, route.uuid),
        PUT: (c) => completeUpload(c, route.name, route.uuid),
        DELETE: (c) => cancelUpload(c, route.name, route.uuid),
      });
    case 'referrers':
      return methods(ctx, { GET: (c) => listReferrers(c, route.name, route.digest) });
  }
}
