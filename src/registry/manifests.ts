// GET/HEAD/PUT/DELETE /v2/<name>/manifests/<reference> (OCI distribution spec: "Pulling manifests",
// "Pushing manifests", "Deleting manifests"). Manifest bytes are stored as pushed and served as stored.
import { digestOf, parseDigest } from '../oci/digest.ts';
import { MAX_MANIFEST_BYTES, parseManifest } from '../oci/manifest.ts';
import { newManifest, type PutManifestResult } from '../metadata/store.ts';
import { reserveForWrite } from '../lifecycle/blob-writes.ts';
import { parseReference } from '../oci/reference.ts';
import { send } from '../http/respond.ts';
import { noneMatch } from '../http/conditional.ts';
import { RegistryError } from './errors.ts';
import { checkLayerURLs } from './layer-urls.ts';
import type { RequestContext } from './services.ts';
import { encodeName } from './urls.ts';
import { requestHost } from '../trust/notary/gun.ts';
import { SingleFlight } from '../util/single-flight.ts';

type Blobs = RequestContext['services']['blobs'];
/** Manifest reads under way, per blob store: concurrent misses of one digest share a read. */
const readsInFlight = new WeakMap<Blobs, SingleFlight<Buffer>>();

function readManifestOnce(blobs: Blobs, digest: string): Promise<Buffer> {
  let reads = readsInFlight.get(blobs);
  if (!reads) readsInFlight.set(blobs, (reads = new SingleFlight()));
  return reads.run(digest, async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of await blobs.read(digest)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  });
}

/** registry:2 answers MANIFEST_UNKNOWN whether or not the repository exists; so does berth. */
function unknown(detail: Record<string, string>): RegistryError {
  return new RegistryError('MANIFEST_UNKNOWN', { detail });
}

export async function getManifest(ctx: RequestContext, name: string, reference: string): Promise<void> {
  // A mirrored name: the local copy is fetched or refreshed from the upstream first (src/mirror/).
  if (ctx.services.mirror) await ctx.services.mirror.prepareManifest(ctx, name, reference);
  const { metadata, blobs, manifestCache, contentCache } = ctx.services;
  // A reference that is neither a tag nor a digest names no manifest: 404 MANIFEST_UNKNOWN, as the
  // OCI conformance suite expects (only PUT answers TAG_INVALID/DIGEST_INVALID for it).
  let ref: ReturnType<typeof parseReference>;
  try {
    ref = parseReference(reference);
  } catch (e) {
    if (e instanceof RegistryError) throw unknown({ reference: reference.slice(0, 200) });
    throw e;
  }
  const record = ref.kind === 'tag' ? await metadata.taggedManifest(name, ref.tag) : await metadata.manifest(name, ref.digest);
  if (!record) throw unknown(ref.kind === 'tag' ? { tag: ref.tag } : { digest: ref.digest });
  const digest = record.digest;
  // The pull policy (src/trust/policy/): one question, answered without I/O when no policy applies.
  // GET and HEAD are refused alike, except a HEAD by someone who may push: signing tools resolve
  // the digest they sign with a HEAD, which must work before the first signature exists (without
  // authentication everyone may push).
  let refusal = ctx.services.trust?.check(name, digest, record, { ...(ref.kind === 'tag' && { tag: ref.tag }), ...(requestHost(ctx.req.headers) && { host: requestHost(ctx.req.headers) }) });
  if (refusal !== undefined && typeof refusal !== 'string') refusal = await refusal;
  if (refusal && ctx.req.method === 'HEAD' && (!ctx.principal || (await ctx.canPush?.(name)))) refusal = undefined;
  if (refusal) throw new RegistryError('DENIED', { message: refusal, detail: { repository: name, digest } });
  const etag = `"${digest}"`;
  const headers = { 'Content-Type': record.mediaType, 'Docker-Content-Digest': digest, ETag: etag, 'Content-Length': record.size };
  // registry:2 also takes the digest unquoted here.
  if (noneMatch(ctx.req.headers['if-none-match'], [etag, digest])) return send(ctx.res, 304, headers);
  // A notification pull event (GET and HEAD, as distribution; not a 304), in the outbox before the answer.
  await ctx.services.events?.manifestPulled(ctx, name, record, ref.kind === 'tag' ? ref.tag : undefined);
  if (ctx.req.method === 'HEAD') return send(ctx.res, 200, headers);
  let bytes = manifestCache.get(digest) ?? (await contentCache?.get(digest));
  if (!bytes) {
    // One read per digest however many clients ask at once (a cluster deploy's first pulls).
    bytes = await readManifestOnce(blobs, digest);
    contentCache?.set(digest, bytes);
  }
  manifestCache.set(digest, bytes);
  send(ctx.res, 200, headers, bytes);
  ctx.services.pulls.record(name, digest, ref.kind === 'tag' ? ref.tag : undefined);
}

