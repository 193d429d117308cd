// Retention's queries (src/metadata/lifecycle/retention-queries.ts) on SQLite and on a real
// PostgreSQL 15: a repository's graph with push and pull times, the batched pull writes (times only
// move forward, a tag moved or deleted meanwhile is not touched), and the tag re-check.
import { tempSqliteStore } from '../helpers/metadata-stores.ts';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { MetadataStore } from '../../src/metadata/store.ts';
import { openPostgresMetadata } from '../../src/metadata/postgres.ts';
import { postgresSkip, startPostgres, type PostgresServer } from '../helpers/postgres.ts';

const digestOf = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** A manifest row (with its own bytes and one layer linked) in `repository`. */
async function manifest(store: MetadataStore, repository: string, name: string, opts: { tag?: string; children?: string[]; subject?: string } = {}): Promise<string> {
  const digest = digestOf(`manifest ${name}`);
  const layer = digestOf(`layer ${name}`);
  for (const d of [digest, layer]) {
    await store.reserveBlob(d, 10);
    await store.linkBlob(repository, d, 10);
  }
  const res = await store.putManifest(
    repository,
    {
      digest,
      mediaType: opts.children ? OCI_INDEX : OCI_MANIFEST,
      size: 10,
      ...(opts.subject && { subjectDigest: opts.subject }),
      blobs: opts.children ? [] : [layer],
      children: opts.children ?? [],
    },
    opts.tag,
  );
  assert.deepEqual([res.missingBlobs, res.missingChildren], [[], []]);
  return digest;
}

function contract(name: string, open: () => Promise<{ store: MetadataStore; cleanup(): Promise<void> }>, skip: string | false = false): void {
  describe(`retention queries: ${name}`, { skip }, () => {
    let store: MetadataStore;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await open());
    });
    after(() => cleanup?.());

    it('reads a repository: manifests with children, subject, push and pull times; tags with theirs', async () => {
      const before = Date.now();
      const child = await manifest(store, 'q/app', 'child');
      const index = await manifest(store, 'q/app', 'index', { tag: 'v1', children: [child] });
      const sig = await manifest(store, 'q/app', 'sig', { subject: index });
      const g = await store.lifecycle.retention.graph('q/app');
      const byDigest = new Map(g.manifests.map((m) => [m.digest, m]));
      assert.deepEqual(byDigest.get(index)!.children, [child]);
      assert.equal(byDigest.get(sig)!.subject, index);
      assert.equal(byDigest.get(child)!.pulledAt, null);
      assert.ok(byDigest.get(child)!.pushedAt >= before && typeof byDigest.get(child)!.pushedAt === 'number');
      assert.deepEqual(
        g.tags.map((t) => [t.name, t.digest, t.pulledAt]),
        [['v1', index, null]],
      );
      assert.equal(typeof g.tags[0]!.pushedAt, 'number');
      assert.deepEqual(await store.lifecycle.retention.graph('q/none'), { manifests: [], tags: [] });
      assert.deepEqual(await store.lifecycle.retention.tag('q/app', 'v1'), { digest: index, pushedAt: g.tags[0]!.pushedAt });
      assert.equal(await store.lifecycle.retention.tag('q/app', 'nope'), undefined);
    });

    it('writes a batch of pulls; times only move forward; a moved tag keeps its time', async () => {
      const a = await manifest(store, 'q/pulls', 'a', { tag: 'a' });
      const b = await manifest(store, 'q/pulls', 'b', { tag: 'b' });
      const q = store.lifecycle.retention;
      await q.recordPulls([
        { repository: 'q/pulls', digest: a, tag: 'a', at: 2000 },
        { repository: 'q/pulls', digest: b, at: 3000 },
        { repository: 'q/unknown', digest: a, tag: 'a', at: 4000 },
      ]);
      let g = await q.graph('q/pulls');
      const time = (list: { name?: string; digest?: string; pulledAt: number | null }[], key: string) => list.find((x) => x.name === key || x.digest === key)?.pulledAt;
      assert.equal(time(g.tags, 'a'), 2000);
      assert.equal(time(g.tags, 'b'), null, 'pulled by digest: the tag is not');
      assert.equal(time(g.manifests, a), 2000);
      assert.equal(time(g.manifests, b), 3000);
      // An older time (another replica flushing late) does not move it back.
      await q.recordPulls([{ repository: 'q/pulls', digest: a, tag: 'a', at: 1000 }]);
      // Tag b pointed at a when it was pulled, but points at b now: not b's pull.
      await q.recordPulls([{ repository: 'q/pulls', digest: a, tag: 'b', at: 5000 }]);
      g = await q.graph('q/pulls');
      assert.equal(time(g.tags, 'a'), 2000);
      assert.equal(time(g.tags, 'b'), null);
      assert.equal(time(g.manifests, a), 5000);
      await q.recordPulls([]);
    });

    it('writes a large batch across many repositories in one call', async () => {
      const d = await manifest(store, 'q/many-0', 'many', { tag: 't' });
      const records = Array.from({ length: 1200 }, (_, i) => ({ repository: `q/many-${i}`, digest: d, tag: 't', at: 7000 + i }));
      await store.lifecycle.retention.recordPulls(records);
      assert.equal((await store.lifecycle.retention.graph('q/many-0')).tags[0]!.pulledAt, 7000);
    });
  });
}

contract('sqlite', () => tempSqliteStore('berth-retention-q'));

let server: PostgresServer | undefined;
after(() => server?.stop());
contract(
  'postgres',
  async () => {
    server ??= await startPostgres();
    const store = await openPostgresMetadata({ url: await server.createDatabase('retention'), poolSize: 4 });
    return { store, cleanup: () => store.close() };
  },
  postgresSkip(),
);
