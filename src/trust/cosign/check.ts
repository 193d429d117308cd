// One cosign signature checked against a key and an image digest, from bytes only: the server's
// pull policy (src/trust/policy/findings.ts) runs it on what it stores without loading the
// registry client that verify.ts uses to fetch signatures from a registry.
import type { KeyObject } from 'node:crypto';
import { verifyPayload } from './keys.ts';
import { SIGNATURE_ANNOTATION } from './layout.ts';
import { COSIGN_PAYLOAD_TYPE, parseSimpleSigningPayload, PayloadError } from './payload.ts';

export interface CosignCheck {
  ok: boolean;
  reason?: string;
  /** The payload's claims, once the signature verified. */
  dockerReference?: string;
  optional?: Record<string, unknown> | null;
}

/** One signature (payload bytes, base64 signature) checked against a key and the image digest. */
export function checkCosignSignature(payload: Buffer, signatureB64: string | undefined, publicKey: KeyObject, digest: string): CosignCheck {
  if (signatureB64 === undefined) return { ok: false, reason: `no ${SIGNATURE_ANNOTATION} annotation` };
  const signature = Buffer.from(signatureB64, 'base64');
  if (!verifyPayload(payload, signature, publicKey)) return { ok: false, reason: 'the signature does not verify with the key (another key, or a tampered payload or signature)' };
  let claims;
  try {
    claims = parseSimpleSigningPayload(payload, COSIGN_PAYLOAD_TYPE);
  } catch (e) {
    return { ok: false, reason: e instanceof PayloadError ? `invalid payload: ${e.message}` : String(e) };
  }
  if (claims.dockerManifestDigest !== digest) {
    return { ok: false, dockerReference: claims.dockerReference, reason: `the payload is for ${claims.dockerManifestDigest}, not ${digest}` };
  }
  return { ok: true, dockerReference: claims.dockerReference, optional: claims.optional };
}

