// One upstream registry of the pull-through cache, spoken to through berth's own registry client
// (src/client/): Basic or the WWW-Authenticate Bearer flow with the mirror's username/password,
// redirects to object storage followed. Every failure becomes an UpstreamError of one of four
// kinds; messages name the mirror's config key and the upstream's URL, never its credentials.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { MirrorConfig } from '../config/types.ts';
import { AuthError, RegistryClient, RegistryHttpError } from '../client/client.ts';
import { header } from '../client/transport.ts';
import { manifestMediaType } from '../client/media.ts';
import { digestOf, parseDigest } from '../oci/digest.ts';
import { MAX_MANIFEST_BYTES } from '../oci/manifest.ts';

/**
 * What berth asks the upstream for: every manifest format it stores. Not schema 1 (berth refuses
 * it), so an upstream that still converts for old clients hands out schema 2 instead.
 */
export const MIRROR_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** How long a manifest or HEAD request to the upstream may take. */
const REQUEST_TIMEOUT_MS = 30_000;
/** A blob download that receives nothing for this long is given up. */
export const STALL_TIMEOUT_MS = 60_000;

export type UpstreamFailure =
  /** The upstream answered 404: it has no such manifest, tag or blob. */
  | 'not-found'
  /** The upstream refused berth's credentials (401/403, or its token service did). */
  | 'auth'
  /** 429: the upstream's rate limit (Docker Hub's pull limit). */
  | 'rate-limited'
  /** Unreachable, timed out, 5xx, or an answer that is not what was asked for. */
  | 'unavailable';

