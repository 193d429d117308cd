// The MetadataStore written once over Kysely, so SQLite and PostgreSQL share every query.
// Each write that must be all-or-nothing (a manifest with its references and tag) is one transaction;
// foreign keys make a dangling tag impossible rather than unlikely.
import type { Kysely, Transaction } from 'kysely';
import type { Database, ManifestsTable } from './schema.ts';
import type { ManifestRecord, MetadataStore, NewManifest, Page, PutManifestResult, Referrer, UploadSession } from './store.ts';

type Db = Kysely<Database> | Transaction<Database>;

const DEFAULT_PAGE = 10_000;

const MANIFEST_COLUMNS = ['m.digest', 'm.media_type', 'm.size', 'm.artifact_type', 'm.subject_digest', 'm.config_digest', 'm.annotations', 'm.created_at'] as const;

/** A manifests row as selected by MANIFEST_COLUMNS. */
type ManifestRow = Omit<ManifestsTable, 'repository_id'>;

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
  constructor(
    protected readonly db: Kysely<Database>,
    private readonly onClose: () => Promise<void> = async () => db.destroy(),
  ) {}

  private async repositoryId(db: Db, name: string): Promise<number | undefined> {
    const row = await db.selectFrom('repositories').select('id').where('name', '=', name).executeTakeFirst();
    return row?.id;
  }

  private async ensureRepository(db: Db, name: string): Promise<number> {
    await db
      .insertInto('repositories')
      .values({ name, created_at: Date.now() })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const id = await this.repositoryId(db, name);
    if (id === undefined) throw new Error('repository row vanished during insert');
    return id;
  }

  private async insertBlobLink(db: Db, repositoryId: number, digest: string, size: number): Promise<void> {
    const now = Date.now();
    await db.insertInto('blobs').values({ digest, size, created_at: now }).onConflict((oc) => oc.column('digest').doNothing()).execute();
    await db
      .insertInto('repository_blobs')
      .values({ repository_id: repositoryId, digest, created_at: now })
      .onConflict((oc) => oc.columns(['repository_id', 'digest']).doNothing())
      .execute();
  }

  async linkBlob(repository: string, digest: string, size: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const id = await this.ensureRepository(tx, repository);
      await this.insertBlobLink(tx, id, digest, size);
    });
  }

  async repositoryBlob(repository: string, digest: string): Promise<{ size: number } | undefined> {
    const row = await this.db
      .selectFrom('repository_blobs as rb')
      .innerJoin('repositories as r', 'r.id', 'rb.repository_id')
      .innerJoin('blobs as b', 'b.digest', 'rb.digest')
      .select('b.size')
      .where('r.name', '=', repository)
      .where('rb.digest', '=', digest)
      .executeTakeFirst();
    return row ? { size: Number(row.size) } : undefined;
  }

  async unlinkBlob(repository: string, digest: string): Promise<boolean> {
    const id = await this.repositoryId(this.db, repository);
    if (id === undefined) return false;
    const res = await this.db.deleteFrom('repository_blobs').where('repository_id', '=', id).where('digest', '=', digest).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async putManifest(repository: string, m: NewManifest, tag?: string): Promise<PutManifestResult> {
    return this.db.transaction().execute(async (tx) => {
      const id = await this.ensureRepository(tx, repository);
      const missingBlobs = await this.missing(tx, 'repository_blobs', id, m.blobs);
      const missingChildren = await this.missing(tx, 'manifests', id, m.children);
      if (missingBlobs.length || missingChildren.length) return { missingBlobs, missingChildren };

      const now = Date.now();
      await tx
        .insertInto('manifests')
        .values({
          repository_id: id,
          digest: m.digest,
          media_type: m.mediaType,
          size: m.size,
          artifact_type: m.artifactType ?? null,
          subject_digest: m.subjectDigest ?? null,
          config_digest: m.configDigest ?? null,
          annotations: m.annotations ? JSON.stringify(m.annotations) : null,
          created_at: now,
        })
        .onConflict((oc) => oc.columns(['repository_id', 'digest']).doNothing())
        .execute();
      const refs = [
        ...m.blobs.map((child) => ({ repository_id: id, parent_digest: m.digest, child_digest: child, kind: 'blob' })),
        ...m.children.map((child) => ({ repository_id: id, parent_digest: m.digest, child_digest: child, kind: 'manifest' })),
      ];
      for (let i = 0; i < refs.length; i += 200) {
        await tx
          .insertInto('manifest_references')
          .values(refs.slice(i, i + 200))
          .onConflict((oc) => oc.columns(['repository_id', 'parent_digest', 'child_digest']).doNothing())
          .execute();
      }
      // The manifest bytes are a blob too: registry:2 serves them at /blobs/<digest>.
      await this.insertBlobLink(tx, id, m.digest, m.size);
      if (tag !== undefined) {
        await tx
          .insertInto('tags')
          .values({ repository_id: id, name: tag, digest: m.digest, updated_at: now })
          .onConflict((oc) => oc.columns(['repository_id', 'name']).doUpdateSet({ digest: m.digest, updated_at: now }))
          .execute();
      }
      return { missingBlobs: [], missingChildren: [] };
    });
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
    return this.db.transaction().execute(async (tx) => {
      const id = await this.repositoryId(tx, repository);
      if (id === undefined) return false;
      // Explicit deletes (not only ON DELETE CASCADE) so the behaviour does not hang on a pragma.
      await tx.deleteFrom('tags').where('repository_id', '=', id).where('digest', '=', digest).execute();
      await tx.deleteFrom('manifest_references').where('repository_id', '=', id).where('parent_digest', '=', digest).execute();
      const res = await tx.deleteFrom('manifests').where('repository_id', '=', id).where('digest', '=', digest).executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    });
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    const id = await this.repositoryId(this.db, repository);
    if (id === undefined) return false;
    const res = await this.db.deleteFrom('tags').where('repository_id', '=', id).where('name', '=', tag).executeTakeFirst();
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
