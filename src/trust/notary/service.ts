// The Notary server's operations on one GUN, over the metadata store: apply an update (validate,
// add the server's snapshot and timestamp, store atomically), read metadata (current, by
// checksum, by version; the timestamp re-signed when it expired or no longer names the current
// snapshot), hand out and rotate the server's keys, and delete a GUN's trust data.
import type { Logger } from 'pino';
import { NotaryVersionConflict, type KeyActivation, type NotaryRecord, type NotaryStore, type NotaryWrite } from '../../metadata/notary/notary-store.ts';
import { NotaryError, ValidationFailure } from './errors.ts';
import { fileMeta, sha256Hex, signedFile, snapshotBody, timestampBody } from './generate.ts';
import { parseEnvelope, parseMetaFile, parseRoot, parseTargets, type FileMeta, type Root } from './metadata.ts';
import { publicTufKey, type ServerKeys, type ServerRole } from './server-keys.ts';
import type { TufKey } from './keys.ts';
import { validateUpdate } from './validate-update.ts';

/** Re-sign a timestamp this long before it expires, so that a client never receives one about to lapse. */
const TIMESTAMP_MARGIN_MS = 60 * 60_000;

export class NotaryService {
  constructor(
    private readonly store: NotaryStore,
    private readonly keys: ServerKeys,
    private readonly log: Logger,
  ) {}

  async update(gun: string, uploads: Map<string, Buffer>): Promise<void> {
    const cache = new Map<string, Promise<NotaryRecord | undefined>>();
    const current = (role: string) => {
      let p = cache.get(role);
      if (!p) cache.set(role, (p = this.store.current(gun, role)));
      return p;
    };
    const now = Date.now();
    const v = await validateUpdate(gun, uploads, { current }, new Date(now));
    const writes: NotaryWrite[] = [...v.writes.values()].map((e) => ({ role: e.role, version: e.version, sha256: sha256Hex(e.bytes), data: e.bytes }));

    let snapshot: Buffer;
    if (v.snapshot) {
      snapshot = v.snapshot.bytes;
    } else {
      const held = await this.keys.held(gun, 'snapshot', v.root.roles.snapshot.keyids);
      if (held.length < v.root.roles.snapshot.threshold) {
        throw NotaryError.invalid(new ValidationFailure('ErrBadHierarchy', 'no snapshot was included in update and server does not hold current snapshot key for repository', 'snapshot'));
      }
      const files = new Map((await this.store.currentAll(gun)).map((r) => [r.role, r.data]));
      for (const w of writes) files.set(w.role, w.data);
      if (!files.has('targets')) throw NotaryError.invalid(new ValidationFailure('ErrBadHierarchy', 'no targets metadata: publish targets before a snapshot can be made', 'targets'));
      const version = ((await current('snapshot'))?.version ?? 0) + 1;
      snapshot = await signedFile(snapshotBody(version, snapshotMeta(files), now), held, this.keys);
      writes.push({ role: 'snapshot', version, sha256: sha256Hex(snapshot), data: snapshot });
    }

    const timestamp = await this.makeTimestamp(gun, v.root, snapshot, ((await current('timestamp'))?.version ?? 0) + 1, now);
    writes.push(timestamp);
    const activations: KeyActivation[] = v.rootUploaded
      ? (['snapshot', 'timestamp'] as const).map((role) => ({ role, keyIds: v.root.roles[role].keyids }))
      : [];
    try {
      await this.store.write(gun, writes, activations);
    } catch (e) {
      if (e instanceof NotaryVersionConflict) {
        throw new NotaryError('VERSION', new ValidationFailure('ErrValidation', `${e.message}: another update was stored meanwhile; fetch and publish again`));
      }
      throw e;
    }
    this.log.info({ gun, roles: writes.map((w) => `${w.role}@${w.version}`) }, 'notary: trust data updated');
  }

  /** `role.json`: the current version; the timestamp is brought up to date first. */
  async current(gun: string, role: string): Promise<NotaryRecord | undefined> {
    if (role === 'timestamp') return this.freshTimestamp(gun);
    return this.store.current(gun, role);
  }

  byChecksum(gun: string, role: string, sha256: string): Promise<NotaryRecord | undefined> {
    return this.store.byChecksum(gun, role, sha256);
  }

  byVersion(gun: string, role: string, version: number): Promise<NotaryRecord | undefined> {
    return this.store.byVersion(gun, role, version);
  }

  /** GET {role}.key: the server's public key for the role (see server-keys.ts for which). */
  async publicKey(gun: string, role: ServerRole): Promise<TufKey> {
    const root = await this.store.current(gun, 'root');
    const listed = root ? parseRoot(parseEnvelope('root', root.data)).roles[role].keyids : undefined;
    return publicTufKey(await this.keys.current(gun, role, listed));
  }

