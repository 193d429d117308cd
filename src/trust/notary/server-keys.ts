// The server's own signing keys: one ECDSA P-256 key per GUN and role (timestamp always, snapshot
// when the client lets the server hold it), generated on first use and kept encrypted in the
// metadata store (key-vault.ts). The rules (what Notary's server does, simplified):
//  - before a root exists, GET {role}.key hands out the newest pending key (creating one when
//    there is none);
//  - after, it hands out a key the current root lists for the role, if the server holds one,
//    or else a new pending key (the client is about to rotate to a server-managed key);
//  - POST {role}.key (rotation) always creates a new pending key;
//  - an accepted root makes the keys it lists active and retires the server's other active keys
//    of the role (store.write's activations).
import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { NotaryKeyRecord, NotaryStore } from '../../metadata/notary/notary-store.ts';
import { ecdsaKey, keyId, type TufKey } from './keys.ts';
import type { KeyVault } from './key-vault.ts';
import type { Signature } from './signatures.ts';

export type ServerRole = 'timestamp' | 'snapshot';

export class ServerKeys {
  /** Decrypted keys by GUN and key ID, so that a busy GUN's timestamp is not a decryption each time. */
  private readonly cache = new Map<string, KeyObject>();

  constructor(
    private readonly store: NotaryStore,
    private readonly vault: KeyVault,
  ) {}

  /** A new pending key for the role. */
  async create(gun: string, role: ServerRole): Promise<NotaryKeyRecord> {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    const id = keyId(ecdsaKey(spki));
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
    const record: NotaryKeyRecord = {
      gun,
      role,
      keyId: id,
      algorithm: 'ecdsa',
      publicKey: spki.toString('base64'),
      privateEncrypted: await this.vault.seal(pkcs8, aad(gun, role, id)),
      pending: true,
      createdAt: new Date(),
    };
    pkcs8.fill(0);
    await this.store.addKey(record);
    return record;
  }

  /** The key GET {role}.key answers with (see the rules above). */
  async current(gun: string, role: ServerRole, listedByRoot: string[] | undefined): Promise<NotaryKeyRecord> {
    const held = await this.store.keys(gun, role);
    if (listedByRoot) {
      const listed = held.find((k) => listedByRoot.includes(k.keyId));
      if (listed) return listed;
    } else {
      const pending = held.find((k) => k.pending);
      if (pending) return pending;
    }
    return this.create(gun, role);
  }

  /** The server's keys among `keyIds` (those it can sign a role with). */
  async held(gun: string, role: ServerRole, keyIds: string[]): Promise<NotaryKeyRecord[]> {
    return (await this.store.keys(gun, role)).filter((k) => keyIds.includes(k.keyId));
  }

  /** Signs canonical bytes with each key: Notary's `ecdsa` method, raw r||s over SHA-256. */
  async sign(message: Buffer, keys: NotaryKeyRecord[]): Promise<Signature[]> {
    const out: Signature[] = [];
    for (const k of keys) {
      const priv = await this.privateKey(k);
      out.push({ keyid: k.keyId, method: 'ecdsa', sig: sign('sha256', message, { key: priv, dsaEncoding: 'ieee-p1363' }).toString('base64') });
    }
    return out;
  }

  private async privateKey(k: NotaryKeyRecord): Promise<KeyObject> {
    const cacheKey = `${k.gun}\n${k.keyId}`;
    let key = this.cache.get(cacheKey);
    if (!key) {
      const pkcs8 = await this.vault.open(k.privateEncrypted, aad(k.gun, k.role, k.keyId));
      key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
      pkcs8.fill(0);
      if (this.cache.size >= 1000) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(cacheKey, key);
    }
    return key;
  }
}

/** The public half as the key endpoints answer it and roots list it. */
export function publicTufKey(k: NotaryKeyRecord): TufKey {
  return ecdsaKey(Buffer.from(k.publicKey, 'base64'));
}

function aad(gun: string, role: string, id: string): string {
  return `berth-notary-key\n${gun}\n${role}\n${id}`;
}
