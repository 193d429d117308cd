// The "simple signing" payload both GPG simple signatures and cosign signatures sign:
//   {"critical":{"identity":{"docker-reference":…},"image":{"docker-manifest-digest":…},"type":…},"optional":…}
// containers/image parses `critical` strictly (exactly these keys, strings only); cosign writes
// the same shape with type "cosign container image signature". The bytes that are signed are the
// payload as stored, so verification always works on the exact bytes, never on a re-serialisation.

export const COSIGN_PAYLOAD_TYPE = 'cosign container image signature';
export const ATOMIC_PAYLOAD_TYPE = 'atomic container signature';

export interface SimpleSigningPayload {
  type: string;
  dockerReference: string;
  dockerManifestDigest: string;
  optional: Record<string, unknown> | null;
}

/**
 * The payload cosign writes for an image: `critical` in cosign's key order (identity, image, type),
 * `optional` null unless there are annotations.
 */
export function buildCosignPayload(dockerReference: string, digest: string, annotations?: Record<string, string>): Buffer {
  const optional = annotations && Object.keys(annotations).length ? annotations : null;
  return Buffer.from(
    JSON.stringify({
      critical: { identity: { 'docker-reference': dockerReference }, image: { 'docker-manifest-digest': digest }, type: COSIGN_PAYLOAD_TYPE },
      optional,
    }),
  );
}

export class PayloadError extends Error {}

function exactKeys(value: unknown, keys: string[], what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PayloadError(`${what} is not a JSON object`);
  const have = Object.keys(value).sort();
  const want = [...keys].sort();
  if (have.length !== want.length || have.some((k, i) => k !== want[i])) {
    throw new PayloadError(`${what} must have exactly the fields ${want.join(', ')} (has ${have.join(', ') || 'none'})`);
  }
  return value as Record<string, unknown>;
}

function stringField(obj: Record<string, unknown>, key: string, what: string): string {
  const v = obj[key];
  if (typeof v !== 'string') throw new PayloadError(`${what}.${key} is not a string`);
  return v;
}

/** Parses a payload as containers/image does (strict `critical`), checking its type. Throws PayloadError. */
export function parseSimpleSigningPayload(bytes: Buffer | Uint8Array, expectedType: string): SimpleSigningPayload {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new PayloadError('the payload is not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new PayloadError('the payload is not a JSON object');
  const top = json as Record<string, unknown>;
  for (const k of Object.keys(top)) if (k !== 'critical' && k !== 'optional') throw new PayloadError(`unknown payload field ${k}`);
  const critical = exactKeys(top.critical, ['identity', 'image', 'type'], 'critical');
  const type = stringField(critical, 'type', 'critical');
  if (type !== expectedType) throw new PayloadError(`payload type is "${type}", not "${expectedType}"`);
  const identity = exactKeys(critical.identity, ['docker-reference'], 'critical.identity');
  const image = exactKeys(critical.image, ['docker-manifest-digest'], 'critical.image');
  const optional = top.optional;
  if (optional !== undefined && optional !== null && (typeof optional !== 'object' || Array.isArray(optional))) throw new PayloadError('optional is not a JSON object');
  return {
    type,
    dockerReference: stringField(identity, 'docker-reference', 'critical.identity'),
    dockerManifestDigest: stringField(image, 'docker-manifest-digest', 'critical.image'),
    optional: (optional as Record<string, unknown> | null | undefined) ?? null,
  };
}

/** `host/repo[:tag][@digest]` split into its repository, tag and digest. */
export function splitReference(ref: string): { repository: string; tag?: string; digest?: string } {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) return { repository: rest.slice(0, colon), tag: rest.slice(colon + 1), ...(digest && { digest }) };
  return { repository: rest, ...(digest && { digest }) };
}

/**
 * containers/image's default identity rule (matchRepoDigestOrExact): an image named by digest
 * accepts a signature for any reference of the same repository; one named by tag needs the
 * signature's reference to be exactly that repository and tag. Returns why not, or undefined.
 */
export function identityMismatch(signed: string, image: { repository: string; tag?: string; digest?: string }): string | undefined {
  const s = splitReference(signed);
  if (s.repository !== image.repository) return `signed for ${signed}, not for repository ${image.repository}`;
  if (image.digest === undefined && image.tag !== undefined && (s.tag !== image.tag || s.digest !== undefined)) {
    return `signed for ${signed}, not for ${image.repository}:${image.tag}`;
  }
  return undefined;
}
