// The pull-through cache (docs/operations.md, "Mirrors"). distribution's `proxy:` makes the whole
// registry a cache of one upstream; `berth.mirrors` puts several upstreams under their own prefixes
// next to local repositories, and containerd's `?ns=<host>` (hosts.toml mirrors) reaches a mirror by
// its `ns`. The registry's handlers call in at one place each (a no-op for names no mirror covers):
//   - server.ts, before authorization: mapRoute() turns `?ns=` into the mirror's local name, so
//     access control checks pull permission on that name as on any other;
//   - dispatch.ts: refuseWrite() answers UNSUPPORTED to pushes and deletes, as registry:2's proxy;
//   - getManifest: prepareManifest() makes the local copy current (fetched when missing, a tag
//     re-checked with a HEAD once its ttl is over, kept when the upstream is down), then the
//     ordinary handler serves it;
//   - getBlob: serveBlob() streams a missing blob from the upstream while storing it (blob-fetch.ts).
// Every pull sends the same notification event whether it was cached or not, as distribution's
// proxy does: the handlers send it when they answer, serveBlob when it answers itself.
// What is cached is ordinary content: manifests, tags and linked blobs in the metadata store,
// bytes in the blob store, under quotas, retention and garbage collection like pushed content.
// Concurrent requests for the same manifest, tag check or blob share one upstream request.
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { MirrorConfig } from '../config/types.ts';
import { parseDigest } from '../oci/digest.ts';
import { parseManifest } from '../oci/manifest.ts';
import { parseReference } from '../oci/reference.ts';
import { BlobCollectedError, newManifest } from '../metadata/store.ts';
import { reserveForWrite } from '../lifecycle/blob-writes.ts';
import { send } from '../http/respond.ts';
import { RegistryError } from '../registry/errors.ts';
import type { Route } from '../registry/routes.ts';
import type { RequestContext } from '../registry/services.ts';
import { proxyBlobPull, proxyBlobPush, proxyManifestPull, proxyManifestPush } from '../metrics/proxy.ts';
import { BlobFetch } from './blob-fetch.ts';
import { SingleFlight } from '../util/single-flight.ts';
import { Upstream, UpstreamError } from './upstream.ts';

/**
 * A pull event of a response that goes out without waiting for it (a HEAD, a streamed blob): when the
 * outbox cannot write it in time, the outbox keeps it queued, or has logged and counted it as dropped
 * (src/events/outbox.ts); the answer is sent either way, so nothing is left to do here.
 */
const eventNotRecorded = (): void => undefined;

/** A link a quota refused (403 DENIED) is not made: false; any other failure is thrown. */
const unlessOverQuota = (e: unknown): false => {
  if (e instanceof RegistryError && e.code === 'DENIED') return false;
  throw e;
};

/** After a failed upstream request, cached tags are served without asking it again for this long. */
const DOWN_BACKOFF_MS = 15_000;
/** Tag check times kept (one entry per cached tag pulled); beyond this the oldest go first. */
const MAX_CHECKED = 100_000;

export interface MirrorMatch {
  upstream: Upstream;
  /** The upstream's repository name (prefix stripped, Docker Hub's library/ added). */
  upstreamRepository: string;
}

export interface MirrorStats {
  manifestHits: number;
  manifestMisses: number;
  blobHits: number;
  blobMisses: number;
}

export class Mirror {
  /** Longest prefix first, so `a/b/` wins over `a/` and the proxy section ('') comes last. */
  readonly upstreams: Upstream[];
  private readonly byNs = new Map<string, Upstream>();
  private readonly manifests = new SingleFlight<void>();
  private readonly blobSizes = new SingleFlight<number | undefined>();
  private readonly fetches = new Map<string, BlobFetch>();
  /** `<local name>:<tag>` -> when the upstream last confirmed (or gave) the cached tag. */
  private readonly checked = new Map<string, number>();
  private readonly downUntil = new Map<Upstream, number>();
  readonly stats: MirrorStats = { manifestHits: 0, manifestMisses: 0, blobHits: 0, blobMisses: 0 };

  constructor(
    configs: MirrorConfig[],
    private readonly log: Logger,
  ) {
    this.upstreams = configs.map((c) => new Upstream(c)).sort((a, b) => b.config.prefix.length - a.config.prefix.length);
    for (const u of this.upstreams) if (u.config.ns) this.byNs.set(u.config.ns, u);
  }

  /** Blob fetches and manifest requests in flight (tests). */
  get inFlight(): number {
    return this.fetches.size + this.manifests.size;
  }

