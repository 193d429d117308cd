// Signatures of every kind made in the pull policy tests: cosign signature tags and referrers
// (berth's own cosign layout code, with a signature that can be tampered with), GPG simple
// signatures made with openpgp (a message as `gpg --sign` writes it), and Notary trust data
// (TUF files as the notary client signs them: a root certificate for the GUN, targets,
// snapshot, timestamp), uploaded through the Notary API or written straight to the store.
import { createHash, generateKeyPairSync, KeyObject, randomBytes, sign, webcrypto } from 'node:crypto';
import * as openpgp from 'openpgp';
import { x509 } from '../../src/tls/x509.ts';
import { canonicalBytes } from '../../src/trust/notary/canonical.ts';
import { keyId, type TufKey } from '../../src/trust/notary/keys.ts';
import { buildCosignPayload, ATOMIC_PAYLOAD_TYPE } from '../../src/trust/cosign/payload.ts';
import { signPayload } from '../../src/trust/cosign/keys.ts';
import { signatureConfig, signatureLayer, signatureReferrerManifest, signatureTag, signatureTagManifest, OCI_MANIFEST, EMPTY_JSON } from '../../src/trust/cosign/layout.ts';
import { body, pushBlob, putManifest } from '../http/harness.ts';

const DAY = 86_400_000;
export const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

// ---------------------------------------------------------------------------------------------
// cosign

export interface CosignSignOptions {
  /** Sign a payload for this digest instead (a signature for another image). */
  payloadDigest?: string;
  /** Flip a byte of the signature (a tampered signature). */
  tamper?: boolean;
  /** As an OCI 1.1 referrer instead of the signature tag. */
  referrer?: { mediaType: string; size: number };
}

/** A cosign signature of `digest` in `repo` of the registry at `base`, signed with `key`. */
export async function cosignSign(base: string, repo: string, digest: string, key: KeyObject, opts: CosignSignOptions = {}): Promise<string> {
  const payload = buildCosignPayload(`${new URL(base).host}/${repo}`, opts.payloadDigest ?? digest);
  let signature = signPayload(payload, key);
  if (opts.tamper) {
    signature = Buffer.from(signature);
    signature[signature.length - 3] ^= 0x01;
  }
  const layer = signatureLayer(payload, signature);
  await pushBlob(base, repo, payload);
  if (opts.referrer) {
    await pushBlob(base, repo, EMPTY_JSON);
    const manifest = signatureReferrerManifest(layer, { mediaType: opts.referrer.mediaType, size: opts.referrer.size, digest });
    const res = await putManifest(base, repo, sha256(manifest), manifest, OCI_MANIFEST);
    if (res.status !== 201) throw new Error(`referrer: ${res.status} ${await res.text()}`);
    return sha256(manifest);
  }
  const config = signatureConfig([layer]);
  await pushBlob(base, repo, config);
  const manifest = signatureTagManifest(config, [layer]);
  const res = await putManifest(base, repo, signatureTag(digest), manifest, OCI_MANIFEST);
  if (res.status !== 201) throw new Error(`signature tag: ${res.status} ${await res.text()}`);
  return sha256(manifest);
}

export function cosignKeyPair(): { privateKey: KeyObject; publicKey: KeyObject; pem: string } {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...pair, pem: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString() };
}

// ---------------------------------------------------------------------------------------------
// GPG simple signatures

export interface PgpKey {
  privateKey: openpgp.PrivateKey;
  /** Armored public key (gpg --export --armor). */
  armored: string;
  /** Binary public key (gpg --export). */
  binary: Buffer;
}

export async function pgpKey(name: string): Promise<PgpKey> {
  const { privateKey, publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ name, email: `${name}@berth.test` }], format: 'armored' });
  const priv = await openpgp.readPrivateKey({ armoredKey: privateKey });
  const pub = await openpgp.readKey({ armoredKey: publicKey });
  return { privateKey: priv, armored: publicKey, binary: Buffer.from(pub.write()) };
}

