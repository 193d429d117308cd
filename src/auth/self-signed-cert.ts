// A self-signed X.509 certificate for berth's token signing key, written in DER by hand (a few
// dozen bytes of ASN.1; no dependency). It exists so the signing key can travel in the `x5c`
// header and be trusted the way distribution trusts issuers: point a registry:2's
// auth.token.rootcertbundle at this certificate and it accepts berth's tokens.
import { randomBytes, sign, type KeyObject } from 'node:crypto';

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, inner: Buffer) => tlv(0xa0 + n, inner);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const bitString = (b: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
const octetString = (b: Buffer) => tlv(0x04, b);
const NULL = Buffer.from([0x05, 0x00]);
const TRUE = Buffer.from([0x01, 0x01, 0xff]);

/** A non-negative DER INTEGER from big-endian bytes, in the minimal form DER requires. */
export function derInteger(b: Buffer): Buffer {
  // Leading zero bytes are "illegal padding" to OpenSSL (a random serial starts with 0x00 once in
  // 256), so strip them; then a leading 1 bit needs one zero byte in front to stay positive.
  let start = 0;
  while (start < b.length - 1 && b[start] === 0) start++;
  const v = b.subarray(start);
  return tlv(0x02, v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const stack = [p & 0x7f];
    for (let v = p >> 7; v > 0; v >>= 7) stack.unshift((v & 0x7f) | 0x80);
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDhhmmss
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

function signatureAlgorithm(key: KeyObject): { id: Buffer; hash: string | null } {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'secp384r1') return { id: seq(oid('1.2.840.10045.4.3.3')), hash: 'sha384' };
      if (curve === 'secp521r1') return { id: seq(oid('1.2.840.10045.4.3.4')), hash: 'sha512' };
      return { id: seq(oid('1.2.840.10045.4.3.2')), hash: 'sha256' };
    }
    case 'rsa':
      return { id: seq(oid('1.2.840.113549.1.1.11'), NULL), hash: 'sha256' };
    case 'ed25519':
      return { id: seq(oid('1.3.101.112')), hash: null };
    default:
      throw new Error(`cannot make a certificate for a ${key.asymmetricKeyType} key`);
  }
}

/** PEM of a self-signed certificate for the key pair: CN=commonName, valid from now for `days`, not a CA. */
export function selfSignedCertificate(privateKey: KeyObject, publicKey: KeyObject, commonName: string, days = 3650): string {
  const alg = signatureAlgorithm(privateKey);
  const name = seq(set(seq(oid('2.5.4.3'), utf8(commonName))));
  const now = new Date(Date.now() - 60_000);
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const extensions = explicit(
    3,
    seq(
      seq(oid('2.5.29.19'), TRUE, octetString(seq())), // basicConstraints: critical, cA FALSE
      seq(oid('2.5.29.15'), TRUE, octetString(tlv(0x03, Buffer.from([0x07, 0x80])))), // keyUsage: critical, digitalSignature
    ),
  );
  const tbs = seq(
    explicit(0, derInteger(Buffer.from([2]))), // v3
    derInteger(serial),
    alg.id,
    name,
    seq(time(now), time(new Date(now.getTime() + days * 86_400_000))),
    name,
    publicKey.export({ format: 'der', type: 'spki' }),
    extensions,
  );
  const signature = sign(alg.hash, tbs, privateKey);
  const der = seq(tbs, alg.id, bitString(signature));
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`;
}
