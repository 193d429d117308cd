// Object key layout under rootDirectory:
//   blobs/<algorithm>/<first two hex>/<hex>     one object per blob, written once by commit or put
//   uploads/<id>/created                        empty marker: the upload exists (an empty upload has no data)
//   uploads/<id>/data/<offset, 16 digits>       one segment per append, named by its start offset
//   health/<random>                             short-lived health probe objects
// Offsets are zero-padded so that S3's lexicographic listing order is offset order.
import { UploadNotFoundError } from '../../blob-store.ts';

const OFFSET_DIGITS = 16;
const DIGEST = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
const UPLOAD_ID = /^[A-Za-z0-9-]+$/;

export type UploadKey = { id: string; kind: 'marker' } | { id: string; kind: 'segment'; offset: number } | { id: string; kind: 'other' };

export class S3Keys {
  private readonly prefix: string;

  constructor(rootDirectory: string) {
    this.prefix = rootDirectory ? `${rootDirectory}/` : '';
  }

  get blobsPrefix(): string {
    return `${this.prefix}blobs/`;
  }

  get uploadsPrefix(): string {
    return `${this.prefix}uploads/`;
  }

  blob(digest: string): string {
    const m = DIGEST.exec(digest);
    // The registry validates digests first; this guards the key space (no '/' smuggled into a key).
    if (!m) throw new Error(`invalid digest ${JSON.stringify(digest.slice(0, 200))}`);
    const [, algorithm, hex] = m as unknown as [string, string, string];
    return `${this.blobsPrefix}${algorithm}/${hex.slice(0, 2)}/${hex}`;
  }

  /** The digest a key under blobs/ stands for, or undefined for anything else. */
  digestOf(key: string): string | undefined {
    if (!key.startsWith(this.blobsPrefix)) return undefined;
    const [algorithm, two, hex, ...rest] = key.slice(this.blobsPrefix.length).split('/');
    if (!algorithm || !two || !hex || rest.length || !hex.startsWith(two)) return undefined;
    const digest = `${algorithm}:${hex}`;
    return DIGEST.test(digest) ? digest : undefined;
  }

  /** Throws UploadNotFoundError for ids that cannot be ours (as the filesystem driver does). */
  upload(id: string): string {
    if (!UPLOAD_ID.test(id)) throw new UploadNotFoundError(id);
    return `${this.uploadsPrefix}${id}/`;
  }

  marker(id: string): string {
    return `${this.upload(id)}created`;
  }

  segment(id: string, offset: number): string {
    return `${this.upload(id)}data/${String(offset).padStart(OFFSET_DIGITS, '0')}`;
  }

  parseUploadKey(key: string): UploadKey | undefined {
    if (!key.startsWith(this.uploadsPrefix)) return undefined;
    const [id, kind, offset, ...rest] = key.slice(this.uploadsPrefix.length).split('/');
    if (!id || !UPLOAD_ID.test(id)) return undefined;
    if (kind === 'created' && offset === undefined) return { id, kind: 'marker' };
    if (kind === 'data' && offset && /^\d+$/.test(offset) && !rest.length) return { id, kind: 'segment', offset: Number(offset) };
    return { id, kind: 'other' };
  }

  health(name: string): string {
    return `${this.prefix}health/${name}`;
  }
}
