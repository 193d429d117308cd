// The four TUF metadata types as Notary writes them, parsed from the exact bytes a client uploaded
// (or the server stored): `{"signed":{"_type":...,"version":N,"expires":RFC3339,...},"signatures":[...]}`.
// Structure rules are Notary's (tuf/data/*.go): all four base roles in a root, thresholds of at
// least 1 with every key ID present, a targets file delegating only to its direct children,
// snapshot and timestamp meta with SHA-256 (and optionally SHA-512) hashes.
import { CanonicalJsonError, canonicalBytes } from './canonical.ts';
import { KeyError, parseKey, type ParsedKey } from './keys.ts';
import type { RoleKeys, Signature } from './signatures.ts';
import { ValidationFailure, type ValidationName } from './errors.ts';

export const BASE_ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;
export type BaseRole = (typeof BASE_ROLES)[number];

const DELEGATION = /^targets\/[-a-z0-9_/]+$/;

/** `targets/<name>[/<name>...]`: lower case, no empty, `.` or `..` segments, under 256 characters (Notary's IsDelegation). */
export function isDelegation(role: string): boolean {
  return role.length < 256 && DELEGATION.test(role) && !role.endsWith('/') && !role.includes('//');
}

export function isValidRole(role: string): boolean {
  return (BASE_ROLES as readonly string[]).includes(role) || isDelegation(role);
}

/** The role that delegates to `role` (`targets` for `targets/a`, `targets/a` for `targets/a/b`). */
export function parentOf(role: string): string {
  return role.slice(0, role.lastIndexOf('/'));
}

/** Shallow roles first (targets before targets/a before targets/a/b), then by name. */
export function byDepth(a: string, b: string): number {
  const d = a.split('/').length - b.split('/').length;
  return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
}

/** A parsed metadata file and the bytes it came from. */
export interface Envelope {
  role: string;
  bytes: Buffer;
  signed: Record<string, unknown>;
  /** The canonical JSON of `signed`: what the signatures sign. */
  canonical: Buffer;
  signatures: Signature[];
  type: string;
  version: number;
  expires: Date;
}

/** The file is not JSON of the signed-metadata shape at all (MALFORMED_JSON). */
export class MalformedMetadata extends Error {}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

export function parseEnvelope(role: string, bytes: Buffer, kind: ValidationName = 'ErrValidation'): Envelope {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new MalformedMetadata(`${role}: not JSON`);
  }
  if (!isObject(doc) || !isObject(doc.signed)) throw new MalformedMetadata(`${role}: no "signed" object`);
  const signed = doc.signed;
  if (!Number.isSafeInteger(signed.version)) throw new MalformedMetadata(`${role}: "version" is not an integer`);
  const fail = (msg: string) => new ValidationFailure(kind, `${role}: ${msg}`);
  const rawSigs = doc.signatures ?? [];
  if (!Array.isArray(rawSigs)) throw fail('"signatures" is not a list');
  const signatures: Signature[] = [];
  for (const s of rawSigs) {
    if (!isObject(s) || typeof s.keyid !== 'string' || typeof s.method !== 'string' || typeof s.sig !== 'string') throw fail('malformed signature');
    signatures.push({ keyid: s.keyid, method: s.method, sig: s.sig });
  }
  if (typeof signed._type !== 'string') throw fail('no "_type"');
  if (typeof signed.expires !== 'string' || !RFC3339.test(signed.expires) || Number.isNaN(Date.parse(signed.expires))) throw fail('"expires" is not an RFC 3339 time');
  let canonical: Buffer;
  try {
    canonical = canonicalBytes(signed);
  } catch (e) {
    if (e instanceof CanonicalJsonError) throw fail(`no canonical form (${e.message})`);
    throw e;
  }
  return { role, bytes, signed, canonical, signatures, type: signed._type, version: signed.version as number, expires: new Date(signed.expires) };
}

export interface RoleSpec {
  keyids: string[];
  threshold: number;
}

export interface Root {
  envelope: Envelope;
  keys: Map<string, ParsedKey>;
  roles: Record<BaseRole, RoleSpec>;
}

export interface Delegation extends RoleSpec {
  name: string;
  paths: string[];
}

export interface Targets {
  envelope: Envelope;
  /** The delegations' keys and roles (each a direct child of this role). */
  keys: Map<string, ParsedKey>;
  delegations: Delegation[];
}

export interface FileMeta {
  length: number;
  /** base64 digests by algorithm (sha256, sha512). */
  hashes: Record<string, string>;
}

export interface MetaFile {
  envelope: Envelope;
  meta: Record<string, FileMeta>;
}

export function parseRoot(env: Envelope): Root {
  const fail = (msg: string) => new ValidationFailure('ErrBadRoot', `root: ${msg}`);
  if (env.type !== 'Root') throw fail(`_type is ${JSON.stringify(env.type)}, expected "Root"`);
  if (env.version < 1) throw fail('version cannot be less than one');
  const keys = parseKeys(env.signed.keys, fail);
  if (!isObject(env.signed.roles)) throw fail('no roles');
  const rolesIn = env.signed.roles;
  const roles = {} as Record<BaseRole, RoleSpec>;
  for (const name of BASE_ROLES) {
    if (!Object.hasOwn(rolesIn, name)) throw fail(`missing ${name} role specification`);
    roles[name] = parseRoleSpec(rolesIn[name], name, keys, fail);
  }
  return { envelope: env, keys, roles };
}

