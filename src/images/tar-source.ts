// Random access to the entries of a (possibly gzipped) tar file without unpacking it.
// A tar has no central directory and docker writes manifest.json *after* the layers, so we cannot
// stream everything in one pass: we index names once, then open entries by name. A plain tar is
// indexed by its headers alone and entries are read from their byte offset; a gzipped one cannot
// seek, so opening an entry re-decompresses from the start up to it (never holding it in memory).
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { indexPlainTar } from './tar-index.ts';

export interface TarEntryInfo {
  name: string;
  size: number;
  type: string;
  linkname?: string;
  /** Byte offset of the data in a plain (seekable) tar. */
  offset?: number;
}

/** Entry names as written by different tools: strip "./" and leading "/". */
export function normalizeName(name: string): string {
  return posix.normalize(name.replace(/^(\.\/)+/, '').replace(/^\/+/, '')).replace(/\/$/, '');
}

/** True when the file starts with the gzip magic bytes 1f 8b. */
export async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

export class TarFile {
  private constructor(
    readonly path: string,
    readonly gzipped: boolean,
    readonly entries: Map<string, TarEntryInfo>,
    /** What error messages call the archive: the original file even when reading a spool. */
    readonly name: string = path,
  ) {}

  /**
   * Indexes every entry of the tar at `path` (gzip detected by magic bytes). With `gunzipTo`, a
   * gzipped archive is decompressed once into that file (the caller deletes it) and then read
   * like a plain tar: one pass of decompression instead of one per opened entry.
   */
  static async open(path: string, opts: { gunzipTo?: string } = {}): Promise<TarFile> {
    const gz = await isGzipFile(path);
    if (gz && opts.gunzipTo) {
      try {
        await pipeline(createReadStream(path), createGunzip(), createWriteStream(opts.gunzipTo));
      } catch (err) {
        throw new Error(`${path}: not a readable tar archive (truncated or corrupt): ${(err as Error).message}`);
      }
      const spool = opts.gunzipTo;
      const plain = await TarFile.open(spool).catch((err: Error) => {
        throw new Error(err.message.replace(spool, path));
      });
      return new TarFile(plain.path, false, plain.entries, path);
    }
    const entries = new Map<string, TarEntryInfo>();
    if (!gz) {
      try {
        for (const e of await indexPlainTar(path)) {
          const name = normalizeName(e.name);
          entries.set(name, { ...e, name });
        }
      } catch (err) {
        throw new Error(`${path}: not a readable tar archive (truncated or corrupt): ${(err as Error).message}`);
      }
      return new TarFile(path, gz, entries);
    }
    const extract = tar.extract();
    const src = rawStream(path, gz);
    src.on('error', (e) => extract.destroy(e));
    src.pipe(extract);
    try {
      for await (const entry of extract) {
        const h = entry.header;
        const name = normalizeName(h.name);
        entries.set(name, { name, size: h.size ?? 0, type: h.type ?? 'file', linkname: h.linkname ?? undefined });
        entry.resume();
      }
    } catch (err) {
      throw new Error(`${path}: not a readable tar archive (truncated or corrupt): ${(err as Error).message}`);
    } finally {
      src.destroy();
    }
    return new TarFile(path, gz, entries);
  }

  /** Follows symlinks/hardlinks (old `docker save` links duplicate layers) to a regular file. */
  resolve(name: string): TarEntryInfo {
    let cur = normalizeName(name);
    for (let hops = 0; hops < 16; hops++) {
      const e = this.entries.get(cur);
      if (!e) throw new Error(`${this.name}: no entry ${JSON.stringify(name)} in the archive`);
      if (e.type === 'file' || e.type === 'contiguous-file') return e;
      if (e.type === 'symlink' && e.linkname) cur = normalizeName(posix.join(posix.dirname(cur), e.linkname));
      else if (e.type === 'link' && e.linkname) cur = normalizeName(e.linkname);
      else throw new Error(`${this.name}: entry ${name} is a ${e.type}, not a file`);
    }
    throw new Error(`${this.name}: too many links resolving ${name}`);
  }

  has(name: string): boolean {
    return this.entries.has(normalizeName(name));
  }

  /** Streams the bytes of one entry; a truncated archive errors the stream. */
  openEntry(name: string): Readable {
    const target = this.resolve(name);
    if (target.offset !== undefined) return this.openAt(target);
    const path = this.path;
    const label = this.name;
    const gz = this.gzipped;
    async function* gen(): AsyncGenerator<Buffer> {
      const extract = tar.extract();
      const src = rawStream(path, gz);
      src.on('error', (e) => extract.destroy(e));
      src.pipe(extract);
      try {
        for await (const entry of extract) {
          if (normalizeName(entry.header.name) === target.name && (entry.header.type ?? 'file') === target.type) {
            let got = 0;
            for await (const chunk of entry) {
              got += (chunk as Buffer).length;
              yield chunk as Buffer;
            }
            if (got !== target.size) throw new Error(`${label}: entry ${target.name} truncated (${got} of ${target.size} bytes)`);
            return;
          }
          entry.resume();
        }
        throw new Error(`${label}: entry ${target.name} vanished while reading`);
      } catch (err) {
        const msg = (err as Error).message;
        throw new Error(msg.startsWith(label) ? msg : `${label}: reading ${target.name}: ${msg}`);
      } finally {
        src.destroy();
        extract.destroy();
      }
    }
    return Readable.from(gen(), { objectMode: false });
  }

  /** Reads the entry's byte range straight from the file, checking it is all there. */
  private openAt(target: TarEntryInfo): Readable {
    const path = this.path;
    const label = this.name;
    async function* gen(): AsyncGenerator<Buffer> {
      if (target.size === 0) return;
      let got = 0;
      const start = target.offset!;
      // 1 MiB reads: layers are big, and 64 KiB reads cost a syscall and a callback per 64 KiB.
      for await (const chunk of createReadStream(path, { start, end: start + target.size - 1, highWaterMark: 1 << 20 })) {
        got += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (got !== target.size) throw new Error(`${label}: entry ${target.name} truncated (${got} of ${target.size} bytes)`);
    }
    return Readable.from(gen(), { objectMode: false });
  }

  async readEntry(name: string, limit = 64 << 20): Promise<Buffer> {
    const e = this.resolve(name);
    if (e.size > limit) throw new Error(`${this.name}: ${name} is ${e.size} bytes, more than the ${limit} allowed for metadata`);
    const chunks: Buffer[] = [];
    for await (const c of this.openEntry(name)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
}

function rawStream(path: string, gz: boolean): Readable {
  const file = createReadStream(path);
  if (!gz) return file;
  const gunzip = createGunzip();
  file.on('error', (e) => gunzip.destroy(e));
  return file.pipe(gunzip);
}
