// Every signature of one manifest that berth stores, of each kind, checked against a policy's
// keys (or just listed, when no policy applies), with the same checks the clients make:
//   cosign  the `sha256-<hex>.sig` tag's layers and the cosign referrers (artifactType
//           application/vnd.dev.cosign.artifact.sig.v1+json) of the digest: the payload blob
//           matches its digest, the signature verifies over exactly those bytes with one of the
//           PEM keys, and the payload's docker-manifest-digest is this digest (src/trust/cosign/verify.ts);
//   gpg     the simple signatures in metadata.signatures: an OpenPGP signed message by one of the
//           GPG keys whose payload names this digest (src/trust/signatures/gpg.ts);
//   notary  targets of the GUN's trust data whose sha256 and length are the manifest's (notary.ts).
import { createHash, type KeyObject } from 'node:crypto';
import type { ManifestRecord } from '../../metadata/store.ts';
import { checkCosignSignature, type CosignCheck } from '../cosign/check.ts';
import { COSIGN_SIG_ARTIFACT_TYPE, parseSignatureManifest, SIGNATURE_ANNOTATION, signatureTag, SIMPLESIGNING_MEDIA_TYPE, type Descriptor } from '../cosign/layout.ts';
import { COSIGN_PAYLOAD_TYPE, parseSimpleSigningPayload } from '../cosign/payload.ts';
import { verifySimpleSignature, type GpgKeys } from '../signatures/gpg.ts';
import { hasArchiveLayer } from './layer-sniff.ts';
import { manifestBytes, smallBlob, type StoreDeps } from './store-reader.ts';
import { spkiHex } from './keys.ts';

export type SignatureStatus = 'verified' | 'unverified' | 'no-policy';

export interface Finding {
  kind: 'cosign' | 'gpg' | 'notary';
  /** cosign: 'tag' or 'referrer'; gpg: 'extension'; notary: the role. */
  source: string;
  /** cosign: the manifest holding it; gpg: the signature's name; notary: `GUN:target`. */
  name: string;
  status: SignatureStatus;
  /** Why it does not verify (status unverified). */
  reason?: string;
  /** Who signed: a key's short ID or fingerprint, when known. */
  signer?: string;
  /** The identity the payload claims (docker-reference), once the signature verified or no policy applies. */
  reference?: string;
}

/** A short, stable name for a PEM key: the first 16 hex of the SHA-256 of its SubjectPublicKeyInfo. */
export function pemKeyId(key: KeyObject): string {
  return createHash('sha256').update(Buffer.from(spkiHex(key), 'hex')).digest('hex').slice(0, 16);
}

/** The most telling of several keys' verdicts on one signature: a key that verified it, then one whose check got past the signature. */
function bestCheck(payload: Buffer, sig: string | undefined, keys: KeyObject[], digest: string): CosignCheck & { key?: KeyObject } {
  let best: (CosignCheck & { key?: KeyObject }) | undefined;
  for (const key of keys) {
    const c = checkCosignSignature(payload, sig, key, digest);
    if (c.ok) return { ...c, key };
    if (!best || (best.dockerReference === undefined && c.dockerReference !== undefined)) best = { ...c, key };
  }
  return best ?? { ok: false, reason: 'no keys' };
}

async function cosignLayers(deps: StoreDeps, layers: Descriptor[], keys: KeyObject[] | undefined, digest: string, where: { source: string; name: string }): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const l of layers) {
    if (l.mediaType !== SIMPLESIGNING_MEDIA_TYPE) continue;
    const payload = await smallBlob(deps, l.digest);
    const base = { kind: 'cosign' as const, ...where };
    if (!payload) {
      out.push({ ...base, status: keys ? 'unverified' : 'no-policy', reason: `payload blob ${l.digest} unavailable` });
      continue;
    }
    if (`sha256:${createHash('sha256').update(payload).digest('hex')}` !== l.digest) {
      out.push({ ...base, status: keys ? 'unverified' : 'no-policy', reason: `the payload blob does not match its digest ${l.digest}` });
      continue;
    }
    if (!keys) {
      let reference: string | undefined;
      try {
        const claims = parseSimpleSigningPayload(payload, COSIGN_PAYLOAD_TYPE);
        reference = claims.dockerReference;
        if (claims.dockerManifestDigest !== digest) {
          out.push({ ...base, status: 'no-policy', reference, reason: `the payload is for ${claims.dockerManifestDigest}, not ${digest}` });
          continue;
        }
      } catch {
        // shown without a reference
      }
      out.push({ ...base, status: 'no-policy', ...(reference && { reference }) });
      continue;
    }
    const c = bestCheck(payload, l.annotations?.[SIGNATURE_ANNOTATION], keys, digest);
    out.push({
      ...base,
      status: c.ok ? 'verified' : 'unverified',
      ...(c.reason && { reason: c.reason }),
      ...(c.ok && c.key && { signer: pemKeyId(c.key) }),
      ...(c.dockerReference && { reference: c.dockerReference }),
    });
  }
  return out;
}