  /** The mirror covering a local repository name, if any. */
  match(name: string): MirrorMatch | undefined {
    for (const upstream of this.upstreams) {
      const { prefix } = upstream.config;
      if (name.length > prefix.length && name.startsWith(prefix)) return { upstream, upstreamRepository: upstream.repository(name.slice(prefix.length)) };
    }
    return undefined;
  }

  /**
   * containerd's hosts.toml mirrors send `?ns=<registry host>`: a request naming a mirror's `ns` is
   * for that mirror's repositories, so the name gets its prefix. Answers with OCI-Namespace, as the
   * distribution spec asks of a registry that used `ns`. A name that has the prefix already (a
   * hosts.toml host with `override_path` pointing at /v2/<prefix>) keeps it. Other requests are left as they are.
   */
  mapRoute(route: Route, url: URL, res: ServerResponse): Route {
    if (!('name' in route)) return route;
    const ns = url.searchParams.get('ns');
    if (!ns) return route;
    const upstream = this.byNs.get(ns.toLowerCase());
    if (!upstream) return route;
    res.setHeader('OCI-Namespace', ns);
    const { prefix } = upstream.config;
    return route.name.startsWith(prefix) ? route : { ...route, name: prefix + route.name };
  }

  /** Pushes and deletes of mirrored names are refused, as registry:2 refuses them in proxy mode. */
  refuseWrite(route: Route): void {
    if (!('name' in route)) return;
    const m = this.match(route.name);
    if (!m) return;
    const { prefix, remoteUrl } = m.upstream.config;
    const message =
      prefix === ''
        ? `The operation is unsupported: this registry is a pull-through cache of ${remoteUrl} (proxy) and accepts no pushes or deletes`
        : `The operation is unsupported: ${prefix} is a pull-through cache of ${remoteUrl}; push to a repository outside ${prefix}`;
    throw new RegistryError('UNSUPPORTED', { message });
  }

  /**
   * Makes the local copy of a mirrored manifest current before the ordinary handler serves it:
   * by digest, fetched once when missing; by tag, fetched when missing and re-checked with a HEAD
   * once its ttl is over (a moved tag fetches the new manifest). With the upstream down, unreachable
   * or refusing, a cached tag is served as it is; only what is not cached fails.
   */
  async prepareManifest(ctx: RequestContext, name: string, reference: string): Promise<void> {
    const m = this.match(name);
    if (!m) return;
    let ref: ReturnType<typeof parseReference>;
    try {
      ref = parseReference(reference);
    } catch {
      return; // the ordinary handler answers
    }
    const { metadata } = ctx.services;
    if (ref.kind === 'digest') {
      const cached = await metadata.manifest(name, ref.digest);
      if (cached) {
        this.manifestHit(cached.size);
        return;
      }
      const digest = ref.digest;
      await this.manifests.run(`${name}@${digest}`, async () => {
        if (await metadata.manifest(name, digest)) return;
        this.stats.manifestMisses++;
        await this.fetchManifest(ctx, name, m, digest, undefined).catch((e: unknown) => {
          throw this.failure(e, 'manifest', { digest });
        });
      });
      return;
    }
    const tag = ref.tag;
    const key = `${name}:${tag}`;
    const fresh = () => Date.now() - (this.checked.get(key) ?? -Infinity) < m.upstream.config.ttlMs;
    const cached = fresh() ? await metadata.taggedManifest(name, tag) : undefined;
    if (cached) {
      this.manifestHit(cached.size);
      return;
    }
    await this.manifests.run(key, async () => {
      const local = await metadata.taggedManifest(name, tag);
      if (local && (fresh() || Date.now() < (this.downUntil.get(m.upstream) ?? 0))) {
        this.manifestHit(local.size);
        return;
      }
      try {
        if (local) {
          const current = await m.upstream.manifestDigest(m.upstreamRepository, tag);
          if (current === undefined) throw new UpstreamError('not-found', `${m.upstream.label}: manifest ${m.upstreamRepository}:${tag}: not found upstream`);
          if (current === local.digest) {
            this.markChecked(key);
            this.manifestHit(local.size);
            return;
          }
          this.stats.manifestMisses++;
          await this.fetchManifest(ctx, name, m, current, tag);
        } else {
          this.stats.manifestMisses++;
          await this.fetchManifest(ctx, name, m, tag, tag);
        }
      } catch (e) {
        if (local && e instanceof UpstreamError && e.kind !== 'not-found') {
          // The upstream is down or refusing: the cached tag is what berth has; serve it.
          this.downUntil.set(m.upstream, Date.now() + DOWN_BACKOFF_MS);
          this.manifestHit(local.size);
          this.log.warn({ mirror: m.upstream.config.key, repository: name, tag, err: e.message }, 'mirror: upstream failed; serving the cached tag');
          return;
        }
        throw this.failure(e, 'manifest', { tag });
      }
    });
  }

