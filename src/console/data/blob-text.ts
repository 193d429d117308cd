// Small JSON documents (manifests, image configs) read whole from the store, bounded so that a
// page never pulls a large blob into memory.
import type { RegistryServices } from '../../registry/services.ts';

export const MAX_DOCUMENT = 4 * 1024 * 1024;

export async function readDocument(services: RegistryServices, digest: string, max = MAX_DOCUMENT): Promise<Buffer | undefined> {
  const cached = services.manifestCache.get(digest);
  if (cached) return cached;
  const info = await services.blobs.stat(digest);
  if (!info || info.size > max) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of await services.blobs.read(digest)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function parseJson(bytes: Buffer | undefined): Record<string, unknown> | undefined {
  if (!bytes) return undefined;
  try {
    const v = JSON.parse(bytes.toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