/** cosign signatures of `digest` in `repository`: the signature tag first, then referrers. `keys` undefined: list only. */
export async function cosignFindings(deps: StoreDeps, repository: string, digest: string, keys: KeyObject[] | undefined): Promise<Finding[]> {
  const out: Finding[] = [];
  if (digest.startsWith('sha256:')) {
    const tagged = await deps.metadata.taggedManifest(repository, signatureTag(digest));
    if (tagged) {
      const bytes = await manifestBytes(deps, tagged.digest);
      const layers = bytes ? parseSignatureManifest(bytes).layers : [];
      out.push(...(await cosignLayers(deps, layers, keys, digest, { source: 'tag', name: tagged.digest })));
    }
  }
  for (const r of await deps.metadata.listReferrers(repository, digest, COSIGN_SIG_ARTIFACT_TYPE)) {
    const bytes = await manifestBytes(deps, r.digest);
    if (!bytes) continue;
    const parsed = parseSignatureManifest(bytes);
    if (parsed.subject?.digest !== digest) continue;
    out.push(...(await cosignLayers(deps, parsed.layers, keys, digest, { source: 'referrer', name: r.digest })));
  }
  return out;
}

/** GPG simple signatures of `digest` stored in berth. `keys` undefined: list only (the signing key ID, unverified). */
export async function gpgFindings(deps: StoreDeps, repository: string, digest: string, keys: GpgKeys | undefined): Promise<Finding[]> {
  const list = (await deps.metadata.signatures.list(repository, digest)) ?? [];
  const out: Finding[] = [];
  for (const s of list) {
    const v = await verifySimpleSignature(s.content, keys ?? [], { digest });
    const base = { kind: 'gpg' as const, source: 'extension', name: s.name };
    if (!keys) {
      out.push({ ...base, status: 'no-policy', ...(v.keyId && { signer: v.keyId }) });
      continue;
    }
    out.push({
      ...base,
      status: v.ok ? 'verified' : 'unverified',
      ...(v.reason && { reason: v.reason }),
      ...((v.fingerprint ?? v.keyId) && { signer: v.fingerprint ?? v.keyId }),
      ...(v.payload && { reference: v.payload.dockerReference }),
    });
  }
  return out;
}

/**
 * A signature, attestation or SBOM rather than something to run: its layers are not image layers
 * (tar, rootfs), neither by media type nor by their bytes (layer-sniff.ts: clients unpack a layer
 * whatever its media type says), and it is not an index. Such manifests under cosign's accessory
 * tags or with a subject stay readable under a policy, so clients can fetch the signatures they
 * verify with.
 */
export async function isArtifactManifest(deps: StoreDeps, bytes: Buffer | undefined, record: ManifestRecord): Promise<boolean> {
  if (!bytes) return false;
  let j: { layers?: unknown; manifests?: unknown };
  try {
    j = JSON.parse(bytes.toString('utf8')) as typeof j;
  } catch {
    return false;
  }
  if (Array.isArray(j.manifests) || /index|list/.test(record.mediaType)) return false;
  const layers = Array.isArray(j.layers) ? (j.layers as { mediaType?: unknown; digest?: unknown }[]) : [];
  if (!layers.every((l) => typeof l?.mediaType === 'string' && !/image\.layer|image\.rootfs|diff\.tar|\.tar(\b|\+|$)/.test(l.mediaType))) return false;
  if (!layers.every((l) => typeof l.digest === 'string')) return false;
  return !(await hasArchiveLayer(deps, layers.map((l) => l.digest as string)));
}