async function readBody(ctx: RequestContext): Promise<Buffer> {
  const declared = Number(ctx.req.headers['content-length'] ?? 0);
  if (declared > MAX_MANIFEST_BYTES) {
    ctx.req.resume();
    throw new RegistryError('SIZE_INVALID', { status: 413, message: `manifest too big: ${declared} bytes, limit ${MAX_MANIFEST_BYTES}` });
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of ctx.req) {
    total += (chunk as Buffer).length;
    if (total > MAX_MANIFEST_BYTES) {
      ctx.req.resume();
      throw new RegistryError('SIZE_INVALID', { status: 413, message: `manifest too big: limit ${MAX_MANIFEST_BYTES} bytes` });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function putManifest(ctx: RequestContext, name: string, reference: string): Promise<void> {
  const ref = parseReference(reference);
  const bytes = await readBody(ctx);
  const parsed = parseManifest(bytes, ctx.req.headers['content-type']);
  checkLayerURLs(parsed, ctx.services.config);
  const algorithm = ref.kind === 'digest' ? parseDigest(ref.digest).algorithm : 'sha256';
  const digest = digestOf(bytes, algorithm);
  if (ref.kind === 'digest' && ref.digest !== digest) {
    throw new RegistryError('DIGEST_INVALID', { message: 'manifest digest does not match the reference', detail: { reference: ref.digest, computed: digest } });
  }
  // Lifecycle rules (src/lifecycle/): an existing immutable tag keeps its manifest; quotas cap the bytes added.
  await ctx.services.immutableTags.checkPut(ctx.services.metadata, name, ref.kind === 'tag' ? ref.tag : undefined, digest);
  await ctx.services.quotas.checkAdd(name, digest, bytes.length, 'manifest', { until: ctx.res });
  const { blobs, metadata, manifestCache, contentCache } = ctx.services;
  // Reserve, bytes, then the metadata transaction: a crash in between leaves an unreferenced blob
  // for GC, never a tag pointing at a manifest that cannot be read; the reservation keeps a
  // running collection off the bytes (src/lifecycle/blob-writes.ts).
  let result: PutManifestResult | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    // A blob held by a collection for too long: BlobBusyError, answered 503 (src/http/server.ts).
    if ((await reserveForWrite(metadata, digest, bytes.length)) !== 'live') await blobs.put(digest, bytes);
    result = await metadata.putManifest(name, newManifest(parsed, digest, bytes.length), ref.kind === 'tag' ? ref.tag : undefined);
    if (!result.bytesCollected) break;
  }
  if (!result || result.bytesCollected) throw new RegistryError('UNAVAILABLE', { message: 'the manifest bytes were garbage-collected while they were stored; retry', headers: { 'Retry-After': '1' } });
  const errors = [
    ...result.missingBlobs.map((d) => new RegistryError('MANIFEST_BLOB_UNKNOWN', { message: 'blob unknown to registry', detail: { digest: d } })),
    ...result.missingChildren.map((d) => new RegistryError('MANIFEST_UNKNOWN', { status: 400, message: 'manifest unknown: an index refers to a manifest not in this repository', detail: { digest: d } })),
  ];
  if (errors.length) throw RegistryError.all(errors);
  manifestCache.set(digest, bytes);
  contentCache?.set(digest, bytes);
  ctx.services.trust?.manifestChanged(name);
  const headers: Record<string, string> = { Location: `${ctx.baseURL}/v2/${encodeName(name)}/manifests/${digest}`, 'Docker-Content-Digest': digest };
  if (parsed.subject) headers['OCI-Subject'] = parsed.subject.digest;
  await ctx.services.events?.manifestPushed(ctx, name, { digest, mediaType: parsed.mediaType, size: bytes.length }, ref.kind === 'tag' ? ref.tag : undefined, bytes);
  send(ctx.res, 201, headers);
}

export async function deleteManifest(ctx: RequestContext, name: string, reference: string): Promise<void> {
  if (!ctx.services.config.storage.delete.enabled) throw new RegistryError('UNSUPPORTED', { message: 'The operation is unsupported: deletes are disabled (storage.delete.enabled)' });
  const ref = parseReference(reference);
  await ctx.services.immutableTags.checkDelete(name, ref);
  const { metadata, events } = ctx.services;
  // distribution's delete events: the manifest's, then one per tag that pointed at it.
  const tags = ref.kind === 'digest' && events?.enabled ? await metadata.lifecycle.tags.tagsOf(name, ref.digest) : [];
  const deleted = ref.kind === 'digest' ? await metadata.deleteManifest(name, ref.digest) : await metadata.deleteTag(name, ref.tag);
  if (!deleted) throw unknown(ref.kind === 'digest' ? { digest: ref.digest } : { tag: ref.tag });
  await (ref.kind === 'digest' ? events?.manifestDeleted(ctx, name, ref.digest, tags) : events?.tagDeleted(ctx, name, ref.tag));
  ctx.services.trust?.manifestChanged(name);
  send(ctx.res, 202);
}
