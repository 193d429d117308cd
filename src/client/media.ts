// What a client asks for when fetching a manifest: every manifest format in use, so the registry
// never has to convert (registry:2 rewrites to schema 1 for a client accepting nothing else).
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'application/vnd.docker.distribution.manifest.v1+json',
].join(', ');

export function isIndexType(mediaType: string): boolean {
  return mediaType === 'application/vnd.oci.image.index.v1+json' || mediaType === 'application/vnd.docker.distribution.manifest.list.v2+json';
}

/** Manifests may omit mediaType (OCI); the registry's Content-Type is then the only hint. */
export function manifestMediaType(bytes: Buffer, contentType: string | undefined): string {
  try {
    const j = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown };
    if (typeof j.mediaType === 'string') return j.mediaType;
    const ct = (contentType ?? '').split(';')[0]!.trim();
    if (ct && ct !== 'application/json') return ct;
    return Array.isArray(j.manifests) ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json';
  } catch {
    return (contentType ?? 'application/octet-stream').split(';')[0]!.trim();
  }
}
