// The trusted keys of a pull policy. A policy names key files (berth.trust.policies[].keys) or,
// through the admin API, carries the keys themselves; each file or text is one of
//   - PEM: one or more `PUBLIC KEY` blocks (cosign.pub) or `CERTIFICATE` blocks (whose public key
//     counts): cosign signatures, and Notary pins (a root certificate or a signer's key);
//   - an OpenPGP public key file, binary (`gpg --export`) or armored (`--armor`): GPG simple
//     signatures.
// Files are read once and read again when they change (polled every second, never on the request
// path); a file that stops being readable keeps the keys it had, with an error in the log.
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync, statSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import type { Logger } from 'pino';
import { readGpgKeys, type GpgKeys } from '../signatures/gpg.ts';

export class PolicyKeyError extends Error {}

export interface KeySet {
  /** cosign public keys (and certificates' keys). */
  pem: KeyObject[];
  /** The PEM keys' SubjectPublicKeyInfo DER, hex: how Notary pins are compared. */
  pemSpki: Set<string>;
  /** GPG public keys. */
  gpg: GpgKeys;
  /** Short hash of the key material: part of every cache key, so new keys mean new verdicts. */
  version: string;
}

export const EMPTY_KEYS: KeySet = { pem: [], pemSpki: new Set(), gpg: [], version: 'none' };

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

/** The keys in one file's (or one text's) bytes. Throws PolicyKeyError saying what is wrong. */
export async function parseKeyMaterial(bytes: Buffer, source: string): Promise<{ pem: KeyObject[]; gpg: GpgKeys }> {
  const head = bytes.subarray(0, 4096).toString('latin1');
  if (head.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----') || !head.includes('-----BEGIN ')) {
    try {
      return { pem: [], gpg: await readGpgKeys(bytes, source) };
    } catch (e) {
      throw new PolicyKeyError(`${(e as Error).message} (a policy key is a PEM public key or certificate, or GPG public keys)`);
    }
  }
  const pem: KeyObject[] = [];
  for (const m of bytes.toString('utf8').matchAll(PEM_BLOCK)) {
    const label = m[1]!;
    try {
      if (label === 'CERTIFICATE') pem.push(new X509Certificate(m[0]).publicKey);
      else if (label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY' || label === 'EC PUBLIC KEY') pem.push(createPublicKey(m[0]));
      else if (label.includes('PRIVATE')) throw new PolicyKeyError(`${source}: holds a private key (${label}); give the public key (cosign.pub)`);
    } catch (e) {
      if (e instanceof PolicyKeyError) throw e;
      throw new PolicyKeyError(`${source}: unreadable ${label} block: ${(e as Error).message}`);
    }
  }
  if (!pem.length) throw new PolicyKeyError(`${source}: no PUBLIC KEY or CERTIFICATE block in it`);
  return { pem, gpg: [] };
}

export function spkiHex(key: KeyObject): string {
  return key.export({ format: 'der', type: 'spki' }).toString('hex');
}

function combine(parts: { pem: KeyObject[]; gpg: GpgKeys }[]): KeySet {
  const pem = parts.flatMap((p) => p.pem);
  const gpg = parts.flatMap((p) => p.gpg);
  const pemSpki = new Set(pem.map(spkiHex));
  const h = createHash('sha256');
  for (const s of [...pemSpki].sort()) h.update(`pem:${s}\n`);
  for (const fp of gpg.map((k) => k.getFingerprint()).sort()) h.update(`gpg:${fp}\n`);
  return { pem, pemSpki, gpg, version: pem.length || gpg.length ? h.digest('hex').slice(0, 16) : 'none' };
}

/** Keys given as text (the admin API's bodies): parsed once. */
export async function keysFromTexts(texts: string[]): Promise<KeySet> {
  const parts = [];
  for (const [i, t] of texts.entries()) parts.push(await parseKeyMaterial(Buffer.from(t, 'utf8'), `keys[${i}]`));
  return combine(parts);
}

/** Keys read from files, re-read when a file changes. */
export class KeyFiles {
  private current: KeySet = EMPTY_KEYS;
  private readonly parts = new Map<string, { pem: KeyObject[]; gpg: GpgKeys }>();
  private readonly listeners = new Map<string, (cur: Stats, prev: Stats) => void>();

  private constructor(
    private readonly paths: string[],
    private readonly log: Logger,
    private readonly pollMs: number,
  ) {}

  /** Reads every file now; throws PolicyKeyError when one is missing or holds no usable key. */
  static async open(paths: string[], log: Logger, pollMs = 1000): Promise<KeyFiles> {
    const k = new KeyFiles(paths, log, pollMs);
    for (const p of paths) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(p);
      } catch (e) {
        throw new PolicyKeyError(`${p}: cannot read the key file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      k.parts.set(p, await parseKeyMaterial(bytes, p));
    }
    k.current = combine([...k.parts.values()]);
    return k;
  }

  get keys(): KeySet {
    return this.current;
  }

  /** Starts polling the files (not keeping the process alive); `onChange` runs after new keys are in. */
  watch(onChange: () => void): void {
    if (this.listeners.size) return;
    for (const p of new Set(this.paths)) {
      const listener = (cur: Stats, prev: Stats) => {
        if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size && cur.ino === prev.ino) return;
        void this.reload(p).then((changed) => changed && onChange());
      };
      this.listeners.set(p, listener);
      watchFile(p, { persistent: false, interval: this.pollMs }, listener);
    }
  }

  close(): void {
    for (const [p, listener] of this.listeners) unwatchFile(p, listener);
    this.listeners.clear();
  }

  /** Reads one file again; true when the key set changed. */
  async reload(path: string): Promise<boolean> {
    try {
      statSync(path);
      const part = await parseKeyMaterial(readFileSync(path), path);
      this.parts.set(path, part);
    } catch (e) {
      this.log.error({ path, err: (e as Error).message }, 'trust policy: a key file could not be read again; the keys it had are kept');
      return false;
    }
    const next = combine(this.paths.flatMap((p) => (this.parts.has(p) ? [this.parts.get(p)!] : [])));
    if (next.version === this.current.version) return false;
    this.current = next;
    this.log.info({ path, keys: next.version }, 'trust policy: key file changed, keys reloaded');
    return true;
  }
}
