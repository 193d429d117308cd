// Upload sessions on S3. S3 objects cannot be appended to, so each append becomes one or more
// segment objects named by their start offset (keys.ts); the upload's state lives entirely in the
// bucket, which is what lets any replica continue an upload another one started: size() is the sum
// of the segments, read() concatenates them, commit() composes them into the blob (compose.ts).
import type { Readable } from 'node:stream';
import { UploadNotFoundError, type BodyTap, type UploadArea, type UploadInfo } from '../../blob-store.ts';
import type { Bucket } from './bucket.ts';
import { compose } from './compose.ts';
import type { Segment } from './compose-plan.ts';
import { S3StorageError } from './errors.ts';
import type { S3Keys } from './keys.ts';
import type { ResolvedS3Settings } from './options.ts';
import { readPieces } from './segment-reader.ts';
import { writeSegments } from './segment-writer.ts';

interface UploadState {
  segments: Segment[];
  size: number;
}

export class S3Uploads implements UploadArea {
  constructor(
    private readonly bucket: Bucket,
    private readonly keys: S3Keys,
    private readonly settings: ResolvedS3Settings,
  ) {}

  async create(id: string): Promise<void> {
    await this.bucket.put(this.keys.marker(id), Buffer.alloc(0), 0);
  }

  /** The upload's segments in offset order, or undefined when it does not exist. One ListObjectsV2. */
  private async state(id: string): Promise<UploadState | undefined> {
    let exists = false;
    const segments: Segment[] = [];
    for await (const o of this.bucket.list(this.keys.upload(id))) {
      const k = this.keys.parseUploadKey(o.key);
      if (k?.kind === 'marker') exists = true;
      else if (k?.kind === 'segment') segments.push({ key: o.key, offset: k.offset, size: o.size });
    }
    if (!exists) return undefined;
    let size = 0;
    for (const g of segments) {
      // Only two clients appending to the same upload at once (on different replicas) can cause this.
      if (g.offset !== size) throw new S3StorageError(`upload ${id} is inconsistent: a segment starts at byte ${g.offset}, expected ${size}`, 'InconsistentUpload', undefined);
      size += g.size;
    }
    return { segments, size };
  }

  private async existing(id: string): Promise<UploadState> {
    const state = await this.state(id);
    if (!state) throw new UploadNotFoundError(id);
    return state;
  }

  async append(id: string, body: Readable, tap?: BodyTap): Promise<number> {
    const { size } = await this.existing(id);
    const written = await writeSegments(this.bucket, body, size, this.settings.chunkSize, (offset) => this.keys.segment(id, offset), tap);
    return size + written;
  }

  async size(id: string): Promise<number | undefined> {
    try {
      return (await this.state(id))?.size;
    } catch (e) {
      if (e instanceof UploadNotFoundError) return undefined;
      throw e;
    }
  }

  async read(id: string): Promise<Readable> {
    const { segments } = await this.existing(id);
    return readPieces(
      this.bucket,
      segments.map((segment) => ({ segment, start: 0, end: segment.size })),
    );
  }

  async commit(id: string, digest: string): Promise<void> {
    const { segments } = await this.existing(id);
    await compose(this.bucket, segments, this.keys.blob(digest), this.settings);
    await this.remove(id);
  }

  async abort(id: string): Promise<void> {
    await this.remove(id);
  }

  private async remove(id: string): Promise<void> {
    const prefix = this.keys.upload(id);
    // The marker goes first: from then on the upload no longer exists for size() and append(), and a
    // crash half-way leaves unmarked leftovers, which list() still reports so the purger finishes the job.
    await this.bucket.delete(this.keys.marker(id));
    const leftovers: string[] = [];
    for await (const o of this.bucket.list(prefix)) leftovers.push(o.key);
    await this.bucket.deleteMany(leftovers);
    // Parts of an append that died with its process: invisible in listings, but they take space.
    for await (const m of this.bucket.listMultipart(prefix)) await this.bucket.abortMultipart(m.key, m.uploadId);
  }

  /** Every upload with stored bytes or parts, including leftovers of a crashed commit or abort (for the purger). */
  async *list(): AsyncIterable<UploadInfo> {
    const seen = new Set<string>();
    let current: UploadInfo | undefined;
    // Keys come sorted, so all keys of one upload (one `uploads/<id>/` prefix) are consecutive.
    for await (const o of this.bucket.list(this.keys.uploadsPrefix)) {
      const k = this.keys.parseUploadKey(o.key);
      if (!k) continue;
      if (current && current.id !== k.id) yield current;
      if (!current || current.id !== k.id) {
        current = { id: k.id, size: 0, modifiedAt: o.modifiedAt };
        seen.add(k.id);
      }
      if (k.kind === 'segment') current.size += o.size;
      if (o.modifiedAt > current.modifiedAt) current.modifiedAt = o.modifiedAt;
    }
    if (current) yield current;

    const orphans = new Map<string, Date>();
    for await (const m of this.bucket.listMultipart(this.keys.uploadsPrefix)) {
      const id = this.keys.parseUploadKey(m.key)?.id;
      if (!id || seen.has(id)) continue;
      const previous = orphans.get(id);
      if (!previous || m.initiatedAt > previous) orphans.set(id, m.initiatedAt);
    }
    for (const [id, modifiedAt] of orphans) yield { id, size: 0, modifiedAt };
  }
}
