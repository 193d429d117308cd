// Verification of cosign signatures of an image against a public key, from where cosign puts
// them: the `sha256-<hex>.sig` tag and OCI 1.1 referrers of artifactType
// application/vnd.dev.cosign.artifact.sig.v1+json (the referrers API, or the referrers tag on a
// registry without it). Each signature layer is checked as cosign does: the payload blob must
// match its digest, the signature (annotation) must verify over exactly those bytes with the key,
// and the payload's strict `critical` must name this image's digest. The check functions take
// bytes, so a server-side policy can run them on what it stores.
import type { KeyObject } from 'node:crypto';
import { getBlob, getManifest, listReferrers, RegistryHttpError, type RegistryClient } from '../../client/index.ts';
import { checkCosignSignature, type CosignCheck } from './check.ts';
import { COSIGN_SIG_ARTIFACT_TYPE, parseSignatureManifest, sha256, SIGNATURE_ANNOTATION, signatureTag, SIMPLESIGNING_MEDIA_TYPE, type Descriptor } from './layout.ts';

export { checkCosignSignature, type CosignCheck } from './check.ts';

export interface CosignSignatureReport extends CosignCheck {
  kind: 'cosign';
  /** Where it was found: the signature tag or a referrer. */
  source: 'tag' | 'referrer';
  /** The manifest holding it (the .sig tag's or the referrer's digest). */
  manifest: string;
  /** The payload layer's digest. */
  layer: string;
}

export interface CosignFindings {
  /** The signature tag's name, whether it exists. */
  tag: { name: string; found: boolean };
  /** How referrers were listed (api or the referrers tag), and how many cosign ones were found. */
  referrers: { listing: 'api' | 'tag'; found: number };
  signatures: CosignSignatureReport[];
}

function isNotFound(e: unknown): boolean {
  return e instanceof RegistryHttpError && e.status === 404;
}

async function checkLayers(
  client: RegistryClient,
  repo: string,
  layers: Descriptor[],
  publicKey: KeyObject,
  digest: string,
  where: { source: 'tag' | 'referrer'; manifest: string },
): Promise<CosignSignatureReport[]> {
  const out: CosignSignatureReport[] = [];
  for (const l of layers) {
    if (l.mediaType !== SIMPLESIGNING_MEDIA_TYPE) continue;
    const base = { kind: 'cosign' as const, ...where, layer: l.digest };
    let payload: Buffer;
    try {
      payload = await getBlob(client, repo, l.digest);
    } catch (e) {
      out.push({ ...base, ok: false, reason: `payload blob unavailable: ${(e as Error).message}` });
      continue;
    }
    if (sha256(payload) !== l.digest) {
      out.push({ ...base, ok: false, reason: `the payload blob does not match its digest ${l.digest}` });
      continue;
    }
    out.push({ ...base, ...checkCosignSignature(payload, l.annotations?.[SIGNATURE_ANNOTATION], publicKey, digest) });
  }
  return out;
}

/** Every cosign signature of the image `digest` in `repo`, each checked against the key. */
export async function findCosignSignatures(client: RegistryClient, repo: string, digest: string, publicKey: KeyObject): Promise<CosignFindings> {
  const name = signatureTag(digest);
  const signatures: CosignSignatureReport[] = [];
  let found = false;
  try {
    const m = await getManifest(client, repo, name);
    found = true;
    signatures.push(...(await checkLayers(client, repo, parseSignatureManifest(m.bytes).layers, publicKey, digest, { source: 'tag', manifest: m.digest })));
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  const listed = await listReferrers(client, repo, digest, COSIGN_SIG_ARTIFACT_TYPE);
  for (const r of listed.manifests) {
    let m;
    try {
      m = await getManifest(client, repo, r.digest);
    } catch (e) {
      if (isNotFound(e)) continue; // a stale entry in the referrers tag
      throw e;
    }
    const parsed = parseSignatureManifest(m.bytes);
    if (parsed.subject?.digest !== digest) {
      signatures.push({ kind: 'cosign', source: 'referrer', manifest: m.digest, layer: '', ok: false, reason: `the referrer's subject is ${parsed.subject?.digest ?? 'missing'}, not ${digest}` });
      continue;
    }
    signatures.push(...(await checkLayers(client, repo, parsed.layers, publicKey, digest, { source: 'referrer', manifest: m.digest })));
  }
  return { tag: { name, found }, referrers: { listing: listed.source, found: listed.manifests.length }, signatures };
}
