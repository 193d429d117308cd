// Filesystem driver. Layout under the root directory:
//   blobs/<algorithm>/<first two hex>/<hex>   one file per blob, written once, never modified
//   uploads/<id>                              bytes of an upload in progress
//   tmp/                                      small atomic writes (manifests) before rename
// uploads/ and blobs/ are on the same filesystem, so commit is a rename(2): a crash either leaves the
// upload in uploads/ (purged later) or the whole blob in place, never a partial blob.
import { link, mkdir, open, readdir, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { appendStream } from './file-appender.ts';
import { directWritesAvailable } from './direct-io.ts';
import { BlobNotFoundError, UploadNotFoundError, type BlobInfo, type BlobStore, type BodyTap, type ByteRange, type UploadArea, type UploadInfo } from '../blob-store.ts';

const WRITE_CHUNK = 1024 * 1024;
// Streamed reads (TLS, HTTP/2, re-hashing) use large chunks: on loopback 1 MiB chunks gave
// ~0.8 GB/s and 4 MiB ~1.4 GB/s. Plain HTTP/1.1 GETs bypass this with sendfile (openFile). The
// chunk shrinks as more streams run at once, so 64 clients pulling over TLS hold about 16 MiB of
// read buffers between them rather than 64 x 4 MiB.
const READ_CHUNK_MAX = 4 * 1024 * 1024;
const READ_CHUNK_MIN = 256 * 1024;
const READ_BUDGET = 16 * 1024 * 1024;
let openReads = 0;

function readChunk(): number {
  return Math.max(READ_CHUNK_MIN, Math.min(READ_CHUNK_MAX, Math.floor(READ_BUDGET / Math.max(1, openReads))));
}

// link(2) failures meaning "not here" rather than "broken": another filesystem (EXDEV), protected_hardlinks
// or a filesystem without hard links (EPERM, ENOTSUP), too many links to one inode (EMLINK).
const LINK_IMPOSSIBLE = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK']);

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

export class FilesystemBlobStore implements BlobStore {
  readonly driverName = 'filesystem';
  readonly uploads: UploadArea;
  private readonly blobsDir: string;
  private readonly tmpDir: string;

  private constructor(readonly root: string) {
    this.blobsDir = join(root, 'blobs');
    this.tmpDir = join(root, 'tmp');
    this.uploads = new FilesystemUploads(join(root, 'uploads'), (digest) => this.pathOf(digest));
  }

  static async open(root: string): Promise<FilesystemBlobStore> {
    const store = new FilesystemBlobStore(root);
    await Promise.all([mkdir(store.blobsDir, { recursive: true }), mkdir(store.tmpDir, { recursive: true }), mkdir(join(root, 'uploads'), { recursive: true })]);
    return store;
  }

  pathOf(digest: string): string {
    const [algorithm, hex] = digest.split(':') as [string, string];
    return join(this.blobsDir, algorithm, hex.slice(0, 2), hex);
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    try {
      const s = await stat(this.pathOf(digest));
      return { digest, size: s.size, modifiedAt: s.mtime };
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  async openFile(digest: string): Promise<FileHandle> {
    try {
      return await open(this.pathOf(digest), 'r');
    } catch (e) {
      if (isMissing(e)) throw new BlobNotFoundError(digest);
      throw e;
    }
  }

  async read(digest: string, range?: ByteRange): Promise<Readable> {
    // Open first so a missing blob is an error here, not a stream error after headers went out.
    const handle = await this.openFile(digest);
    // A read stream allocates a whole highWaterMark for every read, however little the file holds:
    // 64 concurrent first GETs of a 1 KiB manifest held 75 MiB of 4 MiB buffers. Cap it at the length.
    let length: number;
    try {
      length = range ? range.end - range.start + 1 : (await handle.stat()).size;
    } catch (e) {
      await handle.close();
      throw e;
    }
    openReads++;
    const highWaterMark = Math.min(readChunk(), Math.max(1, length));
    const stream = handle.createReadStream({ start: range?.start, end: range?.end, highWaterMark });
    stream.once('close', () => openReads--);
    return stream;
  }

  async put(digest: string, data: Buffer): Promise<void> {
    const target = this.pathOf(digest);
    if (await this.stat(digest)) return;
    const tmp = join(this.tmpDir, randomUUID());
    await writeFile(tmp, data, { flush: true });
    await mkdir(join(target, '..'), { recursive: true });
    await rename(tmp, target);
  }

  async importFile(digest: string, path: string): Promise<boolean> {
    const target = this.pathOf(digest);
    // Link under tmp/ first, then rename: the blob path only ever shows a complete file.
    const tmp = join(this.tmpDir, `import-${randomUUID()}`);
    try {
      await link(path, tmp);
    } catch (e) {
      if (LINK_IMPOSSIBLE.has((e as NodeJS.ErrnoException).code ?? '')) return false;
      throw e;
    }
    try {
      // Most prefix directories exist already; create one only when the rename says it is missing.
      await rename(tmp, target).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
        await mkdir(join(target, '..'), { recursive: true });
        await rename(tmp, target);
      });
    } finally {
      // rename(2) of a name onto another link of the same inode succeeds without removing the source name.
      await unlink(tmp).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    }
    return true;
  }

  async delete(digest: string): Promise<void> {
    // unlink(2) alone (rm() stats first): the collector deletes thousands of blobs in a run.
    await unlink(this.pathOf(digest)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  async *walk(): AsyncIterable<BlobInfo> {
    for (const algorithm of await readdirOrEmpty(this.blobsDir)) {
      for (const prefix of await readdirOrEmpty(join(this.blobsDir, algorithm))) {
        for (const hex of await readdirOrEmpty(join(this.blobsDir, algorithm, prefix))) {
          try {
            const s = await stat(join(this.blobsDir, algorithm, prefix, hex));
            yield { digest: `${algorithm}:${hex}`, size: s.size, modifiedAt: s.mtime };
          } catch (e) {
            if (!isMissing(e)) throw e;
          }
        }
      }
    }
  }

  async *listDigests(): AsyncIterable<string> {
    for (const algorithm of await readdirOrEmpty(this.blobsDir)) {
      for (const prefix of await readdirOrEmpty(join(this.blobsDir, algorithm))) {
        for (const hex of await readdirOrEmpty(join(this.blobsDir, algorithm, prefix))) yield `${algorithm}:${hex}`;
      }
    }
  }

  async check(): Promise<void> {
    const probe = join(this.tmpDir, `health-${randomUUID()}`);
    await writeFile(probe, 'ok');
    await rm(probe, { force: true });
  }
}

class FilesystemUploads implements UploadArea {
  private directRefused = false;

  constructor(
    private readonly dir: string,
    private readonly blobPath: (digest: string) => string,
  ) {}

  private pathOf(id: string): string {
    if (!/^[A-Za-z0-9-]+$/.test(id)) throw new UploadNotFoundError(id);
    return join(this.dir, id);
  }

  async create(id: string): Promise<void> {
    await writeFile(this.pathOf(id), '', { flag: 'wx' });
  }

  async append(id: string, body: Readable, tap?: BodyTap): Promise<number> {
    const path = this.pathOf(id);
    // O_APPEND without O_CREAT: every write lands at the end, and a missing upload is an error, not a new file.
    const handle = await open(path, constants.O_WRONLY | constants.O_APPEND).catch((e) => {
      throw isMissing(e) ? new UploadNotFoundError(id) : e;
    });
    let direct: Promise<FileHandle | undefined> | undefined;
    try {
      const start = (await handle.stat()).size;
      const open = () => (direct ??= this.openDirect(path));
      const target = directWritesAvailable() && !this.directRefused ? { open, position: start } : undefined;
      return start + (await appendStream(handle, body, tap, target));
    } finally {
      await (await direct)?.close();
      await handle.close();
    }
  }

  /** A second handle on the upload with O_DIRECT (src/storage/drivers/direct-io.ts), when this file system takes it. */
  private async openDirect(path: string): Promise<FileHandle | undefined> {
    try {
      return await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_DIRECT);
    } catch (e) {
      // tmpfs and some FUSE file systems refuse O_DIRECT at open: remember, and write through the cache.
      if ((e as NodeJS.ErrnoException).code === 'EINVAL') this.directRefused = true;
      return undefined;
    }
  }

  async size(id: string): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(id))).size;
    } catch (e) {
      if (isMissing(e) || e instanceof UploadNotFoundError) return undefined;
      throw e;
    }
  }

  async read(id: string): Promise<Readable> {
    const handle = await open(this.pathOf(id), 'r').catch((e) => {
      throw isMissing(e) ? new UploadNotFoundError(id) : e;
    });
    return handle.createReadStream({ highWaterMark: WRITE_CHUNK });
  }

  async commit(id: string, digest: string): Promise<void> {
    const source = this.pathOf(id);
    const target = this.blobPath(digest);
    await mkdir(join(target, '..'), { recursive: true });
    // No fsync here: rename(2) is atomic against a process crash (kill -9), which is the failure the
    // registry guards against; registry:2 does not fsync either, and an fsync of a 1 GiB blob costs seconds.
    if ((await this.size(id)) === undefined) throw new UploadNotFoundError(id);
    // Identical content may already be there (a concurrent push of the same blob): rename replaces it
    // atomically with the same bytes, so readers never see a gap.
    await rename(source, target);
  }

  async abort(id: string): Promise<void> {
    await rm(this.pathOf(id), { force: true });
  }

  async *list(): AsyncIterable<UploadInfo> {
    for (const id of await readdirOrEmpty(this.dir)) {
      try {
        const s = await stat(join(this.dir, id));
        yield { id, size: s.size, modifiedAt: s.mtime };
      } catch (e) {
        if (!isMissing(e)) throw e;
      }
    }
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if (isMissing(e)) return [];
    throw e;
  }
}
