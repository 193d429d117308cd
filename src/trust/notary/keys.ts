// TUF public keys as Notary writes them: `{"keytype","keyval":{"private":null,"public":<base64>}}`.
//   ecdsa, rsa       public = DER SubjectPublicKeyInfo
//   ecdsa-x509,      public = PEM certificate (a leaf, optionally followed by its intermediates);
//   rsa-x509                  root keys are always of this kind, with the GUN as the CN
//   ed25519          public = the raw 32-byte key
// A key's ID is the hex SHA-256 of its canonical JSON (private always null).
import { X509Certificate, createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { canonicalBytes } from './canonical.ts';

export type KeyType = 'ecdsa' | 'ecdsa-x509' | 'rsa' | 'rsa-x509' | 'ed25519';
export const KEY_TYPES: readonly KeyType[] = ['ecdsa', 'ecdsa-x509', 'rsa', 'rsa-x509', 'ed25519'];

/** A key as it appears in metadata. */
export interface TufKey {
  keytype: KeyType;
  keyval: { private: null; public: string };
}

export interface ParsedKey {
  id: string;
  type: KeyType;
  /** The key signatures are checked with. */
  publicKey: KeyObject;
  /** For the x509 types: the certificates in the PEM, leaf first. */
  certificates?: X509Certificate[];
}

export class KeyError extends Error {}

export function keyId(key: TufKey): string {
  return createHash('sha256').update(canonicalBytes({ keytype: key.keytype, keyval: { private: null, public: key.keyval.public } })).digest('hex');
}

/** The TufKey of an ECDSA public key held by the server (base64 DER SPKI). */
export function ecdsaKey(spkiDer: Buffer): TufKey {
  return { keytype: 'ecdsa', keyval: { private: null, public: spkiDer.toString('base64') } };
}

/** Checks a key's structure and loads it; throws KeyError when it is not a usable public key. */
export function parseKey(raw: unknown): ParsedKey {
  if (typeof raw !== 'object' || raw === null) throw new KeyError('key is not an object');
  const { keytype, keyval } = raw as Record<string, unknown>;
  if (typeof keytype !== 'string' || !(KEY_TYPES as readonly string[]).includes(keytype)) throw new KeyError(`unsupported key type ${JSON.stringify(String(keytype)).slice(0, 40)}`);
  if (typeof keyval !== 'object' || keyval === null) throw new KeyError('key has no keyval');
  const pub = (keyval as Record<string, unknown>).public;
  if (typeof pub !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(pub) || pub.length === 0) throw new KeyError('key has no base64 public value');
  const priv = (keyval as Record<string, unknown>).private;
  if (priv !== null && priv !== undefined) throw new KeyError('metadata must not carry private keys');
  const type = keytype as KeyType;
  const tuf: TufKey = { keytype: type, keyval: { private: null, public: pub } };
  const bytes = Buffer.from(pub, 'base64');
  try {
    switch (type) {
      case 'ecdsa':
      case 'rsa': {
        const publicKey = createPublicKey({ key: bytes, format: 'der', type: 'spki' });
        expectKind(publicKey, type === 'ecdsa' ? 'ec' : 'rsa');
        return { id: keyId(tuf), type, publicKey };
      }
      case 'ed25519': {
        if (bytes.length !== 32) throw new KeyError('an ed25519 public key is 32 bytes');
        const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: bytes.toString('base64url') }, format: 'jwk' });
        return { id: keyId(tuf), type, publicKey };
      }
      case 'ecdsa-x509':
      case 'rsa-x509': {
        const certificates = pemCertificates(bytes.toString('latin1'));
        if (certificates.length === 0) throw new KeyError('no certificate in the key');
        const publicKey = certificates[0]!.publicKey;
        expectKind(publicKey, type === 'ecdsa-x509' ? 'ec' : 'rsa');
        return { id: keyId(tuf), type, publicKey, certificates };
      }
    }
  } catch (e) {
    if (e instanceof KeyError) throw e;
    throw new KeyError(`unreadable ${type} key`);
  }
}

function expectKind(key: KeyObject, kind: 'ec' | 'rsa'): void {
  if (key.asymmetricKeyType !== kind) throw new KeyError(`key type does not match its ${key.asymmetricKeyType ?? 'unknown'} key`);
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\r\n]+([A-Za-z0-9+/=\r\n]+?)-----END CERTIFICATE-----/g;

/** Every CERTIFICATE block of a PEM bundle, in order. */
export function pemCertificates(pem: string): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const m of pem.matchAll(PEM_CERT)) out.push(new X509Certificate(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
  return out;
}
