// `berth inspect`'s signature listing: every signature of the image of every kind, read from the
// registry as the clients read them, and checked when keys are given (--key, --gpg-keyring):
//   cosign  the sha256-<hex>.sig tag and cosign referrers (src/trust/cosign/verify.ts);
//   gpg     simple signatures from the X-Registry-Supports-Signatures extension (src/trust/signatures/);
//   notary  targets of the GUN HOST/REPO from the registry's Notary API (berth serves it on its
//           own origin), whose chain is checked as the pull policy checks it (src/trust/policy/notary.ts)
//           on the root the registry serves; a target counts when its hash and length are the manifest's.
// Without keys, cosign and GPG signatures are listed as "not checked" (with the signer's key ID
// when the signature names one). Works against any registry: what it does not serve is skipped.
import type { KeyObject } from 'node:crypto';
import { createHash } from 'node:crypto';
import { getBlob, getManifest, listReferrers, RegistryHttpError, type RegistryClient } from '../client/index.ts';
import { findCosignSignatures } from '../trust/cosign/verify.ts';
import { COSIGN_SIG_ARTIFACT_TYPE, parseSignatureManifest, signatureTag, SIMPLESIGNING_MEDIA_TYPE, type Descriptor } from '../trust/cosign/layout.ts';
import { COSIGN_PAYLOAD_TYPE, parseSimpleSigningPayload } from '../trust/cosign/payload.ts';
import { listSimpleSignatures, supportsSignatureExtension } from '../trust/signatures/client.ts';
import { verifySimpleSignature, type GpgKeys } from '../trust/signatures/gpg.ts';
import type { NotaryRecord } from '../metadata/notary/notary-store.ts';
import { loadNotaryState, notaryTargets, type NotarySource } from '../trust/policy/notary.ts';
import { pemKeyId } from '../trust/policy/findings.ts';

export interface InspectedSignature {
  kind: 'cosign' | 'gpg' | 'notary';
  /** cosign: tag | referrer; gpg: extension; notary: the role. */
  source: string;
  /** cosign: the signature manifest's digest; gpg: the signature's name; notary: GUN:target. */
  name: string;
  status: 'verified' | 'unverified' | 'not checked';
  reason?: string;
  signer?: string;
  reference?: string;
}

const notFound = (e: unknown) => e instanceof RegistryHttpError && (e.status === 404 || e.status === 405);

async function listCosign(client: RegistryClient, repo: string, digest: string): Promise<InspectedSignature[]> {
  const out: InspectedSignature[] = [];
  const layers = async (source: string, name: string, ls: Descriptor[]) => {
    for (const l of ls) {
      if (l.mediaType !== SIMPLESIGNING_MEDIA_TYPE) continue;
      const base = { kind: 'cosign' as const, source, name, status: 'not checked' as const };
      try {
        const payload = await getBlob(client, repo, l.digest);
        if (`sha256:${createHash('sha256').update(payload).digest('hex')}` !== l.digest) {
          out.push({ ...base, reason: `the payload blob does not match its digest ${l.digest}` });
          continue;
        }
        const claims = parseSimpleSigningPayload(payload, COSIGN_PAYLOAD_TYPE);
        out.push({ ...base, reference: claims.dockerReference, ...(claims.dockerManifestDigest !== digest && { reason: `the payload is for ${claims.dockerManifestDigest}, not ${digest}` }) });
      } catch (e) {
        out.push({ ...base, reason: (e as Error).message });
      }
    }
  };
  try {
    const m = await getManifest(client, repo, signatureTag(digest));
    await layers('tag', m.digest, parseSignatureManifest(m.bytes).layers);
  } catch (e) {
    if (!notFound(e)) throw e;
  }
  for (const r of (await listReferrers(client, repo, digest, COSIGN_SIG_ARTIFACT_TYPE)).manifests) {
    try {
      const m = await getManifest(client, repo, r.digest);
      await layers('referrer', m.digest, parseSignatureManifest(m.bytes).layers);
    } catch (e) {
      if (!notFound(e)) throw e;
    }
  }
  return out;
}

async function cosign(client: RegistryClient, repo: string, digest: string, key: KeyObject | undefined): Promise<InspectedSignature[]> {
  if (!key) return listCosign(client, repo, digest);
  const found = await findCosignSignatures(client, repo, digest, key);
  return found.signatures.map((s) => ({
    kind: 'cosign',
    source: s.source,
    name: s.manifest,
    status: s.ok ? 'verified' : 'unverified',
    ...(s.reason && { reason: s.reason }),
    ...(s.ok && { signer: pemKeyId(key) }),
    ...(s.dockerReference && { reference: s.dockerReference }),
  }));
}

