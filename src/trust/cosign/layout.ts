// Where cosign keeps signatures in a registry, and the manifests it writes there.
//  - The signature tag: `sha256-<hex>.sig` in the image's repository, an OCI image manifest with
//    config application/vnd.oci.image.config.v1+json and one layer per signature: the payload
//    blob (application/vnd.dev.cosign.simplesigning.v1+json) with the base64 signature in the
//    annotation dev.cosignproject.cosign/signature. A new signature is appended as a layer.
//  - An OCI 1.1 referrer (cosign's oci-1-1 referrers mode): artifactType
//    application/vnd.dev.cosign.artifact.sig.v1+json, the empty config, the same layer, and the
//    image as `subject`.
import { createHash } from 'node:crypto';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const SIMPLESIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const COSIGN_SIG_ARTIFACT_TYPE = 'application/vnd.dev.cosign.artifact.sig.v1+json';
export const EMPTY_JSON = Buffer.from('{}');

export const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** `sha256:<hex>` -> `sha256-<hex>.sig`, cosign's signature tag. */
export function signatureTag(digest: string): string {
  return `${digest.replace(':', '-')}.sig`;
}

export interface Descriptor {
  mediaType: string;
  size: number;
  digest: string;
  data?: string;
  annotations?: Record<string, string>;
  artifactType?: string;
}

/** The layer of one signature: the payload blob, its signature in the annotation. */
export function signatureLayer(payload: Buffer, signature: Buffer): Descriptor {
  return { mediaType: SIMPLESIGNING_MEDIA_TYPE, size: payload.length, digest: sha256(payload), annotations: { [SIGNATURE_ANNOTATION]: signature.toString('base64') } };
}

/**
 * The config of a signature tag manifest, as go-containerregistry builds it for cosign: an empty
 * image config whose rootfs lists the layers (the payloads are not compressed, so diff_id = digest).
 */
export function signatureConfig(layers: Descriptor[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: layers.map(() => ({ created: '0001-01-01T00:00:00Z' })),
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
}

/** The signature tag's manifest (field order as go-containerregistry writes it). */
export function signatureTagManifest(config: Buffer, layers: Descriptor[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, size: config.length, digest: sha256(config) },
      layers,
    }),
  );
}

/** An OCI 1.1 referrer holding one signature of `subject`. */
export function signatureReferrerManifest(layer: Descriptor, subject: Descriptor, created = new Date()): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: COSIGN_SIG_ARTIFACT_TYPE,
      config: { mediaType: OCI_EMPTY, size: EMPTY_JSON.length, digest: sha256(EMPTY_JSON), data: EMPTY_JSON.toString('base64') },
      layers: [layer],
      subject: { mediaType: subject.mediaType, size: subject.size, digest: subject.digest },
      annotations: { 'org.opencontainers.image.created': created.toISOString().replace(/\.\d{3}Z$/, 'Z') },
    }),
  );
}

export interface ParsedSignatureManifest {
  layers: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
}

/** The layers (and subject) of a signature manifest; anything that is not one gives no layers. */
export function parseSignatureManifest(bytes: Buffer): ParsedSignatureManifest {
  let j: { layers?: unknown; subject?: unknown; artifactType?: unknown };
  try {
    j = JSON.parse(bytes.toString('utf8')) as typeof j;
  } catch {
    return { layers: [] };
  }
  const layers = Array.isArray(j.layers)
    ? (j.layers as Descriptor[]).filter((l) => l && typeof l.digest === 'string' && typeof l.mediaType === 'string' && typeof l.size === 'number')
    : [];
  const subject = j.subject && typeof (j.subject as Descriptor).digest === 'string' ? (j.subject as Descriptor) : undefined;
  return { layers, ...(subject && { subject }), ...(typeof j.artifactType === 'string' && { artifactType: j.artifactType }) };
}
