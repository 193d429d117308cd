// Registry-to-registry copy: the manifest bytes exactly as the source stores them (so the digest is
// the same on both sides), every blob they reference first (skipped when the destination has it,
// mounted across repositories of the same registry, else streamed from the source's GET straight
// into one upload PATCH: never buffered whole), child manifests before the index naming them, and
// optionally the referrers (signatures, SBOMs) of every copied manifest, recursively.
import type { Readable } from 'node:stream';
import {
  addToReferrersTag,
  getManifest,
  headBlob,
  headManifest,
  listReferrers,
  mountBlob,
  referrerDescriptor,
  RegistryHttpError,
  streamBlob,
  supportsReferrersApi,
  uploadBlobStream,
  type FetchedManifest,
  type ReferrerDescriptor,
  type RegistryClient,
} from '../client/index.ts';
import { isIndexType } from '../client/media.ts';
import { header } from '../client/transport.ts';
import { choosePlatform, formatPlatform, listPlatforms, platformMatches, type Platform } from './platform.ts';
import { mapLimit } from '../util/map-limit.ts';
import type { Progress } from './progress.ts';
import { listSimpleSignatures, putSimpleSignature, supportsSignatureExtension } from '../trust/signatures/client.ts';

export interface CopyEndpoint {
  client: RegistryClient;
  /** HOST[:PORT] as the user wrote it (same host on both sides: blobs can be mounted). */
  host: string;
  repo: string;
}

export interface CopyOptions {
  parallel: number;
  progress: Progress;
  /** Copy only this platform's manifest out of an index. */
  platform?: Platform;
  withReferrers?: boolean;
}

export interface CopyResult {
  digest: string;
  mediaType: string;
  /** Manifests of the image itself (an index and its children, or 1). */
  manifests: number;
  /** Referrer manifests copied (with --with-referrers). */
  referrers: number;
  /** Simple (GPG) signatures copied through the signatures API extension. */
  signatures: number;
  blobs: { copied: number; exists: number; mounted: number };
  /** Blob bytes that crossed the network. */
  bytes: number;
}

interface Desc {
  mediaType?: string;
  digest: string;
  size: number;
  urls?: string[];
  platform?: Partial<Platform>;
}

interface ManifestBody {
  config?: Desc;
  layers?: Desc[];
  blobs?: Desc[];
  manifests?: Desc[];
  fsLayers?: { blobSum: string }[];
}

const FOREIGN = /foreign|nondistributable/;

/** Thrown for a source reference that does not exist (the CLI names the reference). */
export class SourceNotFound extends Error {}

export class Copier {
  private blobsDone = new Map<string, Promise<void>>();
  private manifestsDone = new Set<string>();

  constructor(
    private src: CopyEndpoint,
    private dst: CopyEndpoint,
    private opts: CopyOptions,
  ) {}

  /**
   * Copies the image `ref` names at the source to the destination under `dstRef` (a tag, or
   * undefined to push by digest only). `check`, when given, is the digest the destination must end up with.
   */
  async copy(ref: string, dstRef: string | undefined, check?: string): Promise<CopyResult> {
    const { src, opts } = this;
    let top = await this.fetchTop(ref);
    if (opts.platform && isIndexType(top.mediaType)) top = await this.selectPlatform(top, opts.platform);
    else if (opts.platform) await this.checkPlatform(top, opts.platform);
    if (check && top.digest !== check) throw new Error(`the source is ${top.digest}, not the destination's ${check}`);
    opts.progress.line(`Copying ${src.host}/${src.repo}@${top.digest} (${top.mediaType})`);
    const tree = await this.copyTree(top, dstRef ?? top.digest);
    let referrers = 0;
    if (opts.withReferrers) referrers = await this.copyReferrers(tree.digests);
    const signatures = await this.copySimpleSignatures(tree.digests);
    const b = opts.progress.counters.blobs;
    return {
      digest: top.digest,
      mediaType: top.mediaType,
      manifests: tree.digests.length,
      referrers,
      signatures,
      blobs: { copied: b.copied, exists: b.exists, mounted: b.mounted },
      bytes: opts.progress.counters.moved,
    };
  }

  private async fetchTop(ref: string): Promise<FetchedManifest> {
    try {
      return await getManifest(this.src.client, this.src.repo, ref);
    } catch (e) {
      if (e instanceof RegistryHttpError && e.status === 404) {
        const sep = ref.includes(':') ? '@' : ':';
        throw new SourceNotFound(`${this.src.host}/${this.src.repo}${sep}${ref}: not found (${e.codes.join(', ') || '404'})`);
      }
      throw e;
    }
  }

