// Validation of an update, as Notary's server does it (server/handlers/validation.go and the TUF
// builder it drives), before anything is stored:
//  1. root, if uploaded: version = stored or stored + 1 (never lower), all four roles, trusted
//     certificates and thresholds, rotation signed by the old root keys too (validate-root.ts),
//     not expired. Without an uploaded root there must be a stored one.
//  2. targets and delegations, shallow first: signed by the root's targets keys, or by the keys
//     the parent delegation lists for it, meeting the threshold; not expired; a delegation must
//     be delegated by its parent (stored or in this update), and delegate only to direct children.
//  3. snapshot, if uploaded: signed by the root's snapshot keys, not expired, and its hashes match
//     the exact bytes of the root and of every targets file this update loaded.
// Every uploaded role's version must be above the stored one (400 VERSION).
// The server's snapshot and timestamp are made afterwards (service.ts).
import { createHash } from 'node:crypto';
import type { NotaryRecord } from '../../metadata/notary/notary-store.ts';
import { NotaryError, ValidationFailure } from './errors.ts';
import { byDepth, isDelegation, MalformedMetadata, parentOf, parseEnvelope, parseMetaFile, parseRoot, parseTargets, roleKeys, rootRoleKeys, type Envelope, type FileMeta, type Root, type Targets } from './metadata.ts';
import { checkThreshold } from './signatures.ts';
import { validateRootTrust } from './validate-root.ts';

/** The stored state an update is checked against (current versions). */
export interface StoredRoles {
  current(role: string): Promise<NotaryRecord | undefined>;
}

export interface ValidatedUpdate {
  /** The root in force once the update is applied, and its bytes. */
  root: Root;
  rootBytes: Buffer;
  rootUploaded: boolean;
  /** Uploaded files to store (root, targets, delegations, snapshot), by role. */
  writes: Map<string, Envelope>;
  /** The uploaded snapshot, when the client signed one. */
  snapshot?: Envelope;
}

export async function validateUpdate(gun: string, uploads: Map<string, Buffer>, stored: StoredRoles, now = new Date()): Promise<ValidatedUpdate> {
  const envelopes = new Map<string, Envelope>();
  for (const [role, bytes] of uploads) {
    // A client never uploads a timestamp; Notary ignores one, and so does berth.
    if (role === 'timestamp') continue;
    try {
      envelopes.set(role, parseEnvelope(role, bytes, role === 'root' ? 'ErrBadRoot' : role === 'snapshot' ? 'ErrBadSnapshot' : 'ErrBadTargets'));
    } catch (e) {
      if (e instanceof MalformedMetadata) throw new NotaryError('MALFORMED_JSON', undefined, e.message);
      if (e instanceof ValidationFailure) throw NotaryError.invalid(e);
      throw e;
    }
  }
  for (const env of envelopes.values()) {
    const current = await stored.current(env.role);
    if (current && env.version <= current.version) {
      throw new NotaryError('VERSION', new ValidationFailure('ErrValidation', `${env.role}: version ${env.version} is not above the stored version ${current.version}`));
    }
  }
  try {
    return await validate(gun, envelopes, stored, now);
  } catch (e) {
    if (e instanceof ValidationFailure) throw NotaryError.invalid(e);
    throw e;
  }
}

