// NotaryStore over Kysely (SQLite and PostgreSQL), on the metadata store's connection and with its
// write transaction (retries; BEGIN IMMEDIATE on SQLite). An update's rows go in one transaction,
// in role order (so two writers never wait on each other crosswise); the version check and the
// primary key together refuse a second writer of the same version, on PostgreSQL too, where a
// concurrent insert of the same key waits for the first and then fails with a unique violation.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../schema.ts';
import { NotaryVersionConflict, type KeyActivation, type NotaryKeyRecord, type NotaryRecord, type NotaryStore, type NotaryWrite } from './notary-store.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface NotaryStoreOptions {
  /** The metadata store's write transaction (retries, BEGIN IMMEDIATE on SQLite). */
  transaction<T>(work: (tx: Db) => Promise<T>): Promise<T>;
}

interface MetadataRow {
  gun: string;
  role: string;
  version: number;
  sha256: string;
  data: Buffer | Uint8Array;
  created_at: number | string | bigint;
}

function toRecord(row: MetadataRow): NotaryRecord {
  return {
    gun: row.gun,
    role: row.role,
    version: Number(row.version),
    sha256: row.sha256,
    data: Buffer.isBuffer(row.data) ? row.data : Buffer.from(row.data),
    createdAt: new Date(Number(row.created_at)),
  };
}

/** SQLite's and PostgreSQL's "that key exists already". */
function isUniqueViolation(e: unknown): boolean {
  const code = String((e as { code?: unknown })?.code ?? '');
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export class KyselyNotaryStore implements NotaryStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: NotaryStoreOptions,
  ) {}

  async current(gun: string, role: string): Promise<NotaryRecord | undefined> {
    const row = await this.db.selectFrom('notary_metadata').selectAll().where('gun', '=', gun).where('role', '=', role).orderBy('version', 'desc').limit(1).executeTakeFirst();
    return row && toRecord(row);
  }

  async currentAll(gun: string): Promise<NotaryRecord[]> {
    const rows = await this.db
      .selectFrom('notary_metadata as m')
      .selectAll('m')
      .where('m.gun', '=', gun)
      .where((eb) =>
        eb(
          'm.version',
          '=',
          eb.selectFrom('notary_metadata as v').select((e) => e.fn.max('v.version').as('max')).whereRef('v.gun', '=', 'm.gun').whereRef('v.role', '=', 'm.role'),
        ),
      )
      .orderBy('m.role')
      .execute();
    return rows.map(toRecord);
  }

  async byChecksum(gun: string, role: string, sha256: string): Promise<NotaryRecord | undefined> {
    const row = await this.db.selectFrom('notary_metadata').selectAll().where('gun', '=', gun).where('role', '=', role).where('sha256', '=', sha256).limit(1).executeTakeFirst();
    return row && toRecord(row);
  }

  async byVersion(gun: string, role: string, version: number): Promise<NotaryRecord | undefined> {
    const row = await this.db.selectFrom('notary_metadata').selectAll().where('gun', '=', gun).where('role', '=', role).where('version', '=', version).executeTakeFirst();
    return row && toRecord(row);
  }

  async write(gun: string, records: NotaryWrite[], activations: KeyActivation[] = []): Promise<void> {
    const ordered = [...records].sort((a, b) => (a.role < b.role ? -1 : a.role > b.role ? 1 : 0));
    const now = Date.now();
    await this.options.transaction(async (tx) => {
      for (const r of ordered) {
        const newest = await tx
          .selectFrom('notary_metadata')
          .select('version')
          .where('gun', '=', gun)
          .where('role', '=', r.role)
          .orderBy('version', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (newest && Number(newest.version) >= r.version) throw new NotaryVersionConflict(r.role, r.version);
        try {
          await tx.insertInto('notary_metadata').values({ gun, role: r.role, version: r.version, sha256: r.sha256, data: r.data, created_at: now }).execute();
        } catch (e) {
          if (isUniqueViolation(e)) throw new NotaryVersionConflict(r.role, r.version);
          throw e;
        }
      }
      for (const a of activations) {
        if (a.keyIds.length) {
          await tx.updateTable('notary_keys').set({ pending: 0 }).where('gun', '=', gun).where('role', '=', a.role).where('key_id', 'in', a.keyIds).execute();
        }
        // Keys the new root no longer lists are retired for good; pending ones (a rotation in progress) stay.
        let retire = tx.deleteFrom('notary_keys').where('gun', '=', gun).where('role', '=', a.role).where('pending', '=', 0);
        if (a.keyIds.length) retire = retire.where('key_id', 'not in', a.keyIds);
        await retire.execute();
      }
    });
  }

  async deleteGun(gun: string): Promise<boolean> {
    return this.options.transaction(async (tx) => {
      const meta = await tx.deleteFrom('notary_metadata').where('gun', '=', gun).executeTakeFirst();
      const keys = await tx.deleteFrom('notary_keys').where('gun', '=', gun).executeTakeFirst();
      return Number(meta.numDeletedRows) + Number(keys.numDeletedRows) > 0;
    });
  }

  async keys(gun: string, role: string): Promise<NotaryKeyRecord[]> {
    const rows = await this.db.selectFrom('notary_keys').selectAll().where('gun', '=', gun).where('role', '=', role).orderBy('created_at', 'desc').orderBy('key_id').execute();
    return rows.map((r) => ({
      gun: r.gun,
      role: r.role,
      keyId: r.key_id,
      algorithm: r.algorithm,
      publicKey: r.public,
      privateEncrypted: r.private_encrypted,
      pending: Number(r.pending) !== 0,
      createdAt: new Date(Number(r.created_at)),
    }));
  }

  async addKey(key: NotaryKeyRecord): Promise<void> {
    await this.db
      .insertInto('notary_keys')
      .values({
        gun: key.gun,
        role: key.role,
        key_id: key.keyId,
        algorithm: key.algorithm,
        public: key.publicKey,
        private_encrypted: key.privateEncrypted,
        pending: key.pending ? 1 : 0,
        created_at: key.createdAt.getTime(),
      })
      .execute();
  }
}
