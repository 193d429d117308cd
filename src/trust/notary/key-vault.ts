// Encryption at rest of the Notary server's private keys: AES-256-GCM, with the row's identity
// (GUN, role, key ID) as additional data, so a ciphertext moved to another row does not decrypt.
// The key-encryption key comes from
//   BERTH_TRUST_PASSPHRASE   scrypt(passphrase, salt) (N=2^15, r=8, p=1), the salt stored with
//                            each ciphertext; or else
//   berth.trust.keyfile      32 random bytes (base64), created with mode 0600 when missing
//                            (default <storage root>/trust/server.key).
// Replicas sharing a PostgreSQL database need the same key file or passphrase. Nothing here logs
// or returns key material.
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb, type BinaryLike, type ScryptOptions } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';

const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } satisfies ScryptOptions;

function scrypt(password: BinaryLike, salt: BinaryLike, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));
}

export interface KeyVaultOptions {
  keyfile: string;
  /** BERTH_TRUST_PASSPHRASE; when set, new keys are encrypted under it instead of the key file. */
  passphrase?: string;
  log?: Logger;
}

interface Sealed {
  v: 1;
  kek: 'file' | 'scrypt';
  salt?: string;
  iv: string;
  tag: string;
  ct: string;
}

export class KeyVaultError extends Error {}

export class KeyVault {
  private fileKey?: Promise<Buffer>;
  private readonly derived = new Map<string, Promise<Buffer>>();
  /** One salt per process for new ciphertexts: one derivation, not one per key. */
  private readonly salt = randomBytes(16).toString('base64');

  constructor(private readonly o: KeyVaultOptions) {}

  async seal(plain: Buffer, aad: string): Promise<string> {
    const kek = this.o.passphrase ? 'scrypt' : 'file';
    const key = kek === 'scrypt' ? await this.passphraseKey(this.salt) : await this.keyFromFile();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
    const sealed: Sealed = { v: 1, kek, ...(kek === 'scrypt' && { salt: this.salt }), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ct: ct.toString('base64') };
    return JSON.stringify(sealed);
  }

  async open(text: string, aad: string): Promise<Buffer> {
    let s: Sealed;
    try {
      s = JSON.parse(text) as Sealed;
    } catch {
      throw new KeyVaultError('unreadable encrypted key');
    }
    let key: Buffer;
    if (s.kek === 'scrypt') {
      if (!this.o.passphrase || !s.salt) throw new KeyVaultError('this key was encrypted with BERTH_TRUST_PASSPHRASE, which is not set');
      key = await this.passphraseKey(s.salt);
    } else {
      key = await this.keyFromFile();
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(s.iv, 'base64'));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(Buffer.from(s.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(s.ct, 'base64')), decipher.final()]);
    } catch {
      throw new KeyVaultError(
        s.kek === 'scrypt' ? 'cannot decrypt a server key: BERTH_TRUST_PASSPHRASE differs from the one it was encrypted with' : `cannot decrypt a server key with ${this.o.keyfile}: not the key file it was encrypted with`,
      );
    }
  }

  private passphraseKey(salt: string): Promise<Buffer> {
    let p = this.derived.get(salt);
    if (!p) {
      p = scrypt(this.o.passphrase!, Buffer.from(salt, 'base64'), 32, SCRYPT);
      this.derived.set(salt, p);
      p.catch(() => this.derived.delete(salt));
    }
    return p;
  }

  private keyFromFile(): Promise<Buffer> {
    if (!this.fileKey) {
      this.fileKey = loadOrCreateKeyFile(this.o.keyfile, this.o.log);
      this.fileKey.catch(() => (this.fileKey = undefined));
    }
    return this.fileKey;
  }
}

/** Reads the key file (base64 or hex of 32 bytes, or the 32 bytes themselves), creating it when missing. */
export async function loadOrCreateKeyFile(path: string, log?: Logger): Promise<Buffer> {
  try {
    const key = parseKeyFile(await readFile(path));
    const mode = (await stat(path)).mode & 0o777;
    if (mode & 0o077) log?.warn({ path, mode: mode.toString(8) }, 'berth.trust.keyfile is readable by other users; chmod 600 it');
    return key;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (e instanceof KeyVaultError) throw e;
      throw new KeyVaultError(`cannot read berth.trust.keyfile ${path}: ${(e as Error).message}`);
    }
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    await writeFile(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(path, 0o600);
    log?.info({ path }, 'created the Notary server key file (berth.trust.keyfile); back it up: the server keys cannot be decrypted without it');
    return key;
  } catch (e) {
    // Another process created it first: use theirs.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return parseKeyFile(await readFile(path));
    throw new KeyVaultError(`cannot create berth.trust.keyfile ${path}: ${(e as Error).message}`);
  }
}

function parseKeyFile(content: Buffer): Buffer {
  if (content.length === 32) return content;
  const text = content.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  const b = Buffer.from(text, 'base64');
  if (b.length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(text)) return b;
  throw new KeyVaultError('berth.trust.keyfile must hold 32 random bytes (base64 or hex)');
}
