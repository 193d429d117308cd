// LifecycleStore over Kysely (SQLite and PostgreSQL). The collector's safety rests on three
// transactions here, each re-checking what it acts on (a snapshot read beforehand is only a hint):
//  - claimBlobs marks blobs 'deleting' and removes their links in one transaction, then looks
//    again for references in a fresh statement: on PostgreSQL its DELETE of a link waits for any
//    manifest PUT holding that link (FOR KEY SHARE), so a reference committed meanwhile is seen,
//    and such a blob goes back to live with its links. Writers (reserveBlob, liveLink) lock the
//    same blob row, so a blob is either claimed before a writer touches it (the writer waits for
//    the deletion, then writes the bytes again) or touched before the claim (the claim skips it).
//  - removeStaleLinks deletes links and re-inserts any that a committed manifest now refers to.
//  - deleteUnreferencedManifest locks the manifest row (FOR UPDATE, as deleteManifest does) and
//    re-checks tags, parents and subject before deleting.
// On SQLite every write transaction is serial (BEGIN IMMEDIATE), so the re-checks are exact.
import type { Kysely, SelectQueryBuilder, Transaction } from 'kysely';
import type { Database } from '../schema.ts';
import type { BlobRef, LinkCursor, GcRunRecord, LifecycleRule, LifecycleStore, ManifestNode, RepoDigest } from './lifecycle-store.ts';
import { RetentionQueries } from './retention-queries.ts';
import type { SqlDialect } from '../dialect.ts';
import { KyselyUsageQueries, type UsageQueries } from './usage-queries.ts';
import { KyselyTagQueries, type TagQueries } from './tag-queries.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface LifecycleStoreOptions {
  rowLocks: boolean;
  /** Where the queries differ (usage-queries.ts); default: PostgreSQL when rowLocks, else SQLite. */
  dialect?: SqlDialect;
  /** The metadata store's write transaction (retries, BEGIN IMMEDIATE on SQLite). */
  transaction<T>(work: (tx: Db) => Promise<T>): Promise<T>;
}

