// The key berth's token service signs with: configured (berth.auth.tokenservice.key, PEM), or
// generated at first start into <rootdirectory>/auth/ (0600) with a self-signed certificate next
// to it. `kid` is the key's RFC 7638 thumbprint, the same value distribution 3 derives for a
// rootcertbundle key and publishes in a JWKS. The refresh-token secret is derived from the private
// key, so replicas sharing the key file also accept each other's refresh tokens.
import { createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { access, link, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { Logger } from 'pino';
import { selfSignedCertificate } from './self-signed-cert.ts';

export type SigningAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'RS256' | 'EdDSA';

export interface SigningKey {
  alg: SigningAlgorithm;
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The certificate chain for the `x5c` header (base64 DER), when there is a certificate. */
  x5c?: string[];
  certificate?: X509Certificate;
  /** Public JWK with kid/alg/use, as served at /auth/jwks.json. */
  jwk: JWK;
  /** HMAC key for refresh tokens, derived from the private key. */
  refreshSecret: Uint8Array;
}

export interface SigningKeyOptions {
  keyPath?: string;
  certificatePath?: string;
  /** For a generated key. */
  algorithm: 'ES256' | 'RS256';
  dataDir: string;
}

export class SigningKeyError extends Error {}

export async function loadSigningKey(opts: SigningKeyOptions, log: Logger): Promise<SigningKey> {
  let keyPath = opts.keyPath;
  let certPath = opts.certificatePath;
  if (!keyPath) {
    const dir = join(opts.dataDir, 'auth');
    keyPath = join(dir, 'token-signing-key.pem');
    certPath ??= join(dir, 'token-signing-cert.pem');
    if (await generateIfMissing(dir, keyPath, certPath, opts.algorithm)) log.info({ key: keyPath, certificate: certPath }, 'token service: generated a signing key');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(await readFile(keyPath));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? 'not a PEM private key';
    throw new SigningKeyError(`berth.auth.tokenservice.key: cannot load ${keyPath}: ${why}`);
  }
  const publicKey = createPublicKey(privateKey);
  const alg = algorithmOf(publicKey, keyPath);
  let certificate: X509Certificate | undefined;
  if (certPath) {
    const pem = opts.certificatePath ? await readFile(certPath, 'utf8').catch(() => undefined) : await readDefaultCertificate(certPath);
    if (pem === undefined && opts.certificatePath) throw new SigningKeyError(`berth.auth.tokenservice.certificate: cannot read ${certPath}`);
    if (pem !== undefined) {
      certificate = new X509Certificate(pem);
      const spki = (k: KeyObject) => k.export({ format: 'der', type: 'spki' });
      if (!spki(certificate.publicKey).equals(spki(publicKey))) {
        throw new SigningKeyError(`berth.auth.tokenservice.certificate: ${certPath} is not the certificate of ${keyPath}`);
      }
    }
  }
  const jwk = publicKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  const x5c = certificate ? [certificate.raw.toString('base64')] : undefined;
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const refreshSecret = new Uint8Array(hkdfSync('sha256', der, 'berth', 'refresh-token-v1', 32));
  return {
    alg,
    kid,
    privateKey,
    publicKey,
    ...(x5c && { x5c, certificate }),
    jwk: { ...jwk, kid, alg, use: 'sig', ...(x5c && { x5c }) },
    refreshSecret,
  };
}

function algorithmOf(key: KeyObject, path: string): SigningAlgorithm {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ES256';
    if (curve === 'secp384r1') return 'ES384';
    if (curve === 'secp521r1') return 'ES512';
  }
  if (key.asymmetricKeyType === 'rsa') {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new SigningKeyError(`berth.auth.tokenservice.key: ${path}: RSA keys need at least 2048 bits`);
    return 'RS256';
  }
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  throw new SigningKeyError(`berth.auth.tokenservice.key: ${path}: use an EC (P-256, P-384, P-521), RSA or Ed25519 key`);
}

/**
 * Writes a new key and certificate unless the key exists. Both are written to temporary files
 * first and the key is published with link(2), which fails if the name exists: of two replicas
 * starting together one wins, and the other never reads a half-written key. The winner then
 * renames its certificate into place (the loser waits for it: see readDefaultCertificate).
 */
async function generateIfMissing(dir: string, keyPath: string, certPath: string, algorithm: 'ES256' | 'RS256'): Promise<boolean> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await access(keyPath);
    return false;
  } catch {
    // Missing: make one.
  }
  const pair = algorithm === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 3072 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const suffix = `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const keyTmp = keyPath + suffix;
  const certTmp = certPath + suffix;
  try {
    await writeSynced(keyTmp, pair.privateKey.export({ format: 'pem', type: 'pkcs8' }), 0o600);
    await writeSynced(certTmp, selfSignedCertificate(pair.privateKey, pair.publicKey, 'berth token signer'), 0o644);
    try {
      await link(keyTmp, keyPath);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
    await rename(certTmp, certPath);
    return true;
  } finally {
    await rm(keyTmp, { force: true });
    await rm(certTmp, { force: true });
  }
}

async function writeSynced(path: string, data: string | Buffer, mode: number): Promise<void> {
  const fh = await open(path, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The generated certificate, waiting briefly for a replica that published its key a moment ago. */
async function readDefaultCertificate(certPath: string): Promise<string | undefined> {
  for (let i = 0; i < 40; i++) {
    const pem = await readFile(certPath, 'utf8').catch(() => undefined);
    if (pem !== undefined) return pem;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}
