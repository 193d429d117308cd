// Manifest operations. The bytes are kept exactly as the registry sent them: the digest is over
// those bytes, and re-serialising JSON would change it.
import { digestOf } from '../oci/digest.ts';
import type { RegistryClient } from './client.ts';
import { MANIFEST_ACCEPT, manifestMediaType } from './media.ts';
import { header } from './transport.ts';

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface ManifestHead {
  mediaType: string;
  digest: string;
  size: number;
}

const pull = (repo: string) => `repository:${repo}:pull`;

export async function getManifest(c: RegistryClient, repo: string, ref: string): Promise<FetchedManifest> {
  const res = await c.request(`/v2/${repo}/manifests/${ref}`, { scope: pull(repo), headers: { Accept: MANIFEST_ACCEPT } });
  const digest = digestOf(res.body, ref.startsWith('sha512:') ? 'sha512' : 'sha256');
  // By digest, the registry must hand back exactly that content: check rather than trust.
  if (ref.includes(':') && digest !== ref) throw new Error(`${c.host}: manifest ${ref} came back with digest ${digest}`);
  return { bytes: res.body, mediaType: manifestMediaType(res.body, header(res.headers, 'content-type')), digest };
}

export async function headManifest(c: RegistryClient, repo: string, ref: string): Promise<ManifestHead | undefined> {
  const res = await c.request(`/v2/${repo}/manifests/${ref}`, { method: 'HEAD', scope: pull(repo), headers: { Accept: MANIFEST_ACCEPT }, ok: [200, 404] });
  if (res.status === 404) return undefined;
  const digest = header(res.headers, 'docker-content-digest');
  if (!digest) {
    // Some registries leave the digest header out of HEAD; the GET bytes are authoritative.
    const m = await getManifest(c, repo, ref);
    return { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
  }
  return { mediaType: (header(res.headers, 'content-type') ?? '').split(';')[0]!.trim(), digest, size: Number(header(res.headers, 'content-length') ?? 0) };
}

/** PUT the bytes as they are; returns the digest the registry reports (or computes). */
export async function putManifest(c: RegistryClient, repo: string, ref: string, bytes: Buffer, mediaType: string): Promise<string> {
  const res = await c.request(`/v2/${repo}/manifests/${ref}`, {
    method: 'PUT',
    scope: `repository:${repo}:pull,push`,
    headers: { 'Content-Type': mediaType },
    body: bytes,
  });
  return header(res.headers, 'docker-content-digest') ?? digestOf(bytes);
}

/** DELETE by digest (the spec's only portable form) or by tag (OCI 1.1, berth; registry:2 refuses). */
export async function deleteManifest(c: RegistryClient, repo: string, ref: string): Promise<void> {
  await c.request(`/v2/${repo}/manifests/${ref}`, { method: 'DELETE', scope: `repository:${repo}:delete`, ok: [200, 202, 204] });
}
