// Imports one repository: blob links (_layers), then every manifest revision, then tags, because
// berth's putManifest refuses a manifest whose blobs are not linked or whose children are absent.
// Each step first asks berth's metadata whether the item is already there, so a rerun reads little
// more than the directory listings and the tags' current links.
import { reserveForWrite } from '../lifecycle/blob-writes.ts';
import { digestOf, isDigest } from '../oci/digest.ts';
import { MAX_MANIFEST_BYTES, parseManifest, type ParsedManifest } from '../oci/manifest.ts';
import { isValidName, isValidTag } from '../oci/reference.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { newManifest, type MetadataStore } from '../metadata/store.ts';
import type { BlobTransfer } from './blob-transfer.ts';
import type { DistributionLayout } from './layout.ts';
import { looksLikeSchema1, readBounded } from './manifest-bytes.ts';
import { mapLimit } from '../util/map-limit.ts';
import type { ImportStats, Skip, SkipCode } from './report.ts';
import { SourceReadError } from './source.ts';

export interface RepositoryContext {
  layout: DistributionLayout;
  transfer: BlobTransfer;
  blobs: BlobStore;
  metadata: MetadataStore;
  stats: ImportStats;
  dryRun: boolean;
  concurrency: number;
  skip(s: Skip): void;
}

/** What a tag needs to know about the manifest it points at. */
type ManifestState =
  | { state: 'ok'; mediaType: string; size: number }
  | { state: 'absent' } // no revision link: deleted in the source, not an error
  | { state: 'skipped'; code: SkipCode };

type Fail = { code: SkipCode; reason: string };

/** A source file that cannot be read fails that one item, not the whole import. */
async function unlessUnreadable<T>(work: () => Promise<T>): Promise<T | Fail> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof SourceReadError) return { code: 'source-unreadable', reason: e.message };
    throw e;
  }
}

export async function importRepository(ctx: RepositoryContext, name: string): Promise<void> {
  if (!isValidName(name)) {
    ctx.skip({ kind: 'repository', repository: name, ref: name, code: 'repository-name-invalid', reason: 'not a valid repository name' });
    return;
  }
  await new RepositoryImport(ctx, name).run();
}

class RepositoryImport {
  /** Blobs linked to the repository in berth (or that would be, in a dry run). */
  private readonly linked = new Set<string>();
  private readonly manifests = new Map<string, Promise<ManifestState>>();
  private revisions = new Set<string>();

  constructor(
    private readonly ctx: RepositoryContext,
    private readonly repo: string,
  ) {}

  async run(): Promise<void> {
    await this.layers();
    const revisions = await this.ctx.layout.revisions(this.repo);
    for (const dir of revisions.invalid) this.skip('manifest', dir, 'entry-invalid', 'revision directory does not name a sha256/sha512 digest');
    this.revisions = new Set(revisions.digests);
    for (const digest of revisions.digests) await this.manifest(digest, []);
    await this.tags();
  }

  private skip(kind: Skip['kind'], ref: string, code: SkipCode, reason: string): void {
    this.ctx.skip({ kind, repository: this.repo, ref, code, reason });
  }

  private async layers(): Promise<void> {
    const layers = await this.ctx.layout.layers(this.repo);
    for (const dir of layers.invalid) this.skip('layer', dir, 'entry-invalid', 'layer link directory does not name a sha256/sha512 digest');
    await mapLimit(layers.digests, this.ctx.concurrency, async (digest) => {
      const failed = await unlessUnreadable(() => this.layer(digest));
      if (failed) this.skip('layer', digest, failed.code, failed.reason);
    });
  }

  private async layer(digest: string): Promise<Fail | undefined> {
    if (await this.ctx.metadata.repositoryBlob(this.repo, digest)) {
      this.linked.add(digest);
      this.ctx.stats.present.layerLinks++;
      return undefined;
    }
    const link = await this.ctx.layout.layerLink(this.repo, digest);
    if (link === 'absent') return undefined; // the blob was deleted from the repository
    if (link === 'mismatch') return { code: 'link-mismatch', reason: 'link file does not hold the digest its directory names' };
    return this.link(digest);
  }

  /** Puts the blob in berth and links it to the repository; the failure otherwise. */
  private async link(digest: string): Promise<Fail | undefined> {
    // Reserved before the bytes land: a collection running beside the import leaves them alone
    // (an imported file keeps its old mtime, which alone would not protect it).
    if (!this.ctx.dryRun) await reserveForWrite(this.ctx.metadata, digest, 0);
    const blob = await this.ctx.transfer.ensure(digest);
    if (!blob.ok) return blob;
    if (!this.ctx.dryRun) await this.ctx.metadata.linkBlob(this.repo, digest, blob.size);
    this.linked.add(digest);
    this.ctx.stats.imported.layerLinks++;
    return undefined;
  }

  /** Memoised per digest, so an index and a tag share one import of a child. */
  private manifest(digest: string, chain: string[]): Promise<ManifestState> {
    let state = this.manifests.get(digest);
    if (!state) {
      state = unlessUnreadable(() => this.importManifest(digest, chain)).then((r) => {
        if ('reason' in r) {
          this.skip('manifest', digest, r.code, r.reason);
          return { state: 'skipped', code: r.code };
        }
        return r;
      });
      this.manifests.set(digest, state);
    }
    return state;
  }

