// What the Notary server (src/trust/notary/) keeps in the metadata store, so replicas on one
// PostgreSQL share it: TUF metadata byte for byte, every version, and the server's own signing
// keys (encrypted). Written once over Kysely (kysely-notary-store.ts).

export interface NotaryRecord {
  gun: string;
  role: string;
  version: number;
  /** Hex SHA-256 of `data`. */
  sha256: string;
  data: Buffer;
  createdAt: Date;
}

export interface NotaryWrite {
  role: string;
  version: number;
  sha256: string;
  data: Buffer;
}

export interface NotaryKeyRecord {
  gun: string;
  role: string;
  keyId: string;
  /** 'ecdsa' (P-256). */
  algorithm: string;
  /** base64 DER SubjectPublicKeyInfo. */
  publicKey: string;
  /** The private key, encrypted (server-keys.ts decides the format); never leaves the server. */
  privateEncrypted: string;
  /** Created but not yet listed by an accepted root. */
  pending: boolean;
  createdAt: Date;
}

/** The server keys an accepted root lists for a role: these become active, other active ones are retired. */
export interface KeyActivation {
  role: string;
  keyIds: string[];
}

/** A role already has this version or a newer one (a concurrent update got there first). */
export class NotaryVersionConflict extends Error {
  constructor(
    readonly role: string,
    readonly version: number,
  ) {
    super(`version ${version} of ${role} is not newer than the stored one`);
  }
}

export interface NotaryStore {
  /** The newest version of a role. */
  current(gun: string, role: string): Promise<NotaryRecord | undefined>;
  /** The newest version of every role of the GUN. */
  currentAll(gun: string): Promise<NotaryRecord[]>;
  byChecksum(gun: string, role: string, sha256: string): Promise<NotaryRecord | undefined>;
  byVersion(gun: string, role: string, version: number): Promise<NotaryRecord | undefined>;
  /**
   * Stores the records and applies the key activations in one transaction; throws
   * NotaryVersionConflict (and stores nothing) when a role already has that version or a newer one.
   */
  write(gun: string, records: NotaryWrite[], activations?: KeyActivation[]): Promise<void>;
  /** Removes every version of every role and the server's keys for the GUN; false when there was nothing. */
  deleteGun(gun: string): Promise<boolean>;

  /** The server's keys for a role of the GUN, newest first. */
  keys(gun: string, role: string): Promise<NotaryKeyRecord[]>;
  addKey(key: NotaryKeyRecord): Promise<void>;
}