async function gpg(client: RegistryClient, repo: string, digest: string, keys: GpgKeys | undefined): Promise<InspectedSignature[]> {
  if (!(await supportsSignatureExtension(client))) return [];
  const out: InspectedSignature[] = [];
  for (const s of (await listSimpleSignatures(client, repo, digest)) ?? []) {
    const v = await verifySimpleSignature(s.content, keys ?? [], { digest });
    const signer = v.fingerprint ?? v.keyId;
    out.push({
      kind: 'gpg',
      source: 'extension',
      name: s.name,
      status: !keys ? 'not checked' : v.ok ? 'verified' : 'unverified',
      ...(keys && v.reason && { reason: v.reason }),
      ...(signer && { signer }),
      ...(v.payload && { reference: v.payload.dockerReference }),
    });
  }
  return out;
}

/** The Notary API of the registry itself, read as a client reads it. */
function httpNotary(client: RegistryClient): NotarySource {
  const fetchRole = async (gun: string, role: string): Promise<NotaryRecord | undefined> => {
    const res = await client.request(`/v2/${gun}/_trust/tuf/${role}.json`, { scope: `repository:${gun}:pull`, ok: [200, 404] });
    if (res.status !== 200) return undefined;
    return { gun, role, version: 0, sha256: createHash('sha256').update(res.body).digest('hex'), data: res.body, createdAt: new Date() };
  };
  return { current: fetchRole, timestamp: (gun) => fetchRole(gun, 'timestamp') };
}

async function notary(client: RegistryClient, host: string, repo: string, digest: string, size: number, tag: string | undefined): Promise<InspectedSignature[]> {
  const gun = `${host}/${repo}`;
  let state;
  try {
    state = await loadNotaryState(httpNotary(client), gun);
  } catch {
    return []; // no Notary API here (or it refused us): nothing to list
  }
  if (!state.exists) return [];
  if (state.failure) return [{ kind: 'notary', source: 'trust data', name: gun, status: 'unverified', reason: state.failure }];
  const roles = [...state.roles.keys()];
  const seen = new Set<string>();
  const out: InspectedSignature[] = [];
  for (const t of [...notaryTargets(state, roles, digest, size), ...(tag !== undefined ? notaryTargets(state, roles, digest, size, tag) : [])]) {
    const id = `${t.role}\0${t.name}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ kind: 'notary', source: t.role, name: `${gun}:${t.name}`, status: t.matches ? 'verified' : 'unverified', ...(!t.matches && { reason: `target hash does not match for ${gun}:${t.name}` }) });
  }
  return out;
}

export interface SignatureKeys {
  key?: KeyObject;
  gpgKeys?: GpgKeys;
}

export async function inspectSignatures(client: RegistryClient, host: string, repo: string, image: { digest: string; size: number; tag?: string }, keys: SignatureKeys): Promise<InspectedSignature[]> {
  const [c, g, n] = await Promise.all([
    cosign(client, repo, image.digest, keys.key).catch((e: Error) => [{ kind: 'cosign', source: 'tag', name: '', status: 'unverified', reason: `could not read cosign signatures: ${e.message}` }] as InspectedSignature[]),
    gpg(client, repo, image.digest, keys.gpgKeys).catch(() => [] as InspectedSignature[]),
    notary(client, host, repo, image.digest, image.size, image.tag),
  ]);
  return [...c, ...g, ...n];
}

export function printSignatures(signatures: InspectedSignature[], write: (s: string) => void): void {
  if (!signatures.length) {
    write('Signatures: none (cosign, GPG simple signatures, Notary)\n');
    return;
  }
  write(`Signatures (${signatures.length}):\n`);
  for (const s of signatures) {
    const what = s.kind === 'cosign' ? `cosign ${s.source === 'tag' ? 'tag' : 'referrer'}` : s.kind === 'gpg' ? 'gpg' : `notary ${s.source}`;
    const status = `${s.status}${s.signer ? ` (key ${s.signer})` : ''}`;
    write(`  ${what.padEnd(24)} ${s.name}  ${status}${s.reference ? `  signed as ${s.reference}` : ''}${s.reason ? `: ${s.reason}` : ''}\n`);
  }
}
