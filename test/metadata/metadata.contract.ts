// The metadata store contract, run against every implementation (SQLite and PostgreSQL).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { MetadataStore, NewManifest } from '../../src/metadata/store.ts';

const d = (s: string | Buffer = randomBytes(8)) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

function image(blobs: string[], extra: Partial<NewManifest> = {}): NewManifest {
  return { digest: d(), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 100, blobs, children: [], configDigest: blobs[0], ...extra };
}

export interface ContractOptions {
  /** A reason to skip the whole suite (e.g. PostgreSQL tests turned off explicitly). */
  skip?: string | false;
}

export function metadataContract(
  name: string,
  open: () => Promise<{ store: MetadataStore; cleanup(): Promise<void> }>,
  options: ContractOptions = {},
): void {
  describe(`MetadataStore contract: ${name}`, { skip: options.skip }, () => {
    let store: MetadataStore;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await open());
    });
    after(() => cleanup?.());

    it('links blobs per repository', async () => {
      const blob = d();
      await store.linkBlob('a/one', blob, 10);
      await store.linkBlob('a/one', blob, 10);
      assert.equal((await store.repositoryBlob('a/one', blob))?.size, 10);
      assert.equal(await store.repositoryBlob('a/two', blob), undefined);
      assert.equal(await store.unlinkBlob('a/one', blob), true);
      assert.equal(await store.unlinkBlob('a/one', blob), false);
    });

    it('refuses a manifest with missing blobs or children and writes nothing', async () => {
      const present = d();
      await store.linkBlob('b/repo', present, 1);
      const missing = d();
      const m = image([present, missing]);
      const res = await store.putManifest('b/repo', m, 'latest');
      assert.deepEqual(res, { missingBlobs: [missing], missingChildren: [] });
      assert.equal(await store.manifest('b/repo', m.digest), undefined);
      assert.equal(await store.resolveTag('b/repo', 'latest'), undefined);
      const idx: NewManifest = { digest: d(), mediaType: 'application/vnd.oci.image.index.v1+json', size: 50, blobs: [], children: [m.digest] };
      assert.deepEqual(await store.putManifest('b/repo', idx), { missingBlobs: [], missingChildren: [m.digest] });
    });

    it('stores a manifest with its tag, subject and artifact type', async () => {
      const cfg = d();
      await store.linkBlob('c/repo', cfg, 5);
      const m = image([cfg], { artifactType: 'application/x-test', annotations: { a: 'b' } });
      assert.deepEqual(await store.putManifest('c/repo', m, 'v1'), { missingBlobs: [], missingChildren: [] });
      assert.equal(await store.resolveTag('c/repo', 'v1'), m.digest);
      assert.equal((await store.taggedManifest('c/repo', 'v1'))?.digest, m.digest);
      assert.equal(await store.taggedManifest('c/repo', 'nope'), undefined);
      const rec = await store.manifest('c/repo', m.digest);
      assert.equal(rec?.mediaType, m.mediaType);
      assert.equal(rec?.artifactType, 'application/x-test');
      assert.equal(rec?.size, 100);
      // The manifest is linked as a blob of the repository too.
      assert.equal((await store.repositoryBlob('c/repo', m.digest))?.size, 100);
      const ref = image([cfg], { subjectDigest: m.digest, artifactType: 'application/x-sig' });
      await store.putManifest('c/repo', ref);
      const refs = await store.listReferrers('c/repo', m.digest);
      assert.deepEqual(refs.map((r) => r.digest), [ref.digest]);
      assert.deepEqual(await store.listReferrers('c/repo', m.digest, 'application/other'), []);
    });

    it('moves tags, deletes tags, and deletes manifests with their tags', async () => {
      const cfg = d();
      await store.linkBlob('e/repo', cfg, 5);
      const m1 = image([cfg]);
      const m2 = image([cfg]);
      await store.putManifest('e/repo', m1, 'latest');
      await store.putManifest('e/repo', m2, 'latest');
      await store.putManifest('e/repo', m1, 'old');
      assert.equal(await store.resolveTag('e/repo', 'latest'), m2.digest);
      assert.equal(await store.deleteTag('e/repo', 'old'), true);
      assert.equal(await store.deleteTag('e/repo', 'old'), false);
      assert.equal(await store.manifest('e/repo', m1.digest) !== undefined, true);
      await store.putManifest('e/repo', m2, 'also');
      assert.equal(await store.deleteManifest('e/repo', m2.digest), true);
      assert.deepEqual(await store.listTags('e/repo', {}), []);
      assert.equal(await store.deleteManifest('e/repo', m2.digest), false);
    });

    it('pages tags and repositories in lexical order', async () => {
      const cfg = d();
      for (const repo of ['p/b', 'p/a', 'p/c']) {
        await store.linkBlob(repo, cfg, 1);
        const m = image([cfg]);
        for (const t of ['z', 'a', 'm']) await store.putManifest(repo, m, t);
      }
      assert.deepEqual(await store.listTags('p/a', {}), ['a', 'm', 'z']);
      assert.deepEqual(await store.listTags('p/a', { n: 2 }), ['a', 'm']);
      assert.deepEqual(await store.listTags('p/a', { n: 2, last: 'm' }), ['z']);
      assert.equal(await store.listTags('p/none', {}), undefined);
      const repos = await store.listRepositories({ last: 'p/a', n: 2 });
      assert.deepEqual(repos, ['p/b', 'p/c']);
    });

    it('sorts tags and repositories by byte order, not by locale', async () => {
      const cfg = d();
      // Byte order: '-' (2d) < '.' (2e) < '/' (2f) < 'B' < 'Z' < '_' (5f) < 'a'. A locale
      // collation (en_US) would put 'a' before 'B' and ignore the punctuation.
      await store.linkBlob('q/tags', cfg, 1);
      const m = image([cfg]);
      for (const t of ['a', '_x', 'Z', 'B', '-1', '.2']) await store.putManifest('q/tags', m, t);
      assert.deepEqual(await store.listTags('q/tags', {}), ['-1', '.2', 'B', 'Z', '_x', 'a']);
      assert.deepEqual(await store.listTags('q/tags', { n: 2, last: 'B' }), ['Z', '_x']);
      const repos = ['q/a_b', 'q/ab', 'q/a-b', 'q/a/b', 'q/a.b'];
      for (const r of repos) {
        await store.linkBlob(r, cfg, 1);
        await store.putManifest(r, image([cfg]));
      }
      assert.deepEqual(await store.listRepositories({ last: 'q/', n: 5 }), ['q/a-b', 'q/a.b', 'q/a/b', 'q/a_b', 'q/ab']);
      assert.deepEqual(await store.listRepositories({ last: 'q/a/b', n: 2 }), ['q/a_b', 'q/ab']);
    });

    it('lists only repositories that hold a manifest', async () => {
      await store.linkBlob('r/blobs-only', d(), 1);
      assert.equal(await store.repositoryExists('r/blobs-only'), true);
      assert.deepEqual(await store.listRepositories({ last: 'r/', n: 1 }), []);
    });

    it('re-creates a deleted manifest when it is pushed again, with its tag', async () => {
      const cfg = d();
      await store.linkBlob('s/repo', cfg, 5);
      const m = image([cfg]);
      await store.putManifest('s/repo', m, 'v1');
      assert.equal(await store.deleteManifest('s/repo', m.digest), true);
      assert.equal(await store.resolveTag('s/repo', 'v1'), undefined);
      assert.deepEqual(await store.putManifest('s/repo', m, 'v2'), { missingBlobs: [], missingChildren: [] });
      assert.equal((await store.taggedManifest('s/repo', 'v2'))?.digest, m.digest);
      assert.deepEqual(await store.listTags('s/repo', {}), ['v2']);
      // An index whose child was deleted is refused; with the child back it is accepted.
      const idx: NewManifest = { digest: d(), mediaType: 'application/vnd.oci.image.index.v1+json', size: 9, blobs: [], children: [m.digest] };
      await store.deleteManifest('s/repo', m.digest);
      assert.deepEqual(await store.putManifest('s/repo', idx), { missingBlobs: [], missingChildren: [m.digest] });
      await store.putManifest('s/repo', m);
      assert.deepEqual(await store.putManifest('s/repo', idx, 'multi'), { missingBlobs: [], missingChildren: [] });
    });

    it('stays consistent under concurrent writers in one process', async () => {
      const cfg = d();
      await store.linkBlob('t/repo', cfg, 5);
      const ms = Array.from({ length: 8 }, () => image([cfg]));
      const ops: Promise<unknown>[] = [];
      for (let round = 0; round < 3; round++) {
        for (const m of ms) {
          ops.push(store.putManifest('t/repo', m, 'latest'));
          ops.push(store.linkBlob('t/repo', cfg, 5));
          ops.push(store.putManifest('t/repo', m, `own-${round}`));
        }
        ops.push(store.deleteManifest('t/repo', ms[round]!.digest));
      }
      await Promise.all(ops);
      for (const tag of (await store.listTags('t/repo', {})) ?? []) {
        const target = await store.taggedManifest('t/repo', tag);
        assert.ok(target, `tag ${tag} points at a manifest`);
      }
      assert.equal((await store.repositoryBlob('t/repo', cfg))?.size, 5);
    });

    it('records upload sessions', async () => {
      const startedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
      await store.createUpload({ id: 'u-1', repository: 'x/y', startedAt });
      assert.deepEqual(await store.upload('u-1'), { id: 'u-1', repository: 'x/y', startedAt });
      await store.deleteUpload('u-1');
      assert.equal(await store.upload('u-1'), undefined);
    });

    it('passes its health check', async () => {
      await store.check();
    });
  });
}
