// Verification of GPG "simple signing" signatures as containers/image checks them for a
// `signedBy` (keyType GPGKeys) policy: the signature is an OpenPGP signed message (what
// `gpg --sign` writes: one-pass signature, literal data, signature, usually compressed) made by
// one of the trusted keys, and its JSON payload names the manifest's digest (and, by the default
// identity rule, the image's repository). Keys come from `gpg --export` (binary) or
// `gpg --export --armor`; a GnuPG keybox (pubring.kbx) is not an OpenPGP key file.
import type * as openpgp from 'openpgp';
import { ATOMIC_PAYLOAD_TYPE, identityMismatch, parseSimpleSigningPayload, PayloadError, type SimpleSigningPayload } from '../cosign/payload.ts';

// openpgp is 1.2 MB of JavaScript: loaded on first use, so a server without GPG keys in its pull
// policy, and every client command but verify and inspect, never pays its memory and start-up.
let library: Promise<typeof openpgp> | undefined;
const load = (): Promise<typeof openpgp> => (library ??= import('openpgp'));

export type GpgKeys = openpgp.Key[];

/** Reads one or more public keys (binary or ASCII-armored export). Throws with a clear message. */
export async function readGpgKeys(bytes: Buffer, source = 'keyring'): Promise<GpgKeys> {
  try {
    const text = bytes.subarray(0, 64).toString('latin1');
    const openpgp = await load();
    const keys = text.includes('-----BEGIN PGP') ? await openpgp.readKeys({ armoredKeys: bytes.toString('utf8') }) : await openpgp.readKeys({ binaryKeys: new Uint8Array(bytes) });
    if (!keys.length) throw new Error('no keys in it');
    return keys;
  } catch (e) {
    throw new Error(`${source}: not an OpenPGP public key file (use gpg --export KEY > FILE): ${(e as Error).message}`);
  }
}

export interface GpgVerification {
  ok: boolean;
  /** Why it did not verify (no trusted key, bad signature, another digest, another identity). */
  reason?: string;
  /** The signing key's ID (16 hex) as the signature names it. */
  keyId?: string;
  /** The trusted key's fingerprint, when one verified it. */
  fingerprint?: string;
  /** The payload, once the signature verified (never trusted before). */
  payload?: SimpleSigningPayload;
}

export interface ExpectedImage {
  /** The manifest digest the signature must name. */
  digest: string;
  /** With the repository (HOST[:PORT]/REPO) the identity must match, as containers/image's default rule. */
  identity?: { repository: string; tag?: string; digest?: string };
}

/** Verifies one simple signature (the exact bytes) against trusted keys and the image it must be for. */
export async function verifySimpleSignature(content: Buffer, keys: GpgKeys, expected: ExpectedImage): Promise<GpgVerification> {
  const openpgp = await load();
  let message: openpgp.Message<Uint8Array>;
  try {
    message = await openpgp.readMessage({ binaryMessage: new Uint8Array(content) });
  } catch (e) {
    return { ok: false, reason: `not an OpenPGP message: ${(e as Error).message}` };
  }
  let result: openpgp.VerifyMessageResult<Uint8Array>;
  try {
    result = await openpgp.verify({ message, verificationKeys: keys, format: 'binary' });
  } catch (e) {
    return { ok: false, reason: `unreadable signed message: ${(e as Error).message}` };
  }
  // Read the data to the end: for a streamed message the signature check completes only then.
  const data = Buffer.from(result.data);
  if (result.signatures.length !== 1) return { ok: false, reason: `expected one signature in the message, found ${result.signatures.length}` };
  const sig = result.signatures[0]!;
  const keyId = sig.keyID.toHex().toUpperCase();
  try {
    await sig.verified;
  } catch (e) {
    const msg = (e as Error).message;
    return { ok: false, keyId, reason: /could not find signing key/i.test(msg) ? `signed by key ${keyId}, which is not a trusted key` : `signature does not verify: ${msg}` };
  }
  const signer = keys.find((k) => k.getKeys(sig.keyID).length > 0);
  const fingerprint = signer?.getFingerprint().toUpperCase();
  // openpgp.js checks the key as of the signature's creation; GnuPG checks it now, and
  // containers/image (through gpgme) refuses a signature by a key that has expired since
  // (EXPKEYSIG), so a signature by a retired key must not count here either.
  try {
    if (!signer) throw new Error('no such key');
    await signer.getSigningKey(sig.keyID, new Date());
  } catch (e) {
    return { ok: false, keyId, ...(fingerprint && { fingerprint }), reason: `signed by key ${fingerprint ?? keyId}, which has expired or is no longer valid for signing (${(e as Error).message})` };
  }
  let payload: SimpleSigningPayload;
  try {
    payload = parseSimpleSigningPayload(data, ATOMIC_PAYLOAD_TYPE);
  } catch (e) {
    return { ok: false, keyId, fingerprint, reason: e instanceof PayloadError ? `invalid payload: ${e.message}` : String(e) };
  }
  if (payload.dockerManifestDigest !== expected.digest) {
    return { ok: false, keyId, fingerprint, payload, reason: `the signature is for ${payload.dockerManifestDigest}, not ${expected.digest}` };
  }
  const mismatch = expected.identity && identityMismatch(payload.dockerReference, expected.identity);
  if (mismatch) return { ok: false, keyId, fingerprint, payload, reason: mismatch };
  return { ok: true, keyId, fingerprint, payload };
}
