// ConsoleStore over Kysely (SQLite and PostgreSQL), on the metadata store's connection and with its
// write transaction (retries; BEGIN IMMEDIATE on SQLite), as the lifecycle store does.
//
// Reads are bounded: the repository list is one statement per page (repository-list-query.ts),
// a repository's page a fixed number of statements whatever its page size (tag-page-query.ts),
// and a manifest's page likewise. Pages are keyset pages with opaque cursors (cursor.ts).
import type { Kysely, Transaction } from 'kysely';
import type { SqlDialect } from '../dialect.ts';
import type { Database } from '../schema.ts';
import { sql } from 'kysely';
import type { ConsoleSession, ConsoleStore, ManifestDetail, NamespaceListRequest, NamespaceSummary, Page, PageRequest, RepositoryDetail, RepositoryListRequest, RepositorySettings, RepositoryStorage, RepositorySummary, TagRow, TagSort } from './console-store.ts';
import { assemblePage, decodeCursor, pageLimit } from './cursor.ts';
import { pushedKey, repositoryListQuery, toSummary, untaggedCount, type RepositoryRow } from './repository-list-query.ts';
import { byteOrder, hasSignature, loadAccessories, parsePlatform, tagPageQuery, tagRows, type TagPageRow } from './tag-page-query.ts';
import { consoleArtifactType } from './accessories.ts';
import { TtlCache } from '../../util/ttl-cache.ts';
import { namespaceRows, type NamespaceRow } from './namespace-list-query.ts';
import { openUploadSessions, searchRepositories, type RepositorySearchRequest, type RepositorySearchResult } from './search-query.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface ConsoleStoreOptions {
  rowLocks: boolean;
  dialect: SqlDialect;
  /** The metadata store's write transaction (retries, BEGIN IMMEDIATE on SQLite). */
  transaction<T>(work: (tx: Db) => Promise<T>): Promise<T>;
}

const visibilityOf = (v: string | null): 'public' | 'private' | null => (v === 'public' || v === 'private' ? v : null);

function parseJson<T>(text: string | null): T | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

