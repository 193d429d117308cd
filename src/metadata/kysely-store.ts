// The MetadataStore written once over Kysely, so SQLite and PostgreSQL share every query.
// Each write that must be all-or-nothing (a manifest with its references and tag) is one transaction;
// foreign keys make a dangling tag impossible rather than unlikely.
//
// Concurrency (PostgreSQL, several replicas on one database). SQLite has one writer at a time, so
// every transaction there is serial. PostgreSQL runs READ COMMITTED and the store closes the
// check-then-write races itself:
//  - putManifest reads its references (linked blobs, child manifests) and the manifest row it
//    tags with FOR KEY SHARE. The rows it checked then cannot be deleted until it commits, so
//    "all references present" still holds when the tag and reference rows land; a concurrent
//    deleteManifest/unlinkBlob waits and runs after it, exactly as if the two were serial.
//  - deleteManifest takes FOR UPDATE on the manifest row before deleting its tags. Both paths
//    lock the manifest row before any tag row, so they cannot deadlock on each other, and no tag
//    can be pointed at a manifest that is being deleted (the put waits, then re-creates it).
//  - Idempotent inserts are INSERT ... ON CONFLICT DO NOTHING, which under READ COMMITTED waits
//    for a concurrent inserter and never raises a unique violation.
//  - The foreign keys (tags -> manifests, references -> manifests) stay the backstop: whatever a
//    future query forgets, the database refuses a dangling row instead of storing it.
// Why not SERIALIZABLE: it would need no locks, but its predicate locks on the busy indexes
// (every push to a repository touches the same tags/manifests pages) abort unrelated pushes as
// false conflicts, and each abort re-runs the whole transaction. Row locks only make conflicting
// writers wait on exactly the rows they share. Deadlocks and serialization failures can still
// come from the database (e.g. an operator's script), so write transactions retry on those codes.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { SqlDialect } from './dialect.ts';
import type { Database, ManifestsTable } from './schema.ts';
import { BlobCollectedError, type TagCondition, type BlobReservation, type LinkedBlob, type ManifestRecord, type MetadataStore, type NewManifest, type Page, type PutManifestResult, type Referrer, type UploadSession } from './store.ts';
import { KyselyLifecycleStore } from './lifecycle/kysely-lifecycle-store.ts';
import { KyselyAccessStore } from './access/kysely-access-store.ts';
import { KyselyConsoleStore } from './console/kysely-console-store.ts';
import { KyselyNotaryStore } from './notary/kysely-notary-store.ts';
import { KyselySignatureStore } from './signatures/kysely-signature-store.ts';
import { KyselyNotificationStore } from './events/kysely-event-store.ts';

type Db = Kysely<Database> | Transaction<Database>;

const DEFAULT_PAGE = 10_000;

/** PostgreSQL SQLSTATEs after which re-running the whole transaction is safe and expected to work. */
const TRANSIENT = new Set(['40001' /* serialization_failure */, '40P01' /* deadlock_detected */]);
const MAX_ATTEMPTS = 6;

