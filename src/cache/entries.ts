// Metadata cache entries: the value plus the epoch and generation it was read under, as JSON.
// An entry is served only when both still match the current tokens (see cached-metadata-store.ts).
import type { ManifestRecord } from '../metadata/store.ts';

interface Entry {
  /** Epoch token. */
  e: string;
  /** Repository generation token. */
  g: string;
  v: unknown;
}

export function encodeEntry(epoch: string, generation: string, value: unknown): string {
  return JSON.stringify({ e: epoch, g: generation, v: value } satisfies Entry);
}

/** The entry's value when it was written under exactly these tokens; undefined otherwise. */
export function validValue(raw: string | null | undefined, epoch: string, generation: string): unknown {
  if (!raw) return undefined;
  let entry: Entry;
  try {
    entry = JSON.parse(raw) as Entry;
  } catch {
    return undefined; // not ours or damaged: a miss, and the next read overwrites it
  }
  return entry.e === epoch && entry.g === generation ? entry.v : undefined;
}

/** How one method's result goes to JSON and back. */
export interface Codec<T> {
  decode(value: unknown): T;
}

/** Values JSON gives back unchanged ({ size }, a digest string). */
export function plain<T>(): Codec<T> {
  return { decode: (v) => v as T };
}

/** ManifestRecord.createdAt is a Date, which JSON turns into a string. */
export const manifestRecord: Codec<ManifestRecord> = {
  decode: (v) => {
    const r = v as ManifestRecord & { createdAt: string };
    return { ...r, createdAt: new Date(r.createdAt) };
  },
};
