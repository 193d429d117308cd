// Blob uploads (OCI distribution spec: "Pushing blobs"): POST starts a session (or does a monolithic
// upload with ?digest=, or a cross-repository mount), PATCH appends chunks, PUT ?digest= completes,
// GET reports progress, DELETE cancels. Bytes are hashed on their way to storage and become visible
// under their digest only after verification (commit is atomic in the driver).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parseDigest } from '../oci/digest.ts';
import { assertValidName } from '../oci/reference.ts';
import { hasRequestBody } from '../http/request-body.ts';
import { send } from '../http/respond.ts';
import { UploadNotFoundError } from '../storage/blob-store.ts';
import { BlobCollectedError, type LinkedBlob } from '../metadata/store.ts';
import { reserveForWrite } from '../lifecycle/blob-writes.ts';
import { RegistryError } from './errors.ts';
import type { RequestContext } from './services.ts';
import { encodeName } from './urls.ts';

function uploadLocation(ctx: RequestContext, name: string, id: string, offset: number): string {
  const state = ctx.services.uploadState.sign({ name, uuid: id, offset });
  return `${ctx.baseURL}/v2/${encodeName(name)}/blobs/uploads/${id}?_state=${state}`;
}

/** A `_state` token, when the client sent one, must be ours and name this upload (see upload-state.ts). */
function checkState(ctx: RequestContext, name: string, id: string): void {
  const token = ctx.url.searchParams.get('_state');
  if (token === null) return;
  const state = ctx.services.uploadState.verify(token);
  if (!state || state.name !== name || state.uuid !== id) {
    throw new RegistryError('BLOB_UPLOAD_INVALID', { message: 'blob upload invalid: the _state token is not valid for this upload', detail: { uuid: id } });
  }
}

function blobLocation(ctx: RequestContext, name: string, digest: string): string {
  return `${ctx.baseURL}/v2/${encodeName(name)}/blobs/${digest}`;
}

/** The Range header of an upload: registry:2 answers "0-0" for an empty upload, so do we. */
function rangeHeader(size: number): string {
  return `0-${Math.max(0, size - 1)}`;
}

function progressHeaders(ctx: RequestContext, name: string, id: string, size: number): Record<string, string | number> {
  return { Location: uploadLocation(ctx, name, id, size), Range: rangeHeader(size), 'Docker-Upload-UUID': id };
}

export async function startUpload(ctx: RequestContext, name: string): Promise<void> {
  const q = ctx.url.searchParams;
  const mount = q.get('mount');
  if (mount !== null) {
    const mounted = await tryMount(ctx, name, mount, q.get('from'));
    if (mounted) return;
  }
  const digest = q.get('digest');
  if (digest !== null) {
    // Single-request monolithic upload: the body is the whole blob. A digest that cannot be
    // checked is refused before a session opens: the client never learns this session's id, so
    // it could neither finish nor cancel it, and it would stay until the upload purger's age.
    expectedDigest(ctx, digest);
    const id = await createSession(ctx, name);
    await ctx.services.uploadHashes.withLock(id, () => finish(ctx, name, id, digest));
    return;
  }
  const id = await createSession(ctx, name);
  const headers: Record<string, string | number> = progressHeaders(ctx, name, id, 0);
  const minChunk = ctx.services.config.berth.upload.chunkMinLength;
  if (minChunk > 0) headers['OCI-Chunk-Min-Length'] = minChunk;
  drain(ctx.req);
  send(ctx.res, 202, headers);
}

/** How many repositories holding the blob a mount without `from` looks at (in lexical order). */
export const MOUNT_DISCOVERY_CANDIDATES = 50;

async function tryMount(ctx: RequestContext, name: string, mountParam: string, from: string | null): Promise<boolean> {
  const { digest } = parseDigest(mountParam);
  const { metadata, blobs } = ctx.services;
  let source: (LinkedBlob & { repository?: string }) | undefined;
  if (from === null || from === '') {
    source = await discoverSource(ctx, digest);
  } else {
    assertValidName(from);
    source = await metadata.repositoryBlob(from, digest);
  }
  // Without a usable source the spec says: fall back to an ordinary upload session (202).
  if (!source || !(await blobs.stat(digest))) return false;
  await ctx.services.quotas.checkAdd(name, digest, source.size, 'mount', { until: ctx.res });
  try {
    // Also touches the blob: a mount rescues a blob the collector was about to take.
    await metadata.linkBlob(name, digest, source.size);
  } catch (e) {
    // Collected between the lookup and the link: the client uploads it instead.
    if (e instanceof BlobCollectedError) return false;
    throw e;
  }
  drain(ctx.req);
  await ctx.services.events?.blobMounted(ctx, name, digest, source.size, from || source.repository);
  send(ctx.res, 201, { Location: blobLocation(ctx, name, digest), 'Docker-Content-Digest': digest });
  return true;
}

