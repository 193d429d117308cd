// Metadata the server writes itself: the timestamp (always: the client never holds its key) and
// the snapshot (when the client lets the server hold the snapshot key). The file is what Go's
// json.Marshal makes of Notary's Signed struct: {"signed":<canonical JSON>,"signatures":[...]};
// the hashes other files carry are over exactly these bytes.
import { createHash } from 'node:crypto';
import type { NotaryKeyRecord } from '../../metadata/notary/notary-store.ts';
import { canonicalBytes } from './canonical.ts';
import type { FileMeta } from './metadata.ts';
import type { ServerKeys } from './server-keys.ts';

const DAY = 86_400_000;
/** Notary's default expiries (tuf/data/types.go DefaultExpires). */
export const SNAPSHOT_LIFETIME_MS = 3 * 365 * DAY;
export const TIMESTAMP_LIFETIME_MS = 14 * DAY;

export function fileMeta(bytes: Buffer): FileMeta {
  return {
    length: bytes.length,
    hashes: { sha256: createHash('sha256').update(bytes).digest('base64'), sha512: createHash('sha512').update(bytes).digest('base64') },
  };
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** RFC 3339 in UTC, whole seconds (what Go writes for a rounded time.Time). */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export async function signedFile(signed: Record<string, unknown>, keys: NotaryKeyRecord[], serverKeys: ServerKeys): Promise<Buffer> {
  const canonical = canonicalBytes(signed);
  const signatures = await serverKeys.sign(canonical, keys);
  return Buffer.concat([Buffer.from('{"signed":'), canonical, Buffer.from(`,"signatures":${JSON.stringify(signatures)}}`)]);
}

export function snapshotBody(version: number, meta: Record<string, FileMeta>, now: number): Record<string, unknown> {
  return { _type: 'Snapshot', expires: rfc3339(now + SNAPSHOT_LIFETIME_MS), meta, version };
}

export function timestampBody(version: number, snapshot: Buffer, now: number): Record<string, unknown> {
  return { _type: 'Timestamp', expires: rfc3339(now + TIMESTAMP_LIFETIME_MS), meta: { snapshot: fileMeta(snapshot) }, version };
}
