// Notary trust data as the pull policy reads it: a GUN's chain checked the way a Notary client
// checks what it downloads, with the project's own Notary code (src/trust/notary/):
//   root       its certificates are for the GUN and valid, self-signed to its threshold, not expired;
//   timestamp  signed by the root's timestamp keys, not expired (the server re-signs an expired one
//              when it holds the key, as a GET timestamp.json would: notary-source.ts);
//   snapshot   the bytes the timestamp names, signed by the root's snapshot keys, not expired;
//   targets    the bytes the snapshot names, signed by the root's targets keys, not expired;
//   targets/…  each delegation the bytes the snapshot names, signed to its threshold by the keys its
//              parent delegates to it, not expired; its targets count only within its paths.
// A manifest is vouched for by a target of an allowed role whose length and sha256 are the
// manifest's (by tag: the target named like the tag).
import type { NotaryRecord } from '../../metadata/notary/notary-store.ts';
import { ValidationFailure } from '../notary/errors.ts';
import { isObject, parseEnvelope, parseMetaFile, parseRoot, parseTargets, roleKeys, rootRoleKeys, type Envelope, type FileMeta, type Targets } from '../notary/metadata.ts';
import { checkThreshold, verifySignature, type RoleKeys } from '../notary/signatures.ts';
import { validateRootTrust } from '../notary/validate-root.ts';
import { hashMismatch } from '../notary/validate-update.ts';
import { MalformedMetadata } from '../notary/metadata.ts';
import { spkiHex } from './keys.ts';

/** Where the chain comes from: the stored files, and the timestamp brought up to date. */
export interface NotarySource {
  current(gun: string, role: string): Promise<NotaryRecord | undefined>;
  timestamp(gun: string): Promise<NotaryRecord | undefined>;
}

export interface NotaryRole {
  /** Targets by name: length and base64 hashes. */
  targets: Map<string, FileMeta>;
  /** SubjectPublicKeyInfo (hex) of the keys whose signatures on this role verified. */
  signers: Set<string>;
  /** The path prefixes of this delegation and its ancestors (each level must allow a name). */
  paths: string[][];
}

export interface NotaryState {
  gun: string;
  /** Whether the GUN has trust data at all. */
  exists: boolean;
  /** Why the chain does not verify (then no target counts). */
  failure?: string;
  /** Roles whose file verified, by name. */
  roles: Map<string, NotaryRole>;
  /** Delegations that are there but did not verify, and why. */
  badRoles: Map<string, string>;
  /** The root's keys (SubjectPublicKeyInfo hex of its certificates). */
  rootKeys: Set<string>;
  /** The timestamp's version (part of the verdict cache's key) and the earliest expiry in the chain. */
  timestampVersion: number;
  validUntil: number;
}

function signers(env: Envelope, keys: RoleKeys): Set<string> {
  const out = new Set<string>();
  for (const s of env.signatures) {
    const key = keys.keys.get(s.keyid);
    if (key && verifySignature(env.canonical, s, key)) out.add(spkiHex(key.publicKey));
  }
  return out;
}

