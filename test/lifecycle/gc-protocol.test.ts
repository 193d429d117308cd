// The metadata half of online GC, on SQLite and PostgreSQL: each rule of the writer/collector
// protocol (src/lifecycle/blob-writes.ts, src/metadata/lifecycle/kysely-lifecycle-store.ts) in
// a deterministic interleaving, then writers and a collector racing, after which no manifest may
// refer to a blob that is not live and linked.
import { tempSqliteStore } from '../helpers/metadata-stores.ts';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openPostgresMetadata } from '../../src/metadata/postgres.ts';
import { BlobCollectedError, type MetadataStore, type NewManifest } from '../../src/metadata/store.ts';
import type { LinkCursor } from '../../src/metadata/lifecycle/lifecycle-store.ts';
import { postgresSkip, startPostgres, type PostgresServer } from '../helpers/postgres.ts';

const digest = () => `sha256:${randomBytes(32).toString('hex')}`;

function manifest(blobs: string[]): NewManifest {
  return { digest: digest(), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 200, blobs, children: [] };
}

/** Blob references whose blob is not live, or not linked in the manifest's repository. */
async function broken(store: MetadataStore): Promise<string[]> {
  const snapshot = await store.lifecycle.referenceSnapshot();
  const bad: string[] = [];
  for (const ref of snapshot.references) {
    const state = await store.lifecycle.blobState(ref.digest);
    const linked = await store.repositoryBlob(ref.repository, ref.digest);
    if (state?.state !== 'live' || !linked) bad.push(`${ref.repository} ${ref.parent} -> ${ref.digest}: ${state?.state ?? 'no row'}${linked ? '' : ', unlinked'}`);
  }
  for (const m of snapshot.manifests) {
    const state = await store.lifecycle.blobState(m.digest);
    if (state?.state !== 'live') bad.push(`${m.repository}@${m.digest} bytes: ${state?.state ?? 'no row'}`);
  }
  return bad;
}

/** One collection's blob phase: claim everything unreferenced now, then finish. */
async function collect(store: MetadataStore): Promise<number> {
  const cutoff = Date.now() + 1;
  const candidates: { digest: string }[] = [];
  for (let after: string | undefined, first = true; first || after; first = false) {
    const { blobs, next } = await store.lifecycle.unreferencedBlobs(cutoff, after, 1000);
    candidates.push(...blobs);
    after = next;
  }
  const { claimed } = await store.lifecycle.claimBlobs(
    candidates.map((c) => c.digest),
    cutoff,
  );
  await store.lifecycle.finishBlobDeletion(claimed.map((c) => c.digest));
  return claimed.length;
}

