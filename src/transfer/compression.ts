// Layer compression for push: what a layer is stored as, and turning one form into another.
// docker push and skopeo gzip the plain tars of a `docker save` archive; zstd is the OCI
// alternative (smaller, faster to decompress); `none` keeps the tar bytes exactly.
import { constants as zlib } from 'node:zlib';
import { parallelGzip } from './pgzip.ts';
import type { Readable } from 'node:stream';
import { decompressLayer, LayerMedia, zstdCompress } from '../images/index.ts';

export type Compression = 'gzip' | 'zstd' | 'none';

export function compressionOf(mediaType: string): Compression | 'unknown' {
  if (/\+zstd$/.test(mediaType)) return 'zstd';
  if (/(\.|\+)gzip$/.test(mediaType)) return 'gzip';
  if (/\.tar$/.test(mediaType) || mediaType === LayerMedia.dockerTar) return 'none';
  return 'unknown';
}

/** The layer media type for `compression` in a Docker schema 2 or an OCI manifest. */
export function layerMediaType(compression: Compression, format: 'docker' | 'oci'): string {
  if (format === 'docker') {
    if (compression === 'zstd') throw new Error('Docker schema 2 manifests cannot hold zstd layers: use --format oci');
    return compression === 'gzip' ? LayerMedia.dockerGzip : LayerMedia.dockerTar;
  }
  return compression === 'gzip' ? LayerMedia.ociGzip : compression === 'zstd' ? LayerMedia.ociZstd : LayerMedia.ociTar;
}

/**
 * `plain` (an uncompressed tar) compressed as asked. Deterministic for a given input and level:
 * a resumed upload recompresses and must get the same bytes.
 */
export function compress(plain: Readable, to: Compression, level?: number): Readable {
  if (to === 'none') return plain;
  if (to === 'zstd') return zstdCompress(plain, level ?? 3);
  // Blocks compressed on every core (pgzip.ts), as skopeo's pgzip does: one zlib stream would
  // leave a push CPU-bound on a single core.
  return parallelGzip(plain, { level: level ?? zlib.Z_DEFAULT_COMPRESSION });
}

/** A stored layer blob re-encoded as `to` (decompressed first unless it is a plain tar already). */
export function recompress(stored: Readable, storedMediaType: string, to: Compression, level?: number): Readable {
  return compress(decompressLayer(stored, storedMediaType), to, level);
}
