// Signature checks as Notary's verifiers make them (tuf/signed/verifiers.go), over the canonical
// JSON of the `signed` object:
//   ecdsa       raw r||s (not DER) over SHA-256, for ecdsa and ecdsa-x509 keys
//   rsapss      RSASSA-PSS with SHA-256 and a 32-byte salt, for rsa and rsa-x509 keys
//   rsapkcs1v15 RSASSA-PKCS1-v1_5 with SHA-256, for rsa and rsa-x509 keys
//   eddsa       Ed25519, for ed25519 keys
// and thresholds: a role is satisfied by valid signatures from at least `threshold` distinct keys
// of the role; signatures by other keys are ignored, as are repeated ones.
import { constants, verify, type KeyObject } from 'node:crypto';
import type { ParsedKey } from './keys.ts';

export interface Signature {
  keyid: string;
  method: string;
  sig: string;
}

/** The keys a role trusts and how many of them must sign. */
export interface RoleKeys {
  name: string;
  keys: Map<string, ParsedKey>;
  threshold: number;
}

export function verifySignature(message: Buffer, signature: Signature, key: ParsedKey): boolean {
  const sig = Buffer.from(signature.sig, 'base64');
  try {
    switch (signature.method) {
      case 'ecdsa': {
        if (key.type !== 'ecdsa' && key.type !== 'ecdsa-x509') return false;
        // Notary accepts exactly the raw form: both integers padded to the curve's size.
        if (sig.length !== 2 * curveBytes(key.publicKey)) return false;
        return verify('sha256', message, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, sig);
      }
      case 'rsapss':
        if (key.type !== 'rsa' && key.type !== 'rsa-x509') return false;
        return verify('sha256', message, { key: key.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
      case 'rsapkcs1v15':
        if (key.type !== 'rsa' && key.type !== 'rsa-x509') return false;
        return verify('sha256', message, { key: key.publicKey, padding: constants.RSA_PKCS1_PADDING }, sig);
      case 'eddsa':
        if (key.type !== 'ed25519') return false;
        return verify(null, message, key.publicKey, sig);
      default:
        return false;
    }
  } catch {
    return false;
  }
}

function curveBytes(key: KeyObject): number {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve === 'secp384r1' ? 48 : curve === 'secp521r1' ? 66 : 32;
}

/** Whether the signatures meet the role's threshold; the reason when they do not. */
export function checkThreshold(message: Buffer, signatures: Signature[], role: RoleKeys): { ok: true } | { ok: false; reason: string } {
  if (role.threshold < 1) return { ok: false, reason: `invalid threshold for ${role.name}` };
  if (signatures.length === 0) return { ok: false, reason: `no signatures on ${role.name}` };
  const valid = new Set<string>();
  for (const s of signatures) {
    const key = role.keys.get(s.keyid);
    if (!key || valid.has(s.keyid)) continue;
    if (verifySignature(message, s, key)) valid.add(s.keyid);
  }
  if (valid.size < role.threshold) {
    return { ok: false, reason: `valid signatures did not meet threshold for ${role.name}: ${valid.size} of ${role.threshold}` };
  }
  return { ok: true };
}
