// Key pairs for `berth tls init`: generated with Node's WebCrypto, written as PKCS#8 PEM; a CA key
// given by the user is read with node:crypto (PKCS#1, PKCS#8 or SEC1 PEM, as openssl writes them).
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { subtle, x509 } from './x509.ts';

export interface SigningKey {
  privateKey: CryptoKey;
  /** Algorithm for certificates signed with this key (hash chosen to match the key's strength). */
  signingAlgorithm: Algorithm | EcdsaParams;
}

export interface ImportedKey extends SigningKey {
  /** DER SubjectPublicKeyInfo of the key's public half, to match it against a certificate. */
  spki: Buffer;
}

// RSA for both: every TLS client and proxy accepts it, and keyEncipherment (asked for by older
// clients doing RSA key exchange) only means something for RSA keys. 3072 bits for the CA, which
// lives for years (NIST's level past 2030); 2048 for the server certificate, renewed far sooner.
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]) } as const;
export const CA_KEY_BITS = 3072;
export const SERVER_KEY_BITS = 2048;

export async function generateKeyPair(modulusLength: number): Promise<CryptoKeyPair> {
  return (await subtle.generateKey({ ...RSA, modulusLength }, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

const CURVES: Record<string, { namedCurve: string; hash: string }> = {
  prime256v1: { namedCurve: 'P-256', hash: 'SHA-256' },
  secp384r1: { namedCurve: 'P-384', hash: 'SHA-384' },
  secp521r1: { namedCurve: 'P-521', hash: 'SHA-512' },
};

/** Reads an existing CA private key (PEM, unencrypted) for signing. Throws with a reason, never the key. */
export async function importSigningKey(pem: string | Buffer): Promise<ImportedKey> {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    const encrypted = /ENCRYPTED/.test(pem.toString());
    throw new Error(encrypted ? 'the key is encrypted; give an unencrypted copy (e.g. `openssl pkey -in ca.key -out ca-plain.key`)' : `not a PEM private key (${(e as Error).message})`);
  }
  const pkcs8 = key.export({ format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  if (key.asymmetricKeyType === 'rsa') {
    const algorithm = { ...RSA, hash: 'SHA-256' };
    return { privateKey: await subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']), signingAlgorithm: algorithm, spki };
  }
  const curve = CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (key.asymmetricKeyType === 'ec' && curve) {
    const privateKey = await subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve: curve.namedCurve }, false, ['sign']);
    return { privateKey, signingAlgorithm: { name: 'ECDSA', hash: curve.hash }, spki };
  }
  throw new Error(`unsupported key type ${key.asymmetricKeyType}${key.asymmetricKeyDetails?.namedCurve ? ` (${key.asymmetricKeyDetails.namedCurve})` : ''}; use an RSA or ECDSA P-256/P-384/P-521 CA key`);
}