/**
 * OCI 1.1 "automatic content discovery" (mount without `from`): the blob as linked to a repository
 * that holds it and that the caller may pull; undefined when none of the first candidates qualifies.
 */
async function discoverSource(ctx: RequestContext, digest: string): Promise<(LinkedBlob & { repository: string }) | undefined> {
  // With authentication but no answer from the authorization step, nothing qualifies.
  const canPull = ctx.canPull ?? (ctx.principal ? undefined : async () => true);
  if (!canPull) return undefined;
  const { metadata } = ctx.services;
  for (const repository of await metadata.repositoriesLinking(digest, MOUNT_DISCOVERY_CANDIDATES)) {
    if (!(await canPull(repository))) continue;
    const linked = await metadata.repositoryBlob(repository, digest);
    if (linked) return { ...linked, repository };
  }
  return undefined;
}

async function createSession(ctx: RequestContext, name: string): Promise<string> {
  const id = randomUUID();
  await ctx.services.blobs.uploads.create(id);
  await ctx.services.metadata.createUpload({ id, repository: name, startedAt: new Date() });
  return id;
}

async function sessionSize(ctx: RequestContext, name: string, id: string): Promise<number> {
  checkState(ctx, name, id);
  const session = await ctx.services.metadata.upload(id);
  const size = session?.repository === name ? await ctx.services.blobs.uploads.size(id) : undefined;
  if (size === undefined) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', { detail: { uuid: id } });
  return size;
}

/** Appends the request body at `offset`, hashing it; returns the new size. */
async function appendBody(ctx: RequestContext, id: string, offset: number): Promise<number> {
  const { uploadHashes, blobs } = ctx.services;
  const received = uploadHashes.receiving(id, ctx.req);
  try {
    // The driver reads the request itself and hands each chunk to the hash: no stream stage in
    // between (src/storage/drivers/file-appender.ts says why). A client that disconnects mid-body
    // ends the append with an error, which releases the upload lock.
    return await blobs.uploads.append(id, ctx.req, uploadHashes.tap(id, offset));
  } catch (e) {
    uploadHashes.forget(id);
    if (e instanceof UploadNotFoundError) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', { detail: { uuid: id } });
    throw e;
  } finally {
    received();
  }
}

/** Content-Range on a chunk must start where the upload ends (spec: out-of-order chunks get 416). */
function checkContentRange(ctx: RequestContext, name: string, id: string, size: number): void {
  const header = ctx.req.headers['content-range'];
  if (header === undefined) return;
  const m = /^(?:bytes[= ])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  const length = ctx.req.headers['content-length'];
  const badLength = m && length !== undefined && Number(length) !== Number(m[2]) - Number(m[1]) + 1;
  if (!m || Number(m[1]) !== size || Number(m[2]) < Number(m[1]) || badLength) {
    throw new RegistryError('BLOB_UPLOAD_INVALID', {
      status: 416,
      message: `invalid content range: the upload has ${size} bytes, the next chunk must start at ${size}`,
      headers: progressHeaders(ctx, name, id, size) as Record<string, string>,
    });
  }
}

export async function patchUpload(ctx: RequestContext, name: string, id: string): Promise<void> {
  ctx.services.uploadHashes.supersede(id);
  await ctx.services.uploadHashes.withLock(id, async () => {
    const size = await sessionSize(ctx, name, id);
    checkContentRange(ctx, name, id, size);
    // An upload bigger than a whole quota over the repository is refused as soon as that shows (src/lifecycle/quotas.ts).
    await ctx.services.quotas.checkUploadSize(name, size + Number(ctx.req.headers['content-length'] ?? 0), () => cancel(ctx, id));
    const newSize = await appendBody(ctx, id, size);
    await ctx.services.quotas.checkUploadSize(name, newSize, () => cancel(ctx, id));
    send(ctx.res, 202, progressHeaders(ctx, name, id, newSize));
  });
}

export async function completeUpload(ctx: RequestContext, name: string, id: string): Promise<void> {
  const digest = ctx.url.searchParams.get('digest');
  ctx.services.uploadHashes.supersede(id);
  await ctx.services.uploadHashes.withLock(id, async () => {
    await sessionSize(ctx, name, id);
    await finish(ctx, name, id, digest);
  });
}

/** The `digest` parameter of a completing request, parsed; DIGEST_INVALID (the body drained) when missing or malformed. */
function expectedDigest(ctx: RequestContext, digestParam: string | null): string {
  if (digestParam === null || digestParam === '') {
    drain(ctx.req);
    throw new RegistryError('DIGEST_INVALID', { message: 'digest parameter missing' });
  }
  try {
    return parseDigest(digestParam).digest;
  } catch (e) {
    drain(ctx.req);
    throw e;
  }
}

