// The importer in-process, on synthetic distribution trees: what lands in berth's stores, what is
// skipped and why, hard links vs copies, dry runs, reruns and runs that die midway.
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FilesystemSource } from '../../src/import/fs-source.ts';
import { importDistribution, type ImportTarget } from '../../src/import/importer.ts';
import type { ImportReport, SkipCode } from '../../src/import/report.ts';
import type { DistributionSource } from '../../src/import/source.ts';
import { openSqliteMetadata } from '../../src/metadata/sqlite.ts';
import type { MetadataStore } from '../../src/metadata/store.ts';
import { FilesystemBlobStore } from '../../src/storage/drivers/filesystem.ts';
import { tempDir } from '../helpers/processes.ts';
import { DistTree, schema1Manifest, sha256 } from './dist-tree.ts';

interface Fixture {
  tree: DistTree;
  source: FilesystemSource;
  blobs: FilesystemBlobStore;
  metadata: MetadataStore;
  target: ImportTarget;
  berthRoot: string;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const codes = (r: ImportReport) => r.skipped.map((s) => `${s.kind} ${s.repository} ${s.code}`).sort();
const nothingNew = (r: ImportReport) => {
  const { blobs, bytes, layerLinks, manifests, tags } = r.imported;
  assert.deepEqual({ blobs, bytes, layerLinks, manifests, tags }, { blobs: 0, bytes: 0, layerLinks: 0, manifests: 0, tags: 0 });
};

describe('importer', () => {
  let dir: { path: string; cleanup(): Promise<void> };
  let f: Fixture;
  let n = 0;

  const openTarget = async (root: string) => {
    const blobs = await FilesystemBlobStore.open(root);
    const metadata = await openSqliteMetadata(join(root, 'berth.sqlite'));
    return { blobs, metadata, target: { blobs, metadata, location: root } };
  };

  beforeEach(async () => {
    dir ??= await tempDir('import-unit');
    const base = join(dir.path, String(n++));
    const tree = new DistTree(join(base, 'registry'));
    const berthRoot = join(base, 'berth');
    f = { tree, source: new FilesystemSource(tree.v2), berthRoot, ...(await openTarget(berthRoot)) };
  });
  afterEach(() => f.metadata.close());
  after(() => dir?.cleanup());

  it('imports layers, manifests, an index and tags; blobs are hard-linked; a rerun finds nothing new', async () => {
    const a = await f.tree.image('app', { tag: 'v1', layers: 3 });
    const b = await f.tree.image('team/app', { tag: 'b' });
    const c = await f.tree.image('team/app', {});
    const idx = await f.tree.index('team/app', [b, c], 'multi');
    await f.tree.tag('team/app', 'also-b', b.digest);
    await f.tree.upload('app');

    const r = await importDistribution(f.source, f.target);
    assert.deepEqual(r.skipped, []);
    assert.equal(r.repositories, 2);
    assert.equal(r.imported.manifests, 4);
    assert.equal(r.imported.tags, 4);
    assert.equal(r.imported.blobs, 3 + 1 + 2 * (2 + 1));
    assert.equal(r.imported.hardLinked, r.imported.blobs);
    assert.equal(r.imported.copied, 0);

    const { metadata, blobs } = f;
    assert.equal(await metadata.resolveTag('app', 'v1'), a.digest);
    assert.equal(await metadata.resolveTag('team/app', 'multi'), idx.digest);
    assert.equal(await metadata.resolveTag('team/app', 'also-b'), b.digest);
    assert.equal((await metadata.manifest('team/app', idx.digest))?.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.ok(await metadata.manifest('team/app', c.digest), 'untagged child of the index');
    assert.deepEqual(await metadata.listRepositories({}), ['app', 'team/app']);
    for (const d of [...a.layers, a.config]) assert.ok(await metadata.repositoryBlob('app', d));
    assert.equal(await metadata.repositoryBlob('app', b.layers[0]!), undefined, 'links stay per repository');
    assert.deepEqual(await readAll(await blobs.read(idx.digest)), idx.bytes);

    const layer = a.layers[0]!;
    const [src, dst] = await Promise.all([stat(f.tree.blobDataPath(layer)), stat(blobs.pathOf(layer))]);
    assert.equal(dst.ino, src.ino, 'same inode: hard link, no copy');

    const again = await importDistribution(f.source, f.target);
    assert.deepEqual(again.skipped, []);
    nothingNew(again);
    assert.equal(again.present.manifests, 4);
    assert.equal(again.present.tags, 4);
    assert.equal(again.verifiedBytes, 0, 'nothing re-hashed');
  });

  it('skips a corrupt blob, a missing blob, a tag to a missing revision and a schema 1 manifest, with reasons', async () => {
    const good = await f.tree.image('repo', { tag: 'good' });
    const corrupt = await f.tree.image('repo', { tag: 'corrupt' });
    await f.tree.corrupt(corrupt.layers[0]!);
    const missing = await f.tree.image('repo', { tag: 'missing' });
    await f.tree.removeBlob(missing.layers[1]!);
    const gone = await f.tree.image('repo', { tag: 'gone' });
    await f.tree.deleteRevision('repo', gone.digest);
    await f.tree.tag('repo', 'dangling', sha256('never pushed'));
    const old = await f.tree.blob('old layer');
    await f.tree.linkLayer('legacy', old);
    const s1 = await f.tree.manifest('legacy', schema1Manifest('legacy', old), 'old');
    const broken = await f.tree.manifest('legacy', '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}', 'broken');
    const idx = await f.tree.index('repo', [good, corrupt], 'multi');
    const lostManifest = await f.tree.image('repo', { tag: 'lost' });
    await f.tree.removeBlob(lostManifest.digest);

    const r = await importDistribution(f.source, f.target);
    assert.deepEqual(codes(r), [
      'layer repo blob-missing',
      'layer repo digest-mismatch',
      'manifest legacy manifest-invalid',
      'manifest legacy schema1',
      'manifest repo blob-missing',
      'manifest repo manifest-blob-missing',
      'manifest repo manifest-blob-missing',
      'manifest repo manifest-child-missing',
      'tag legacy tag-manifest-skipped',
      'tag legacy tag-manifest-skipped',
      'tag repo tag-manifest-skipped',
      'tag repo tag-manifest-skipped',
      'tag repo tag-manifest-skipped',
      'tag repo tag-manifest-skipped',
      'tag repo tag-revision-missing',
      'tag repo tag-revision-missing',
    ]);
    const by = (ref: string) => r.skipped.find((s) => s.ref === ref)!;
    assert.match(by(corrupt.layers[0]!).reason, /hashes to sha256:/);
    assert.match(by(s1).reason, /schema 1/);
    assert.equal(by(broken).code, 'manifest-invalid');
    assert.match(by(idx.digest).reason, new RegExp(`${corrupt.digest} was skipped`));
    assert.match(by('dangling').reason, /not a manifest of the repository/);
    assert.equal(by('gone').code, 'tag-revision-missing');

    // What was sound is there, the rest is not, and nothing broken reached the blob store.
    assert.equal(await f.metadata.resolveTag('repo', 'good'), good.digest);
    for (const tag of ['corrupt', 'missing', 'gone', 'dangling', 'multi', 'lost']) assert.equal(await f.metadata.resolveTag('repo', tag), undefined, tag);
    assert.equal(await f.blobs.stat(corrupt.layers[0]!), undefined);
    assert.ok(await f.metadata.repositoryBlob('legacy', old), 'the layer itself is fine');
    assert.equal(await f.metadata.manifest('legacy', s1), undefined);

    // Skips are stable: a rerun reports the same ones and imports nothing more.
    const again = await importDistribution(f.source, f.target);
    assert.deepEqual(codes(again), codes(r));
    nothingNew(again);
  });

  it('links blobs a manifest references even when _layers lacks them, if the blob is sound', async () => {
    const img = await f.tree.image('r', { tag: 't' });
    const { rm } = await import('node:fs/promises');
    await rm(join(f.tree.v2, 'repositories', 'r', '_layers', 'sha256', img.config.slice(7)), { recursive: true });
    const r = await importDistribution(f.source, f.target);
    assert.deepEqual(r.skipped, []);
    assert.ok(await f.metadata.repositoryBlob('r', img.config));
    assert.equal(await f.metadata.resolveTag('r', 't'), img.digest);
  });

  it('a dry run verifies and counts the same as a real run but writes nothing', async () => {
    const img = await f.tree.image('r', { tag: 't' });
    await f.tree.corrupt(img.layers[0]!);
    await f.tree.image('r', { tag: 'ok' });
    const dry = await importDistribution(f.source, f.target, { dryRun: true });
    assert.equal(dry.dryRun, true);
    assert.ok(dry.verifiedBytes > 0);
    assert.deepEqual(await f.metadata.listRepositories({}), []);
    const written: string[] = [];
    for await (const b of f.blobs.walk()) written.push(b.digest);
    assert.deepEqual(written, []);

    const real = await importDistribution(f.source, f.target);
    assert.deepEqual(codes(dry), codes(real));
    const { hardLinked: _h, ...dryCounts } = dry.imported;
    const { hardLinked: _r, ...realCounts } = real.imported;
    assert.deepEqual({ ...dryCounts, copied: 0 }, { ...realCounts, copied: 0 });
  });

  it('streams a verified copy when hard links are impossible (EXDEV) or the source is not local', async () => {
    const img = await f.tree.image('r', { tag: 't', layers: 8, layerBytes: 1024 * 1024 + 7 });
    await f.tree.corrupt(img.layers[1]!, Buffer.alloc(1024 * 1024 + 7));
    // A filesystem driver that behaves as if berth's root were on another filesystem.
    let refused = 0;
    const blobs = Object.create(f.blobs) as FilesystemBlobStore;
    blobs.importFile = async () => {
      refused++;
      return false;
    };
    const r = await importDistribution(f.source, { ...f.target, blobs });
    // Blobs already verifying when the first link failed still try; none after that.
    assert.ok(refused >= 1 && refused <= 4, `after an EXDEV the import stops trying to link (tried ${refused} times)`);
    assert.equal(r.imported.hardLinked, 0);
    assert.equal(r.imported.copied, 8, 'config and the 7 sound layers');
    assert.deepEqual(codes(r), ['layer r digest-mismatch', 'manifest r manifest-blob-missing', 'tag r tag-manifest-skipped']);
    const layer = img.layers[0]!;
    assert.deepEqual(await readFile(f.blobs.pathOf(layer)), await readFile(f.tree.blobDataPath(layer)));
    assert.notEqual((await stat(f.blobs.pathOf(layer))).ino, (await stat(f.tree.blobDataPath(layer))).ino);
    const leftovers: string[] = [];
    for await (const u of f.blobs.uploads.list()) leftovers.push(u.id);
    assert.deepEqual(leftovers, [], 'the mismatching upload was aborted');

    // A remote-like source (no localPath) always streams.
    const other = await openTarget(join(f.berthRoot, '..', 'berth-remote'));
    const remote: DistributionSource = {
      location: f.source.location,
      listDirectories: (d) => f.source.listDirectories(d),
      readLink: (p) => f.source.readLink(p),
      stat: (p) => f.source.stat(p),
      open: (p) => f.source.open(p),
    };
    const r2 = await importDistribution(remote, other.target);
    assert.equal(r2.imported.copied, 8);
    assert.equal(r2.imported.hardLinked, 0);
    await other.metadata.close();
  });

  it('never overwrites a tag berth already has pointing elsewhere', async () => {
    const a = await f.tree.image('r', { tag: 't' });
    const b = await f.tree.image('r', {});
    await importDistribution(f.source, f.target);
    await f.tree.tag('r', 't', b.digest); // moved in the source after the first import
    const r = await importDistribution(f.source, f.target);
    assert.deepEqual(codes(r), ['tag r tag-conflict']);
    assert.equal(await f.metadata.resolveTag('r', 't'), a.digest);
  });

  it('a run that dies midway is completed by the next one', async () => {
    for (let i = 0; i < 4; i++) {
      const x = await f.tree.image(`repo${i}`, { tag: 'a' });
      const y = await f.tree.image(`repo${i}`, { tag: 'b' });
      await f.tree.index(`repo${i}`, [x, y], 'multi');
    }
    // Fail the 6th metadata write, as a kill would stop the process there.
    let writes = 0;
    const dying = Object.create(f.metadata) as MetadataStore;
    dying.putManifest = async (...args) => {
      if (++writes === 6) throw new Error('killed');
      return f.metadata.putManifest(...args);
    };
    await assert.rejects(() => importDistribution(f.source, { ...f.target, metadata: dying }), /killed/);
    assert.ok((await f.metadata.listRepositories({})).length < 4);

    const r = await importDistribution(f.source, f.target);
    assert.deepEqual(r.skipped, []);
    assert.ok(r.present.manifests > 0 && r.imported.manifests > 0);
    assert.equal(r.present.manifests + r.imported.manifests, 12);
    assert.equal(r.present.tags + r.imported.tags, 12);
    for (let i = 0; i < 4; i++) assert.ok(await f.metadata.resolveTag(`repo${i}`, 'multi'));
    nothingNew(await importDistribution(f.source, f.target));
  });

  it('removes uploads a killed import left behind, but not recent ones or anyone else\'s', async () => {
    const { removeStaleImportUploads } = await import('../../src/import/blob-transfer.ts');
    const { utimes } = await import('node:fs/promises');
    await f.blobs.uploads.create('import-old');
    await f.blobs.uploads.create('import-new');
    await f.blobs.uploads.create('0f1e2d3c-client-upload');
    const past = new Date(Date.now() - 3600_000);
    await utimes(join(f.berthRoot, 'uploads', 'import-old'), past, past);
    await utimes(join(f.berthRoot, 'uploads', '0f1e2d3c-client-upload'), past, past);
    assert.equal(await removeStaleImportUploads(f.blobs), 1);
    const ids: string[] = [];
    for await (const u of f.blobs.uploads.list()) ids.push(u.id);
    assert.deepEqual(ids.sort(), ['0f1e2d3c-client-upload', 'import-new']);
  });

  it('reports invalid repository and tag names instead of importing them', async () => {
    await f.tree.image('Upper', { tag: 'x' });
    const img = await f.tree.image('fine', {});
    await f.tree.tag('fine', '.hidden', img.digest);
    const r = await importDistribution(f.source, f.target);
    assert.deepEqual(codes(r), ['repository Upper repository-name-invalid', 'tag fine tag-invalid']);
  });
});

describe('FilesystemBlobStore.importFile', () => {
  it('hard-links on one filesystem and declines across filesystems (EXDEV)', async () => {
    const dir = await tempDir('import-file');
    try {
      const store = await FilesystemBlobStore.open(join(dir.path, 'berth'));
      const tree = new DistTree(join(dir.path, 'registry'));
      const digest = await tree.blob('same filesystem');
      assert.equal(await store.importFile(digest, tree.blobDataPath(digest)), true);
      assert.equal((await stat(store.pathOf(digest))).ino, (await stat(tree.blobDataPath(digest))).ino);
      assert.equal(await store.importFile(digest, tree.blobDataPath(digest)), true, 'again: same inode, still fine');
      const { readdir } = await import('node:fs/promises');
      assert.deepEqual(await readdir(join(dir.path, 'berth', 'tmp')), [], 'no temporary link left behind');

      const shm = '/dev/shm';
      const other = await stat(shm).catch(() => undefined);
      if (other && other.dev !== (await stat(dir.path)).dev) {
        const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
        const far = await mkdtemp(join(shm, 'berth-import-'));
        try {
          await writeFile(join(far, 'data'), 'elsewhere');
          assert.equal(await store.importFile(sha256('elsewhere'), join(far, 'data')), false);
          assert.equal(await store.stat(sha256('elsewhere')), undefined);
        } finally {
          await rm(far, { recursive: true, force: true });
        }
      }
    } finally {
      await dir.cleanup();
    }
  });
});
