// Parsing and validating manifest bytes (pure: no I/O). The bytes themselves are stored and served
// unchanged; this only extracts what the metadata store must know: references, subject, artifact type.
import { RegistryError } from '../registry/errors.ts';
import { parseDigest } from './digest.ts';
import { MediaType, bareMediaType, isNonDistributable, isSchema1, manifestKinds, type ManifestKind } from './media-types.ts';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
  platform?: Record<string, unknown>;
}

export interface ParsedManifest {
  mediaType: string;
  kind: ManifestKind;
  /** Blobs this manifest needs in the repository (config + layers); nondistributable layers left out. */
  blobs: string[];
  /** Child manifests of an index. */
  children: string[];
  /** Nondistributable (foreign) layers with URLs: clients fetch them from there, not from the registry. */
  remoteLayers?: Descriptor[];
  /** An index's children's platforms (os and architecture both strings), by child digest; the first descriptor of a digest wins. */
  platforms?: Record<string, Platform>;
  configDigest?: string;
  subject?: Descriptor;
  /** artifactType as the referrers API reports it: the manifest's own, else the config media type of an image manifest. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** The platform of an index child, when it has a usable one (never a reason to refuse the index). */
function platformOf(d: Descriptor): Platform | undefined {
  const p = d.platform;
  if (typeof p !== 'object' || p === null || typeof p.os !== 'string' || typeof p.architecture !== 'string') return undefined;
  return typeof p.variant === 'string' && p.variant !== '' ? { os: p.os, architecture: p.architecture, variant: p.variant } : { os: p.os, architecture: p.architecture };
}

/** registry:2 refuses manifests over 4 MiB; the OCI spec says registries SHOULD accept at least that. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

function invalid(message: string, detail?: unknown): RegistryError {
  return new RegistryError('MANIFEST_INVALID', { message: `manifest invalid: ${message}`, detail });
}

function descriptor(value: unknown, where: string): Descriptor {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${where} is not a descriptor object`);
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== 'string' || d.mediaType === '') throw invalid(`${where}.mediaType must be a non-empty string`);
  if (typeof d.digest !== 'string') throw invalid(`${where}.digest must be a string`);
  try {
    parseDigest(d.digest);
  } catch {
    throw invalid(`${where}.digest is not a valid sha256/sha512 digest`, { digest: String(d.digest).slice(0, 200) });
  }
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw invalid(`${where}.size must be a non-negative integer`);
  if (d.urls !== undefined && (!Array.isArray(d.urls) || d.urls.some((u) => typeof u !== 'string'))) throw invalid(`${where}.urls must be an array of strings`);
  if (d.annotations !== undefined && (typeof d.annotations !== 'object' || d.annotations === null)) throw invalid(`${where}.annotations must be an object`);
  if (d.artifactType !== undefined && typeof d.artifactType !== 'string') throw invalid(`${where}.artifactType must be a string`);
  return d as unknown as Descriptor;
}

/** Decides the media type from Content-Type and the body's own mediaType; they must agree. */
function resolveMediaType(contentType: string | undefined, body: Record<string, unknown>): string {
  const header = bareMediaType(contentType);
  const declared = typeof body.mediaType === 'string' ? body.mediaType : undefined;
  if (isSchema1(header) || (declared && isSchema1(declared)) || body.schemaVersion === 1) {
    throw invalid('Docker image manifest schema 1 is deprecated and not supported; push with schema 2 or OCI (e.g. skopeo --format v2s2)');
  }
  const headerKnown = header in manifestKinds;
  if (headerKnown && declared !== undefined && declared !== header) {
    throw invalid(`mediaType in manifest (${declared}) does not match Content-Type (${header})`);
  }
  if (headerKnown) return header;
  if (declared !== undefined) {
    if (declared in manifestKinds) return declared;
    throw invalid(`unsupported manifest media type ${declared}`);
  }
  // OCI allows an absent mediaType; guess from the shape as other registries do.
  if (Array.isArray(body.manifests)) return MediaType.ociIndex;
  if (body.config !== undefined) return MediaType.ociManifest;
  throw invalid(`unsupported manifest media type ${header || '(none)'}`);
}

export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new RegistryError('SIZE_INVALID', { status: 413, message: `manifest too big: ${bytes.length} bytes, limit ${MAX_MANIFEST_BYTES}` });
  }
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw invalid(`not valid JSON (${(e as Error).message})`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('not a JSON object');
  const m = body as Record<string, unknown>;
  const mediaType = resolveMediaType(contentType, m);
  if (m.schemaVersion !== 2) throw invalid('schemaVersion must be 2');
  const kind = manifestKinds[mediaType]!;
  const subject = m.subject === undefined ? undefined : descriptor(m.subject, 'subject');
  if (m.artifactType !== undefined && typeof m.artifactType !== 'string') throw invalid('artifactType must be a string');
  const annotations = typeof m.annotations === 'object' && m.annotations !== null ? (m.annotations as Record<string, string>) : undefined;

  if (kind === 'index') {
    if (!Array.isArray(m.manifests)) throw invalid('manifests must be an array');
    const descriptors = m.manifests.map((d, i) => descriptor(d, `manifests[${i}]`));
    const platforms: Record<string, Platform> = {};
    for (const d of descriptors) {
      const p = platformOf(d);
      if (p && !Object.hasOwn(platforms, d.digest)) platforms[d.digest] = p;
    }
    const children = descriptors.map((d) => d.digest);
    return { mediaType, kind, blobs: [], children, platforms, subject, artifactType: m.artifactType as string | undefined, annotations };
  }

  const config = descriptor(m.config, 'config');
  if (m.layers !== undefined && !Array.isArray(m.layers)) throw invalid('layers must be an array');
  const layers = ((m.layers as unknown[] | undefined) ?? []).map((d, i) => descriptor(d, `layers[${i}]`));
  const remote = (l: Descriptor) => isNonDistributable(l.mediaType) && !!l.urls?.length;
  const blobs = [config.digest, ...layers.filter((l) => !remote(l)).map((l) => l.digest)];
  const remoteLayers = layers.filter(remote);
  const artifactType = (m.artifactType as string | undefined) ?? (mediaType === MediaType.ociManifest ? config.mediaType : undefined);
  return { mediaType, kind, blobs: [...new Set(blobs)], children: [], ...(remoteLayers.length && { remoteLayers }), configDigest: config.digest, subject, artifactType, annotations };
}