/** IN lists stay under SQLite's and PostgreSQL's parameter limits. */
const CHUNK = 500;

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class KyselyLifecycleStore implements LifecycleStore {
  private usageQueries?: UsageQueries;
  private tagQueries?: TagQueries;

  /** Usage per quota scope, repository and namespace (usage-queries.ts). */
  get usage(): UsageQueries {
    return (this.usageQueries ??= new KyselyUsageQueries(this.db, this.options.dialect ?? (this.options.rowLocks ? 'postgres' : 'sqlite')));
  }

  /** Tags of a manifest, for immutable tags (tag-queries.ts). */
  get tags(): TagQueries {
    return (this.tagQueries ??= new KyselyTagQueries(this.db));
  }

  /** Retention's queries: push/pull times, batched pull writes (retention-queries.ts). */
  readonly retention: RetentionQueries;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: LifecycleStoreOptions,
  ) {
    this.retention = new RetentionQueries(db, options.transaction);
  }

  private tx<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    return this.options.transaction(work);
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const row = await this.db
      .insertInto('leases')
      .values({ name, holder, expires_at: now + ttlMs })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ holder, expires_at: now + ttlMs })
          .where((eb) => eb.or([eb('leases.expires_at', '<', now), eb('leases.holder', '=', holder)])),
      )
      .returning('holder')
      .executeTakeFirst();
    return row?.holder === holder;
  }

  async renewLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const res = await this.db.updateTable('leases').set({ expires_at: Date.now() + ttlMs }).where('name', '=', name).where('holder', '=', holder).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
  }

  async leaseHeld(name: string): Promise<boolean> {
    const row = await this.db.selectFrom('leases').select('expires_at').where('name', '=', name).executeTakeFirst();
    return !!row && Number(row.expires_at) > Date.now();
  }

  async repositoryNames(after: string | undefined, limit: number): Promise<string[]> {
    let q = this.db.selectFrom('repositories').select('name');
    if (after !== undefined) q = q.where('name', '>', after);
    return (await q.orderBy('name').limit(limit).execute()).map((r) => r.name);
  }

  async manifestGraph(repository: string): Promise<ManifestNode[]> {
    const repo = await this.db.selectFrom('repositories').select('id').where('name', '=', repository).executeTakeFirst();
    if (!repo) return [];
    const [manifests, tags, children] = await Promise.all([
      this.db.selectFrom('manifests').select(['digest', 'size', 'subject_digest', 'pushed_at']).where('repository_id', '=', repo.id).execute(),
      this.db.selectFrom('tags').select(['name', 'digest']).where('repository_id', '=', repo.id).execute(),
      this.db.selectFrom('manifest_references').select(['parent_digest', 'child_digest']).where('repository_id', '=', repo.id).where('kind', '=', 'manifest').execute(),
    ]);
    const nodes = new Map<string, ManifestNode>();
    for (const m of manifests) {
      nodes.set(m.digest, { digest: m.digest, size: Number(m.size), tags: [], subject: m.subject_digest, children: [], pushedAt: Number(m.pushed_at) });
    }
    for (const t of tags) nodes.get(t.digest)?.tags.push(t.name);
    for (const c of children) nodes.get(c.parent_digest)?.children.push(c.child_digest);
    return [...nodes.values()];
  }

  async deleteUnreferencedManifest(repository: string, digest: string, cutoff: number, options: { ignoreSubject?: boolean } = {}): Promise<boolean> {
    return this.tx(async (tx) => {
      const repo = await tx.selectFrom('repositories').select('id').where('name', '=', repository).executeTakeFirst();
      if (!repo) return false;
      const id = repo.id;
      const row = await tx
        .selectFrom('manifests')
        .select(['subject_digest', 'pushed_at'])
        .where('repository_id', '=', id)
        .where('digest', '=', digest)
        .$if(this.options.rowLocks, (q) => q.forUpdate())
        .executeTakeFirst();
      if (!row || Number(row.pushed_at) >= cutoff) return false;
      const tagged = await tx.selectFrom('tags').select('name').where('repository_id', '=', id).where('digest', '=', digest).limit(1).executeTakeFirst();
      if (tagged) return false;
      const parent = await tx
        .selectFrom('manifest_references')
        .select('parent_digest')
        .where('repository_id', '=', id)
        .where('child_digest', '=', digest)
        .where('kind', '=', 'manifest')
        .limit(1)
        .executeTakeFirst();
      if (parent) return false;
      if (row.subject_digest && !options.ignoreSubject) {
        const subject = await tx.selectFrom('manifests').select('digest').where('repository_id', '=', id).where('digest', '=', row.subject_digest).executeTakeFirst();
        if (subject) return false;
      }
      await tx.deleteFrom('manifest_references').where('repository_id', '=', id).where('parent_digest', '=', digest).execute();
      const res = await tx.deleteFrom('manifests').where('repository_id', '=', id).where('digest', '=', digest).executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    });
  }

  async staleLinks(cutoff: number, after: LinkCursor | undefined, window: number): Promise<{ links: RepoDigest[]; next: LinkCursor | undefined }> {
    const inWindow = (q: SelectQueryBuilder<Database, 'repository_blobs', object>) =>
      after === undefined
        ? q
        : q.where((eb) => eb.or([eb('repository_id', '>', after.repositoryId), eb.and([eb('repository_id', '=', after.repositoryId), eb('digest', '>', after.digest)])]));
    const last = await inWindow(this.db.selectFrom('repository_blobs'))
      .select(['repository_id', 'digest'])
      .orderBy('repository_id')
      .orderBy('digest')
      .limit(1)
      .offset(window - 1)
      .executeTakeFirst();
    let q = inWindow(this.db.selectFrom('repository_blobs'));
    if (last) q = q.where((eb) => eb.or([eb('repository_id', '<', last.repository_id), eb.and([eb('repository_id', '=', last.repository_id), eb('digest', '<=', last.digest)])]));
    const rows = await this.db
      .selectFrom(q.selectAll().as('rb'))
      .innerJoin('repositories as r', 'r.id', 'rb.repository_id')
      .select(['r.name', 'rb.digest'])
      .where('rb.created_at', '<', cutoff)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('manifest_references as mr').select('mr.child_digest').whereRef('mr.repository_id', '=', 'rb.repository_id').whereRef('mr.child_digest', '=', 'rb.digest'))),
      )
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('manifests as m').select('m.digest').whereRef('m.repository_id', '=', 'rb.repository_id').whereRef('m.digest', '=', 'rb.digest'))),
      )
      .execute();
    return { links: rows.map((r) => ({ repository: r.name, digest: r.digest })), next: last ? { repositoryId: Number(last.repository_id), digest: last.digest } : undefined };
  }

  async removeStaleLinks(links: RepoDigest[], cutoff: number): Promise<RepoDigest[]> {
    if (links.length === 0) return [];
    return this.tx(async (tx) => {
      const names = [...new Set(links.map((l) => l.repository))];
      const repos = await tx.selectFrom('repositories').select(['id', 'name']).where('name', 'in', names).execute();
      const idOf = new Map(repos.map((r) => [r.name, r.id]));
      const nameOf = new Map(repos.map((r) => [r.id, r.name]));
      // One DELETE and one look per repository (not per link): a collection may remove tens of
      // thousands of links, and on SQLite every statement here holds the write lock.
      const byRepo = new Map<number, string[]>();
      for (const l of links) {
        const id = idOf.get(l.repository);
        if (id === undefined) continue;
        const list = byRepo.get(id) ?? [];
        list.push(l.digest);
        byRepo.set(id, list);
      }
      const removed: { repository_id: number; digest: string; created_at: number }[] = [];
      for (const [id, digests] of byRepo) {
        for (const part of chunks(digests)) {
          removed.push(
            ...(await tx
              .deleteFrom('repository_blobs')
              .where('repository_id', '=', id)
              .where('digest', 'in', part)
              .where('created_at', '<', cutoff)
              .returning(['repository_id', 'digest', 'created_at'])
              .execute()),
          );
        }
      }
      // A fresh look (new statements, new snapshots): references committed while we waited for
      // the links' locks keep their links.
      const referenced = new Set<string>();
      const key = (id: number, digest: string) => `${id}\u0000${digest}`;
      const removedByRepo = new Map<number, string[]>();
      for (const r of removed) {
        const list = removedByRepo.get(r.repository_id) ?? [];
        list.push(r.digest);
        removedByRepo.set(r.repository_id, list);
      }
      for (const [id, digests] of removedByRepo) {
        for (const part of chunks(digests)) {
          for (const r of await tx.selectFrom('manifest_references').select('child_digest').where('repository_id', '=', id).where('child_digest', 'in', part).execute()) referenced.add(key(id, r.child_digest));
          for (const r of await tx.selectFrom('manifests').select('digest').where('repository_id', '=', id).where('digest', 'in', part).execute()) referenced.add(key(id, r.digest));
        }
      }
      const kept = removed.filter((r) => referenced.has(key(r.repository_id, r.digest)));
      for (const part of chunks(kept, 200)) await tx.insertInto('repository_blobs').values(part).onConflict((oc) => oc.columns(['repository_id', 'digest']).doNothing()).execute();
      return removed.filter((r) => !referenced.has(key(r.repository_id, r.digest))).map((r) => ({ repository: nameOf.get(r.repository_id)!, digest: r.digest }));
    });
  }

  async unreferencedBlobs(cutoff: number, after: string | undefined, window: number): Promise<{ blobs: BlobRef[]; next: string | undefined }> {
    const from = () => (after === undefined ? this.db.selectFrom('blobs') : this.db.selectFrom('blobs').where('digest', '>', after));
    const last = await from().select('digest').orderBy('digest').limit(1).offset(window - 1).executeTakeFirst();
    let q = from();
    if (last) q = q.where('digest', '<=', last.digest);
    const rows = await this.db
      .selectFrom(q.selectAll().as('b'))
      .select(['b.digest', 'b.size'])
      .where('b.state', 'in', ['live', 'pending'])
      .where('b.touched_at', '<', cutoff)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('manifests as m').select('m.digest').whereRef('m.digest', '=', 'b.digest'))))
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('manifest_references as mr').select('mr.child_digest').whereRef('mr.child_digest', '=', 'b.digest').where('mr.kind', '=', 'blob'))),
      )
      .orderBy('b.digest')
      .execute();
    return { blobs: rows.map((r) => ({ digest: r.digest, size: Number(r.size) })), next: last?.digest };
  }

  async claimBlobs(digests: string[], cutoff: number): Promise<{ claimed: BlobRef[]; repositories: string[] }> {
    if (digests.length === 0) return { claimed: [], repositories: [] };
    return this.tx(async (tx) => {
      const now = Date.now();
      const claimed: BlobRef[] = [];
      for (const part of chunks(digests)) {
        const rows = await tx
          .updateTable('blobs')
          .set({ state: 'deleting', deleting_at: now })
          .where('digest', 'in', part)
          .where('state', 'in', ['live', 'pending'])
          .where('touched_at', '<', cutoff)
          .returning(['digest', 'size'])
          .execute();
        for (const r of rows) claimed.push({ digest: r.digest, size: Number(r.size) });
      }
      if (claimed.length === 0) return { claimed: [], repositories: [] };
      const links: { repository_id: number; digest: string; created_at: number }[] = [];
      for (const part of chunks(claimed.map((c) => c.digest))) {
        links.push(...(await tx.deleteFrom('repository_blobs').where('digest', 'in', part).returning(['repository_id', 'digest', 'created_at']).execute()));
      }
      // Fresh statements: a manifest that committed a reference while we waited is seen now.
      const referenced = new Set<string>();
      for (const part of chunks(claimed.map((c) => c.digest))) {
        for (const r of await tx.selectFrom('manifests').select('digest').where('digest', 'in', part).execute()) referenced.add(r.digest);
        for (const r of await tx.selectFrom('manifest_references').select('child_digest').where('child_digest', 'in', part).where('kind', '=', 'blob').execute()) referenced.add(r.child_digest);
      }
      if (referenced.size) {
        const back = [...referenced];
        for (const part of chunks(back)) await tx.updateTable('blobs').set({ state: 'live', deleting_at: null, touched_at: now }).where('digest', 'in', part).execute();
        const relink = links.filter((l) => referenced.has(l.digest));
        for (const part of chunks(relink, 200)) await tx.insertInto('repository_blobs').values(part).onConflict((oc) => oc.columns(['repository_id', 'digest']).doNothing()).execute();
      }
      const lost = [...new Set(links.filter((l) => !referenced.has(l.digest)).map((l) => l.repository_id))];
      const repositories: string[] = [];
      for (const part of chunks(lost)) repositories.push(...(await tx.selectFrom('repositories').select('name').where('id', 'in', part).execute()).map((r) => r.name));
      return { claimed: claimed.filter((c) => !referenced.has(c.digest)), repositories };
    });
  }

  async claimedBlobs(after: string | undefined, limit: number): Promise<BlobRef[]> {
    let q = this.db.selectFrom('blobs').select(['digest', 'size']).where('state', '=', 'deleting');
    if (after !== undefined) q = q.where('digest', '>', after);
    return (await q.orderBy('digest').limit(limit).execute()).map((r) => ({ digest: r.digest, size: Number(r.size) }));
  }

  async finishBlobDeletion(digests: string[]): Promise<void> {
    const now = Date.now();
    for (const part of chunks(digests)) await this.db.updateTable('blobs').set({ state: 'deleted', deleting_at: now }).where('digest', 'in', part).where('state', '=', 'deleting').execute();
  }

  async pruneTombstones(olderThan: number): Promise<number> {
    // Look before writing: most runs find none, and on SQLite every write, even one that changes
    // nothing, takes the lock the server's pushes wait for.
    const any = await this.db.selectFrom('blobs').select('digest').where('state', '=', 'deleted').where('deleting_at', '<', olderThan).limit(1).executeTakeFirst();
    if (!any) return 0;
    const res = await this.db.deleteFrom('blobs').where('state', '=', 'deleted').where('deleting_at', '<', olderThan).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  async knownBlobs(digests: string[]): Promise<Set<string>> {
    const known = new Set<string>();
    for (const part of chunks(digests)) {
      for (const r of await this.db.selectFrom('blobs').select('digest').where('digest', 'in', part).where('state', '!=', 'deleted').execute()) known.add(r.digest);
    }
    return known;
  }

  async claimOrphans(blobs: BlobRef[]): Promise<string[]> {
    const now = Date.now();
    const out: string[] = [];
    for (const part of chunks(blobs, 200)) {
      const rows = await this.db
        .insertInto('blobs')
        .values(part.map((b) => ({ digest: b.digest, size: b.size, created_at: now, touched_at: 0, state: 'deleting' as const, deleting_at: now })))
        // A tombstone is no row: bytes stored again under it (a writer that lost the race) are an orphan too.
        .onConflict((oc) => oc.column('digest').doUpdateSet({ state: 'deleting', deleting_at: now }).where('blobs.state', '=', 'deleted'))
        .returning('digest')
        .execute();
      out.push(...rows.map((r) => r.digest));
    }
    return out;
  }

  async reapStaleClaim(digest: string, olderThan: number): Promise<boolean> {
    // To a tombstone: whoever reserves next stores the bytes again (they may or may not be gone).
    const res = await this.db.updateTable('blobs').set({ state: 'deleted' }).where('digest', '=', digest).where('state', '=', 'deleting').where('deleting_at', '<', olderThan).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async blobState(digest: string): Promise<{ state: string; deletingAt: number | null } | undefined> {
    const row = await this.db.selectFrom('blobs').select(['state', 'deleting_at']).where('digest', '=', digest).executeTakeFirst();
    return row && { state: row.state, deletingAt: row.deleting_at === null ? null : Number(row.deleting_at) };
  }

  async referenceSnapshot(): Promise<{ manifests: RepoDigest[]; references: (RepoDigest & { parent: string })[] }> {
    const manifests = await this.db.selectFrom('manifests as m').innerJoin('repositories as r', 'r.id', 'm.repository_id').select(['r.name', 'm.digest']).execute();
    const references = await this.db
      .selectFrom('manifest_references as mr')
      .innerJoin('repositories as r', 'r.id', 'mr.repository_id')
      .select(['r.name', 'mr.parent_digest', 'mr.child_digest'])
      .where('mr.kind', '=', 'blob')
      .execute();
    return {
      manifests: manifests.map((m) => ({ repository: m.name, digest: m.digest })),
      references: references.map((r) => ({ repository: r.name, parent: r.parent_digest, digest: r.child_digest })),
    };
  }

  async linksBefore(cutoff: number): Promise<RepoDigest[]> {
    const rows = await this.db.selectFrom('repository_blobs as rb').innerJoin('repositories as r', 'r.id', 'rb.repository_id').select(['r.name', 'rb.digest']).where('rb.created_at', '<', cutoff).execute();
    return rows.map((r) => ({ repository: r.name, digest: r.digest }));
  }

  async blobsBefore(cutoff: number): Promise<BlobRef[]> {
    const rows = await this.db.selectFrom('blobs').select(['digest', 'size']).where('state', 'in', ['live', 'pending']).where('touched_at', '<', cutoff).execute();
    return rows.map((r) => ({ digest: r.digest, size: Number(r.size) }));
  }

  async recordGcRun(run: GcRunRecord): Promise<void> {
    const row = {
      id: run.id,
      started_at: run.startedAt,
      finished_at: run.finishedAt,
      status: run.status,
      trigger: run.trigger,
      dry_run: run.dryRun ? 1 : 0,
      delete_untagged: run.deleteUntagged ? 1 : 0,
      manifests_removed: run.manifestsRemoved,
      blobs_removed: run.blobsRemoved,
      bytes_removed: run.bytesRemoved,
      details: run.details ? JSON.stringify(run.details) : null,
    };
    const { id: _id, ...update } = row;
    await this.db.insertInto('gc_runs').values(row).onConflict((oc) => oc.column('id').doUpdateSet(update)).execute();
  }

  async gcRuns(limit: number): Promise<GcRunRecord[]> {
    const rows = await this.db.selectFrom('gc_runs').selectAll().orderBy('started_at', 'desc').limit(limit).execute();
    return rows.map((r) => ({
      id: r.id,
      startedAt: Number(r.started_at),
      finishedAt: r.finished_at === null ? null : Number(r.finished_at),
      status: r.status as GcRunRecord['status'],
      trigger: r.trigger,
      dryRun: Number(r.dry_run) === 1,
      deleteUntagged: Number(r.delete_untagged) === 1,
      manifestsRemoved: Number(r.manifests_removed),
      blobsRemoved: Number(r.blobs_removed),
      bytesRemoved: Number(r.bytes_removed),
      details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
    }));
  }

  async rules(kind: string): Promise<LifecycleRule[]> {
    const rows = await this.db.selectFrom('lifecycle_rules').selectAll().where('kind', '=', kind).orderBy('namespace').execute();
    return rows.map((r) => ({ kind: r.kind, namespace: r.namespace, body: JSON.parse(r.body) as unknown, updatedAt: Number(r.updated_at), updatedBy: r.updated_by }));
  }

  async putRule(kind: string, namespace: string, body: unknown, by: string | null): Promise<void> {
    const now = Date.now();
    const text = JSON.stringify(body);
    await this.db
      .insertInto('lifecycle_rules')
      .values({ kind, namespace, body: text, updated_at: now, updated_by: by })
      .onConflict((oc) => oc.columns(['kind', 'namespace']).doUpdateSet({ body: text, updated_at: now, updated_by: by }))
      .execute();
  }

  async deleteRule(kind: string, namespace: string): Promise<boolean> {
    const res = await this.db.deleteFrom('lifecycle_rules').where('kind', '=', kind).where('namespace', '=', namespace).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}



