// The retention policies' questions to the metadata store (src/lifecycle/retention.ts): a
// repository's manifests and tags with their push and pull times, the batched writes of pull
// times (src/lifecycle/pull-recorder.ts), and the re-check of a tag just before it is deleted.
// Written once over Kysely for SQLite and PostgreSQL.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** One manifest of a repository as the retention policy sees it. */
export interface RetentionManifest {
  digest: string;
  size: number;
  subject: string | null;
  /** Child manifests (an index's entries). */
  children: string[];
  pushedAt: number;
  /** Last GET of this manifest (by tag or digest); null = never pulled. */
  pulledAt: number | null;
}

export interface RetentionTag {
  name: string;
  digest: string;
  /** When the tag was last pushed (pointed at its manifest). */
  pushedAt: number;
  /** Last GET by this tag; null = never. */
  pulledAt: number | null;
}

export interface RetentionGraph {
  manifests: RetentionManifest[];
  tags: RetentionTag[];
}

/** The latest pull of one manifest (and, when pulled by tag, of that tag) in a batch. */
export interface PullRecord {
  repository: string;
  digest: string;
  tag?: string;
  at: number;
}

export class RetentionQueries {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly transaction: <T>(work: (tx: Db) => Promise<T>) => Promise<T>,
  ) {}

  async graph(repository: string): Promise<RetentionGraph> {
    const repo = await this.db.selectFrom('repositories').select('id').where('name', '=', repository).executeTakeFirst();
    if (!repo) return { manifests: [], tags: [] };
    const [manifests, tags, children] = await Promise.all([
      this.db.selectFrom('manifests').select(['digest', 'size', 'subject_digest', 'pushed_at', 'pulled_at']).where('repository_id', '=', repo.id).execute(),
      this.db.selectFrom('tags').select(['name', 'digest', 'updated_at', 'pulled_at']).where('repository_id', '=', repo.id).execute(),
      this.db.selectFrom('manifest_references').select(['parent_digest', 'child_digest']).where('repository_id', '=', repo.id).where('kind', '=', 'manifest').execute(),
    ]);
    const nodes = new Map<string, RetentionManifest>();
    for (const m of manifests) {
      nodes.set(m.digest, {
        digest: m.digest,
        size: Number(m.size),
        subject: m.subject_digest,
        children: [],
        pushedAt: Number(m.pushed_at),
        pulledAt: m.pulled_at === null ? null : Number(m.pulled_at),
      });
    }
    for (const c of children) nodes.get(c.parent_digest)?.children.push(c.child_digest);
    return {
      manifests: [...nodes.values()],
      tags: tags.map((t) => ({ name: t.name, digest: t.digest, pushedAt: Number(t.updated_at), pulledAt: t.pulled_at === null ? null : Number(t.pulled_at) })),
    };
  }

  /** Where a tag points now and since when; undefined when it is gone. */
  async tag(repository: string, tag: string): Promise<{ digest: string; pushedAt: number } | undefined> {
    const row = await this.db
      .selectFrom('tags as t')
      .innerJoin('repositories as r', 'r.id', 't.repository_id')
      .select(['t.digest', 't.updated_at'])
      .where('r.name', '=', repository)
      .where('t.name', '=', tag)
      .executeTakeFirst();
    return row && { digest: row.digest, pushedAt: Number(row.updated_at) };
  }

  /**
   * Writes a batch of pulls in one transaction. A time only ever moves forward (two replicas may
   * flush out of order), and a manifest or tag deleted meanwhile is simply not updated.
   */
  async recordPulls(records: PullRecord[]): Promise<void> {
    if (records.length === 0) return;
    const byRepository = new Map<string, PullRecord[]>();
    for (const r of records) {
      const list = byRepository.get(r.repository) ?? [];
      list.push(r);
      byRepository.set(r.repository, list);
    }
    const names = [...byRepository.keys()];
    await this.transaction(async (tx) => {
      const repos: { id: number; name: string }[] = [];
      for (let i = 0; i < names.length; i += 500) repos.push(...(await tx.selectFrom('repositories').select(['id', 'name']).where('name', 'in', names.slice(i, i + 500)).execute()));
      for (const { id, name } of repos) {
        for (const r of byRepository.get(name) ?? []) {
          await tx
            .updateTable('manifests')
            .set({ pulled_at: r.at })
            .where('repository_id', '=', id)
            .where('digest', '=', r.digest)
            .where((eb) => eb.or([eb('pulled_at', 'is', null), eb('pulled_at', '<', r.at)]))
            .execute();
          if (r.tag === undefined) continue;
          await tx
            .updateTable('tags')
            .set({ pulled_at: r.at })
            .where('repository_id', '=', id)
            .where('name', '=', r.tag)
            .where('digest', '=', r.digest)
            .where((eb) => eb.or([eb('pulled_at', 'is', null), eb('pulled_at', '<', r.at)]))
            .execute();
        }
      }
    });
  }
}
