// Root keys are X.509 certificates (ecdsa-x509, rsa-x509), and Notary trusts one only when
// (trustpinning/certs.go, tuf/utils/x509.go):
//  - its PEM starts with the leaf, and holds exactly one non-CA certificate;
//  - the leaf's Common Name is exactly the GUN;
//  - it is within its validity (a day of leeway on notBefore), the window is well-formed, it is
//    not signed with SHA-1, and an RSA key has at least 2048 bits.
// For the previous root's certificates during a rotation, expiry is not checked (the root being
// replaced may well have expired).
import type { X509Certificate } from 'node:crypto';
import type { ParsedKey } from './keys.ts';

const DAY = 86_400_000;

/** The DER of the OIDs of SHA-1 signature algorithms: sha1WithRSAEncryption, ecdsa-with-SHA1, dsa-with-sha1. */
const SHA1_OIDS = ['2a864886f70d010105', '2a8648ce3d0401', '2a8648ce380403'];

export interface CertCheck {
  ok: boolean;
  reason?: string;
}

/** Whether a root key's certificate may be trusted for the GUN. */
export function checkRootCertificate(key: ParsedKey, gun: string, options: { checkExpiry: boolean; now?: Date }): CertCheck {
  const certs = key.certificates;
  if (!certs?.length) return { ok: false, reason: 'not a certificate' };
  const leaves = certs.filter((c) => !c.ca);
  if (leaves.length !== 1 || certs[0]!.ca) return { ok: false, reason: 'the certificate bundle must start with its one leaf certificate' };
  const leaf = certs[0]!;
  const cn = commonName(leaf);
  if (cn !== gun) return { ok: false, reason: `certificate CN ${JSON.stringify(cn ?? '').slice(0, 120)} does not match the GUN` };
  const notBefore = new Date(leaf.validFrom).getTime();
  const notAfter = new Date(leaf.validTo).getTime();
  if (!(notBefore <= notAfter)) return { ok: false, reason: 'certificate validity window is invalid' };
  if (usesSha1(leaf)) return { ok: false, reason: 'certificate is signed with SHA-1' };
  const bits = leaf.publicKey.asymmetricKeyDetails?.modulusLength;
  if (leaf.publicKey.asymmetricKeyType === 'rsa' && (bits ?? 0) < 2048) return { ok: false, reason: 'RSA certificate key is shorter than 2048 bits' };
  if (options.checkExpiry) {
    const now = (options.now ?? new Date()).getTime();
    if (notBefore > now + DAY || now > notAfter) return { ok: false, reason: `certificate for ${cn} is expired or not yet valid` };
  }
  return { ok: true };
}

/** The subject's CN, from Node's one-attribute-per-line rendering of the name. */
export function commonName(cert: X509Certificate): string | undefined {
  for (const line of cert.subject.split('\n')) {
    if (line.startsWith('CN=')) return line.slice(3).replace(/\\(.)/g, '$1');
  }
  return undefined;
}

/** The certificate's outer signatureAlgorithm is a SHA-1 one (read from the DER: Node does not expose it). */
function usesSha1(cert: X509Certificate): boolean {
  const der = cert.raw;
  try {
    // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE { OID, ... }, ... }
    let [, off] = header(der, 0);
    const [tbsLen, tbsOff] = header(der, off);
    off = tbsOff + tbsLen;
    const [, algOff] = header(der, off);
    if (der[algOff] !== 0x06) return false;
    const [oidLen, oidOff] = header(der, algOff);
    const oid = der.subarray(oidOff, oidOff + oidLen).toString('hex');
    return SHA1_OIDS.includes(oid);
  } catch {
    return false;
  }
}

/** [content length, content offset] of the DER element at `off`. */
function header(der: Buffer, off: number): [number, number] {
  const first = der[off + 1];
  if (first === undefined) throw new Error('truncated');
  if (first < 0x80) return [first, off + 2];
  const n = first & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[off + 2 + i]!;
  return [len, off + 2 + n];
}
