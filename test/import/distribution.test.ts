// End to end: Debian's docker-registry (CNCF Distribution 2.8) is filled with skopeo, stopped, and
// its storage imported with `berth import`; berth then serves the very same bytes under the same
// digests, minus what was deleted through the API. Also: hard links, reruns, and a killed import.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '../helpers/images.ts';
import { clientSandbox, hasCommand, repoRoot, startBerth, startDistribution, tempDir, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { DistTree, type TreeImage } from './dist-tree.ts';
import { berthConfig, cli, EXPECTED, parseReport, skopeoClient, withServerLogs, type Fixture } from './registry-fixture.ts';

/** Every file under berth's blobs/, as digest -> path. */
async function berthBlobFiles(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const base = join(root, 'blobs', 'sha256');
  for (const prefix of await readdir(base).catch(() => [] as string[])) {
    for (const hex of await readdir(join(base, prefix))) out.set(`sha256:${hex}`, join(base, prefix, hex));
  }
  return out;
}

describe('berth import of a docker-registry storage tree', { skip: !(hasCommand('docker-registry') && hasCommand('skopeo')) && 'needs docker-registry and skopeo' }, () => {
  let work: { path: string; cleanup(): Promise<void> };
  let sb: ClientSandbox;
  let client: ReturnType<typeof skopeoClient>;
  let berth: RunningServer | undefined;
  let fixture: Fixture;
  let distRoot: string;
  let berthRoot: string;
  let config: string;

  before(async () => {
    work = await tempDir('import-e2e');
    sb = await clientSandbox('import-e2e');
    client = skopeoClient(sb, work.path);
    distRoot = join(work.path, 'distribution');
    berthRoot = join(work.path, 'berth');
    config = await berthConfig(join(work.path, 'berth.yml'), berthRoot);
    const dist = await startDistribution({ root: distRoot, deleteEnabled: true });
    try {
      fixture = await client.fill(dist);
    } finally {
      await dist.stop();
    }
  });

  after(async () => {
    await berth?.stop();
    await sb?.cleanup();
    await work?.cleanup();
  });

  it('imports everything, hard-linked, and berth serves identical digests and bytes', async () => {
    const res = await cli(['import', distRoot, '--config', config, '--json']);
    assert.equal(res.code, 0, res.stderr);
    const report = parseReport(res.stdout, res.stderr);
    assert.deepEqual(report.skipped, []);
    assert.equal(report.repositories, EXPECTED.repositories);
    assert.equal(report.imported.manifests, EXPECTED.manifests);
    assert.equal(report.imported.tags, EXPECTED.tags);
    assert.ok(report.imported.blobs > 0);
    assert.equal(report.imported.hardLinked, report.imported.blobs, 'same filesystem: every blob hard-linked');
    assert.equal(report.imported.copied, 0);

    const layer = fixture.pushed[0]!.layout!.images[0]!.layers[0]!.digest;
    const hex = layer.slice(7);
    const [a, b] = await Promise.all([
      stat(join(distRoot, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data')),
      stat(join(berthRoot, 'blobs', 'sha256', hex.slice(0, 2), hex)),
    ]);
    assert.equal(b.ino, a.ino, 'the layer is the same inode in both trees');

    berth = await startBerth({ root: berthRoot });
    await client.checkServed(berth, fixture);
    await berth.stop();
    berth = undefined;
  });

  it('a second import reports nothing new', async () => {
    const res = await cli(['import', join(distRoot, 'docker', 'registry', 'v2'), '--config', config, '--json']);
    assert.equal(res.code, 0, res.stderr);
    const report = parseReport(res.stdout, res.stderr);
    assert.deepEqual(report.skipped, []);
    assert.deepEqual(report.imported, { blobs: 0, layerLinks: 0, manifests: 0, tags: 0, bytes: 0, hardLinked: 0, copied: 0 });
    assert.equal(report.present.manifests, EXPECTED.manifests);
    assert.equal(report.present.tags, EXPECTED.tags);
    assert.equal(report.verifiedBytes, 0, 'nothing hashed again');
  });

  it('an import killed midway is completed by a rerun', async () => {
    // Large enough that hashing takes a while; written directly in distribution's layout.
    const tree = new DistTree(join(work.path, 'big-distribution'));
    const images: TreeImage[] = [];
    for (let r = 0; r < 3; r++) images.push(await tree.image(`big/r${r}`, { tag: 'v1', layers: 16, layerBytes: 4 * 1024 * 1024 }));
    const total = images.reduce((sum, i) => sum + i.layers.length + 1, 0);
    const root = join(work.path, 'berth-big');
    const cfg = await berthConfig(join(work.path, 'berth-big.yml'), root);

    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'import', tree.root, '--config', cfg, '--quiet'], {
      cwd: repoRoot,
      stdio: 'ignore',
      detached: true, // own process group: the kill reaches tsx's esbuild helper too
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let landed = 0;
    let finished = false;
    void exited.then(() => (finished = true));
    while (!finished) {
      landed = (await berthBlobFiles(root)).size;
      if (landed > 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    process.kill(-child.pid!, 'SIGKILL');
    await exited;
    assert.ok(landed > 0 && landed < total, `killed with ${landed} of ${total} blobs in place`);

    // Whatever the kill left is whole: every blob file in berth hashes to its name.
    for (const [digest, path] of await berthBlobFiles(root)) assert.equal(sha256(await readFile(path)), digest);

    const res = await cli(['import', tree.root, '--config', cfg, '--json']);
    assert.equal(res.code, 0, res.stderr);
    const report = parseReport(res.stdout, res.stderr);
    assert.deepEqual(report.skipped, []);
    assert.equal(report.imported.layerLinks + report.present.layerLinks, total, 'each blob link either already there or made now');
    assert.ok(report.present.layerLinks + report.present.blobs > 0, 'the rerun found the killed run\'s work');
    assert.equal(report.imported.tags + report.present.tags, 3);

    const server = await startBerth({ root });
    berth = server;
    await withServerLogs(server, async () => {
      for (const [r, img] of images.entries()) {
        const m = await fetch(`${server.url}/v2/big/r${r}/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
        assert.equal(m.status, 200);
        assert.deepEqual(Buffer.from(await m.arrayBuffer()), img.bytes);
        for (const d of [img.config, ...img.layers]) {
          const blob = await fetch(`${server.url}/v2/big/r${r}/blobs/${d}`);
          assert.equal(blob.status, 200);
          assert.equal(sha256(Buffer.from(await blob.arrayBuffer())), d);
        }
      }
    });
    await server.stop();
    berth = undefined;

    const rerun = await cli(['import', tree.root, '--config', cfg, '--json']);
    assert.equal(rerun.code, 0, rerun.stderr);
    const again = parseReport(rerun.stdout, rerun.stderr);
    assert.equal(again.imported.blobs + again.imported.manifests + again.imported.tags + again.imported.layerLinks, 0);
  });
});