function protocolSuite(name: string, open: () => Promise<{ store: MetadataStore; cleanup(): Promise<void> }>, skip: string | false = false) {
  describe(`GC protocol: ${name}`, { skip }, () => {
    let store: MetadataStore;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await open());
    });
    after(() => cleanup?.());

    it('a writer whose reserved blob is claimed before it links gets BlobCollectedError, and can store it again', async () => {
      const d = digest();
      assert.equal(await store.reserveBlob(d, 10), 'pending');
      const { claimed } = await store.lifecycle.claimBlobs([d], Date.now() + 1);
      assert.deepEqual(
        claimed.map((c) => c.digest),
        [d],
      );
      assert.equal(await store.reserveBlob(d, 10), 'deleting', 'a claimed blob is not writable');
      await assert.rejects(store.linkBlob('p/r', d, 10), BlobCollectedError);
      await store.lifecycle.finishBlobDeletion([d]);
      assert.equal((await store.lifecycle.blobState(d))?.state, 'deleted', 'a tombstone stays');
      await assert.rejects(store.linkBlob('p/r', d, 10), BlobCollectedError, 'a tombstone refuses a link made without a new reservation');
      assert.equal(await store.reserveBlob(d, 10), 'pending', 'the next writer stores the bytes again');
      await store.linkBlob('p/r', d, 10);
      assert.equal((await store.repositoryBlob('p/r', d))?.size, 10);
    });

    it("a manifest PUT whose own bytes were claimed after the reservation writes nothing and says so", async () => {
      const layer = digest();
      await store.linkBlob('p/m', layer, 5);
      const m = manifest([layer]);
      assert.equal(await store.reserveBlob(m.digest, m.size), 'pending');
      await store.lifecycle.claimBlobs([m.digest], Date.now() + 1);
      const result = await store.putManifest('p/m', m, 'v1');
      assert.equal(result.bytesCollected, true);
      assert.equal(await store.manifest('p/m', m.digest), undefined);
      assert.equal(await store.resolveTag('p/m', 'v1'), undefined);
    });

    it('writers linking the same new blob at once all succeed (none mistakes the other for the collector)', async () => {
      for (let round = 0; round < 10; round++) {
        const d = digest();
        await Promise.all(Array.from({ length: 8 }, (_, i) => store.linkBlob(`p/same${i % 3}`, d, 7)));
        assert.equal((await store.lifecycle.blobState(d))?.state, 'live');
      }
    });

    it('walks blobs and links in windows: every candidate is found once, whatever the window', async () => {
      const repo = `p/win${randomBytes(3).toString('hex')}`;
      const loose: string[] = [];
      for (let i = 0; i < 11; i++) {
        const d = digest();
        await store.linkBlob(repo, d, 3);
        loose.push(d);
      }
      const used = digest();
      await store.linkBlob(repo, used, 3);
      assert.deepEqual((await store.putManifest(repo, manifest([used]))).missingBlobs, []);
      const cutoff = Date.now() + 1;
      for (const window of [1, 2, 5, 1000]) {
        const blobs: string[] = [];
        for (let after: string | undefined, first = true; first || after; first = false) {
          const page = await store.lifecycle.unreferencedBlobs(cutoff, after, window);
          blobs.push(...page.blobs.map((b) => b.digest));
          after = page.next;
        }
        const mine = blobs.filter((d) => loose.includes(d) || d === used);
        assert.deepEqual(mine.sort(), [...loose].sort(), `window ${window}: each loose blob once, never the used one`);
        const links: string[] = [];
        for (let after: LinkCursor | undefined, first = true; first || after; first = false) {
          const page = await store.lifecycle.staleLinks(cutoff, after, window);
          links.push(...page.links.filter((l) => l.repository === repo).map((l) => l.digest));
          after = page.next;
        }
        assert.deepEqual(links.sort(), [...loose].sort(), `window ${window}: each stale link once`);
      }
    });

    it('a claim skips a blob a manifest refers to, and one touched after the cutoff', async () => {
      const used = digest();
      const fresh = digest();
      await store.linkBlob('p/c', used, 5);
      assert.deepEqual((await store.putManifest('p/c', manifest([used]))).missingBlobs, []);
      const cutoff = Date.now() + 1;
      await new Promise((r) => setTimeout(r, 5));
      await store.linkBlob('p/c', fresh, 5); // touched after the cutoff
      const { claimed } = await store.lifecycle.claimBlobs([used, fresh], cutoff);
      assert.deepEqual(claimed, []);
      assert.ok(await store.repositoryBlob('p/c', used));
      assert.ok(await store.repositoryBlob('p/c', fresh));
    });

    it('a HEAD touch loses to a claim that came first, and wins over one that comes after', async () => {
      const d = digest();
      await store.linkBlob('p/h', d, 5);
      const cutoff = Date.now() + 1;
      await new Promise((r) => setTimeout(r, 5));
      assert.equal(await store.touchBlob('p/h', d), true);
      assert.deepEqual((await store.lifecycle.claimBlobs([d], cutoff)).claimed, [], 'touched after the cutoff: spared');
      const { claimed } = await store.lifecycle.claimBlobs([d], Date.now() + 1);
      assert.equal(claimed.length, 1);
      assert.equal(await store.touchBlob('p/h', d), false, 'claimed: the HEAD must answer 404');
    });

    it('writers pushing images while a collector claims everything unreferenced never leave a manifest pointing at a dead blob', async () => {
      let collecting = true;
      let claimedTotal = 0;
      const collector = (async () => {
        while (collecting) {
          claimedTotal += await collect(store);
          // Room for whole pushes between runs, as well as races inside them.
          await new Promise((r) => setTimeout(r, Math.random() * 4));
        }
      })();
      let pushed = 0;
      let refused = 0;
      const writer = async (w: number) => {
        for (let i = 0; i < 40; i++) {
          const repo = `race/w${w}`;
          const blobs = [digest(), digest()];
          let ok = true;
          for (const b of blobs) {
            const state = await store.reserveBlob(b, 100);
            if (state === 'deleting') {
              ok = false;
              break;
            }
            try {
              await store.linkBlob(repo, b, 100);
            } catch (e) {
              if (!(e instanceof BlobCollectedError)) throw e;
              ok = false;
            }
          }
          if (!ok) {
            refused++;
            continue;
          }
          const m = manifest(blobs);
          if ((await store.reserveBlob(m.digest, m.size)) === 'deleting') {
            refused++;
            continue;
          }
          const result = await store.putManifest(repo, m, `t${i}`);
          if (result.missingBlobs.length || result.bytesCollected) refused++;
          else pushed++;
        }
      };
      try {
        await Promise.all([0, 1, 2, 3].map(writer));
      } finally {
        collecting = false;
        await collector;
      }
      assert.ok(pushed > 0, 'some pushes got through');
      assert.ok(claimedTotal > 0, 'the collector took something');
      assert.deepEqual(await broken(store), []);
      process.stderr.write(`# ${name}: ${pushed} manifests stored, ${refused} refused (retry), ${claimedTotal} blobs collected\n`);
    });
  });
}

protocolSuite('sqlite', () => tempSqliteStore('gc-protocol'));

let pgServer: PostgresServer | undefined;
protocolSuite(
  'postgres',
  async () => {
    pgServer = await startPostgres();
    const store = await openPostgresMetadata({ url: await pgServer.createDatabase('gcprotocol') });
    return {
      store,
      async cleanup() {
        await store.close();
        await pgServer?.stop();
      },
    };
  },
  postgresSkip(),
);
