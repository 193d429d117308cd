// GET/HEAD/DELETE /v2/<name>/blobs/<digest> (OCI distribution spec: "Pulling blobs", "Deleting blobs").
// A blob is readable through a repository only when linked to it, as in registry:2.
import { pipeline } from 'node:stream/promises';
import { parseDigest } from '../oci/digest.ts';
import { send } from '../http/respond.ts';
import { noneMatch } from '../http/conditional.ts';
import { sendFileBody, whenCanSendFile } from '../http/zero-copy.ts';
import { transientBytesDone } from '../http/memory-pressure.ts';
import { BlobNotFoundError } from '../storage/blob-store.ts';
import { RegistryError } from './errors.ts';
import { parseRange } from './range.ts';
import type { RequestContext } from './services.ts';
import { touchAfterMs } from '../lifecycle/blob-writes.ts';

async function linkedSize(ctx: RequestContext, name: string, digest: string): Promise<number> {
  const { metadata, config } = ctx.services;
  const linked = await metadata.repositoryBlob(name, digest);
  if (!linked) throw new RegistryError('BLOB_UNKNOWN', { detail: { digest } });
  // A client that hears "exists" skips the upload and will reference this blob: a blob not
  // touched for a while is touched now, so a collection spares it (or, if one has just claimed
  // it, the client hears 404 and uploads it again).
  if (linked.touchedAt < Date.now() - touchAfterMs(config.berth.lifecycle.gc.delayMs) && !(await metadata.touchBlob(name, digest))) {
    throw new RegistryError('BLOB_UNKNOWN', { detail: { digest } });
  }
  return linked.size;
}

export async function getBlob(ctx: RequestContext, name: string, digestParam: string): Promise<void> {
  // A mirrored blob not stored yet streams from the upstream while it is stored (src/mirror/).
  if (ctx.services.mirror && (await ctx.services.mirror.serveBlob(ctx, name, digestParam))) return;
  const { digest } = parseDigest(digestParam);
  const size = await linkedSize(ctx, name, digest);
  // A notification pull event for any answer once the blob is found (as distribution), in the outbox before the answer.
  await ctx.services.events?.blobPulled(ctx, name, digest, size);
  const { res, req, services } = ctx;
  const etag = `"${digest}"`;
  const headers: Record<string, string | number> = {
    'Docker-Content-Digest': digest,
    ETag: etag,
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'max-age=31536000',
  };

  if (noneMatch(req.headers['if-none-match'], [etag])) return send(res, 304, headers);

  if (req.method === 'GET' && services.blobs.redirectURL && !services.config.storage.redirect.disable) {
    const location = await services.blobs.redirectURL(digest, { method: 'GET', expiresInSeconds: 1200 });
    if (location) return send(res, 307, { Location: location, 'Docker-Content-Digest': digest });
  }

  const range = parseRange(req.headers.range, size);
  if (range.kind === 'unsatisfiable') {
    throw new RegistryError('RANGE_INVALID', { message: 'requested range not satisfiable', headers: { 'Content-Range': `bytes */${size}`, 'Docker-Content-Digest': digest, ETag: etag } });
  }
  const status = range.kind === 'range' ? 206 : 200;
  const start = range.kind === 'range' ? range.range.start : 0;
  const end = range.kind === 'range' ? range.range.end : size - 1;
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Content-Length', end - start + 1);
  if (range.kind === 'range') res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  try {
    if (services.blobs.openFile && (await whenCanSendFile(req, res))) {
      const file = await services.blobs.openFile(digest);
      try {
        await sendFileBody(req, res, file, start, end - start + 1);
      } finally {
        await file.close();
      }
      return;
    }
    const stream = await services.blobs.read(digest, range.kind === 'range' ? range.range : undefined);
    // Attached in the same tick as pipeline(), so the stream starts flowing into the response.
    stream.on('data', (chunk: Buffer) => transientBytesDone(chunk.length));
    await pipeline(stream, res);
  } catch (e) {
    // Linked in metadata but gone from storage (deleted by hand, or a GC race): say so, do not hang.
    if (e instanceof BlobNotFoundError) throw new RegistryError('BLOB_UNKNOWN', { detail: { digest } });
    throw e;
  }
}

export async function deleteBlob(ctx: RequestContext, name: string, digestParam: string): Promise<void> {
  if (!ctx.services.config.storage.delete.enabled) throw new RegistryError('UNSUPPORTED', { message: 'The operation is unsupported: deletes are disabled (storage.delete.enabled)' });
  const { digest } = parseDigest(digestParam);
  // Only the repository's link goes; the bytes stay until garbage collection finds them unreferenced.
  if (!(await ctx.services.metadata.unlinkBlob(name, digest))) throw new RegistryError('BLOB_UNKNOWN', { detail: { digest } });
  await ctx.services.events?.blobDeleted(ctx, name, digest);
  send(ctx.res, 202);
}
