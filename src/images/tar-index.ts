// Indexes an uncompressed tar by reading only its 512-byte headers (seeking over the data), so an
// entry can later be streamed straight from its byte offset. Handles ustar prefixes, pax 'x'
// records (path, linkpath, size) and GNU 'L'/'K' long names, which is what docker, skopeo and
// tar-stream write. Gzipped tars cannot seek; tar-source.ts scans those sequentially instead.
import { open } from 'node:fs/promises';
import type { TarEntryInfo } from './tar-source.ts';

export interface IndexedEntry extends TarEntryInfo {
  /** Byte offset of the entry's data in the file. */
  offset: number;
}

const TYPES: Record<string, string> = {
  '0': 'file', '\0': 'file', '1': 'link', '2': 'symlink', '3': 'character-device', '4': 'block-device',
  '5': 'directory', '6': 'fifo', '7': 'contiguous-file',
};

export async function indexPlainTar(path: string): Promise<IndexedEntry[]> {
  const fh = await open(path, 'r');
  try {
    const fileSize = (await fh.stat()).size;
    const entries: IndexedEntry[] = [];
    const header = Buffer.alloc(512);
    let offset = 0;
    let pax: Record<string, string> = {};
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      const { bytesRead } = await fh.read(header, 0, 512, offset);
      if (bytesRead < 512) throw new Error(`truncated: header at byte ${offset} is cut short`);
      if (header.every((b) => b === 0)) return entries; // end-of-archive marker
      if (!checksumOk(header)) throw new Error(`corrupt header at byte ${offset} (bad checksum)`);
      const flag = String.fromCharCode(header[156]!);
      let size = parseNumber(header.subarray(124, 136));
      if (pax.size !== undefined) size = Number(pax.size);
      const dataAt = offset + 512;
      const next = dataAt + Math.ceil(size / 512) * 512;
      if (dataAt + size > fileSize) throw new Error(`truncated: entry at byte ${offset} needs ${size} bytes of data, the file ends first`);
      const readData = async () => {
        if (size > 1 << 20) throw new Error(`metadata header at byte ${offset} is implausibly large`);
        const b = Buffer.alloc(size);
        await fh.read(b, 0, size, dataAt);
        return b;
      };
      if (flag === 'x') {
        pax = { ...pax, ...parsePax(await readData()) };
      } else if (flag === 'g') {
        /* global pax header: nothing we need */
      } else if (flag === 'L') {
        longName = cstring(await readData());
      } else if (flag === 'K') {
        longLink = cstring(await readData());
      } else {
        const ustar = header.subarray(257, 262).toString('latin1') === 'ustar';
        const prefix = ustar ? cstring(header.subarray(345, 500)) : '';
        const short = cstring(header.subarray(0, 100));
        const name = pax.path ?? longName ?? (prefix ? `${prefix}/${short}` : short);
        const linkname = pax.linkpath ?? longLink ?? cstring(header.subarray(157, 257));
        entries.push({ name, size, type: TYPES[flag] ?? 'unknown', linkname: linkname || undefined, offset: dataAt });
        pax = {};
        longName = longLink = undefined;
      }
      offset = next;
    }
  } finally {
    await fh.close();
  }
}

function cstring(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8');
}

/** Octal (space/NUL terminated), or GNU base-256 when the high bit is set (sizes over 8 GiB). */
function parseNumber(b: Buffer): number {
  if (b[0]! & 0x80) {
    let n = b[0]! & 0x7f;
    for (let i = 1; i < b.length; i++) n = n * 256 + b[i]!;
    return n;
  }
  const s = b.toString('latin1').replace(/[\0 ]+$/g, '').trim();
  return s ? parseInt(s, 8) : 0;
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return parseNumber(h.subarray(148, 156)) === sum;
}

function parsePax(b: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < b.length) {
    const sp = b.indexOf(0x20, pos);
    if (sp < 0) break;
    const len = parseInt(b.subarray(pos, sp).toString('latin1'), 10);
    if (!len) break;
    const rec = b.subarray(sp + 1, pos + len - 1).toString('utf8'); // drop the trailing "\n"
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    pos += len;
  }
  return out;
}