  private async importManifest(digest: string, chain: string[]): Promise<ManifestState | Fail> {
    const { layout, metadata, stats } = this.ctx;
    const existing = await metadata.manifest(this.repo, digest);
    if (existing) {
      stats.present.manifests++;
      return { state: 'ok', mediaType: existing.mediaType, size: existing.size };
    }
    const link = await layout.revisionLink(this.repo, digest);
    if (link === 'absent') return { state: 'absent' };
    if (link === 'mismatch') return { code: 'link-mismatch', reason: 'link file does not hold the digest its directory names' };

    const loaded = await this.load(digest);
    if ('code' in loaded) return loaded;
    const { bytes, parsed } = loaded;

    for (const child of parsed.children) {
      // An index cannot contain itself (digests), but a corrupt tree could still loop through links.
      const state = chain.includes(child) || !this.revisions.has(child) ? undefined : await this.manifest(child, [...chain, digest]);
      if (state?.state !== 'ok') {
        const why = state?.state === 'skipped' ? `was skipped (${state.code})` : 'is not in the repository';
        return { code: 'manifest-child-missing', reason: `child manifest ${child} ${why}` };
      }
    }
    for (const blob of parsed.blobs) {
      if (this.linked.has(blob) || (await metadata.repositoryBlob(this.repo, blob))) continue;
      // Referenced but not linked in _layers: link it when the blob itself is sound.
      const failed = await this.link(blob);
      if (failed) return { code: 'manifest-blob-missing', reason: `blob ${blob}: ${failed.reason} [${failed.code}]` };
    }

    if (!this.ctx.dryRun) {
      // Bytes first, then metadata, as a manifest PUT does: a kill in between leaves an unreferenced blob.
      if ((await reserveForWrite(metadata, digest, bytes.length)) !== 'live') await this.ctx.blobs.put(digest, bytes);
      const result = await metadata.putManifest(this.repo, newManifest(parsed, digest, bytes.length));
      const missing = [...result.missingBlobs, ...result.missingChildren];
      if (missing.length) return { code: 'manifest-blob-missing', reason: `berth's metadata lacks ${missing.join(', ')}` };
    }
    stats.imported.manifests++;
    return { state: 'ok', mediaType: parsed.mediaType, size: bytes.length };
  }

  private async load(digest: string): Promise<{ bytes: Buffer; parsed: ParsedManifest } | Fail> {
    const source = this.ctx.layout.source;
    const path = this.ctx.layout.blobDataPath(digest);
    const info = await source.stat(path);
    if (!info) return { code: 'blob-missing', reason: `no data in the source blob store (${path})` };
    if (info.size > MAX_MANIFEST_BYTES) return { code: 'manifest-too-large', reason: `${info.size} bytes, limit ${MAX_MANIFEST_BYTES}` };
    const bytes = await readBounded(source, path, MAX_MANIFEST_BYTES);
    this.ctx.stats.verifiedBytes += bytes.length;
    const algorithm = digest.startsWith('sha512:') ? 'sha512' : 'sha256';
    const got = digestOf(bytes, algorithm);
    if (got !== digest) return { code: 'digest-mismatch', reason: `data hashes to ${got}` };
    try {
      // No Content-Type on disk: distribution decides from the body, and so does parseManifest.
      return { bytes, parsed: parseManifest(bytes, undefined) };
    } catch (e) {
      if (looksLikeSchema1(bytes)) return { code: 'schema1', reason: 'Docker schema 1 manifest; berth does not accept schema 1' };
      return { code: 'manifest-invalid', reason: (e as Error).message };
    }
  }

  private async tags(): Promise<void> {
    for (const tag of await this.ctx.layout.tags(this.repo)) {
      const failed = isValidTag(tag) ? await unlessUnreadable(() => this.tag(tag)) : { code: 'tag-invalid' as const, reason: 'not a valid tag name' };
      if (failed) this.skip('tag', tag, failed.code, failed.reason);
    }
  }

  private async tag(tag: string): Promise<Fail | undefined> {
    const { layout, metadata, stats } = this.ctx;
    const current = await layout.tagCurrent(this.repo, tag);
    if (current === undefined) return { code: 'tag-link-missing', reason: 'tag directory without current/link' };
    if (!isDigest(current)) return { code: 'link-mismatch', reason: 'current/link does not hold a digest' };
    const existing = await metadata.resolveTag(this.repo, tag);
    if (existing === current) {
      stats.present.tags++;
      return undefined;
    }
    // An import adds to berth and never rewrites it: a tag moved in berth since is the newer truth.
    if (existing !== undefined) return { code: 'tag-conflict', reason: `berth's tag points at ${existing}, the source's at ${current}; left unchanged` };
    const target = this.revisions.has(current) ? await this.manifest(current, []) : ({ state: 'absent' } as const);
    if (target.state === 'absent') return { code: 'tag-revision-missing', reason: `points at ${current}, which is not a manifest of the repository` };
    if (target.state === 'skipped') return { code: 'tag-manifest-skipped', reason: `points at ${current}, which was skipped (${target.code})` };
    if (!this.ctx.dryRun) {
      // The manifest row exists (imported or present above) and its references were checked when it
      // was written; with nothing else to check, this writes only the tag.
      await metadata.putManifest(this.repo, { digest: current, mediaType: target.mediaType, size: target.size, blobs: [], children: [] }, tag);
    }
    stats.imported.tags++;
    return undefined;
  }
}
