// The manifest media types berth stores, and the ones it refuses on purpose.
export const MediaType = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export type ManifestKind = 'image' | 'index';

export const manifestKinds: Record<string, ManifestKind> = {
  [MediaType.dockerManifest]: 'image',
  [MediaType.ociManifest]: 'image',
  [MediaType.dockerManifestList]: 'index',
  [MediaType.ociIndex]: 'index',
};

export function isSchema1(mediaType: string): boolean {
  return mediaType === MediaType.dockerSchema1 || mediaType === MediaType.dockerSchema1Signed;
}

/**
 * Layers that registries never hold (Windows base layers): registry:2 does not require them to be
 * pushed when they carry URLs, and neither does berth.
 */
export function isNonDistributable(mediaType: string): boolean {
  return mediaType.includes('.foreign.') || mediaType.includes('.nondistributable.');
}

/** The Content-Type value without parameters, lower-cased. */
export function bareMediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}