/** Appends an optional last chunk, verifies the digest, commits and links the blob. */
async function finish(ctx: RequestContext, name: string, id: string, digestParam: string | null): Promise<void> {
  const { blobs, metadata, uploadHashes } = ctx.services;
  const expected = expectedDigest(ctx, digestParam);
  let size = (await blobs.uploads.size(id)) ?? 0;
  if (hasRequestBody(ctx.req)) {
    checkContentRange(ctx, name, id, size);
    size = await appendBody(ctx, id, size);
  }
  const actual = await uploadHashes.digest(id, size, expected, blobs.uploads);
  if (actual !== expected) {
    // Nothing is stored: the session ends and its bytes go.
    await cancel(ctx, id);
    throw new RegistryError('DIGEST_INVALID', { message: 'provided digest did not match uploaded content', detail: { expected, size } });
  }
  await storeBlob(ctx, name, id, expected, size);
  await metadata.deleteUpload(id);
  uploadHashes.forget(id);
  await ctx.services.events?.blobPushed(ctx, name, expected, size);
  send(ctx.res, 201, { Location: blobLocation(ctx, name, expected), 'Docker-Content-Digest': expected });
}

/**
 * Makes the verified upload the blob `digest` and links it, in step with the garbage collector
 * (src/lifecycle/blob-writes.ts): reserve first, then store (or drop the upload when the bytes are
 * there already), then link, which fails only if a collection took the blob after the reservation.
 */
async function storeBlob(ctx: RequestContext, name: string, id: string, digest: string, size: number): Promise<void> {
  // Quotas (src/lifecycle/quotas.ts): refused before anything is stored, and the upload's bytes go.
  await ctx.services.quotas.checkAdd(name, digest, size, 'upload', { onRefused: () => cancel(ctx, id), until: ctx.res });
  const { blobs, metadata } = ctx.services;
  for (let attempt = 0; attempt < 3; attempt++) {
    // A blob held by a collection for too long: BlobBusyError, answered 503 (src/http/server.ts).
    const state = await reserveForWrite(metadata, digest, size);
    if (state === 'live') {
      // Identical bytes already stored (an earlier or concurrent push): keep one copy.
      try {
        await metadata.linkBlob(name, digest, size);
      } catch (e) {
        if (e instanceof BlobCollectedError) continue; // the upload is still here: store it after all
        throw e;
      }
      discardStoredUpload(ctx, id);
      return;
    }
    if (await blobs.stat(digest)) discardStoredUpload(ctx, id);
    else await blobs.uploads.commit(id, digest);
    try {
      await metadata.linkBlob(name, digest, size);
      return;
    } catch (e) {
      // Only a collection with a grace period of (nearly) zero can take a blob this fresh.
      if (e instanceof BlobCollectedError) break;
      throw e;
    }
  }
  await metadata.deleteUpload(id);
  throw new RegistryError('BLOB_UPLOAD_UNKNOWN', { message: 'blob upload unknown: the blob was garbage-collected while it was committed; upload it again', detail: { digest } });
}

/**
 * Drops an upload whose bytes are stored already, without making the client wait for it: ext4
 * took 0.18 s to unlink a 1 GiB upload (strace), which made a re-push of a stored 1 GiB blob 20%
 * slower than a new one (870 against 1,100 MB/s). The session is gone from the metadata either
 * way; a file that a failed or interrupted unlink leaves is the upload purger's
 * (src/maintenance/upload-purger.ts), as after a crash.
 */
function discardStoredUpload(ctx: RequestContext, id: string): void {
  ctx.services.blobs.uploads.abort(id).catch((e: unknown) => ctx.services.log.warn({ err: e, upload: id }, 'could not remove an upload whose blob was stored already'));
}

export async function uploadStatus(ctx: RequestContext, name: string, id: string): Promise<void> {
  const size = await sessionSize(ctx, name, id);
  send(ctx.res, 204, progressHeaders(ctx, name, id, size));
}

export async function cancelUpload(ctx: RequestContext, name: string, id: string): Promise<void> {
  await ctx.services.uploadHashes.withLock(id, async () => {
    await sessionSize(ctx, name, id);
    await cancel(ctx, id);
    send(ctx.res, 204, { 'Docker-Upload-UUID': id });
  });
}

async function cancel(ctx: RequestContext, id: string): Promise<void> {
  ctx.services.uploadHashes.forget(id);
  await ctx.services.blobs.uploads.abort(id);
  await ctx.services.metadata.deleteUpload(id);
}

/** Reads and discards a body we will not use, so the connection stays reusable. */
function drain(req: IncomingMessage): void {
  if (!req.readableEnded) req.resume();
}
