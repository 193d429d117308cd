// Manifests are the one kind of blob the import holds in memory: they are parsed, and berth's (and
// registry:2's) 4 MiB limit bounds them. Everything else is streamed.
import { isSchema1 } from '../oci/media-types.ts';
import type { DistributionSource } from './source.ts';
import { SourceReadError } from './source.ts';

/** Reads a whole file of at most `limit` bytes (the caller has checked its size). */
export async function readBounded(source: DistributionSource, path: string, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of await source.open(path)) {
      total += (chunk as Buffer).length;
      // The file grew after stat: stop rather than buffer without bound; the digest check then fails.
      if (total > limit) break;
      chunks.push(chunk as Buffer);
    }
  } catch (e) {
    throw e instanceof SourceReadError ? e : new SourceReadError(path, e);
  }
  return Buffer.concat(chunks);
}

/** Docker schema 1 (signed or not) says so in schemaVersion; it gets its own skip reason. */
export function looksLikeSchema1(bytes: Buffer): boolean {
  try {
    const body = JSON.parse(bytes.toString('utf8')) as { schemaVersion?: unknown; mediaType?: unknown };
    return body.schemaVersion === 1 || (typeof body.mediaType === 'string' && isSchema1(body.mediaType));
  } catch {
    return false;
  }
}