export class KyselyConsoleStore implements ConsoleStore {
  /**
   * Shared bytes per repository, for a minute: the statement probes every blob link of the
   * repository (about 60 ms on PostgreSQL for a repository of 5,000 tags, three times the rest of
   * its page), and the split it shows changes slowly. Concurrent views share one computation; a
   * repository deleted through the console clears it, other changes show within the minute.
   */
  private readonly shared = new TtlCache<number>(60_000, 1_000);

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: ConsoleStoreOptions,
  ) {}

  async repositories(req: RepositoryListRequest): Promise<Page<RepositorySummary>> {
    const limit = pageLimit(req.limit);
    const sort = req.sort === 'pushed' ? 'pushed' : 'name';
    const keyed = sort === 'pushed';
    const cursor = decodeCursor(req.cursor, 'r', sort, keyed);
    const fetch = async (c: typeof cursor): Promise<RepositoryRow[]> => {
      const q = repositoryListQuery(this.db, this.options.dialect, { sort, q: req.q, within: req.within, namespace: req.namespace, cursor: c, take: limit + 1 });
      return q ? ((await q.execute()) as RepositoryRow[]) : [];
    };
    const build = async (c: typeof cursor, rows: RepositoryRow[]): Promise<Page<RepositorySummary>> =>
      assemblePage(rows, {
        cursor: c,
        limit,
        list: 'r',
        sort,
        keyOf: keyed ? pushedKey : undefined,
        nameOf: (r) => r.name,
        reload: async () => build(undefined, await fetch(undefined)),
        map: (rows) => rows.map(toSummary),
      });
    return build(cursor, await fetch(cursor));
  }

  async namespaces(req: NamespaceListRequest): Promise<Page<NamespaceSummary>> {
    const limit = pageLimit(req.limit);
    const cursor = decodeCursor(req.cursor, 'n', 'name', false);
    const fetch = (c: typeof cursor) => namespaceRows(this.db, this.options.dialect, { within: req.within, cursor: c, take: limit + 1, counts: req.counts });
    const build = async (c: typeof cursor, rows: NamespaceRow[]): Promise<Page<NamespaceSummary>> =>
      assemblePage(rows, {
        cursor: c,
        limit,
        list: 'n',
        sort: 'name',
        nameOf: (r) => r.namespace,
        reload: async () => build(undefined, await fetch(undefined)),
        map: (rows) => rows.map((r) => ({ name: r.namespace, repositoryCount: r.repository_count === null ? null : Number(r.repository_count) })),
      });
    return build(cursor, await fetch(cursor));
  }

  search(req: RepositorySearchRequest): Promise<RepositorySearchResult> {
    return searchRepositories(this.db, this.options.dialect, req);
  }

  openUploads(): Promise<number> {
    return openUploadSessions(this.db);
  }

  async repository(name: string, tags: PageRequest & { sort: TagSort; q?: string }): Promise<RepositoryDetail | undefined> {
    // The id first (one index probe), so that the summary, the tag page and the untagged count
    // run side by side: on PostgreSQL on separate pooled connections, where the summary's size
    // (a lookup per blob link) is the long part for a repository with thousands of blobs.
    const repo = await this.db.selectFrom('repositories').select('id').where('name', '=', name).executeTakeFirst();
    if (repo) {
      const id = Number(repo.id);
      const summaryQuery = repositoryListQuery(this.db, this.options.dialect, { sort: 'name', exact: name, take: 1 })!;
      const [row, page, untagged, shared] = await Promise.all([
        summaryQuery.executeTakeFirst() as Promise<RepositoryRow | undefined>,
        this.tagPage(id, tags),
        untaggedCount(this.db, id),
        this.shared.get(String(id), () => this.sharedBytes(id)),
      ]);
      if (row && Number(row.id) === id) {
        const summary = toSummary(row);
        const storage: RepositoryStorage = { shared: Math.min(shared, summary.size), unique: Math.max(0, summary.size - shared) };
        return { summary, tags: page, tagCount: summary.tagCount, untaggedCount: untagged, storage };
      }
      // Deleted (or deleted and created again) meanwhile: as if it had not been there.
    }
    // Settings made before the first push: the repository shows, empty.
    const settings = await this.settings.get(name);
    if (!settings) return undefined;
    return {
      summary: { name, tagCount: 0, size: 0, pushedAt: null, description: settings.description, visibility: settings.visibility },
      tags: { items: [] },
      tagCount: 0,
      untaggedCount: 0,
      storage: { shared: 0, unique: 0 },
    };
  }

  /**
   * Bytes of the repository's live blobs that another repository links as well: one statement,
   * a probe of repository_blobs_digest per link. The rest of its size (the summary's) is unique.
   */
  private async sharedBytes(repositoryId: number): Promise<number> {
    const row = await this.db
      .selectFrom('repository_blobs as rb')
      .innerJoin('blobs as b', 'b.digest', 'rb.digest')
      .select(sql<number | string | null>`sum(b.size)`.as('shared'))
      .where('rb.repository_id', '=', repositoryId)
      .where('b.state', '=', 'live')
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('repository_blobs as o')
            .select(sql`1`.as('one'))
            .whereRef('o.digest', '=', 'rb.digest')
            .whereRef('o.repository_id', '<>', 'rb.repository_id'),
        ),
      )
      .executeTakeFirst();
    return Number(row?.shared ?? 0);
  }

  private async tagPage(repositoryId: number, req: PageRequest & { sort: TagSort; q?: string }): Promise<Page<TagRow>> {
    const limit = pageLimit(req.limit);
    const sort = req.sort === 'name' ? 'name' : 'pushed';
    const keyed = sort === 'pushed';
    const cursor = decodeCursor(req.cursor, 't', sort, keyed);
    const fetch = async (c: typeof cursor) => (await tagPageQuery(this.db, this.options.dialect, repositoryId, { sort, q: req.q, cursor: c, take: limit + 1 }).execute()) as TagPageRow[];
    const build = async (c: typeof cursor, rows: TagPageRow[]): Promise<Page<TagRow>> =>
      assemblePage(rows, {
        cursor: c,
        limit,
        list: 't',
        sort,
        keyOf: keyed ? (r) => Number(r.updated_at) : undefined,
        nameOf: (r) => r.name,
        reload: async () => build(undefined, await fetch(undefined)),
        map: (rows) => tagRows(this.db, repositoryId, rows),
      });
    return build(cursor, await fetch(cursor));
  }

  async manifest(repository: string, digest: string): Promise<ManifestDetail | undefined> {
    const m = await this.db
      .selectFrom('manifests as m')
      .innerJoin('repositories as r', 'r.id', 'm.repository_id')
      .select(['r.id', 'm.digest', 'm.media_type', 'm.size', 'm.artifact_type', 'm.subject_digest', 'm.config_digest', 'm.annotations', 'm.pushed_at', 'm.pulled_at'])
      .where('r.name', '=', repository)
      .where('m.digest', '=', digest)
      .executeTakeFirst();
    if (!m) return undefined;
    const id = m.id;
    const referrerDigests = this.db.selectFrom('manifests').select('digest').where('repository_id', '=', id).where('subject_digest', '=', digest);
    const [tags, refs, referrers, referrerTags, deeper, accessories] = await Promise.all([
      this.db.selectFrom('tags').select('name').where('repository_id', '=', id).where('digest', '=', digest).execute(),
      this.db
        .selectFrom('manifest_references as mr')
        .leftJoin('blobs as b', (j) => j.onRef('b.digest', '=', 'mr.child_digest').on('mr.kind', '=', 'blob'))
        .leftJoin('manifests as cm', (j) => j.onRef('cm.repository_id', '=', 'mr.repository_id').onRef('cm.digest', '=', 'mr.child_digest').on('mr.kind', '=', 'manifest'))
        .select(['mr.kind', 'mr.child_digest', 'mr.position', 'mr.platform', 'b.size as blob_size', 'cm.size as manifest_size'])
        .where('mr.repository_id', '=', id)
        .where('mr.parent_digest', '=', digest)
        .execute(),
      this.db
        .selectFrom('manifests')
        .select(['digest', 'artifact_type', 'media_type', 'size', 'created_at'])
        .where('repository_id', '=', id)
        .where('subject_digest', '=', digest)
        .orderBy('created_at')
        .orderBy('digest')
        .execute(),
      this.db.selectFrom('tags').select(['name', 'digest']).where('repository_id', '=', id).where('digest', 'in', referrerDigests).execute(),
      this.db
        .selectFrom('manifests')
        .select(['digest', 'artifact_type', 'subject_digest'])
        .where('repository_id', '=', id)
        .where('subject_digest', 'in', referrerDigests)
        .orderBy('created_at')
        .orderBy('digest')
        .execute(),
      loadAccessories(this.db, Number(id), [digest]),
    ]);
    const attached = accessories.get(digest) ?? [];

    // Manifest order where it was recorded (0005_console on); older rows: config first, then by digest.
    const rank = (r: (typeof refs)[number]) => (r.position !== null ? Number(r.position) : r.child_digest === m.config_digest ? -1 : Infinity);
    refs.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'blob' ? -1 : 1) || rank(a) - rank(b) || byteOrder(a.child_digest, b.child_digest));
    return {
      repository,
      digest: m.digest,
      mediaType: m.media_type,
      artifactType: consoleArtifactType(m.artifact_type),
      size: Number(m.size),
      configDigest: m.config_digest,
      subject: m.subject_digest,
      annotations: parseJson<Record<string, string>>(m.annotations),
      pushedAt: Number(m.pushed_at),
      pulledAt: m.pulled_at === null ? null : Number(m.pulled_at),
      tags: tags.map((t) => t.name).sort(byteOrder),
      references: refs.map((r) => {
        const kind = r.kind === 'manifest' ? 'manifest' : 'blob';
        const size = kind === 'blob' ? r.blob_size : r.manifest_size;
        const platform = kind === 'manifest' ? parsePlatform(r.platform) : undefined;
        return { kind, digest: r.child_digest, size: size === null || size === undefined ? null : Number(size), ...(platform ? { platform } : {}) };
      }),
      accessories: attached,
      signed: hasSignature(attached),
      referrers: referrers.map((r) => ({
        digest: r.digest,
        artifactType: consoleArtifactType(r.artifact_type),
        mediaType: r.media_type,
        size: Number(r.size),
        tags: referrerTags.filter((t) => t.digest === r.digest).map((t) => t.name).sort(byteOrder),
        referrers: deeper.filter((d) => d.subject_digest === r.digest).map((d) => ({ digest: d.digest, artifactType: consoleArtifactType(d.artifact_type) })),
      })),
    };
  }

  async createRepository(name: string, now: number): Promise<boolean> {
    const row = await this.db
      .insertInto('repositories')
      .values({ name, created_at: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async deleteRepository(name: string): Promise<{ manifests: string[]; tags: number; links: number } | undefined> {
    // What the deleted repository shared is now another's own: the split is counted again.
    this.shared.clear();
    return this.options.transaction(async (tx) => {
      // PostgreSQL: the row lock makes a push that is about to add rows to this repository (their
      // foreign keys key-share-lock it) wait for this transaction, and one that already did
      // commit first; either way nothing is left pointing at the deleted row.
      const repo = await tx
        .selectFrom('repositories')
        .select('id')
        .where('name', '=', name)
        .$if(this.options.rowLocks, (q) => q.forUpdate())
        .executeTakeFirst();
      if (!repo) return undefined;
      const id = repo.id;
      // Children first (explicit, not only ON DELETE CASCADE), as deleteManifest does.
      const tags = await tx.deleteFrom('tags').where('repository_id', '=', id).executeTakeFirst();
      await tx.deleteFrom('manifest_references').where('repository_id', '=', id).execute();
      const manifests = await tx.deleteFrom('manifests').where('repository_id', '=', id).returning('digest').execute();
      const links = await tx.deleteFrom('repository_blobs').where('repository_id', '=', id).executeTakeFirst();
      await tx.deleteFrom('repositories').where('id', '=', id).execute();
      // Its description and visibility go with it: a new repository of that name starts afresh.
      await tx.deleteFrom('repository_settings').where('repository', '=', name).execute();
      return { manifests: manifests.map((m) => m.digest).sort(byteOrder), tags: Number(tags.numDeletedRows), links: Number(links.numDeletedRows) };
    });
  }

  readonly sessions: ConsoleStore['sessions'] = {
    create: async (s: ConsoleSession): Promise<void> => {
      await this.db
        .insertInto('console_sessions')
        .values({
          id_hash: s.idHash,
          user_name: s.userName,
          principal: JSON.stringify(s.principal ?? null),
          csrf: s.csrf,
          created_at: s.createdAt,
          expires_at: s.expiresAt,
          last_seen_at: s.lastSeenAt,
        })
        .execute();
    },
    get: async (idHash: string, now: number): Promise<ConsoleSession | undefined> => {
      const row = await this.db.selectFrom('console_sessions').selectAll().where('id_hash', '=', idHash).where('expires_at', '>', now).executeTakeFirst();
      if (!row) return undefined;
      return {
        idHash: row.id_hash,
        userName: row.user_name,
        principal: parseJson<unknown>(row.principal),
        csrf: row.csrf,
        createdAt: Number(row.created_at),
        expiresAt: Number(row.expires_at),
        lastSeenAt: Number(row.last_seen_at),
      };
    },
    touch: async (idHash: string, lastSeenAt: number, expiresAt: number): Promise<void> => {
      await this.db.updateTable('console_sessions').set({ last_seen_at: lastSeenAt, expires_at: expiresAt }).where('id_hash', '=', idHash).execute();
    },
    delete: async (idHash: string): Promise<void> => {
      await this.db.deleteFrom('console_sessions').where('id_hash', '=', idHash).execute();
    },
    deleteForUser: async (userName: string): Promise<number> => {
      const res = await this.db.deleteFrom('console_sessions').where('user_name', '=', userName).executeTakeFirst();
      return Number(res.numDeletedRows);
    },
    purgeExpired: async (now: number): Promise<number> => {
      const res = await this.db.deleteFrom('console_sessions').where('expires_at', '<=', now).executeTakeFirst();
      return Number(res.numDeletedRows);
    },
  };

  readonly settings: ConsoleStore['settings'] = {
    get: async (repository: string): Promise<RepositorySettings | undefined> => {
      const row = await this.db.selectFrom('repository_settings').selectAll().where('repository', '=', repository).executeTakeFirst();
      if (!row) return undefined;
      return {
        repository: row.repository,
        description: row.description,
        visibility: visibilityOf(row.visibility),
        updatedAt: Number(row.updated_at),
        updatedBy: row.updated_by,
      };
    },
    visibilities: async (): Promise<{ repository: string; visibility: 'public' | 'private' }[]> => {
      const rows = await this.db.selectFrom('repository_settings').select(['repository', 'visibility']).where('visibility', 'is not', null).orderBy('repository').execute();
      return rows.flatMap((r) => {
        const v = visibilityOf(r.visibility);
        return v ? [{ repository: r.repository, visibility: v }] : [];
      });
    },
    put: async (s: RepositorySettings): Promise<void> => {
      const values = { description: s.description, visibility: s.visibility, updated_at: s.updatedAt, updated_by: s.updatedBy };
      await this.db
        .insertInto('repository_settings')
        .values({ repository: s.repository, ...values })
        .onConflict((oc) => oc.column('repository').doUpdateSet(values))
        .execute();
    },
    delete: async (repository: string): Promise<void> => {
      await this.db.deleteFrom('repository_settings').where('repository', '=', repository).execute();
    },
  };

  async secret(name: string, create: () => string): Promise<string> {
    const read = async () => (await this.db.selectFrom('console_secrets').select('value').where('name', '=', name).executeTakeFirst())?.value;
    const existing = await read();
    if (existing !== undefined) return existing;
    // Two replicas starting together: one insert wins, and both read the winner's value.
    await this.db
      .insertInto('console_secrets')
      .values({ name, value: create() })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const value = await read();
    if (value === undefined) throw new Error(`console secret ${name} vanished after it was created`);
    return value;
  }
}
