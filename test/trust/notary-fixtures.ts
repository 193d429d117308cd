// TUF metadata made by hand, as the notary client makes it, for the Notary server's tests: keys
// (root keys as self-signed certificates whose CN is the GUN, with any validity), signed files in
// Notary's layout ({"signed":<canonical>,"signatures":[...]}), and a small "client" that keeps a
// repository's keys and versions and produces the uploads for init, publish, rotation.
import { KeyObject, constants, createHash, generateKeyPairSync, randomBytes, sign, webcrypto } from 'node:crypto';
import { x509 } from '../../src/tls/x509.ts';
import { canonicalBytes } from '../../src/trust/notary/canonical.ts';
import { keyId, type TufKey } from '../../src/trust/notary/keys.ts';

const DAY = 86_400_000;

export interface KeyPair {
  tuf: TufKey;
  id: string;
  privateKey: KeyObject;
  /** Signature method: ecdsa, rsapss, eddsa. */
  method: 'ecdsa' | 'rsapss' | 'eddsa';
}

/** A root key: a self-signed certificate (CN = `cn`, default the GUN) in an ecdsa-x509 or rsa-x509 key. */
export async function rootKey(gun: string, opts: { cn?: string; notBefore?: Date; notAfter?: Date; rsa?: boolean } = {}): Promise<KeyPair> {
  const alg = opts.rsa ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) } : { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name: [{ CN: [opts.cn ?? gun] }],
    notBefore: opts.notBefore ?? new Date(now - DAY),
    notAfter: opts.notAfter ?? new Date(now + 3650 * DAY),
    keys,
    signingAlgorithm: opts.rsa ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
  });
  const pem = cert.toString('pem');
  const tuf: TufKey = { keytype: opts.rsa ? 'rsa-x509' : 'ecdsa-x509', keyval: { private: null, public: Buffer.from(pem).toString('base64') } };
  return { tuf, id: keyId(tuf), privateKey: KeyObject.from(keys.privateKey), method: opts.rsa ? 'rsapss' : 'ecdsa' };
}

/** A plain key (targets, snapshot, delegations): ecdsa (P-256, DER SPKI), ed25519 (raw) or rsa (DER SPKI). */
export function plainKey(type: 'ecdsa' | 'ed25519' | 'rsa' = 'ecdsa'): KeyPair {
  if (type === 'ed25519') {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
    const tuf: TufKey = { keytype: 'ed25519', keyval: { private: null, public: raw.toString('base64') } };
    return { tuf, id: keyId(tuf), privateKey, method: 'eddsa' };
  }
  const { publicKey, privateKey } = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tuf: TufKey = { keytype: type, keyval: { private: null, public: publicKey.export({ format: 'der', type: 'spki' }).toString('base64') } };
  return { tuf, id: keyId(tuf), privateKey, method: type === 'rsa' ? 'rsapss' : 'ecdsa' };
}

export function signatureOf(pair: KeyPair, message: Buffer): { keyid: string; method: string; sig: string } {
  let sig: Buffer;
  if (pair.method === 'ecdsa') sig = sign('sha256', message, { key: pair.privateKey, dsaEncoding: 'ieee-p1363' });
  else if (pair.method === 'rsapss') sig = sign('sha256', message, { key: pair.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  else sig = sign(null, message, pair.privateKey);
  return { keyid: pair.id, method: pair.method, sig: sig.toString('base64') };
}

/** A file as Notary writes it: Go's json.Marshal of {signed: canonical, signatures}. */
export function signedFile(signed: Record<string, unknown>, signers: KeyPair[]): Buffer {
  const canonical = canonicalBytes(signed);
  const signatures = signers.map((k) => signatureOf(k, canonical));
  return Buffer.concat([Buffer.from('{"signed":'), canonical, Buffer.from(`,"signatures":${JSON.stringify(signatures)}}`)]);
}

export function expires(days: number): string {
  return new Date(Date.now() + days * DAY).toISOString();
}

export function meta(bytes: Buffer): { length: number; hashes: { sha256: string; sha512: string } } {
  return { length: bytes.length, hashes: { sha256: createHash('sha256').update(bytes).digest('base64'), sha512: createHash('sha512').update(bytes).digest('base64') } };
}

export interface RoleKeys {
  keys: TufKey[];
  threshold?: number;
}

export function rootBody(roles: Record<'root' | 'targets' | 'snapshot' | 'timestamp', RoleKeys>, version: number, expiresInDays = 3650): Record<string, unknown> {
  const keys: Record<string, TufKey> = {};
  const out: Record<string, { keyids: string[]; threshold: number }> = {};
  for (const [name, r] of Object.entries(roles)) {
    for (const k of r.keys) keys[keyId(k)] = k;
    out[name] = { keyids: r.keys.map(keyId), threshold: r.threshold ?? 1 };
  }
  return { _type: 'Root', consistent_snapshot: false, expires: expires(expiresInDays), keys, roles: out, version };
}

export interface DelegationSpec {
  name: string;
  keys: TufKey[];
  threshold?: number;
  paths?: string[];
}

export function targetsBody(version: number, targets: Record<string, Buffer> = {}, delegations: DelegationSpec[] = [], expiresInDays = 1095): Record<string, unknown> {
  const t: Record<string, unknown> = {};
  for (const [name, bytes] of Object.entries(targets)) t[name] = meta(bytes);
  const keys: Record<string, TufKey> = {};
  for (const d of delegations) for (const k of d.keys) keys[keyId(k)] = k;
  return {
    _type: 'Targets',
    delegations: { keys, roles: delegations.map((d) => ({ keyids: d.keys.map(keyId), name: d.name, paths: d.paths ?? [''], threshold: d.threshold ?? 1 })) },
    expires: expires(expiresInDays),
    targets: t,
    version,
  };
}

export function snapshotBody(files: Record<string, Buffer>, version: number, expiresInDays = 1095): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  for (const [name, bytes] of Object.entries(files)) m[name] = meta(bytes);
  return { _type: 'Snapshot', expires: expires(expiresInDays), meta: m, version };
}

/** A multipart/form-data body as notary's client sends an update: field "files", filename = role. */
export function multipart(files: Map<string, Buffer> | Record<string, Buffer>): { body: Buffer; contentType: string } {
  const boundary = `----notary${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [role, data] of files instanceof Map ? files : Object.entries(files)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${role}"\r\nContent-Type: application/octet-stream\r\n\r\n`), data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}