function targetsOf(env: Envelope): Map<string, FileMeta> {
  const out = new Map<string, FileMeta>();
  const raw = env.signed.targets;
  if (!isObject(raw)) return out;
  for (const [name, m] of Object.entries(raw)) {
    if (!isObject(m) || !isObject(m.hashes)) continue;
    const hashes: Record<string, string> = {};
    for (const [alg, h] of Object.entries(m.hashes)) if (typeof h === 'string') hashes[alg] = h;
    out.set(name, { length: Number.isSafeInteger(m.length) ? (m.length as number) : -1, hashes });
  }
  return out;
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Loads and checks a GUN's chain at `now`. Never throws for bad trust data: it says why in `failure`. */
export async function loadNotaryState(source: NotarySource, gun: string, now = Date.now()): Promise<NotaryState> {
  const state: NotaryState = { gun, exists: false, roles: new Map(), badRoles: new Map(), rootKeys: new Set(), timestampVersion: 0, validUntil: Infinity };
  const rootRecord = await source.current(gun, 'root');
  if (!rootRecord) return state;
  state.exists = true;
  const fail = (why: string) => {
    state.failure = why;
    state.roles.clear();
    return state;
  };
  const until = (env: Envelope) => (state.validUntil = Math.min(state.validUntil, env.expires.getTime()));
  try {
    const root = parseRoot(parseEnvelope('root', rootRecord.data));
    try {
      validateRootTrust(gun, root, undefined, new Date(now));
    } catch (e) {
      if (e instanceof ValidationFailure) return fail(`root of ${gun} does not verify: ${e.message}`);
      throw e;
    }
    until(root.envelope);
    for (const id of root.roles.root.keyids) {
      const k = root.keys.get(id);
      if (k) state.rootKeys.add(spkiHex(k.publicKey));
    }

    const tsRecord = await source.timestamp(gun);
    if (!tsRecord) return fail(`no timestamp for ${gun}`);
    const ts = parseMetaFile(parseEnvelope('timestamp', tsRecord.data), 'Timestamp');
    state.timestampVersion = ts.envelope.version;
    const tsSig = checkThreshold(ts.envelope.canonical, ts.envelope.signatures, rootRoleKeys(root, 'timestamp'));
    if (!tsSig.ok) return fail(`timestamp of ${gun} does not verify: ${tsSig.reason}`);
    if (ts.envelope.expires.getTime() <= now) return fail(`timestamp of ${gun} expired at ${iso(ts.envelope.expires)}`);
    until(ts.envelope);

    const snapRecord = await source.current(gun, 'snapshot');
    if (!snapRecord) return fail(`no snapshot for ${gun}`);
    const snapMismatch = hashMismatch(snapRecord.data, ts.meta.snapshot);
    if (snapMismatch) return fail(`snapshot of ${gun} is not the one the timestamp names (${snapMismatch})`);
    const snap = parseMetaFile(parseEnvelope('snapshot', snapRecord.data), 'Snapshot');
    const snapSig = checkThreshold(snap.envelope.canonical, snap.envelope.signatures, rootRoleKeys(root, 'snapshot'));
    if (!snapSig.ok) return fail(`snapshot of ${gun} does not verify: ${snapSig.reason}`);
    if (snap.envelope.expires.getTime() <= now) return fail(`snapshot of ${gun} expired at ${iso(snap.envelope.expires)}`);
    until(snap.envelope);

    // targets, then its delegations breadth first
    const queue: { role: string; keys: RoleKeys; paths: string[][] }[] = [{ role: 'targets', keys: rootRoleKeys(root, 'targets'), paths: [] }];
    while (queue.length) {
      const { role, keys, paths } = queue.shift()!;
      if (state.roles.has(role) || state.badRoles.has(role)) continue;
      const bad = (why: string) => {
        if (role === 'targets') return fail(`targets of ${gun} ${why}`);
        state.badRoles.set(role, why);
        return undefined;
      };
      const record = await source.current(gun, role);
      if (!record) {
        if (role === 'targets') return fail(`no targets for ${gun}`);
        continue;
      }
      const mismatch = hashMismatch(record.data, snap.meta[role]);
      if (mismatch) {
        if (bad(`are not the ones the snapshot names (${mismatch})`)) return state;
        continue;
      }
      let targets: Targets;
      try {
        targets = parseTargets(parseEnvelope(role, record.data));
      } catch (e) {
        if (bad(`cannot be read: ${(e as Error).message}`)) return state;
        continue;
      }
      const env = targets.envelope;
      const verdict = checkThreshold(env.canonical, env.signatures, keys);
      if (!verdict.ok) {
        if (bad(`do not verify: ${verdict.reason}`)) return state;
        continue;
      }
      if (env.expires.getTime() <= now) {
        if (bad(`expired at ${iso(env.expires)}`)) return state;
        continue;
      }
      until(env);
      state.roles.set(role, { targets: targetsOf(env), signers: signers(env, keys), paths });
      for (const d of targets.delegations) queue.push({ role: d.name, keys: roleKeys(d.name, d, targets.keys), paths: [...paths, d.paths] });
    }
    return state;
  } catch (e) {
    if (e instanceof ValidationFailure || e instanceof MalformedMetadata) return fail(`trust data of ${gun} cannot be read: ${e.message}`);
    throw e;
  }
}

/** A delegation's targets count only under its paths (and its ancestors'); "" allows every name. */
export function roleAllows(role: NotaryRole, name: string): boolean {
  return role.paths.every((level) => level.some((p) => name.startsWith(p)));
}

export function metaMatches(meta: FileMeta, digest: string, size: number): boolean {
  if (!digest.startsWith('sha256:')) return false;
  const want = Buffer.from(digest.slice(7), 'hex').toString('base64');
  return meta.hashes.sha256 === want && meta.length === size;
}

export interface NotaryTargetMatch {
  role: string;
  name: string;
  matches: boolean;
}

/** Targets of the allowed roles that concern this manifest: by tag the ones named so, by digest those with its hash. */
export function notaryTargets(state: NotaryState, roles: readonly string[], digest: string, size: number, tag?: string): NotaryTargetMatch[] {
  const out: NotaryTargetMatch[] = [];
  for (const roleName of roles) {
    const role = state.roles.get(roleName);
    if (!role) continue;
    if (tag !== undefined) {
      const meta = role.targets.get(tag);
      if (meta && roleAllows(role, tag)) out.push({ role: roleName, name: tag, matches: metaMatches(meta, digest, size) });
      continue;
    }
    for (const [name, meta] of role.targets) if (metaMatches(meta, digest, size) && roleAllows(role, name)) out.push({ role: roleName, name, matches: true });
  }
  return out;
}

/** Whether pinned keys (a policy's PEM keys) vouch for a role: one of them is a root key or signed the role. */
export function pinned(state: NotaryState, role: string, pins: Set<string>): boolean {
  if (pins.size === 0) return true;
  for (const k of state.rootKeys) if (pins.has(k)) return true;
  for (const k of state.roles.get(role)?.signers ?? []) if (pins.has(k)) return true;
  return false;
}