  private manifestHit(size: number): void {
    this.stats.manifestHits++;
    proxyManifestPush(size, true);
  }

  private markChecked(key: string): void {
    this.checked.delete(key);
    this.checked.set(key, Date.now());
    if (this.checked.size > MAX_CHECKED) this.checked.delete(this.checked.keys().next().value!);
  }

  /** GETs a manifest from the upstream and stores it (and the tag) as ordinary, mirrored content. */
  private async fetchManifest(ctx: RequestContext, name: string, m: MirrorMatch, reference: string, tag: string | undefined): Promise<void> {
    const up = await m.upstream.manifest(m.upstreamRepository, reference);
    let parsed: ReturnType<typeof parseManifest>;
    try {
      parsed = parseManifest(up.bytes, up.mediaType);
    } catch (e) {
      throw new UpstreamError('unavailable', `${m.upstream.label}: manifest ${m.upstreamRepository}:${reference} cannot be cached: ${(e as Error).message}`);
    }
    const { metadata, blobs, quotas, manifestCache } = ctx.services;
    const { digest, bytes } = up;
    await quotas.checkAdd(name, digest, bytes.length, 'manifest', { until: ctx.res });
    // Layers other images brought already are linked now: the upstream's manifest says this repository has them.
    await this.linkStored(ctx, name, parsed.blobs);
    let collected = true;
    for (let attempt = 0; attempt < 3 && collected; attempt++) {
      // As a manifest PUT: reserve and store the bytes, then the metadata (src/registry/manifests.ts).
      if ((await reserveForWrite(metadata, digest, bytes.length)) !== 'live') await blobs.put(digest, bytes);
      const result = await metadata.putManifest(name, { ...newManifest(parsed, digest, bytes.length), mirrored: true }, tag);
      collected = result.bytesCollected === true;
    }
    if (collected) throw new UpstreamError('unavailable', `manifest ${digest} was garbage-collected while it was cached; retry`);
    manifestCache.set(digest, bytes);
    // A cached signature (cosign's .sig tag, a referrer) may change what the pull policy decides.
    ctx.services.trust?.manifestChanged(name);
    if (tag !== undefined) this.markChecked(`${name}:${tag}`);
    proxyManifestPull(bytes.length);
    proxyManifestPush(bytes.length, false);
  }

  /**
   * Links to `name` those of `digests` whose bytes are stored already. One that a quota refuses is
   * left unlinked: its GET is then refused with the quota's message, as for a layer not stored yet.
   */
  private async linkStored(ctx: RequestContext, name: string, digests: string[]): Promise<void> {
    const { metadata, blobs } = ctx.services;
    for (const digest of digests) {
      if (await metadata.repositoryBlob(name, digest)) continue;
      const stored = await blobs.stat(digest);
      if (!stored) continue;
      await this.link(ctx, name, digest, stored.size).catch(unlessOverQuota);
    }
  }

  /** Links stored bytes to `name`; throws the quota's 403 DENIED when they do not fit. */
  private async link(ctx: RequestContext, name: string, digest: string, size: number): Promise<boolean> {
    const { metadata, quotas } = ctx.services;
    // A link adds the blob to the quotas over `name` as a mount does (stored for a repository
    // outside them, it is not counted there yet): checked as the fetch it replaces would be.
    await quotas.checkAdd(name, digest, size, 'upload', { until: ctx.res });
    await reserveForWrite(metadata, digest, size);
    try {
      await metadata.linkBlob(name, digest, size);
      return true;
    } catch (e) {
      if (e instanceof BlobCollectedError) return false;
      throw e;
    }
  }