  private async selectPlatform(index: FetchedManifest, want: Platform): Promise<FetchedManifest> {
    const body = JSON.parse(index.bytes.toString('utf8')) as ManifestBody;
    const all = body.manifests ?? [];
    const match = choosePlatform(all, want);
    if (!match) {
      const have = listPlatforms(all).join(', ') || 'none';
      throw new Error(`${this.src.host}/${this.src.repo}@${index.digest} has no ${formatPlatform(want)} manifest (platforms: ${have})`);
    }
    return getManifest(this.src.client, this.src.repo, match.digest);
  }

  /** A single manifest with --platform: refuse a mismatch rather than copy the wrong image. */
  private async checkPlatform(m: FetchedManifest, want: Platform): Promise<void> {
    const body = JSON.parse(m.bytes.toString('utf8')) as ManifestBody;
    if (!body.config) return;
    let cfg: Partial<Platform>;
    try {
      const chunks: Buffer[] = [];
      for await (const c of await streamBlob(this.src.client, this.src.repo, body.config.digest)) chunks.push(c as Buffer);
      cfg = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<Platform>;
    } catch {
      return; // not an image config (an artifact): nothing to compare
    }
    if (cfg.os === undefined || cfg.architecture === undefined) return;
    if (!platformMatches(want, cfg)) {
      throw new Error(`${this.src.host}/${this.src.repo}@${m.digest} is ${formatPlatform(cfg)}, not ${formatPlatform(want)}`);
    }
  }

  /** Copies a manifest, its children and all their blobs; returns the manifest digests (children first). */
  private async copyTree(top: FetchedManifest, putRef: string): Promise<{ digests: string[]; ociSubject: boolean }> {
    const manifests: FetchedManifest[] = [];
    const blobs = new Map<string, Desc>();
    await this.walk(top, manifests, blobs, new Set());
    await mapLimit([...blobs.values()], this.opts.parallel, (d) => this.copyBlob(d));
    let ociSubject = false;
    for (const m of manifests) {
      const isTop = m === top;
      if (!isTop && this.manifestsDone.has(m.digest)) continue;
      if (!isTop && (await headManifest(this.dst.client, this.dst.repo, m.digest))?.digest === m.digest) {
        this.manifestsDone.add(m.digest);
        continue;
      }
      const res = await this.put(m, isTop ? putRef : m.digest);
      if (isTop) ociSubject = res.ociSubject;
      this.manifestsDone.add(m.digest);
    }
    return { digests: manifests.map((m) => m.digest), ociSubject };
  }

  /** Post-order: children before the index that names them. */
  private async walk(m: FetchedManifest, out: FetchedManifest[], blobs: Map<string, Desc>, seen: Set<string>): Promise<void> {
    if (seen.has(m.digest)) return;
    seen.add(m.digest);
    const body = JSON.parse(m.bytes.toString('utf8')) as ManifestBody;
    if (isIndexType(m.mediaType) || Array.isArray(body.manifests)) {
      const children = await mapLimit(body.manifests ?? [], this.opts.parallel, (d) => getManifest(this.src.client, this.src.repo, d.digest));
      for (const c of children) await this.walk(c, out, blobs, seen);
    } else {
      const descs: Desc[] = [...(body.config ? [body.config] : []), ...(body.layers ?? []), ...(body.blobs ?? [])];
      for (const l of body.fsLayers ?? []) descs.push({ digest: l.blobSum, size: 0 });
      for (const d of descs) {
        // Foreign layers (Windows base images) live outside registries: clients fetch them from `urls`.
        if (d.mediaType && FOREIGN.test(d.mediaType) && d.urls?.length) continue;
        if (!blobs.has(d.digest)) blobs.set(d.digest, d);
      }
    }
    out.push(m);
  }

  private copyBlob(d: Desc): Promise<void> {
    let p = this.blobsDone.get(d.digest);
    if (!p) {
      p = this.transferBlob(d);
      this.blobsDone.set(d.digest, p);
    }
    return p;
  }

  private async transferBlob(d: Desc): Promise<void> {
    const { src, dst, opts } = this;
    const task = opts.progress.blob(d.digest, d.size || undefined, 'copy');
    try {
      if ((await headBlob(dst.client, dst.repo, d.digest)) !== undefined) return task.done('exists');
      if (src.host === dst.host && src.repo !== dst.repo) {
        const mounted = await mountBlob(dst.client, dst.repo, d.digest, src.repo).catch(() => false);
        if (mounted) return task.done('mounted');
      }
      const body = await streamBlob(src.client, src.repo, d.digest);
      const meter = opts.progress.meter(task, 512 << 10);
      // pipe() does not forward errors: a broken source must fail the upload, not hang it.
      const broken = new Promise<never>((_, reject) => {
        const fail = (e: Error) => {
          meter.destroy(e);
          reject(new Error(`${src.host}: reading ${d.digest} failed: ${e.message}`));
        };
        body.once('error', fail);
        body.once('aborted', () => fail(new Error('connection closed early')));
        meter.once('error', reject);
      });
      (body as Readable).pipe(meter);
      await Promise.race([uploadBlobStream(dst.client, dst.repo, d.digest, meter, { size: d.size || undefined, skipHead: true }), broken]);
      task.done('copied');
    } catch (e) {
      task.fail(e as Error);
      throw e;
    }
  }