function isTransient(err: unknown): boolean {
  return typeof err === 'object' && err !== null && TRANSIENT.has(String((err as { code?: unknown }).code));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface KyselyStoreOptions {
  dialect?: SqlDialect;
  /** Releases the connection(s); default db.destroy(). */
  onClose?: () => Promise<void>;
}

const MANIFEST_COLUMNS = ['m.digest', 'm.media_type', 'm.size', 'm.artifact_type', 'm.subject_digest', 'm.config_digest', 'm.annotations', 'm.created_at'] as const;

/** A manifests row as selected by MANIFEST_COLUMNS. */
type ManifestRow = Omit<ManifestsTable, 'repository_id' | 'pushed_at' | 'pulled_at'>;

/** Thrown inside putManifest's transaction to roll it back when the manifest's own bytes were collected meanwhile. */
class ManifestBytesGone extends Error {}

function toManifestRecord(row: ManifestRow): ManifestRecord {
  return {
    digest: row.digest,
    mediaType: row.media_type,
    size: Number(row.size),
    artifactType: row.artifact_type,
    subjectDigest: row.subject_digest,
    configDigest: row.config_digest,
    annotations: row.annotations,
    createdAt: new Date(Number(row.created_at)),
  };
}

export class KyselyMetadataStore implements MetadataStore {
  private readonly onClose: () => Promise<void>;
  /**
   * Row locks (SELECT ... FOR KEY SHARE / FOR UPDATE) on PostgreSQL only: SQLite has no such
   * syntax and needs none, since its writers already run one at a time.
   */
  private readonly rowLocks: boolean;
  /**
   * Users, teams, grants, tokens and the audit log (src/metadata/access), on the same connection;
   * a separate interface so MetadataStore stays about images.
   */
  readonly access: KyselyAccessStore;
  /** GC, retention, immutability and quota queries (src/metadata/lifecycle), same connection. */
  readonly lifecycle: KyselyLifecycleStore;
  /** The web console's pages, sessions and settings (src/metadata/console), same connection. */
  readonly console: KyselyConsoleStore;
  /** The Notary server's trust data and keys (src/metadata/notary), same connection. */
  readonly notary: KyselyNotaryStore;
  /** Simple (GPG) signatures of manifests (src/metadata/signatures), same connection; deleted with their manifest by a cascading foreign key. */
  readonly signatures: KyselySignatureStore;
  /** The notification outbox (src/metadata/events), same connection. */
  readonly events: KyselyNotificationStore;
  private readonly sqlite: boolean;

  constructor(
    protected readonly db: Kysely<Database>,
    options: KyselyStoreOptions = {},
  ) {
    this.onClose = options.onClose ?? (async () => db.destroy());
    this.rowLocks = options.dialect === 'postgres';
    this.access = new KyselyAccessStore(db);
    this.sqlite = options.dialect !== 'postgres';
    this.lifecycle = new KyselyLifecycleStore(db, { rowLocks: this.rowLocks, dialect: options.dialect ?? 'sqlite', transaction: (work) => this.transaction(work) });
    this.signatures = new KyselySignatureStore(db);
    this.console = new KyselyConsoleStore(db, { rowLocks: this.rowLocks, dialect: options.dialect ?? 'sqlite', transaction: (work) => this.transaction(work) });
    this.notary = new KyselyNotaryStore(db, { transaction: (work) => this.transaction(work) });
    this.events = new KyselyNotificationStore(db, { dialect: options.dialect ?? 'sqlite', transaction: (work) => this.transaction(work) });
  }

  /**
   * A write transaction, re-run from the start after a deadlock or serialization failure.
   * On SQLite it begins IMMEDIATE: the write lock is taken before the first read, so a second
   * process writing the same file (`berth gc` beside the server) makes it wait (busy_timeout)
   * instead of failing with SQLITE_BUSY when a read-then-write transaction tries to upgrade.
   */
  private async transaction<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (this.sqlite) {
          return await this.db.connection().execute(async (conn) => {
            await sql`begin immediate`.execute(conn);
            try {
              const result = await work(conn);
              await sql`commit`.execute(conn);
              return result;
            } catch (e) {
              await sql`rollback`.execute(conn).catch(() => undefined);
              throw e;
            }
          });
        }
        return await this.db.transaction().execute(work);
      } catch (err) {
        if (attempt >= MAX_ATTEMPTS || !isTransient(err)) throw err;
        // Jittered backoff so the transactions that collided do not collide again in lockstep.
        await sleep(Math.random() * 10 * 2 ** attempt);
      }
    }
  }

  private async repositoryId(db: Db, name: string): Promise<number | undefined> {
    const row = await db.selectFrom('repositories').select('id').where('name', '=', name).executeTakeFirst();
    return row?.id;
  }

  private async ensureRepository(db: Db, name: string): Promise<number> {
    // Look first: nearly every push goes to a repository that exists, and a read writes nothing.
    const existing = await this.repositoryId(db, name);
    if (existing !== undefined) return existing;
    const inserted = await db
      .insertInto('repositories')
      .values({ name, created_at: Date.now() })
      .onConflict((oc) => oc.column('name').doNothing())
      .returning('id')
      .executeTakeFirst();
    // Nothing returned: a concurrent transaction inserted it first (and, since the insert waited
    // for it, has committed), so this statement's fresh snapshot sees it.
    const id = inserted?.id ?? (await this.repositoryId(db, name));
    if (id === undefined) throw new Error('repository row vanished during insert');
    return id;
  }

  /**
   * Marks a reserved (or live) blob live and links it to the repository. False when its row is
   * gone or the collector has claimed it: then its bytes may be gone too, and nothing may point
   * at it. On PostgreSQL the UPDATE locks the blob row, so it serializes with the collector's
   * claim (an UPDATE of the same row) instead of racing it.
   */
  private async liveLink(db: Db, repositoryId: number, digest: string, size: number): Promise<boolean> {
    const now = Date.now();
    const markLive = async () =>
      Number((await db.updateTable('blobs').set({ state: 'live', touched_at: now, size }).where('digest', '=', digest).where('state', 'in', ['live', 'pending']).executeTakeFirst()).numUpdatedRows) > 0;
    if (!(await markLive())) {
      // No row at all: bytes stored by a writer that did not reserve (a test, an old caller). A
      // row in 'deleting' or 'deleted' means the collector took it after it was reserved.
      const inserted = await db
        .insertInto('blobs')
        .values({ digest, size, created_at: now, touched_at: now, state: 'live' })
        .onConflict((oc) => oc.column('digest').doNothing())
        .returning('digest')
        .executeTakeFirst();
      // Not inserted: another writer created the row meanwhile (PostgreSQL; it has committed, so
      // this statement sees it). Live or pending is fine; anything else is the collector's.
      if (!inserted && !(await markLive())) return false;
    }
    await db
      .insertInto('repository_blobs')
      .values({ repository_id: repositoryId, digest, created_at: now })
      // The link's time is a touch too: the collector keeps links younger than its grace period.
      .onConflict((oc) => oc.columns(['repository_id', 'digest']).doUpdateSet({ created_at: now }))
      .execute();
    return true;
  }

  async reserveBlob(digest: string, size: number): Promise<BlobReservation> {
    return this.transaction(async (tx) => {
      for (let attempt = 0; attempt < 10; attempt++) {
        const row = await tx.selectFrom('blobs').select('state').where('digest', '=', digest).$if(this.rowLocks, (q) => q.forUpdate()).executeTakeFirst();
        const now = Date.now();
        if (!row) {
          const inserted = await tx
            .insertInto('blobs')
            .values({ digest, size, created_at: now, touched_at: now, state: 'pending' })
            .onConflict((oc) => oc.column('digest').doNothing())
            .returning('digest')
            .executeTakeFirst();
          if (inserted) return 'pending';
          continue; // inserted by someone else meanwhile: look again
        }
        if (row.state === 'deleting') return 'deleting';
        if (row.state === 'deleted') {
          // A tombstone: the bytes are gone; this writer stores them again.
          await tx.updateTable('blobs').set({ state: 'pending', touched_at: now, deleting_at: null, size }).where('digest', '=', digest).execute();
          return 'pending';
        }
        await tx.updateTable('blobs').set({ touched_at: now }).where('digest', '=', digest).execute();
        return row.state;
      }
      throw Object.assign(new Error('blob row kept changing under concurrent writers'), { code: '40001' });
    });
  }

  async touchBlob(repository: string, digest: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      const now = Date.now();
      const blob = await tx.updateTable('blobs').set({ touched_at: now }).where('digest', '=', digest).where('state', '=', 'live').executeTakeFirst();
      if (Number(blob.numUpdatedRows) === 0) return false;
      // The link too: the collector also removes links nothing in their repository refers to.
      const link = await tx
        .updateTable('repository_blobs')
        .set({ created_at: now })
        .where('digest', '=', digest)
        .where('repository_id', '=', (eb) => eb.selectFrom('repositories').select('id').where('name', '=', repository))
        .executeTakeFirst();
      return Number(link.numUpdatedRows) > 0;
    });
  }

  async linkBlob(repository: string, digest: string, size: number): Promise<void> {
    await this.transaction(async (tx) => {
      const id = await this.ensureRepository(tx, repository);
      if (!(await this.liveLink(tx, id, digest, size))) throw new BlobCollectedError(digest);
    });
  }

  async repositoryBlob(repository: string, digest: string): Promise<LinkedBlob | undefined> {
    const row = await this.db
      .selectFrom('repository_blobs as rb')
      .innerJoin('repositories as r', 'r.id', 'rb.repository_id')
      .innerJoin('blobs as b', 'b.digest', 'rb.digest')
      .select(['b.size', 'b.touched_at'])
      .where('r.name', '=', repository)
      .where('rb.digest', '=', digest)
      .executeTakeFirst();
    return row ? { size: Number(row.size), touchedAt: Number(row.touched_at) } : undefined;
  }

  async repositoriesLinking(digest: string, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('repository_blobs as rb')
      .innerJoin('repositories as r', 'r.id', 'rb.repository_id')
      .select('r.name')
      .where('rb.digest', '=', digest)
      .orderBy('r.name')
      .limit(limit)
      .execute();
    return rows.map((r) => r.name);
  }

  async unlinkBlob(repository: string, digest: string): Promise<boolean> {
    const id = await this.repositoryId(this.db, repository);
    if (id === undefined) return false;
    const res = await this.db.deleteFrom('repository_blobs').where('repository_id', '=', id).where('digest', '=', digest).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async putManifest(repository: string, m: NewManifest, tag?: string): Promise<PutManifestResult> {
    try {
      return await this.putManifestOnce(repository, m, tag);
    } catch (e) {
      if (e instanceof ManifestBytesGone) return { missingBlobs: [], missingChildren: [], bytesCollected: true };
      throw e;
    }
  }

  private async putManifestOnce(repository: string, m: NewManifest, tag?: string): Promise<PutManifestResult> {
    return this.transaction(async (tx) => {
      const id = await this.ensureRepository(tx, repository);
      // On PostgreSQL these reads also lock what they find until commit (see the top of the file).
      const missingBlobs = m.mirrored ? [] : await this.missing(tx, 'repository_blobs', id, m.blobs);
      const missingChildren = m.mirrored ? [] : await this.missing(tx, 'manifests', id, m.children);
      if (missingBlobs.length || missingChildren.length) return { missingBlobs, missingChildren };

      const now = Date.now();
      await this.holdManifestRow(tx, id, m, now);
      // Position and an index child's platform ride along in the same rows (the console shows them).
      const platform = (child: string) => {
        const p = m.platforms && Object.hasOwn(m.platforms, child) ? m.platforms[child] : undefined;
        return p ? JSON.stringify(p.variant ? { os: p.os, architecture: p.architecture, variant: p.variant } : { os: p.os, architecture: p.architecture }) : null;
      };
      const refs = [
        ...m.blobs.map((child, position) => ({ repository_id: id, parent_digest: m.digest, child_digest: child, kind: 'blob', position, platform: null })),
        ...m.children.map((child, position) => ({ repository_id: id, parent_digest: m.digest, child_digest: child, kind: 'manifest', position, platform: platform(child) })),
      ];
      for (let i = 0; i < refs.length; i += 200) {
        await tx
          .insertInto('manifest_references')
          .values(refs.slice(i, i + 200))
          .onConflict((oc) => oc.columns(['repository_id', 'parent_digest', 'child_digest']).doNothing())
          .execute();
      }
      // The manifest bytes are a blob too: registry:2 serves them at /blobs/<digest>. The caller
      // reserved it and stored the bytes; if the collector took it since, roll everything back.
      if (!(await this.liveLink(tx, id, m.digest, m.size))) throw new ManifestBytesGone();
      if (tag !== undefined) {
        await tx
          .insertInto('tags')
          .values({ repository_id: id, name: tag, digest: m.digest, updated_at: now })
          .onConflict((oc) => oc.columns(['repository_id', 'name']).doUpdateSet({ digest: m.digest, updated_at: now }))
          .execute();
      }
      // The repository's last push (the console sorts by it). Last, so that on PostgreSQL the
      // repository row's lock is held only until the commit right after; never moved backwards
      // by a concurrent push that started earlier and commits later.
      await tx
        .updateTable('repositories')
        .set({ pushed_at: now })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('pushed_at', 'is', null), eb('pushed_at', '<', now)]))
        .execute();
      return { missingBlobs: [], missingChildren: [] };
    });
  }

  /**
   * Makes sure the manifest row exists when this transaction commits: inserts it, or (PostgreSQL)
   * key-share-locks the existing one so a concurrent deleteManifest waits for our commit instead
   * of deleting the row our tag and references are about to point at.
   */
  private async holdManifestRow(tx: Db, repositoryId: number, m: NewManifest, now: number): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      // An existing row gets its push time; the UPDATE also locks it (PostgreSQL: FOR NO KEY
      // UPDATE, which like KEY SHARE makes a concurrent deleteManifest wait for our commit).
      const held = await tx
        .updateTable('manifests')
        .set({ pushed_at: now })
        .where('repository_id', '=', repositoryId)
        .where('digest', '=', m.digest)
        .returning('digest')
        .executeTakeFirst();
      if (held) return;
      const inserted = await tx
        .insertInto('manifests')
        .values({
          repository_id: repositoryId,
          digest: m.digest,
          media_type: m.mediaType,
          size: m.size,
          artifact_type: m.artifactType ?? null,
          subject_digest: m.subjectDigest ?? null,
          config_digest: m.configDigest ?? null,
          annotations: m.annotations ? JSON.stringify(m.annotations) : null,
          created_at: now,
          pushed_at: now,
        })
        .onConflict((oc) => oc.columns(['repository_id', 'digest']).doNothing())
        .returning('digest')
        .executeTakeFirst();
      // Inserted: the new row is ours until commit. Not inserted: another transaction created it
      // between our two statements (PostgreSQL only); loop to lock it (or re-create it if gone).
      if (inserted || !this.rowLocks) return;
    }
    throw Object.assign(new Error('manifest row kept changing under concurrent writers'), { code: '40001' });
  }

  private async missing(tx: Db, table: 'repository_blobs' | 'manifests', repositoryId: number, digests: string[]): Promise<string[]> {
    const wanted = [...new Set(digests)];
    if (wanted.length === 0) return [];
    const found = new Set<string>();
    for (let i = 0; i < wanted.length; i += 500) {
      const rows = await tx
        .selectFrom(table)
        .select('digest')
        .where('repository_id', '=', repositoryId)
        .where('digest', 'in', wanted.slice(i, i + 500))
        .$if(this.rowLocks, (q) => q.forKeyShare())
        .execute();
      for (const r of rows) found.add(r.digest);
    }
    return wanted.filter((d) => !found.has(d));
  }

  async manifest(repository: string, digest: string): Promise<ManifestRecord | undefined> {
    const row = await this.db
      .selectFrom('manifests as m')
      .innerJoin('repositories as r', 'r.id', 'm.repository_id')
      .select(MANIFEST_COLUMNS)
      .where('r.name', '=', repository)
      .where('m.digest', '=', digest)
      .executeTakeFirst();
    return row && toManifestRecord(row);
  }

  async taggedManifest(repository: string, tag: string): Promise<ManifestRecord | undefined> {
    const row = await this.db
      .selectFrom('tags as t')
      .innerJoin('repositories as r', 'r.id', 't.repository_id')
      .innerJoin('manifests as m', (j) => j.onRef('m.repository_id', '=', 't.repository_id').onRef('m.digest', '=', 't.digest'))
      .select(MANIFEST_COLUMNS)
      .where('r.name', '=', repository)
      .where('t.name', '=', tag)
      .executeTakeFirst();
    return row && toManifestRecord(row);
  }


  async resolveTag(repository: string, tag: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('tags as t')
      .innerJoin('repositories as r', 'r.id', 't.repository_id')
      .select('t.digest')
      .where('r.name', '=', repository)
      .where('t.name', '=', tag)
      .executeTakeFirst();
    return row?.digest;
  }

  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      const id = await this.repositoryId(tx, repository);
      if (id === undefined) return false;
      if (this.rowLocks) {
        // Manifest row first, tags after: the same order putManifest locks them in, so the two
        // cannot deadlock, and no put can tag this manifest between our tag delete and commit.
        const row = await tx.selectFrom('manifests').select('digest').where('repository_id', '=', id).where('digest', '=', digest).forUpdate().executeTakeFirst();
        if (!row) return false;
      }
      // Explicit deletes (not only ON DELETE CASCADE) so the behaviour does not hang on a pragma.
      await tx.deleteFrom('tags').where('repository_id', '=', id).where('digest', '=', digest).execute();
      await tx.deleteFrom('manifest_references').where('repository_id', '=', id).where('parent_digest', '=', digest).execute();
      const res = await tx.deleteFrom('manifests').where('repository_id', '=', id).where('digest', '=', digest).executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    });
  }

  async deleteTag(repository: string, tag: string, only?: TagCondition): Promise<boolean> {
    const id = await this.repositoryId(this.db, repository);
    if (id === undefined) return false;
    let q = this.db.deleteFrom('tags').where('repository_id', '=', id).where('name', '=', tag);
    if (only) q = q.where('digest', '=', only.digest).where('updated_at', '=', only.pushedAt);
    const res = await q.executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async repositoryExists(repository: string): Promise<boolean> {
    return (await this.repositoryId(this.db, repository)) !== undefined;
  }

  async listTags(repository: string, page: Page): Promise<string[] | undefined> {
    const id = await this.repositoryId(this.db, repository);
    if (id === undefined) return undefined;
    let q = this.db.selectFrom('tags').select('name').where('repository_id', '=', id);
    if (page.last !== undefined) q = q.where('name', '>', page.last);
    const rows = await q.orderBy('name').limit(page.n ?? DEFAULT_PAGE).execute();
    return rows.map((r) => r.name);
  }

  async listRepositories(page: Page): Promise<string[]> {
    let q = this.db
      .selectFrom('repositories as r')
      .select('r.name')
      .where(({ exists, selectFrom }) => exists(selectFrom('manifests as m').select('m.digest').whereRef('m.repository_id', '=', 'r.id')));
    if (page.last !== undefined) q = q.where('r.name', '>', page.last);
    const rows = await q.orderBy('r.name').limit(page.n ?? DEFAULT_PAGE).execute();
    return rows.map((r) => r.name);
  }

  async listReferrers(repository: string, subjectDigest: string, artifactType?: string): Promise<Referrer[]> {
    let q = this.db
      .selectFrom('manifests as m')
      .innerJoin('repositories as r', 'r.id', 'm.repository_id')
      .select(['m.digest', 'm.media_type', 'm.size', 'm.artifact_type', 'm.annotations'])
      .where('r.name', '=', repository)
      .where('m.subject_digest', '=', subjectDigest);
    if (artifactType !== undefined) q = q.where('m.artifact_type', '=', artifactType);
    const rows = await q.orderBy('m.created_at').orderBy('m.digest').execute();
    return rows.map((r) => ({ digest: r.digest, mediaType: r.media_type, size: Number(r.size), artifactType: r.artifact_type, annotations: r.annotations }));
  }

  async createUpload(session: UploadSession): Promise<void> {
    await this.db.insertInto('upload_sessions').values({ id: session.id, repository: session.repository, started_at: session.startedAt.getTime() }).execute();
  }

  async upload(id: string): Promise<UploadSession | undefined> {
    const row = await this.db.selectFrom('upload_sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? { id: row.id, repository: row.repository, startedAt: new Date(Number(row.started_at)) } : undefined;
  }

  async deleteUpload(id: string): Promise<void> {
    await this.db.deleteFrom('upload_sessions').where('id', '=', id).execute();
  }

  async check(): Promise<void> {
    await this.db.selectFrom('repositories').select('id').limit(1).execute();
  }

  async close(): Promise<void> {
    await this.onClose();
  }
}