export class UpstreamError extends Error {
  constructor(
    readonly kind: UpstreamFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface UpstreamManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface UpstreamBlob {
  stream: Readable;
  /** From Content-Length; undefined when the upstream did not say. */
  size: number | undefined;
}

export class Upstream {
  private client?: Promise<RegistryClient>;
  /** Requests sent (every manifest GET/HEAD and blob GET/HEAD), for tests and metrics. */
  requests = 0;

  constructor(readonly config: MirrorConfig) {}

  /** `mirror dockerhub/ (https://registry-1.docker.io)`: how messages name this upstream. */
  get label(): string {
    return `${this.config.key === 'proxy' ? 'proxy' : `mirror ${this.config.prefix}`} (${this.config.remoteUrl})`;
  }

  private connect(): Promise<RegistryClient> {
    const { host, insecure, username, password } = this.config;
    this.client ??= RegistryClient.create(host, {
      insecure,
      noStoredCredentials: true,
      ...(username !== undefined && { creds: { username, password: password ?? '' } }),
    });
    return this.client;
  }

  /** The upstream repository for what follows a mirror's prefix: Docker Hub's one-segment names are library/<name>. */
  repository(rest: string): string {
    return this.config.dockerHub && !rest.includes('/') ? `library/${rest}` : rest;
  }

  async manifest(repo: string, reference: string): Promise<UpstreamManifest> {
    const res = await this.call(`manifest ${repo}:${reference}`, async (c) =>
      c.request(`/v2/${repo}/manifests/${reference}`, { scope: `repository:${repo}:pull`, headers: { Accept: MIRROR_ACCEPT } }),
    );
    if (res.body.length > MAX_MANIFEST_BYTES) throw new UpstreamError('unavailable', `${this.label}: manifest ${repo}:${reference} is bigger than ${MAX_MANIFEST_BYTES} bytes`);
    const algorithm = reference.startsWith('sha512:') ? 'sha512' : 'sha256';
    const digest = digestOf(res.body, algorithm);
    // By digest, the upstream must hand back exactly that content: check rather than trust.
    if (reference.includes(':') && digest !== reference) {
      throw new UpstreamError('unavailable', `${this.label}: manifest ${repo}@${reference} came back with digest ${digest}`);
    }
    return { bytes: res.body, mediaType: manifestMediaType(res.body, header(res.headers, 'content-type')), digest };
  }

  /** The digest a tag points at upstream (a HEAD, which Docker Hub does not count as a pull); undefined on 404. */
  async manifestDigest(repo: string, reference: string): Promise<string | undefined> {
    const res = await this.call(`manifest ${repo}:${reference}`, (c) =>
      c.request(`/v2/${repo}/manifests/${reference}`, { method: 'HEAD', scope: `repository:${repo}:pull`, headers: { Accept: MIRROR_ACCEPT }, ok: [200, 404] }),
    );
    if (res.status === 404) return undefined;
    const digest = header(res.headers, 'docker-content-digest');
    if (digest) {
      try {
        return parseDigest(digest).digest;
      } catch {
        /* fall through: the GET's bytes decide */
      }
    }
    // Some registries leave the digest out of HEAD: the bytes are authoritative.
    return (await this.manifest(repo, reference)).digest;
  }

  /** A blob's bytes as they arrive. The caller verifies the digest. */
  async blob(repo: string, digest: string): Promise<UpstreamBlob> {
    const res = await this.call(`blob ${repo}@${digest}`, (c) => c.request(`/v2/${repo}/blobs/${digest}`, { scope: `repository:${repo}:pull`, stream: true }));
    const length = header(res.headers, 'content-length');
    const msg = res.stream as IncomingMessage;
    // A stalled transfer ends as a failure instead of holding every client that waits for it.
    msg.setTimeout?.(STALL_TIMEOUT_MS, () => msg.destroy(new UpstreamError('unavailable', `${this.label}: blob ${repo}@${digest}: no data for ${STALL_TIMEOUT_MS / 1000} s`)));
    return { stream: res.stream, size: length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined };
  }

  /** A blob's size upstream; undefined on 404. */
  async blobSize(repo: string, digest: string): Promise<number | undefined> {
    const res = await this.call(`blob ${repo}@${digest}`, (c) => c.request(`/v2/${repo}/blobs/${digest}`, { method: 'HEAD', scope: `repository:${repo}:pull`, ok: [200, 404] }));
    if (res.status === 404) return undefined;
    const length = header(res.headers, 'content-length');
    if (length === undefined || !/^\d+$/.test(length)) throw new UpstreamError('unavailable', `${this.label}: HEAD of blob ${repo}@${digest} answered without a size`);
    return Number(length);
  }

  private async call<T>(what: string, fn: (c: RegistryClient) => Promise<T>): Promise<T> {
    this.requests++;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new UpstreamError('unavailable', `${this.label}: ${what}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)), REQUEST_TIMEOUT_MS);
        timer.unref();
      });
      return await Promise.race([this.connect().then(fn), timeout]);
    } catch (e) {
      throw this.explain(what, e);
    } finally {
      clearTimeout(timer);
    }
  }

  private explain(what: string, e: unknown): UpstreamError {
    if (e instanceof UpstreamError) return e;
    const key = this.config.key;
    if (e instanceof AuthError) {
      return new UpstreamError('auth', `${this.label}: the upstream's token service refused berth's credentials: check ${key}.username and ${key}.password`);
    }
    if (e instanceof RegistryHttpError) {
      if (e.status === 404) return new UpstreamError('not-found', `${this.label}: ${what}: not found upstream`);
      if (e.status === 401 || e.status === 403) {
        const why = this.config.username === undefined ? `it needs credentials: set ${key}.username and ${key}.password` : `check ${key}.username and ${key}.password`;
        return new UpstreamError('auth', `${this.label}: the upstream refused berth's credentials (${e.status}) for ${what}: ${why}`);
      }
      if (e.status === 429) return new UpstreamError('rate-limited', `${this.label}: the upstream's rate limit was reached (429) for ${what}`);
      return new UpstreamError('unavailable', `${this.label}: ${what}: the upstream answered ${e.status}`);
    }
    const err = e as NodeJS.ErrnoException;
    // Transport messages name the host and path only; a token service's realm URL carries no secrets either.
    return new UpstreamError('unavailable', `${this.label}: ${what}: ${err?.code ?? ''} ${err?.message ?? String(e)}`.replace(/\s+/g, ' ').trim());
  }
}