  /**
   * Answers a GET or HEAD of a mirrored blob that is not in the repository yet: a HEAD from the
   * upstream's answer, a GET by streaming the upstream's bytes while they are stored. Returns
   * false when the ordinary handler is to answer (the blob is, or now is, in the repository).
   */
  async serveBlob(ctx: RequestContext, name: string, digestParam: string): Promise<boolean> {
    const m = this.match(name);
    if (!m) return false;
    let digest: string;
    try {
      digest = parseDigest(digestParam).digest;
    } catch {
      return false; // the ordinary handler answers
    }
    const { metadata, blobs } = ctx.services;
    const linked = await metadata.repositoryBlob(name, digest);
    if (linked) {
      this.blobHit(ctx, linked.size);
      return false;
    }
    const key = `${name}@${digest}`;
    const headers = { 'Docker-Content-Digest': digest, ETag: `"${digest}"`, 'Cache-Control': 'max-age=31536000', 'Content-Type': 'application/octet-stream' };
    let fetch = this.fetches.get(key);
    if (!fetch) {
      // Stored for another repository (a shared layer): linked once the upstream confirms this repository has it.
      const stored = await blobs.stat(digest);
      if (stored || ctx.req.method === 'HEAD') {
        const size = await this.blobSizes.run(key, () => m.upstream.blobSize(m.upstreamRepository, digest)).catch((e: unknown) => {
          throw this.failure(e, 'blob', { digest });
        });
        if (size === undefined) throw new RegistryError('BLOB_UNKNOWN', { message: `blob unknown to registry: ${m.upstream.label} does not have it`, detail: { digest } });
        // Over a quota, a HEAD is answered from the upstream as for a blob not stored (nothing is
        // linked); a GET is refused with the quota's message, as its fetch would be.
        const link = () => this.link(ctx, name, digest, size);
        if (stored?.size === size && (await (ctx.req.method === 'HEAD' ? link().catch(unlessOverQuota) : link()))) {
          this.blobHit(ctx, size);
          return false;
        }
        if (ctx.req.method === 'HEAD') {
          ctx.services.events?.blobPulled(ctx, name, digest, size).catch(eventNotRecorded);
          send(ctx.res, 200, { ...headers, 'Content-Length': size });
          return true;
        }
      }
      fetch = this.fetches.get(key);
    }
    if (!fetch) {
      this.stats.blobMisses++;
      const started = new BlobFetch({ services: ctx.services, upstream: m.upstream, repository: name, upstreamRepository: m.upstreamRepository, digest });
      this.fetches.set(key, started);
      const forget = () => {
        if (this.fetches.get(key) === started) this.fetches.delete(key);
      };
      started.done.then(() => {
        forget();
        proxyBlobPull(started.size ?? 0);
      }, (e: unknown) => {
        forget();
        this.log.warn({ mirror: m.upstream.config.key, repository: name, digest, err: (e as Error).message }, 'mirror: blob fetch failed');
      });
      fetch = started;
    }
    try {
      await fetch.ready;
    } catch (e) {
      throw this.failure(e, 'blob', { digest });
    }
    if (ctx.req.method === 'HEAD' && fetch.size !== undefined) {
      ctx.services.events?.blobPulled(ctx, name, digest, fetch.size).catch(eventNotRecorded);
      send(ctx.res, 200, { ...headers, 'Content-Length': fetch.size });
      return true;
    }
    // A range waits for the whole blob, then comes from storage like any stored blob.
    if (ctx.req.method === 'GET' && ctx.req.headers.range === undefined) {
      const attached = fetch.attach(ctx.res, headers);
      if (attached) {
        const served = await attached;
        proxyBlobPush(fetch.size ?? 0, false);
        // The pull event is sent once the client has the whole blob: only then is its size known
        // for certain (an upstream may send no length), and a broken transfer is retried by the
        // client, which would otherwise count twice.
        if (ctx.res.writableFinished) ctx.services.events?.blobPulled(ctx, name, digest, fetch.size ?? 0).catch(eventNotRecorded);
        return served;
      }
    }
    try {
      await fetch.done;
    } catch (e) {
      throw this.failure(e, 'blob', { digest });
    }
    return false;
  }

  private blobHit(ctx: RequestContext, size: number): void {
    this.stats.blobHits++;
    if (ctx.req.method === 'GET') proxyBlobPush(size, true);
  }

  /** What the client hears when the upstream failed: its reason, in the registry's error envelope. */
  private failure(e: unknown, what: 'manifest' | 'blob', detail: Record<string, string>): unknown {
    if (!(e instanceof UpstreamError)) return e;
    switch (e.kind) {
      case 'not-found':
        return new RegistryError(what === 'blob' ? 'BLOB_UNKNOWN' : 'MANIFEST_UNKNOWN', { message: `${what} unknown: ${e.message}`, detail });
      case 'rate-limited':
        return new RegistryError('TOOMANYREQUESTS', { message: e.message, detail, headers: { 'Retry-After': '60' } });
      case 'auth':
        // berth's credentials for the upstream, not the client's: 403 rather than 401 (which would
        // make a client ask for its own credentials again), and a 4xx so that clients show the message.
        return new RegistryError('DENIED', { message: e.message, detail });
      case 'unavailable':
        return new RegistryError('UNAVAILABLE', { message: `${e.message} (and the ${what} is not cached)`, detail, headers: { 'Retry-After': '5' } });
    }
  }
}

/** The mirror of a configuration, or undefined when it has neither `proxy:` nor `berth.mirrors`. */
export function createMirror(configs: MirrorConfig[], log: Logger): Mirror | undefined {
  return configs.length ? new Mirror(configs, log) : undefined;
}
