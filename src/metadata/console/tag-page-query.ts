// One page of a repository's tags with everything the tag list shows, in a fixed number of
// queries whatever the page size: the page itself (keyset; cosign accessory tags are shown under
// their image, and listed themselves only when it has no tag: listedTagSql), then
// for all of its digests at once the index children with platforms, the blob sizes, the other
// tags on the same digests, the referrers, and the cosign tags naming them.
import { sql, type Kysely, type SqlBool } from 'kysely';
import type { SqlDialect } from '../dialect.ts';
import type { Database } from '../schema.ts';
import { accessoryKind, accessoryTagTarget, listedTagSql, accessoryTagsOf, consoleArtifactType, isAccessoryTag } from './accessories.ts';
import type { Accessory, PlatformInfo, TagRow, TagSort } from './console-store.ts';
import type { Cursor } from './cursor.ts';
import { keysetOrder, keysetWhere, type KeysetColumns } from './keyset.ts';
import { containsSql } from './repository-list-query.ts';

export interface TagPageRow {
  name: string;
  digest: string;
  updated_at: number | string;
  pulled_at: number | string | null;
  media_type: string;
  artifact_type: string | null;
}

/** IN lists stay well under SQLite's and PostgreSQL's parameter limits. */
const CHUNK = 500;

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/** Runs `query` over `items` in IN-list-sized chunks and concatenates the rows. */
async function inChunks<T, R>(items: T[], query: (chunk: T[]) => Promise<R[]>): Promise<R[]> {
  if (!items.length) return [];
  return (await Promise.all(chunks(items).map(query))).flat();
}

export function tagPageQuery(db: Kysely<Database>, dialect: SqlDialect, repositoryId: number, o: { sort: TagSort; q?: string; cursor?: Cursor; take: number }) {
  const cols: KeysetColumns = o.sort === 'pushed' ? { key: sql.ref('t.updated_at'), name: sql.ref('t.name') } : { name: sql.ref('t.name') };
  let q = db
    .selectFrom('tags as t')
    .innerJoin('manifests as m', (j) => j.onRef('m.repository_id', '=', 't.repository_id').onRef('m.digest', '=', 't.digest'))
    .select(['t.name', 't.digest', 't.updated_at', 't.pulled_at', 'm.media_type', 'm.artifact_type'])
    .where('t.repository_id', '=', repositoryId)
    .where(listedTagSql(dialect, 't'));
  if (o.q) q = q.where(containsSql(dialect, 't.name', o.q));
  if (o.cursor) q = q.where(keysetWhere(cols, o.cursor));
  return q.orderBy(keysetOrder(cols, o.cursor?.dir === 'prev')).limit(o.take);
}

export function parsePlatform(text: string | null): { os: string; architecture: string; variant?: string } | undefined {
  if (!text) return undefined;
  try {
    const p = JSON.parse(text) as Record<string, unknown>;
    if (typeof p.os !== 'string' || typeof p.architecture !== 'string') return undefined;
    return typeof p.variant === 'string' ? { os: p.os, architecture: p.architecture, variant: p.variant } : { os: p.os, architecture: p.architecture };
  } catch {
    return undefined;
  }
}

/**
 * Compressed sizes (config + layers, from the blob references) of these manifests, and of the
 * children of those that are indexes. Returns the children by parent and a size function: an
 * index's size is the sum over its distinct children.
 */
