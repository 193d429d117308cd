// cosign's key files. The private key is PKCS#8 DER encrypted as go-securesystemslib's
// `encrypted` package does it, in a PEM block labelled `ENCRYPTED COSIGN PRIVATE KEY` (what
// cosign < 2.0.1 writes and the only label skopeo 1.9 accepts; `ENCRYPTED SIGSTORE PRIVATE KEY`,
// cosign >= 2.0.1's label, is read too). The PEM body is JSON, in Go's field order:
//   {"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":b64(32 bytes)},
//    "cipher":{"name":"nacl/secretbox","nonce":b64(24 bytes)},"ciphertext":b64}
// with key = scrypt(passphrase, salt, 32) and ciphertext = secretbox(PKCS#8 DER, nonce, key)
// (tweetnacl's output: the 16-byte tag first, as Go's secretbox.Seal). The public key is a
// `PUBLIC KEY` PEM (SPKI), what cosign and podman's sigstoreSigned policy read.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, scrypt, sign, verify, constants, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import nacl from 'tweetnacl';

export const COSIGN_PRIVATE_KEY_LABEL = 'ENCRYPTED COSIGN PRIVATE KEY';
export const SIGSTORE_PRIVATE_KEY_LABEL = 'ENCRYPTED SIGSTORE PRIVATE KEY';

const SCRYPT = { N: 32768, r: 8, p: 1 } as const;
const SALT_BYTES = 32;
const NONCE_BYTES = 24;
const KEY_BYTES = 32;

/** The passphrase does not open the key (or the file is damaged: secretbox cannot tell them apart). */
export class WrongPassphraseError extends Error {}
/** Not a key file berth can read. */
export class KeyFormatError extends Error {}