async function validate(gun: string, envelopes: Map<string, Envelope>, stored: StoredRoles, now: Date): Promise<ValidatedUpdate> {
  const storedRootRecord = await stored.current('root');
  const storedRoot = storedRootRecord && parseRoot(parseEnvelope('root', storedRootRecord.data, 'ErrBadRoot'));

  // 1. root
  let root: Root;
  let rootBytes: Buffer;
  const rootEnv = envelopes.get('root');
  if (rootEnv) {
    const currentVersion = storedRoot?.envelope.version ?? 1;
    if (rootEnv.version !== currentVersion && rootEnv.version !== currentVersion + 1) {
      throw new ValidationFailure('ErrBadRoot', `Root modifications must increment the version. Current ${currentVersion}, new ${rootEnv.version}`);
    }
    root = parseRoot(rootEnv);
    validateRootTrust(gun, root, storedRoot, now);
    rootBytes = rootEnv.bytes;
  } else if (storedRoot) {
    root = storedRoot;
    rootBytes = storedRootRecord!.data;
  } else {
    throw new ValidationFailure('ErrValidation', 'no pre-existing root and no root provided in update.');
  }

  // 2. targets and delegations, parents first
  const loaded = new Map<string, { targets: Targets; bytes: Buffer }>();
  const loadStored = async (role: string) => {
    if (loaded.has(role)) return loaded.get(role);
    const record = await stored.current(role);
    if (!record) return undefined;
    const entry = { targets: parseTargets(parseEnvelope(role, record.data, 'ErrBadTargets')), bytes: record.data };
    loaded.set(role, entry);
    return entry;
  };
  const targetsRoles = [...envelopes.keys()].filter((r) => r === 'targets' || isDelegation(r)).sort(byDepth);
  for (const role of targetsRoles) {
    const env = envelopes.get(role)!;
    const fail = (msg: string) => new ValidationFailure('ErrBadTargets', `${role}: ${msg}`);
    let keys;
    if (role === 'targets') {
      keys = rootRoleKeys(root, 'targets');
    } else {
      // Every ancestor must be there (uploaded in this update, or stored), down from targets.
      const chain = role.split('/').slice(1).map((_, i, parts) => ['targets', ...parts.slice(0, i)].join('/'));
      let parent: { targets: Targets } | undefined;
      for (const ancestor of chain) {
        parent = await loadStored(ancestor);
        if (!parent) throw fail(`${ancestor} must be published before ${role}`);
      }
      const delegation = parent!.targets.delegations.find((d) => d.name === role);
      if (!delegation) throw fail(`not delegated by ${parentOf(role)}`);
      keys = roleKeys(role, delegation, parent!.targets.keys);
    }
    const targets = parseTargets(env);
    const verdict = checkThreshold(env.canonical, env.signatures, keys);
    if (!verdict.ok) throw fail(verdict.reason);
    if (env.expires.getTime() <= now.getTime()) throw fail('expired');
    loaded.set(role, { targets, bytes: env.bytes });
  }

  // 3. an uploaded snapshot
  const snapEnv = envelopes.get('snapshot');
  if (snapEnv) {
    const fail = (msg: string) => new ValidationFailure('ErrBadSnapshot', `snapshot: ${msg}`);
    const snapshot = parseMetaFile(snapEnv, 'Snapshot');
    const verdict = checkThreshold(snapEnv.canonical, snapEnv.signatures, rootRoleKeys(root, 'snapshot'));
    if (!verdict.ok) throw fail(verdict.reason);
    if (snapEnv.expires.getTime() <= now.getTime()) throw fail('expired');
    const mismatch = (name: string, bytes: Buffer) => {
      const reason = hashMismatch(bytes, snapshot.meta[name]);
      if (reason) throw fail(`${name}: ${reason}`);
    };
    mismatch('root', rootBytes);
    for (const [name, { bytes }] of loaded) mismatch(name, bytes);
  }

  const writes = new Map<string, Envelope>();
  for (const [role, env] of envelopes) writes.set(role, env);
  return { root, rootBytes, rootUploaded: !!rootEnv, writes, ...(snapEnv && { snapshot: snapEnv }) };
}

/** Why the bytes do not match the meta's hashes (undefined when they do): every known hash present must match, and one must be present. */
export function hashMismatch(bytes: Buffer, meta: FileMeta | undefined): string | undefined {
  if (!meta) return 'no checksum information';
  let checked = 0;
  for (const alg of ['sha256', 'sha512'] as const) {
    const want = meta.hashes[alg];
    if (want === undefined) continue;
    checked++;
    if (createHash(alg).update(bytes).digest('base64') !== want) return `${alg} checksum mismatch`;
  }
  return checked ? undefined : 'no supported checksum';
}
