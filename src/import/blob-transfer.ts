// Moves verified blob bytes from the distribution tree into berth's BlobStore, once per digest for
// the whole import (distribution shares one blob store between repositories, and so does berth).
// Nothing lands in the target unverified: a hard link happens only after hashing the source file,
// and a streamed copy hashes on the way and is committed only when the digest matches.
import { randomUUID } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { newHash, parseDigest } from '../oci/digest.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { DistributionLayout } from './layout.ts';
import type { ImportStats, SkipCode } from './report.ts';
import { SourceReadError } from './source.ts';

export type BlobOutcome = { ok: true; size: number } | { ok: false; code: SkipCode; reason: string };

/** Upload ids the import uses, so a rerun can recognise (and remove) what a killed run left behind. */
export const IMPORT_UPLOAD_PREFIX = 'import-';

/** Passes bytes through unchanged while hashing and counting them. */
class Hasher extends Transform {
  private readonly hash;
  size = 0;
  constructor(
    algorithm: 'sha256' | 'sha512',
    private readonly onBytes: (n: number) => void,
  ) {
    super();
    this.hash = newHash(algorithm);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.onBytes(chunk.length);
    done(null, chunk);
  }
  hex(): string {
    return this.hash.digest('hex');
  }
}

export class BlobTransfer {
  private readonly outcomes = new Map<string, Promise<BlobOutcome>>();
  // Cleared at the first link that fails for a reason that would hold for every blob (EXDEV).
  private mayLink = true;

  constructor(
    private readonly layout: DistributionLayout,
    private readonly target: BlobStore,
    private readonly stats: ImportStats,
    private readonly dryRun: boolean,
  ) {}

  /** Makes sure the blob is in the target (verified), or says why it cannot be. Memoised per digest. */
  ensure(digest: string): Promise<BlobOutcome> {
    let outcome = this.outcomes.get(digest);
    if (!outcome) {
      outcome = this.transfer(digest).catch((e: unknown) => {
        if (e instanceof SourceReadError) return { ok: false, code: 'source-unreadable', reason: e.message } as const;
        throw e;
      });
      this.outcomes.set(digest, outcome);
    }
    return outcome;
  }

  private async transfer(digest: string): Promise<BlobOutcome> {
    const path = this.layout.blobDataPath(digest);
    const source = this.layout.source;
    const info = await source.stat(path);
    if (!info) return { ok: false, code: 'blob-missing', reason: `no data in the source blob store (${path})` };
    const existing = await this.target.stat(digest);
    // Content-addressed and only ever written verified, so a same-size blob in berth is this blob.
    // A different size means the bytes there are not this blob's; verified bytes replace them below.
    if (existing?.size === info.size) {
      this.stats.present.blobs++;
      return { ok: true, size: info.size };
    }
    const local = source.localPath?.(path);
    if (this.dryRun || (local && this.target.importFile && this.mayLink)) {
      const bad = await this.verify(digest, path);
      if (bad) return bad;
      if (this.dryRun) return this.landed(info.size);
      if (await this.target.importFile!(digest, local!)) return this.landed(info.size, 'hardLinked');
      this.mayLink = false;
    }
    return this.copy(digest, path);
  }

  private landed(size: number, how?: 'hardLinked' | 'copied'): BlobOutcome {
    this.stats.imported.blobs++;
    this.stats.imported.bytes += size;
    if (how) this.stats.imported[how]++;
    return { ok: true, size };
  }

  /** Hashes the source file; undefined when it matches, else why not. */
  private async verify(digest: string, path: string): Promise<BlobOutcome | undefined> {
    const { algorithm, hex } = parseDigest(digest);
    const hash = newHash(algorithm);
    try {
      // for-await destroys the stream on error, so no descriptor outlives a failed read.
      for await (const chunk of await this.layout.source.open(path)) {
        hash.update(chunk as Buffer);
        this.stats.verifiedBytes += (chunk as Buffer).length;
      }
    } catch (e) {
      throw e instanceof SourceReadError ? e : new SourceReadError(path, e);
    }
    const got = hash.digest('hex');
    return got === hex ? undefined : { ok: false, code: 'digest-mismatch', reason: `data hashes to ${algorithm}:${got}` };
  }

  /** Streams the source through a hash into an upload; commits only a verified upload. */
  private async copy(digest: string, path: string): Promise<BlobOutcome> {
    const { algorithm, hex } = parseDigest(digest);
    const uploads = this.target.uploads;
    const id = `${IMPORT_UPLOAD_PREFIX}${randomUUID()}`;
    await uploads.create(id);
    let stream: Readable | undefined;
    try {
      stream = await this.layout.source.open(path);
      const hasher = new Hasher(algorithm, (n) => (this.stats.verifiedBytes += n));
      // pipe() does not forward errors; this makes a failed source read fail the append as a source error.
      stream.on('error', (e) => hasher.destroy(new SourceReadError(path, e)));
      await uploads.append(id, stream.pipe(hasher));
      const got = hasher.hex();
      if (got !== hex) {
        await uploads.abort(id);
        return { ok: false, code: 'digest-mismatch', reason: `data hashes to ${algorithm}:${got}` };
      }
      await uploads.commit(id, digest);
      return this.landed(hasher.size, 'copied');
    } catch (e) {
      await uploads.abort(id).catch(() => undefined);
      throw e;
    } finally {
      stream?.destroy();
    }
  }
}

/**
 * Removes uploads a killed import left behind. Only `import-` uploads idle for a minute: a berth
 * serving the same root names its uploads differently, and an import running right now keeps
 * writing to its own.
 */
export async function removeStaleImportUploads(target: BlobStore, now = Date.now()): Promise<number> {
  let removed = 0;
  for await (const upload of target.uploads.list()) {
    if (upload.id.startsWith(IMPORT_UPLOAD_PREFIX) && now - upload.modifiedAt.getTime() > 60_000) {
      await target.uploads.abort(upload.id);
      removed++;
    }
  }
  return removed;
}
