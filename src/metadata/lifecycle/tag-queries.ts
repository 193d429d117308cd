// Tag lookups the lifecycle rules need beside MetadataStore's own: which tags point at a manifest
// (deleting a manifest by digest deletes its tags too, so an immutable one must refuse it).
import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

export interface TagQueries {
  /** The tags of `repository` pointing at `digest`, by name. */
  tagsOf(repository: string, digest: string): Promise<string[]>;
}

export class KyselyTagQueries implements TagQueries {
  constructor(private readonly db: Kysely<Database>) {}

  async tagsOf(repository: string, digest: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('tags as t')
      .innerJoin('repositories as r', 'r.id', 't.repository_id')
      .select('t.name')
      .where('r.name', '=', repository)
      .where('t.digest', '=', digest)
      .orderBy('t.name')
      .execute();
    return rows.map((r) => r.name);
  }
}
