// GET /v2/<name>/referrers/<digest> (OCI distribution spec v1.1: "Listing Referrers"): always an
// image index, empty when nothing refers; never 404 for an unknown subject or repository.
import { parseDigest } from '../oci/digest.ts';
import { MediaType } from '../oci/media-types.ts';
import { sendJSON } from '../http/respond.ts';
import type { RequestContext } from './services.ts';

export async function listReferrers(ctx: RequestContext, name: string, digestParam: string): Promise<void> {
  const { digest } = parseDigest(digestParam);
  const artifactType = ctx.url.searchParams.get('artifactType') || undefined;
  const rows = await ctx.services.metadata.listReferrers(name, digest, artifactType);
  const manifests = rows.map((r) => {
    const d: Record<string, unknown> = { mediaType: r.mediaType, digest: r.digest, size: r.size };
    if (r.artifactType) d.artifactType = r.artifactType;
    if (r.annotations) d.annotations = JSON.parse(r.annotations);
    return d;
  });
  const headers: Record<string, string> = { 'Content-Type': MediaType.ociIndex };
  if (artifactType !== undefined) headers['OCI-Filters-Applied'] = 'artifactType';
  sendJSON(ctx.res, 200, { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }, headers);
}