export async function manifestSizes(db: Kysely<Database>, repositoryId: number, digests: string[]) {
  const children = await inChunks(digests, (chunk) =>
    db
      .selectFrom('manifest_references')
      .select(['parent_digest', 'child_digest', 'platform', 'position'])
      .where('repository_id', '=', repositoryId)
      .where('kind', '=', 'manifest')
      .where('parent_digest', 'in', chunk)
      .execute(),
  );
  const byParent = new Map<string, { digest: string; platform: string | null; position: number | null }[]>();
  for (const c of children) {
    let list = byParent.get(c.parent_digest);
    if (!list) byParent.set(c.parent_digest, (list = []));
    list.push({ digest: c.child_digest, platform: c.platform, position: c.position === null ? null : Number(c.position) });
  }
  for (const list of byParent.values()) list.sort((a, b) => (a.position ?? Infinity) - (b.position ?? Infinity) || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  const all = [...new Set([...digests, ...children.map((c) => c.child_digest)])];
  const sums = await inChunks(all, (chunk) =>
    db
      .selectFrom('manifest_references as mr')
      .innerJoin('blobs as b', 'b.digest', 'mr.child_digest')
      .select(['mr.parent_digest'])
      .select((eb) => eb.fn.sum<number | string>('b.size').as('size'))
      .where('mr.repository_id', '=', repositoryId)
      .where('mr.kind', '=', 'blob')
      .where('mr.parent_digest', 'in', chunk)
      .groupBy('mr.parent_digest')
      .execute(),
  );
  const own = new Map(sums.map((s) => [s.parent_digest, Number(s.size ?? 0)]));
  const sizeOf = (digest: string): number => {
    const kids = byParent.get(digest);
    if (!kids) return own.get(digest) ?? 0;
    let total = 0;
    for (const d of new Set(kids.map((k) => k.digest))) total += own.get(d) ?? 0;
    return total;
  };
  return { childrenOf: (digest: string) => byParent.get(digest) ?? [], sizeOf };
}

/**
 * The accessories of each of `digests` (signatures, attestations, SBOMs, other referrers), found
 * both ways: OCI 1.1 referrers (subject) and cosign's tags (sha256-<hex>.sig/.att/.sbom), a
 * referrer that a cosign tag names as well counted once. The tag list and the image page both
 * read them from here, so that the two pages agree on what is attached and on "signed".
 */
export async function loadAccessories(db: Kysely<Database>, repositoryId: number, digests: string[]): Promise<Map<string, Accessory[]>> {
  const cosignTags = digests.flatMap(accessoryTagsOf);
  const [referrers, tagged] = await Promise.all([
    inChunks(digests, (chunk) =>
      db
        .selectFrom('manifests')
        .select(['digest', 'artifact_type', 'subject_digest', 'created_at'])
        .where('repository_id', '=', repositoryId)
        .where('subject_digest', 'in', chunk)
        .execute(),
    ),
    inChunks(cosignTags, (chunk) =>
      db
        .selectFrom('tags as t')
        .innerJoin('manifests as m', (j) => j.onRef('m.repository_id', '=', 't.repository_id').onRef('m.digest', '=', 't.digest'))
        .select(['t.name', 't.digest', 'm.artifact_type'])
        .where('t.repository_id', '=', repositoryId)
        .where('t.name', 'in', chunk)
        .execute(),
    ),
  ]);
  const accessories = new Map<string, Accessory[]>();
  const add = (subject: string, a: Accessory) => {
    let list = accessories.get(subject);
    if (!list) accessories.set(subject, (list = []));
    const same = list.find((x) => x.digest === a.digest);
    if (!same) list.push(a);
    else {
      // A referrer that a cosign tag names as well: one accessory, with the tag.
      same.tag ??= a.tag;
      if (same.kind === 'other') same.kind = a.kind;
    }
  };
  referrers.sort((a, b) => Number(a.created_at) - Number(b.created_at) || byteOrder(a.digest, b.digest));
  for (const r of referrers) add(r.subject_digest!, { kind: accessoryKind(r.artifact_type), digest: r.digest, artifactType: consoleArtifactType(r.artifact_type) });
  tagged.sort((a, b) => byteOrder(a.name, b.name));
  for (const t of tagged) {
    const target = accessoryTagTarget(t.name)!;
    add(target.subject, { kind: accessoryKind(t.artifact_type, t.name), digest: t.digest, artifactType: consoleArtifactType(t.artifact_type), tag: t.name });
  }
  return accessories;
}

/** Whether any of these accessories is a signature: the one rule for the "signed" mark. */
export const hasSignature = (accessories: Accessory[]): boolean => accessories.some((a) => a.kind === 'signature');

/** The TagRows of a page: everything but the page's own columns, for all its digests at once. */
export async function tagRows(db: Kysely<Database>, repositoryId: number, page: TagPageRow[]): Promise<TagRow[]> {
  if (!page.length) return [];
  const digests = [...new Set(page.map((r) => r.digest))];
  const [sizes, sameDigest, accessories] = await Promise.all([
    manifestSizes(db, repositoryId, digests),
    inChunks(digests, (chunk) => db.selectFrom('tags').select(['name', 'digest']).where('repository_id', '=', repositoryId).where('digest', 'in', chunk).execute()),
    loadAccessories(db, repositoryId, digests),
  ]);

  const tagsByDigest = new Map<string, string[]>();
  for (const t of sameDigest) {
    if (isAccessoryTag(t.name)) continue;
    let list = tagsByDigest.get(t.digest);
    if (!list) tagsByDigest.set(t.digest, (list = []));
    list.push(t.name);
  }
  for (const list of tagsByDigest.values()) list.sort(byteOrder);

  return page.map((r): TagRow => {
    const platforms: PlatformInfo[] = [];
    for (const child of sizes.childrenOf(r.digest)) {
      const p = parsePlatform(child.platform);
      if (p) platforms.push({ ...p, digest: child.digest, size: sizes.sizeOf(child.digest) });
    }
    const acc = accessories.get(r.digest) ?? [];
    return {
      name: r.name,
      digest: r.digest,
      mediaType: r.media_type,
      artifactType: consoleArtifactType(r.artifact_type),
      size: sizes.sizeOf(r.digest),
      platforms,
      pushedAt: Number(r.updated_at),
      pulledAt: r.pulled_at === null ? null : Number(r.pulled_at),
      sameDigest: (tagsByDigest.get(r.digest) ?? []).filter((n) => n !== r.name),
      accessories: acc.map((a) => ({ ...a })),
      signed: hasSignature(acc),
    };
  });
}

export const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
