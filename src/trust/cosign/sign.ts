// `berth sign`: a cosign signature of an image, written where cosign writes it, on any registry
// (through the Distribution API only): the `sha256-<hex>.sig` tag (appended to an existing one, as
// cosign does, skipping a signature this key already made of the same payload) and/or an OCI 1.1
// referrer (pushed by digest; on a registry without the referrers API the referrers tag schema is
// kept up to date, as OCI 1.1 asks of clients).
import type { KeyObject } from 'node:crypto';
import {
  addToReferrersTag,
  getManifest,
  headManifest,
  putManifest,
  referrerDescriptor,
  RegistryHttpError,
  supportsReferrersApi,
  uploadBlob,
  type RegistryClient,
} from '../../client/index.ts';
import { header } from '../../client/transport.ts';
import { buildCosignPayload } from './payload.ts';
import { signPayload, verifyPayload } from './keys.ts';
import {
  EMPTY_JSON,
  OCI_MANIFEST,
  parseSignatureManifest,
  sha256,
  SIGNATURE_ANNOTATION,
  signatureConfig,
  signatureLayer,
  signatureReferrerManifest,
  signatureTag,
  signatureTagManifest,
  SIMPLESIGNING_MEDIA_TYPE,
} from './layout.ts';
import { createPublicKey } from 'node:crypto';

export interface ImageTarget {
  host: string;
  repo: string;
  tag?: string;
  digest?: string;
}

export interface SignOptions {
  /** Write the `sha256-<hex>.sig` tag (default true). */
  tag?: boolean;
  /** Also write an OCI 1.1 referrer. */
  referrer?: boolean;
  /** Signed claims in the payload's `optional` (cosign sign -a). */
  annotations?: Record<string, string>;
}

export interface SignResult {
  /** The image's manifest digest (what the payload names). */
  digest: string;
  dockerReference: string;
  payload: string;
  /** base64 of the signature (the annotation's value). */
  signature: string;
  /** The signature tag, when written: its manifest digest, and whether this signature was already in it. */
  tag?: { name: string; digest: string; layers: number; alreadySigned: boolean };
  /** The referrer, when written, and how it is listed (the referrers API or the referrers tag). */
  referrer?: { digest: string; listing: 'api' | 'tag' };
}

const push = (repo: string) => `repository:${repo}:pull,push`;

/** Whether a RegistryHttpError means "no such manifest" (registries differ on the code). */
function isNotFound(e: unknown): boolean {
  return e instanceof RegistryHttpError && e.status === 404;
}

export async function signImage(client: RegistryClient, image: ImageTarget, privateKey: KeyObject, opts: SignOptions = {}): Promise<SignResult> {
  const ref = image.digest ?? image.tag ?? 'latest';
  const head = await headManifest(client, image.repo, ref);
  if (!head) throw new Error(`${image.host}/${image.repo}${image.digest ? '@' : ':'}${ref}: manifest not found`);
  if (image.digest && head.digest !== image.digest) throw new Error(`${image.host} answered ${head.digest} for ${image.digest}`);
  const digest = head.digest;
  // The identity: the image as it was named, without the digest (cosign's docker-reference).
  const dockerReference = `${image.host}/${image.repo}${!image.digest && image.tag ? `:${image.tag}` : ''}`;
  const payload = buildCosignPayload(dockerReference, digest, opts.annotations);
  const signature = signPayload(payload, privateKey);
  const layer = signatureLayer(payload, signature);
  await uploadBlob(client, image.repo, layer.digest, payload);
  const result: SignResult = { digest, dockerReference, payload: payload.toString('utf8'), signature: signature.toString('base64') };

  if (opts.tag !== false) {
    const name = signatureTag(digest);
    let existing: ReturnType<typeof parseSignatureManifest>['layers'] = [];
    try {
      existing = parseSignatureManifest((await getManifest(client, image.repo, name)).bytes).layers;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const publicKey = createPublicKey(privateKey);
    // cosign's duplicate check: a signature by this key over the same payload is there already.
    const already = existing.find((l) => {
      if (l.mediaType !== SIMPLESIGNING_MEDIA_TYPE || l.digest !== layer.digest) return false;
      const sig = l.annotations?.[SIGNATURE_ANNOTATION];
      return sig !== undefined && verifyPayload(payload, Buffer.from(sig, 'base64'), publicKey);
    });
    const layers = already ? existing : [...existing, layer];
    const config = signatureConfig(layers);
    await uploadBlob(client, image.repo, sha256(config), config);
    const manifest = signatureTagManifest(config, layers);
    const tagDigest = await putManifest(client, image.repo, name, manifest, OCI_MANIFEST);
    result.tag = { name, digest: tagDigest, layers: layers.length, alreadySigned: already !== undefined };
  }

  if (opts.referrer) {
    await uploadBlob(client, image.repo, sha256(EMPTY_JSON), EMPTY_JSON);
    const manifest = signatureReferrerManifest(layer, { mediaType: head.mediaType, size: head.size, digest });
    const manifestDigest = sha256(manifest);
    const res = await client.request(`/v2/${image.repo}/manifests/${manifestDigest}`, {
      method: 'PUT',
      scope: push(image.repo),
      headers: { 'Content-Type': OCI_MANIFEST },
      body: manifest,
    });
    let listing: 'api' | 'tag' = 'api';
    // OCI 1.1: no OCI-Subject header and no referrers API means the client keeps the referrers tag.
    if (header(res.headers, 'oci-subject') === undefined && !(await supportsReferrersApi(client, image.repo, digest))) {
      await addToReferrersTag(client, image.repo, digest, [referrerDescriptor(manifest, OCI_MANIFEST, manifestDigest)]);
      listing = 'tag';
    }
    result.referrer = { digest: manifestDigest, listing };
  }
  return result;
}
