// The X-Registry-Supports-Signatures API extension (OpenShift's registry, Pulp), which
// containers/image (skopeo, podman, buildah) uses to store and read GPG "simple signing"
// signatures in the registry itself when GET /v2/ answers with that header:
//
//   GET /extensions/v2/<repo>/signatures/<manifest digest>
//     200 {"signatures":[{"schemaVersion":2,"name":"<digest>@<32 hex>","type":"atomic","content":"<base64>"}]}
//     (an empty list when there are none; 404 MANIFEST_UNKNOWN when the repository has no such manifest)
//   PUT  the same path with one such object: 201 Created (also when the same bytes are already
//     there: adding is idempotent; containers/image expects exactly 201)
//
// Access control is the repository's, through the same authorization step as /v2 (the same 401
// challenges and token scopes): reading needs pull, adding needs push, exactly as for a manifest.
// The extension has no delete: signatures go with their manifest (src/metadata/signatures).
import { z } from 'zod';
import type { AuthMiddleware } from '../../http/auth-middleware.ts';
import { send, sendJSON } from '../../http/respond.ts';
import { isDigest } from '../../oci/digest.ts';
import { assertValidName } from '../../oci/reference.ts';
import { RegistryError } from '../../registry/errors.ts';
import type { RequestContext } from '../../registry/services.ts';
import { MAX_SIGNATURE_BYTES, MAX_SIGNATURES_PER_MANIFEST } from '../../metadata/signatures/store.ts';

export const SIGNATURES_HEADER = 'X-Registry-Supports-Signatures';
export const EXTENSION_PREFIX = '/extensions/v2/';

/** The whole PUT body: the signature in base64 plus a little JSON. */
const MAX_BODY_BYTES = Math.ceil(MAX_SIGNATURE_BYTES / 3) * 4 + 4096;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** One signature as the extension carries it (containers/image's extensionSignature). */
export const extensionSignature = z.object({
  schemaVersion: z.literal(2),
  name: z.string().max(300),
  type: z.literal('atomic'),
  content: z
    .string()
    .min(1, 'content is empty')
    .max(Math.ceil(MAX_SIGNATURE_BYTES / 3) * 4, `content is larger than ${MAX_SIGNATURE_BYTES} bytes`)
    .regex(BASE64, 'content is not base64'),
});

export type ExtensionSignature = z.infer<typeof extensionSignature>;

/** The signature's name must be `<the URL's manifest digest>@<32 lowercase hex>`, as containers/image makes it. */
export function validSignatureName(name: string, manifestDigest: string): boolean {
  return name.startsWith(`${manifestDigest}@`) && /^[0-9a-f]{32}$/.test(name.slice(manifestDigest.length + 1));
}

function parsePath(pathname: string): { name: string; digest: string } | undefined {
  const m = /^\/extensions\/v2\/(.+)\/signatures\/([^/]+)$/.exec(pathname);
  if (!m) return undefined;
  return { name: m[1]!, digest: m[2]! };
}

/** An error the registry's envelope has no code for (the extension's own). */
function sendExtensionError(ctx: RequestContext, status: number, code: string, message: string, detail?: unknown): void {
  sendJSON(ctx.res, status, { errors: [detail === undefined ? { code, message } : { code, message, detail }] });
}

/**
 * Serves a request under /extensions/v2/ (the caller routes that prefix here). Throws
 * RegistryError for the server to render (authorization, unknown manifest, bad names).
 */
export async function serveSignatureExtension(ctx: RequestContext, pathname: string, auth: AuthMiddleware | undefined): Promise<void> {
  const parsed = parsePath(pathname);
  if (!parsed) throw new RegistryError('UNSUPPORTED', { status: 404, message: 'not found: no such endpoint under /extensions/v2/', detail: { path: pathname.slice(0, 300) } });
  const { name, digest } = parsed;
  assertValidName(name);
  if (!isDigest(digest)) throw new RegistryError('DIGEST_INVALID', { message: 'invalid manifest digest', detail: { digest: digest.slice(0, 200) } });

  const method = ctx.req.method === 'HEAD' ? 'GET' : ctx.req.method;
  if (method !== 'GET' && method !== 'PUT') {
    throw new RegistryError('UNSUPPORTED', { message: `method ${ctx.req.method} not allowed here`, headers: { Allow: 'GET, HEAD, PUT' } });
  }
  if (method === 'PUT' && ctx.services.config.storage.maintenance.readonly.enabled) {
    throw new RegistryError('UNSUPPORTED', { message: 'The operation is unsupported: the registry is in read-only mode (storage.maintenance.readonly)' });
  }
  // The repository's rules, as for its manifest: GET needs pull, PUT needs push (and pull).
  if (auth) await auth.authorize(ctx, { kind: 'manifest', name, reference: digest });

  const store = ctx.services.metadata.signatures;
  if (method === 'GET') {
    const list = await store.list(name, digest);
    if (!list) throw new RegistryError('MANIFEST_UNKNOWN', { detail: { name, digest } });
    const signatures = list.map((s) => ({ schemaVersion: 2, name: s.name, type: s.type, content: s.content.toString('base64') }));
    return sendJSON(ctx.res, 200, { signatures });
  }

  const body = await readBody(ctx);
  if (body === undefined) return sendExtensionError(ctx, 413, 'SIZE_INVALID', `signature body larger than ${MAX_BODY_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return sendExtensionError(ctx, 400, 'SIGNATURE_INVALID', 'the body is not JSON');
  }
  const checked = extensionSignature.safeParse(json);
  if (!checked.success) {
    const issues = checked.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
    return sendExtensionError(ctx, 400, 'SIGNATURE_INVALID', `invalid signature: ${issues.join('; ')}`);
  }
  const sig = checked.data;
  if (!validSignatureName(sig.name, digest)) {
    return sendExtensionError(ctx, 400, 'SIGNATURE_INVALID', `the signature name must be ${digest}@ followed by 32 lowercase hex digits`);
  }
  const content = Buffer.from(sig.content, 'base64');
  if (content.length > MAX_SIGNATURE_BYTES) return sendExtensionError(ctx, 400, 'SIGNATURE_INVALID', `content is larger than ${MAX_SIGNATURE_BYTES} bytes`);
  const principal = ctx.principal && ctx.principal.kind !== 'anonymous' ? ctx.principal.name : null;
  const result = await store.add(name, digest, { name: sig.name, type: sig.type, content, createdBy: principal });
  switch (result) {
    case 'added':
    case 'exists':
      return send(ctx.res, 201, { 'Content-Type': 'application/json' }, '{}');
    case 'manifest-unknown':
      throw new RegistryError('MANIFEST_UNKNOWN', { detail: { name, digest } });
    case 'name-taken':
      return sendExtensionError(ctx, 409, 'SIGNATURE_EXISTS', `another signature named ${sig.name} exists`);
    case 'full':
      return sendExtensionError(ctx, 409, 'SIGNATURE_LIMIT', `${digest} already has ${MAX_SIGNATURES_PER_MANIFEST} signatures, the most one manifest may have`);
  }
}

/** The request body, or undefined when it is larger than the extension allows. */
async function readBody(ctx: RequestContext): Promise<Buffer | undefined> {
  if (Number(ctx.req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return undefined;
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of ctx.req) {
    total += (chunk as Buffer).length;
    if (total > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