export function parseTargets(env: Envelope): Targets {
  const fail = (msg: string) => new ValidationFailure('ErrBadTargets', `${env.role}: ${msg}`);
  if (env.type !== 'Targets') throw fail(`_type is ${JSON.stringify(env.type)}, expected "Targets"`);
  if (env.version < 1) throw fail('version cannot be less than one');
  // Go writes an empty list or map as null; Notary reads null as empty, and so does berth.
  if (env.signed.targets != null && !isObject(env.signed.targets)) throw fail('"targets" is not an object');
  const d = env.signed.delegations;
  if (d === undefined || d === null) return { envelope: env, keys: new Map(), delegations: [] };
  if (!isObject(d)) throw fail('"delegations" is not an object');
  const keys = parseKeys(d.keys ?? {}, fail);
  const rolesIn = d.roles ?? [];
  if (!Array.isArray(rolesIn)) throw fail('"delegations.roles" is not a list');
  const delegations: Delegation[] = [];
  for (const r of rolesIn) {
    if (!isObject(r) || typeof r.name !== 'string') throw fail('delegation without a name');
    // A targets file may delegate only to its direct children.
    if (!isDelegation(r.name) || parentOf(r.name) !== env.role) throw fail(`delegation role ${r.name.slice(0, 100)} invalid: not a direct child of ${env.role}`);
    const spec = parseRoleSpec(r, r.name, keys, fail);
    const paths = r.paths ?? [];
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) throw fail(`delegation ${r.name}: "paths" is not a list of strings`);
    delegations.push({ name: r.name, ...spec, paths: paths as string[] });
  }
  return { envelope: env, keys, delegations };
}

/** Snapshot (meta for root and targets at least) or timestamp (meta for snapshot). */
export function parseMetaFile(env: Envelope, kind: 'Snapshot' | 'Timestamp'): MetaFile {
  const fail = (msg: string) => new ValidationFailure(kind === 'Snapshot' ? 'ErrBadSnapshot' : 'ErrValidation', `${env.role}: ${msg}`);
  if (env.type !== kind) throw fail(`_type is ${JSON.stringify(env.type)}, expected "${kind}"`);
  if (env.version < 1) throw fail('version cannot be less than one');
  if (!isObject(env.signed.meta)) throw fail('no meta');
  const meta: Record<string, FileMeta> = {};
  for (const [name, m] of Object.entries(env.signed.meta)) {
    if (!isObject(m) || !isObject(m.hashes)) throw fail(`meta for ${name.slice(0, 100)} has no hashes`);
    const hashes: Record<string, string> = {};
    for (const [alg, h] of Object.entries(m.hashes)) {
      if (typeof h !== 'string') throw fail(`meta for ${name}: hash ${alg} is not a string`);
      hashes[alg] = h;
    }
    for (const [alg, size] of [['sha256', 32], ['sha512', 64]] as const) {
      if (hashes[alg] !== undefined && Buffer.from(hashes[alg], 'base64').length !== size) throw fail(`meta for ${name}: invalid ${alg} checksum`);
    }
    meta[name] = { length: Number.isSafeInteger(m.length) ? (m.length as number) : 0, hashes };
  }
  for (const required of kind === 'Snapshot' ? ['root', 'targets'] : ['snapshot']) {
    if (!meta[required]?.hashes.sha256) throw fail(`missing ${required} sha256 checksum information`);
  }
  return { envelope: env, meta };
}

/** The keys and threshold a base role of the root trusts. */
export function rootRoleKeys(root: Root, role: BaseRole): RoleKeys {
  return roleKeys(role, root.roles[role], root.keys);
}

export function roleKeys(name: string, spec: RoleSpec, keys: Map<string, ParsedKey>): RoleKeys {
  const out = new Map<string, ParsedKey>();
  for (const id of spec.keyids) {
    const k = keys.get(id);
    if (k) out.set(id, k);
  }
  return { name, keys: out, threshold: spec.threshold };
}

function parseKeys(raw: unknown, fail: (msg: string) => ValidationFailure): Map<string, ParsedKey> {
  if (!isObject(raw)) throw fail('no keys');
  const keys = new Map<string, ParsedKey>();
  for (const [id, k] of Object.entries(raw)) {
    let parsed: ParsedKey;
    try {
      parsed = parseKey(k);
    } catch (e) {
      if (e instanceof KeyError) throw fail(`key ${id.slice(0, 80)}: ${e.message}`);
      throw e;
    }
    // Notary refuses a signature whose key ID is not the ID of the key's content.
    if (parsed.id !== id) throw fail(`key ID ${id.slice(0, 80)} does not match its key (${parsed.id})`);
    keys.set(id, parsed);
  }
  return keys;
}

function parseRoleSpec(raw: unknown, name: string, keys: Map<string, unknown>, fail: (msg: string) => ValidationFailure): RoleSpec {
  if (!isObject(raw)) throw fail(`role ${name} is not an object`);
  const { threshold } = raw;
  const keyids = raw.keyids ?? [];
  if (!Number.isSafeInteger(threshold) || (threshold as number) < 1) throw fail(`invalid threshold specified for ${name}: ${String(threshold).slice(0, 20)}`);
  if (!Array.isArray(keyids) || !keyids.every((k) => typeof k === 'string')) throw fail(`role ${name}: "keyids" is not a list of strings`);
  for (const id of keyids as string[]) if (!keys.has(id)) throw fail(`key ID ${id.slice(0, 80)} specified in ${name} without corresponding key`);
  return { keyids: [...new Set(keyids as string[])], threshold: threshold as number };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