/** An OpenPGP signed message over the atomic payload for `digest`, as `skopeo --sign-by` makes it. */
export async function simpleSignature(key: PgpKey, reference: string, digest: string, opts: { tamper?: boolean } = {}): Promise<Buffer> {
  const payload = Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': reference }, image: { 'docker-manifest-digest': digest }, type: ATOMIC_PAYLOAD_TYPE }, optional: { creator: 'berth tests' } }));
  const message = await openpgp.createMessage({ binary: new Uint8Array(payload) });
  const signed = Buffer.from((await openpgp.sign({ message, signingKeys: key.privateKey, format: 'binary' })) as Uint8Array);
  if (opts.tamper) {
    // A byte of the literal data (the payload) changed: the signature no longer covers it.
    const at = signed.indexOf(Buffer.from('docker-manifest-digest'));
    signed[at] ^= 0x20;
  }
  return signed;
}

export async function putSimpleSignature(base: string, repo: string, digest: string, content: Buffer): Promise<Response> {
  const name = `${digest}@${randomBytes(16).toString('hex')}`;
  return fetch(`${base}/extensions/v2/${repo}/signatures/${digest}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ schemaVersion: 2, name, type: 'atomic', content: content.toString('base64') }),
  });
}

// ---------------------------------------------------------------------------------------------
// Notary

export interface TufKeyPair {
  tuf: TufKey;
  id: string;
  privateKey: KeyObject;
}

/** A root key: an ecdsa-x509 self-signed certificate whose CN is the GUN. */
export async function notaryRootKey(gun: string): Promise<TufKeyPair> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name: [{ CN: [gun] }],
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 3650 * DAY),
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
  });
  const tuf: TufKey = { keytype: 'ecdsa-x509', keyval: { private: null, public: Buffer.from(cert.toString('pem')).toString('base64') } };
  return { tuf, id: keyId(tuf), privateKey: KeyObject.from(keys.privateKey) };
}

export function notaryKey(): TufKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tuf: TufKey = { keytype: 'ecdsa', keyval: { private: null, public: publicKey.export({ format: 'der', type: 'spki' }).toString('base64') } };
  return { tuf, id: keyId(tuf), privateKey };
}

export function tufFile(signed: Record<string, unknown>, signers: TufKeyPair[]): Buffer {
  const canonical = canonicalBytes(signed);
  const signatures = signers.map((k) => ({ keyid: k.id, method: 'ecdsa', sig: sign('sha256', canonical, { key: k.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64') }));
  return Buffer.concat([Buffer.from('{"signed":'), canonical, Buffer.from(`,"signatures":${JSON.stringify(signatures)}}`)]);
}

const expires = (days: number) => new Date(Date.now() + days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function fileMeta(bytes: Buffer): { length: number; hashes: { sha256: string; sha512: string } } {
  return { length: bytes.length, hashes: { sha256: createHash('sha256').update(bytes).digest('base64'), sha512: createHash('sha512').update(bytes).digest('base64') } };
}

export interface NotaryRepo {
  gun: string;
  root: TufKeyPair;
  targetsKey: TufKeyPair;
  snapshotKey: TufKeyPair;
  /** The timestamp key: the server's (from GET timestamp.key) or one the test holds. */
  timestampKey: TufKey;
  timestampPair?: TufKeyPair;
  releasesKey: TufKeyPair;
  versions: Record<string, number>;
}

export async function notaryRepo(gun: string, timestamp: TufKey | 'own'): Promise<NotaryRepo> {
  const timestampPair = timestamp === 'own' ? notaryKey() : undefined;
  return {
    gun,
    root: await notaryRootKey(gun),
    targetsKey: notaryKey(),
    snapshotKey: notaryKey(),
    timestampKey: timestampPair?.tuf ?? (timestamp as TufKey),
    ...(timestampPair && { timestampPair }),
    releasesKey: notaryKey(),
    versions: {},
  };
}

export function rootFile(r: NotaryRepo): Buffer {
  const keys: Record<string, TufKey> = {};
  for (const k of [r.root.tuf, r.targetsKey.tuf, r.snapshotKey.tuf, r.timestampKey]) keys[keyId(k)] = k;
  const role = (k: TufKey) => ({ keyids: [keyId(k)], threshold: 1 });
  return tufFile(
    { _type: 'Root', consistent_snapshot: false, expires: expires(3650), keys, roles: { root: role(r.root.tuf), snapshot: role(r.snapshotKey.tuf), targets: role(r.targetsKey.tuf), timestamp: role(r.timestampKey) }, version: 1 },
    [r.root],
  );
}

/** A targets file; `targets` maps target names to the bytes (or meta) they stand for. */
export function targetsFile(r: NotaryRepo, role: string, targets: Record<string, Buffer | { length: number; hashes: Record<string, string> }>, delegate?: { name: string; key: TufKeyPair; paths?: string[] }): Buffer {
  const version = (r.versions[role] = (r.versions[role] ?? 0) + 1);
  const t: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(targets)) t[name] = Buffer.isBuffer(v) ? fileMeta(v) : v;
  const delegations = delegate
    ? { keys: { [delegate.key.id]: delegate.key.tuf }, roles: [{ keyids: [delegate.key.id], name: delegate.name, paths: delegate.paths ?? [''], threshold: 1 }] }
    : { keys: {}, roles: [] };
  return tufFile({ _type: 'Targets', delegations, expires: expires(1095), targets: t, version }, [role === 'targets' ? r.targetsKey : r.releasesKey]);
}

export function snapshotFile(r: NotaryRepo, files: Record<string, Buffer>): Buffer {
  const version = (r.versions.snapshot = (r.versions.snapshot ?? 0) + 1);
  const meta: Record<string, unknown> = {};
  for (const [name, bytes] of Object.entries(files)) meta[name] = fileMeta(bytes);
  return tufFile({ _type: 'Snapshot', expires: expires(1095), meta, version }, [r.snapshotKey]);
}

/** A timestamp signed by the test's own timestamp key; expired `ago` ms ago when given. */
export function timestampFile(r: NotaryRepo, snapshot: Buffer, opts: { expiredAgoMs?: number } = {}): Buffer {
  const version = (r.versions.timestamp = (r.versions.timestamp ?? 0) + 1);
  const exp = opts.expiredAgoMs !== undefined ? new Date(Date.now() - opts.expiredAgoMs).toISOString().replace(/\.\d{3}Z$/, 'Z') : expires(14);
  return tufFile({ _type: 'Timestamp', expires: exp, meta: { snapshot: fileMeta(snapshot) }, version }, [r.timestampPair!]);
}

/** The server's timestamp key for a GUN (GET timestamp.key), as a TUF key. */
export async function serverTimestampKey(base: string, gun: string): Promise<TufKey> {
  const res = await fetch(`${base}/v2/${gun}/_trust/tuf/timestamp.key`);
  if (res.status !== 200) throw new Error(`timestamp.key: ${res.status} ${await res.text()}`);
  const k = (await res.json()) as { keytype: string; keyval: { public: string } };
  return { keytype: k.keytype as TufKey['keytype'], keyval: { private: null, public: k.keyval.public } };
}

/** POSTs an update to the Notary API, as `notary publish` does (multipart, field "files", filename = role). */
export async function notaryPublish(base: string, gun: string, files: Record<string, Buffer>): Promise<void> {
  const boundary = `----notary${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [role, data] of Object.entries(files)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${role}"\r\nContent-Type: application/octet-stream\r\n\r\n`), data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const res = await fetch(`${base}/v2/${gun}/_trust/tuf/`, { method: 'POST', headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` }, body: body(Buffer.concat(parts)) });
  if (res.status !== 200) throw new Error(`notary publish: ${res.status} ${await res.text()}`);
}
