// SignatureStore over Kysely (SQLite and PostgreSQL). Adding is a few single statements: the
// foreign key to the manifest row is the check that counts (a manifest deleted between the look-up
// and the insert makes the insert fail, read as 'manifest-unknown'), and the unique keys make a
// concurrent second add of the same bytes or name a no-op that is then told apart by reading.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import { MAX_SIGNATURES_PER_MANIFEST, type AddSignatureResult, type NewSimpleSignature, type SignatureStore, type SimpleSignature } from './store.ts';

/** SQLite's and PostgreSQL's foreign-key violations. */
function isForeignKeyViolation(err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? '');
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

export class KyselySignatureStore implements SignatureStore {
  constructor(private readonly db: Kysely<Database>) {}

  private async manifestKey(repository: string, digest: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('manifests as m')
      .innerJoin('repositories as r', 'r.id', 'm.repository_id')
      .select('m.repository_id')
      .where('r.name', '=', repository)
      .where('m.digest', '=', digest)
      .executeTakeFirst();
    return row?.repository_id;
  }

  async list(repository: string, manifestDigest: string): Promise<SimpleSignature[] | undefined> {
    const id = await this.manifestKey(repository, manifestDigest);
    if (id === undefined) return undefined;
    const rows = await this.db
      .selectFrom('simple_signatures')
      .select(['name', 'type', 'content', 'created_at', 'created_by'])
      .where('repository_id', '=', id)
      .where('manifest_digest', '=', manifestDigest)
      .orderBy('created_at')
      .orderBy('name')
      .execute();
    return rows.map((r) => ({ name: r.name, type: r.type, content: Buffer.from(r.content), createdAt: Number(r.created_at), createdBy: r.created_by }));
  }

  async add(repository: string, manifestDigest: string, sig: NewSimpleSignature): Promise<AddSignatureResult> {
    const id = await this.manifestKey(repository, manifestDigest);
    if (id === undefined) return 'manifest-unknown';
    const contentDigest = `sha256:${createHash('sha256').update(sig.content).digest('hex')}`;
    const existing = () =>
      this.db
        .selectFrom('simple_signatures')
        .select(['name', 'content_digest'])
        .where('repository_id', '=', id)
        .where('manifest_digest', '=', manifestDigest)
        .where((eb) => eb.or([eb('content_digest', '=', contentDigest), eb('name', '=', sig.name)]))
        .execute();
    const before = await existing();
    if (before.some((r) => r.content_digest === contentDigest)) return 'exists';
    if (before.length) return 'name-taken';
    const count = await this.db
      .selectFrom('simple_signatures')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('repository_id', '=', id)
      .where('manifest_digest', '=', manifestDigest)
      .executeTakeFirstOrThrow();
    if (Number(count.n) >= MAX_SIGNATURES_PER_MANIFEST) return 'full';
    let inserted;
    try {
      inserted = await this.db
        .insertInto('simple_signatures')
        .values({
          repository_id: id,
          manifest_digest: manifestDigest,
          name: sig.name,
          type: sig.type,
          content: sig.content,
          content_digest: contentDigest,
          created_at: Date.now(),
          created_by: sig.createdBy ?? null,
        })
        .onConflict((oc) => oc.doNothing())
        .returning('name')
        .executeTakeFirst();
    } catch (e) {
      if (isForeignKeyViolation(e)) return 'manifest-unknown';
      throw e;
    }
    if (inserted) return 'added';
    // A concurrent add won one of the unique keys: say which.
    const after = await existing();
    return after.some((r) => r.content_digest === contentDigest) ? 'exists' : 'name-taken';
  }

  async signed(repository: string, manifestDigests: string[]): Promise<Set<string>> {
    const out = new Set<string>();
    const wanted = [...new Set(manifestDigests)];
    for (let i = 0; i < wanted.length; i += 500) {
      const rows = await this.db
        .selectFrom('simple_signatures as s')
        .innerJoin('repositories as r', 'r.id', 's.repository_id')
        .select('s.manifest_digest')
        .distinct()
        .where('r.name', '=', repository)
        .where('s.manifest_digest', 'in', wanted.slice(i, i + 500))
        .execute();
      for (const r of rows) out.add(r.manifest_digest);
    }
    return out;
  }
}
