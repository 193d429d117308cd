// A private CA and the certificates it issues, with the extensions TLS clients check:
// the CA is basicConstraints CA:true (critical) with keyCertSign and cRLSign; a server
// certificate has its names in subjectAltName (Go ignores the CN since 1.15), digitalSignature and
// keyEncipherment, extKeyUsage serverAuth, and key identifiers linking it to the CA.
import { randomBytes } from 'node:crypto';
import { CA_KEY_BITS, SERVER_KEY_BITS, generateKeyPair, importSigningKey, privateKeyPem, type ImportedKey, type SigningKey } from './keys.ts';
import type { SubjectNames } from './names.ts';
import { x509 } from './x509.ts';

const DAY = 86_400_000;
// Tolerates clients whose clock is a little behind the machine that issued the certificate.
const BACKDATE_MS = 5 * 60_000;

export interface CertificateAuthority extends SigningKey {
  cert: x509.X509Certificate;
}

export interface Issued {
  cert: x509.X509Certificate;
  certPem: string;
  keyPem: string;
}

/** A new self-signed CA. */
export async function createCA(opts: { commonName: string; days: number }): Promise<CertificateAuthority & { keyPem: string }> {
  const keys = await generateKeyPair(CA_KEY_BITS);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [opts.commonName] }, { O: ['berth'] }],
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + opts.days * DAY),
    keys,
    extensions: [
      // pathLength 0: this CA signs end-entity certificates only, never another CA.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const signingAlgorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  return { cert, privateKey: keys.privateKey, signingAlgorithm, keyPem: await privateKeyPem(keys.privateKey) };
}

/** An existing CA (--ca-cert/--ca-key): the key must belong to the certificate, which must be a CA. */
export async function loadCA(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(certPem);
  } catch (e) {
    throw new Error(`--ca-cert: not a PEM certificate (${(e as Error).message})`);
  }
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  if (!basic?.ca) throw new Error('--ca-cert: not a CA certificate (basicConstraints CA:TRUE is missing); clients would reject what it signs');
  const usage = cert.getExtension(x509.KeyUsagesExtension);
  if (usage && !(usage.usages & x509.KeyUsageFlags.keyCertSign)) throw new Error('--ca-cert: its keyUsage does not allow keyCertSign');
  let key: ImportedKey;
  try {
    key = await importSigningKey(keyPem);
  } catch (e) {
    throw new Error(`--ca-key: ${(e as Error).message}`);
  }
  if (!key.spki.equals(Buffer.from(cert.publicKey.rawData))) throw new Error('--ca-key does not belong to --ca-cert (their public keys differ)');
  return { cert, privateKey: key.privateKey, signingAlgorithm: key.signingAlgorithm };
}

export interface IssueOptions {
  names: SubjectNames;
  days: number;
  /** serverAuth (default) or clientAuth (mutual TLS). */
  usage?: 'server' | 'client';
  commonName?: string;
}

export async function issue(ca: CertificateAuthority, opts: IssueOptions): Promise<Issued> {
  const keys = await generateKeyPair(SERVER_KEY_BITS);
  const now = Date.now();
  const notAfter = new Date(Math.min(now + opts.days * DAY, ca.cert.notAfter.getTime()));
  const sans = [...opts.names.dns.map((value) => ({ type: 'dns' as const, value })), ...opts.names.ips.map((value) => ({ type: 'ip' as const, value }))];
  const commonName = opts.commonName ?? opts.names.dns[0] ?? opts.names.ips[0];
  const caKeyId = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: [{ CN: [commonName] }],
    // The CA's subject as encoded in its certificate: chain building compares the bytes.
    issuer: ca.cert.subjectName,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: ca.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([opts.usage === 'client' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth]),
      ...(sans.length ? [new x509.SubjectAlternativeNameExtension(sans)] : []),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      caKeyId ? new x509.AuthorityKeyIdentifierExtension(caKeyId) : await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
    ],
  });
  return { cert, certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

// 16 random bytes, top bit clear: positive and well inside RFC 5280's 20-octet limit.
function serialNumber(): string {
  const b = randomBytes(16);
  b[0] = (b[0] & 0x7f) | 0x01;
  return b.toString('hex');
}
