// Referrers (OCI distribution spec v1.1): the artifacts whose `subject` is a given manifest
// (signatures, SBOMs, attestations). Read through the referrers API (`GET /v2/<name>/referrers/
// <digest>`, an image index, paginated with Link) where the registry has it (berth does), else
// through the referrers tag schema: a `sha256-<hex>` tag holding an index of them, which clients
// maintain themselves on registries without the API (registry:2, Debian's docker-registry 2.8).
import type { RegistryClient } from './client.ts';
import { RegistryHttpError } from './client.ts';
import { getManifest } from './manifests.ts';
import { header } from './transport.ts';

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ReferrersList {
  manifests: ReferrerDescriptor[];
  /** 'api' when the registry answered the referrers API, 'tag' when read from the fallback tag. */
  source: 'api' | 'tag';
}

const pull = (repo: string) => `repository:${repo}:pull`;

/** The referrers tag schema: `<alg>-<ref>` (alg up to 32 characters, ref up to 64). */
export function referrersTag(digest: string): string {
  const i = digest.indexOf(':');
  return `${digest.slice(0, i).slice(0, 32)}-${digest.slice(i + 1).slice(0, 64)}`;
}

/** Registries known (per client, per repository) to lack the referrers API: probed once. */
const noApi = new WeakMap<RegistryClient, Set<string>>();

function markNoApi(c: RegistryClient, repo: string): void {
  let s = noApi.get(c);
  if (!s) noApi.set(c, (s = new Set()));
  s.add(repo);
}

function parseIndex(body: Buffer): ReferrerDescriptor[] {
  const j = JSON.parse(body.toString('utf8') || '{}') as { manifests?: ReferrerDescriptor[] | null };
  return Array.isArray(j.manifests) ? j.manifests.filter((d) => d && typeof d.digest === 'string') : [];
}

/**
 * Whether the registry serves the referrers API for `repo`: a 404 means it does not (the spec's
 * signal for "use the tag schema"); probing with `digest` (any manifest digest) is harmless.
 */
export async function supportsReferrersApi(c: RegistryClient, repo: string, digest: string): Promise<boolean> {
  if (noApi.get(c)?.has(repo)) return false;
  const res = await c.request(`/v2/${repo}/referrers/${digest}`, { scope: pull(repo), headers: { Accept: OCI_INDEX }, ok: [200, 404] });
  if (res.status === 404) {
    markNoApi(c, repo);
    return false;
  }
  return true;
}

/** The referrers of `digest` in `repo`, optionally only those of one artifactType. */
export async function listReferrers(c: RegistryClient, repo: string, digest: string, artifactType?: string): Promise<ReferrersList> {
  if (!noApi.get(c)?.has(repo)) {
    const out: ReferrerDescriptor[] = [];
    let path: string | undefined = `/v2/${repo}/referrers/${digest}${artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : ''}`;
    let filtered = true;
    let api = true;
    for (let guard = 0; path && guard < 10_000; guard++) {
      const res = await c.request(path, { scope: pull(repo), headers: { Accept: OCI_INDEX }, ok: [200, 404] });
      if (res.status === 404) {
        // Only the first page may be a 404 that means "no API"; later it is an error.
        if (guard > 0) throw new RegistryHttpError(`${c.host}: GET ${path}: 404`, 404, []);
        api = false;
        break;
      }
      out.push(...parseIndex(res.body));
      if (artifactType && !/artifactType/i.test(header(res.headers, 'oci-filters-applied') ?? '')) filtered = false;
      const link = header(res.headers, 'link');
      const next = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link)?.[1] : undefined;
      path = next ? (next.startsWith('http') || next.startsWith('/') ? next : `/${next}`) : undefined;
    }
    if (api) return { source: 'api', manifests: artifactType && !filtered ? out.filter((d) => d.artifactType === artifactType) : out };
    markNoApi(c, repo);
  }
  const manifests = await readReferrersTag(c, repo, digest);
  return { source: 'tag', manifests: artifactType ? manifests.filter((d) => d.artifactType === artifactType) : manifests };
}

/** The descriptors in the `sha256-<hex>` fallback tag's index; empty when there is no such tag. */
export async function readReferrersTag(c: RegistryClient, repo: string, digest: string): Promise<ReferrerDescriptor[]> {
  try {
    return parseIndex((await getManifest(c, repo, referrersTag(digest))).bytes);
  } catch (e) {
    if (e instanceof RegistryHttpError && e.status === 404) return [];
    throw e;
  }
}

/**
 * Adds descriptors to the fallback tag's index of `subject` (what a client pushing a referrer to a
 * registry without the referrers API must do). Returns true when the tag was (re)written.
 */
export async function addToReferrersTag(c: RegistryClient, repo: string, subject: string, add: ReferrerDescriptor[]): Promise<boolean> {
  const existing = await readReferrersTag(c, repo, subject);
  const have = new Set(existing.map((d) => d.digest));
  const fresh = add.filter((d) => !have.has(d.digest) && (have.add(d.digest), true));
  if (!fresh.length) return false;
  const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...existing, ...fresh] };
  await c.request(`/v2/${repo}/manifests/${referrersTag(subject)}`, {
    method: 'PUT',
    scope: `repository:${repo}:pull,push`,
    headers: { 'Content-Type': OCI_INDEX },
    body: Buffer.from(JSON.stringify(index)),
  });
  return true;
}

/** The descriptor a referrers listing carries for a manifest: artifactType (else its config's media type) and annotations. */
export function referrerDescriptor(bytes: Buffer, mediaType: string, digest: string): ReferrerDescriptor {
  const j = JSON.parse(bytes.toString('utf8')) as { artifactType?: string; config?: { mediaType?: string }; annotations?: Record<string, string> };
  const d: ReferrerDescriptor = { mediaType, digest, size: bytes.length };
  const artifactType = j.artifactType ?? (mediaType === 'application/vnd.oci.image.manifest.v1+json' ? j.config?.mediaType : undefined);
  if (artifactType) d.artifactType = artifactType;
  if (j.annotations && Object.keys(j.annotations).length) d.annotations = j.annotations;
  return d;
}