  /** POST {role}.key: a new pending key, to be listed by the client's next root. */
  async rotateKey(gun: string, role: ServerRole): Promise<TufKey> {
    const key = await this.keys.create(gun, role);
    this.log.info({ gun, role, keyId: key.keyId }, 'notary: new server key for rotation');
    return publicTufKey(key);
  }

  async delete(gun: string): Promise<void> {
    if (await this.store.deleteGun(gun)) this.log.info({ gun }, 'notary: trust data deleted');
  }

  async exists(gun: string): Promise<boolean> {
    return (await this.store.current(gun, 'root')) !== undefined;
  }

  private async makeTimestamp(gun: string, root: Root, snapshot: Buffer, version: number, now: number): Promise<NotaryWrite> {
    const held = await this.keys.held(gun, 'timestamp', root.roles.timestamp.keyids);
    if (held.length < root.roles.timestamp.threshold) {
      throw NotaryError.invalid(new ValidationFailure('ErrBadRoot', 'no timestamp keys exist on the server: the root must list the key from GET timestamp.key'));
    }
    const data = await signedFile(timestampBody(version, snapshot, now), held, this.keys);
    return { role: 'timestamp', version, sha256: sha256Hex(data), data };
  }

  /**
   * The current timestamp, re-signed (version + 1) when it has expired or names a snapshot other
   * than the current one; an expired server-held snapshot is re-signed with it. A concurrent
   * re-signing (another request, another replica) wins: its timestamp is served.
   */
  private async freshTimestamp(gun: string): Promise<NotaryRecord | undefined> {
    const ts = await this.store.current(gun, 'timestamp');
    if (!ts) return undefined;
    const now = Date.now();
    const [snap, rootRecord] = await Promise.all([this.store.current(gun, 'snapshot'), this.store.current(gun, 'root')]);
    if (!snap || !rootRecord) return ts;
    let parsed;
    try {
      parsed = parseMetaFile(parseEnvelope('timestamp', ts.data), 'Timestamp');
    } catch {
      parsed = undefined;
    }
    const expired = !parsed || parsed.envelope.expires.getTime() - TIMESTAMP_MARGIN_MS <= now;
    const stale = !parsed || parsed.meta.snapshot?.hashes.sha256 !== fileMeta(snap.data).hashes.sha256;
    let snapshotExpired = false;
    try {
      snapshotExpired = parseEnvelope('snapshot', snap.data).expires.getTime() <= now;
    } catch {
      // An unreadable snapshot cannot be re-signed; serve what there is.
    }
    if (!expired && !stale && !snapshotExpired) return ts;

    const root = parseRoot(parseEnvelope('root', rootRecord.data));
    const writes: NotaryWrite[] = [];
    let snapshotBytes = snap.data;
    if (snapshotExpired) {
      const held = await this.keys.held(gun, 'snapshot', root.roles.snapshot.keyids);
      if (held.length >= root.roles.snapshot.threshold && held.length > 0) {
        const files = new Map((await this.store.currentAll(gun)).map((r) => [r.role, r.data]));
        snapshotBytes = await signedFile(snapshotBody(snap.version + 1, snapshotMeta(files), now), held, this.keys);
        writes.push({ role: 'snapshot', version: snap.version + 1, sha256: sha256Hex(snapshotBytes), data: snapshotBytes });
      } else if (!expired && !stale) {
        // The client holds the snapshot key: only it can renew the snapshot.
        return ts;
      }
    }
    try {
      writes.push(await this.makeTimestamp(gun, root, snapshotBytes, ts.version + 1, now));
      await this.store.write(gun, writes);
      this.log.info({ gun, version: ts.version + 1 }, 'notary: timestamp re-signed');
    } catch (e) {
      if (!(e instanceof NotaryVersionConflict) && !(e instanceof NotaryError)) throw e;
      // Someone else re-signed first, or the server holds no timestamp key: serve the stored one.
    }
    return this.store.current(gun, 'timestamp');
  }
}

/**
 * The meta of a server-made snapshot: root, targets, and every delegation's current file that is
 * still delegated to from the targets tree; each with its length and SHA-256 and SHA-512 hashes
 * over the exact stored bytes.
 */
export function snapshotMeta(files: Map<string, Buffer>): Record<string, FileMeta> {
  const meta: Record<string, FileMeta> = {};
  const root = files.get('root');
  if (root) meta.root = fileMeta(root);
  const queue = ['targets'];
  const seen = new Set<string>();
  while (queue.length) {
    const role = queue.shift()!;
    const bytes = files.get(role);
    if (!bytes || seen.has(role)) continue;
    seen.add(role);
    meta[role] = fileMeta(bytes);
    try {
      for (const d of parseTargets(parseEnvelope(role, bytes)).delegations) queue.push(d.name);
    } catch {
      // A stored file that no longer parses delegates nothing.
    }
  }
  return meta;
}