  private async put(m: FetchedManifest, ref: string): Promise<{ ociSubject: boolean }> {
    const res = await this.dst.client.request(`/v2/${this.dst.repo}/manifests/${ref}`, {
      method: 'PUT',
      scope: `repository:${this.dst.repo}:pull,push`,
      headers: { 'Content-Type': m.mediaType },
      body: m.bytes,
    });
    const got = header(res.headers, 'docker-content-digest');
    if (got && got !== m.digest) throw new Error(`${this.dst.host} stored manifest ${m.digest} under digest ${got} (it rewrote the bytes)`);
    return { ociSubject: header(res.headers, 'oci-subject') !== undefined };
  }

  /**
   * The simple (GPG) signatures of the copied manifests, when the source stores them through the
   * X-Registry-Supports-Signatures extension and the destination does too (as skopeo copies them).
   */
  private async copySimpleSignatures(digests: string[]): Promise<number> {
    const { src, dst, opts } = this;
    if (!(await supportsSignatureExtension(src.client))) return 0;
    const dstSupports = await supportsSignatureExtension(dst.client);
    let copied = 0;
    let left = 0;
    for (const digest of digests) {
      const signatures = await listSimpleSignatures(src.client, src.repo, digest);
      if (!signatures?.length) continue;
      if (!dstSupports) {
        left += signatures.length;
        continue;
      }
      const existing = (await listSimpleSignatures(dst.client, dst.repo, digest)) ?? [];
      for (const s of signatures) {
        if (await putSimpleSignature(dst.client, dst.repo, digest, s.content, existing)) {
          existing.push(s);
          copied++;
        }
      }
    }
    if (copied) opts.progress.line(`Copied ${copied} simple signature${copied === 1 ? '' : 's'}`);
    if (left) opts.progress.line(`${left} simple signature${left === 1 ? '' : 's'} not copied: ${dst.host} does not store signatures (no X-Registry-Supports-Signatures)`);
    return copied;
  }

  /** Breadth-first over the referrers of every copied manifest (a signature of an SBOM, ...). */
  private async copyReferrers(subjects: string[]): Promise<number> {
    const { src, dst, opts } = this;
    const queue = [...subjects];
    const seen = new Set(queue);
    let count = 0;
    while (queue.length) {
      const subject = queue.shift()!;
      const listed = await listReferrers(src.client, src.repo, subject);
      const pushed: ReferrerDescriptor[] = [];
      let needTag = false;
      for (const r of listed.manifests) {
        if (seen.has(r.digest)) continue;
        seen.add(r.digest);
        let m: FetchedManifest;
        try {
          m = await getManifest(src.client, src.repo, r.digest);
        } catch (e) {
          // A stale entry in a fallback tag index (the referrer was deleted): nothing to copy.
          if (e instanceof RegistryHttpError && e.status === 404) {
            opts.progress.line(`referrer ${r.digest} of ${subject} is listed but missing at the source; skipped`);
            continue;
          }
          throw e;
        }
        opts.progress.line(`Copying referrer ${m.digest}${r.artifactType ? ` (${r.artifactType})` : ''} of ${subject}`);
        const tree = await this.copyTree(m, m.digest);
        count++;
        pushed.push(referrerDescriptor(m.bytes, m.mediaType, m.digest));
        if (!tree.ociSubject) needTag = true;
        for (const d of tree.digests) {
          if (!seen.has(d)) {
            seen.add(d);
            queue.push(d);
          }
        }
        queue.push(m.digest);
      }
      // OCI 1.1: a registry that did not answer OCI-Subject and has no referrers API gets the
      // referrers tag schema, maintained by the pushing client.
      if (pushed.length && needTag && !(await supportsReferrersApi(dst.client, dst.repo, subject))) {
        if (await addToReferrersTag(dst.client, dst.repo, subject, pushed)) opts.progress.line(`Updated the referrers tag of ${subject} at ${dst.host}/${dst.repo}`);
      }
    }
    return count;
  }
}
