// Object key layout under rootDirectory:
//   blobs/<algorithm>/<first two hex>/<hex>     one object per blob, written once by commit or put
//   uploads/<id>/created                        empty marker: the upload exists (an empty upload has no data)
//   uploads/<id>/data/<offset, 16 digits>-<writer>  one segment per append, named by its start
//                                               offset and a token of the append that wrote it
//   health/<random>                             short-lived health probe objects
// Offsets are zero-padded so that S3's lexicographic listing order is offset order. The writer
// token keeps two appends that start at the same offset at once (two replicas, one upload) from
// writing one object: the later would silently replace the earlier, whose replica still held the
// hash of its own bytes, and so committed the other bytes under that digest. As two objects they
// make the upload inconsistent (uploads.ts), which refuses the commit. Segments written before
// the token existed (no `-<writer>`) are still read.
import { randomBytes } from 'node:crypto';
import { UploadNotFoundError } from '../../blob-store.ts';

const OFFSET_DIGITS = 16;
const DIGEST = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
const UPLOAD_ID = /^[A-Za-z0-9-]+$/;
/** A segment's name: its offset, then (since segments got writer tokens) `-<writer>`. */
const SEGMENT = /^(\d+)(?:-[0-9a-f]+)?$/;

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

  /** A new key for a segment starting at `offset`: never the key of another append's segment. */
  segment(id: string, offset: number): string {
    return `${this.upload(id)}data/${String(offset).padStart(OFFSET_DIGITS, '0')}-${randomBytes(6).toString('hex')}`;
  }

  parseUploadKey(key: string): UploadKey | undefined {
    if (!key.startsWith(this.uploadsPrefix)) return undefined;
    const [id, kind, offset, ...rest] = key.slice(this.uploadsPrefix.length).split('/');
    if (!id || !UPLOAD_ID.test(id)) return undefined;
    if (kind === 'created' && offset === undefined) return { id, kind: 'marker' };
    const m = kind === 'data' && offset && !rest.length ? SEGMENT.exec(offset) : null;
    if (m) return { id, kind: 'segment', offset: Number(m[1]) };
    return { id, kind: 'other' };
  }

  health(name: string): string {
    return `${this.prefix}health/${name}`;
  }
}
