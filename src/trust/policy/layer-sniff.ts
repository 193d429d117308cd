// Whether a manifest's layers hold a filesystem, judged by their bytes. The media types cannot
// decide it: containers/image (podman, skopeo, buildah) unpacks a layer whatever its media type
// says, detecting gzip, bzip2, xz and zstd by their magic numbers and reading anything else as a
// tar. So a runnable image pushed with `application/vnd.dev.cosign.simplesigning.v1+json` layers
// under a cosign accessory tag, or with a subject, would pass for a signature if only the media
// types were looked at. Signatures, attestations and SBOMs are JSON or text: none of them starts
// like an archive.
import type { StoreDeps } from './store-reader.ts';

const HEAD = 512;

const MAGIC: Buffer[] = [
  Buffer.from([0x1f, 0x8b]), // gzip
  Buffer.from('BZh'), // bzip2
  Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), // xz
  Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), // zstd
];

/** The first bytes of a blob look like an archive a client would unpack as a layer. */
export function looksLikeArchive(head: Buffer): boolean {
  if (MAGIC.some((m) => head.length >= m.length && head.subarray(0, m.length).equals(m))) return true;
  return isTarHeader(head);
}

/**
 * A tar header block: its checksum (octal, bytes 148-155) is the sum of the block's bytes with the
 * checksum field counted as spaces. This holds for every tar format (V7 has no "ustar" magic, so
 * the magic alone would miss it); a JSON or text block practically never satisfies it.
 */
function isTarHeader(block: Buffer): boolean {
  if (block.length < HEAD) return false;
  const field = block.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]{1,8}$/.test(field)) return false;
  const want = parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < HEAD; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b < 128 ? b : b - 256;
  }
  return want === unsigned || want === signed;
}

/**
 * Whether any of the layers is (or may be) a filesystem archive. A layer that cannot be read
 * counts as one: the manifest is then judged like any image rather than waved through.
 */
export async function hasArchiveLayer(deps: StoreDeps, digests: string[]): Promise<boolean> {
  for (const digest of digests) {
    let head: Buffer;
    try {
      const info = await deps.blobs.stat(digest);
      if (!info) return true;
      if (info.size === 0) continue;
      const chunks: Buffer[] = [];
      for await (const chunk of await deps.blobs.read(digest, { start: 0, end: Math.min(info.size, HEAD) - 1 })) chunks.push(chunk as Buffer);
      head = Buffer.concat(chunks).subarray(0, HEAD);
    } catch {
      return true;
    }
    if (looksLikeArchive(head)) return true;
  }
  return false;
}