export interface CosignKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A new ECDSA P-256 key pair (cosign's default). */
export function generateCosignKeyPair(): CosignKeyPair {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

function scryptKey(passphrase: Buffer, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes (32 MiB for cosign's parameters); Node's default cap is 32 MiB.
  const maxmem = Math.max(64 * 1024 * 1024, 256 * params.N * params.r * params.p);
  return new Promise((resolve, reject) =>
    scrypt(passphrase, salt, KEY_BYTES, { N: params.N, r: params.r, p: params.p, maxmem }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** The first PEM block of `text`: its label and bytes. */
export function readPem(text: string): { label: string; der: Buffer } {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)\r?\n?-----END \1-----/.exec(text);
  if (!m) throw new KeyFormatError('no PEM block found');
  const body = m[2]!
    .split(/\r?\n/)
    .filter((l) => l && !l.includes(':'))
    .join('');
  return { label: m[1]!, der: Buffer.from(body, 'base64') };
}

/** The private key as cosign writes it: PKCS#8 encrypted under the passphrase, in PEM. */
export async function encryptPrivateKey(privateKey: KeyObject, passphrase: Buffer | string, label = COSIGN_PRIVATE_KEY_LABEL): Promise<string> {
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const key = await scryptKey(Buffer.from(passphrase), salt, SCRYPT);
  const box = nacl.secretbox(new Uint8Array(der), new Uint8Array(nonce), new Uint8Array(key));
  const json = JSON.stringify({
    kdf: { name: 'scrypt', params: { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(box).toString('base64'),
  });
  return pem(label, Buffer.from(json));
}

interface EncryptedKeyJson {
  kdf?: { name?: unknown; params?: { N?: unknown; r?: unknown; p?: unknown }; salt?: unknown };
  cipher?: { name?: unknown; nonce?: unknown };
  ciphertext?: unknown;
}

const b64 = (v: unknown, what: string): Buffer => {
  if (typeof v !== 'string') throw new KeyFormatError(`${what} is missing`);
  return Buffer.from(v, 'base64');
};

/** Opens a cosign (or sigstore) encrypted private key. Throws WrongPassphraseError or KeyFormatError. */
export async function decryptPrivateKey(text: string, passphrase: Buffer | string): Promise<KeyObject> {
  const { label, der } = readPem(text);
  if (label !== COSIGN_PRIVATE_KEY_LABEL && label !== SIGSTORE_PRIVATE_KEY_LABEL) {
    throw new KeyFormatError(`a PEM block labelled "${label}", not an encrypted cosign private key (${COSIGN_PRIVATE_KEY_LABEL})`);
  }
  let j: EncryptedKeyJson;
  try {
    j = JSON.parse(der.toString('utf8')) as EncryptedKeyJson;
  } catch {
    throw new KeyFormatError('the encrypted key is not the JSON cosign writes');
  }
  if (j.kdf?.name !== 'scrypt') throw new KeyFormatError(`unsupported key derivation ${String(j.kdf?.name)} (cosign uses scrypt)`);
  const { N, r, p } = j.kdf.params ?? {};
  if (typeof N !== 'number' || typeof r !== 'number' || typeof p !== 'number' || N < 2 || N > 1 << 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) {
    throw new KeyFormatError('unusable scrypt parameters in the key file');
  }
  if (j.cipher?.name !== 'nacl/secretbox') throw new KeyFormatError(`unsupported cipher ${String(j.cipher?.name)} (cosign uses nacl/secretbox)`);
  const salt = b64(j.kdf.salt, 'kdf.salt');
  const nonce = b64(j.cipher.nonce, 'cipher.nonce');
  const ciphertext = b64(j.ciphertext, 'ciphertext');
  if (nonce.length !== NONCE_BYTES) throw new KeyFormatError(`the nonce has ${nonce.length} bytes, not ${NONCE_BYTES}`);
  const key = await scryptKey(Buffer.from(passphrase), salt, { N, r, p });
  const opened = nacl.secretbox.open(new Uint8Array(ciphertext), new Uint8Array(nonce), new Uint8Array(key));
  if (!opened) throw new WrongPassphraseError('decrypting the private key failed: wrong passphrase (or a damaged key file)');
  try {
    return createPrivateKey({ key: Buffer.from(opened), format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw new KeyFormatError(`the decrypted key is not a PKCS#8 private key: ${(e as Error).message}`);
  }
}

/** The public key as a `PUBLIC KEY` PEM (SPKI). */
export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pem('PUBLIC KEY', pub.export({ format: 'der', type: 'spki' }));
}

/** Reads a public key (`PUBLIC KEY` PEM, or a certificate whose key to use). */
export function readPublicKey(text: string): KeyObject {
  try {
    return createPublicKey(text);
  } catch (e) {
    throw new KeyFormatError(`not a PEM public key (cosign.pub): ${(e as Error).message}`);
  }
}

function keyKind(key: KeyObject): 'ec' | 'rsa' | 'ed25519' {
  const t = key.asymmetricKeyType;
  if (t === 'ec' || t === 'rsa' || t === 'ed25519') return t;
  throw new KeyFormatError(`unsupported key type ${t ?? 'unknown'} (ECDSA, RSA or Ed25519)`);
}

/** cosign's signature over the payload: ECDSA DER over SHA-256, RSA PKCS#1 v1.5 SHA-256, or pure Ed25519. */
export function signPayload(payload: Buffer, privateKey: KeyObject): Buffer {
  switch (keyKind(privateKey)) {
    case 'ec':
      return sign('sha256', payload, { key: privateKey, dsaEncoding: 'der' });
    case 'rsa':
      return sign('sha256', payload, { key: privateKey, padding: constants.RSA_PKCS1_PADDING });
    case 'ed25519':
      return sign(null, payload, privateKey);
  }
}

export function verifyPayload(payload: Buffer, signature: Buffer, publicKey: KeyObject): boolean {
  try {
    switch (keyKind(publicKey)) {
      case 'ec':
        return verify('sha256', payload, { key: publicKey, dsaEncoding: 'der' }, signature);
      case 'rsa':
        return verify('sha256', payload, { key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
      case 'ed25519':
        return verify(null, payload, publicKey, signature);
    }
  } catch {
    return false;
  }
}

/**
 * `berth key generate`: writes PREFIX.key (encrypted, mode 0600) and PREFIX.pub. Refuses to
 * replace either file (cosign asks; a script cannot answer, so berth stops instead).
 */
export async function writeCosignKeyFiles(prefix: string, passphrase: Buffer): Promise<{ privateKeyPath: string; publicKeyPath: string }> {
  const privateKeyPath = `${prefix}.key`;
  const publicKeyPath = `${prefix}.pub`;
  for (const p of [privateKeyPath, publicKeyPath]) if (existsSync(p)) throw new KeyFileExistsError(`${p} already exists: not overwriting it (remove it or choose another --output-key-prefix)`);
  const pair = generateCosignKeyPair();
  const encrypted = await encryptPrivateKey(pair.privateKey, passphrase);
  // 'wx': fails if the file appeared meanwhile, never truncates one.
  const priv = await open(privateKeyPath, 'wx', 0o600);
  try {
    await priv.writeFile(encrypted);
  } finally {
    await priv.close();
  }
  const pub = await open(publicKeyPath, 'wx', 0o644);
  try {
    await pub.writeFile(publicKeyPem(pair.publicKey));
  } finally {
    await pub.close();
  }
  return { privateKeyPath, publicKeyPath };
}

export class KeyFileExistsError extends Error {}
