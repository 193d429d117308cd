// End to end: Debian's docker-registry (CNCF Distribution 2.8) is filled with skopeo, stopped, and
// its storage imported with `berth import`; berth then serves the very same bytes under the same
// digests, minus what was deleted through the API. Also: hard links, reruns, and a killed import.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImportReport } from '../../src/import/report.ts';
import { makeOciLayout, readLayoutBlob, sha256, type LayoutResult } from '../helpers/images.ts';
import { clientSandbox, hasCommand, repoRoot, run, startBerth, startDistribution, tempDir, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { DistTree, type TreeImage } from './dist-tree.ts';

const cli = (args: string[]) => run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), ...args], { allowFail: true, timeoutMs: 300_000 });

async function berthConfig(path: string, root: string): Promise<string> {
  await writeFile(path, `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${root}\n`);
  return path;
}

function parseReport(stdout: string, stderr: string): ImportReport {
  try {
    return JSON.parse(stdout) as ImportReport;
  } catch {
    throw new Error(`berth import printed no JSON\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`);
  }
}

/** Every file under berth's blobs/, as digest -> path. */
async function berthBlobFiles(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const base = join(root, 'blobs', 'sha256');
  for (const prefix of await readdir(base).catch(() => [] as string[])) {
    for (const hex of await readdir(join(base, prefix))) out.set(`sha256:${hex}`, join(base, prefix, hex));
  }
  return out;
}

async function withServerLogs<T>(server: RunningServer, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    (e as Error).message += `\n--- ${server.url} logs (tail) ---\n${server.logs().slice(-4000)}`;
    throw e;
  }
}

interface Pushed {
  repo: string;
  tag: string;
  /** Manifest bytes as docker-registry served them before the import. */
  raw: string;
  /** Source OCI layout, when pushed with --preserve-digests from one. */
  layout?: LayoutResult;
  all?: boolean;
}

describe('berth import of a docker-registry storage tree', { skip: !(hasCommand('docker-registry') && hasCommand('skopeo')) && 'needs docker-registry and skopeo' }, () => {
  let work: { path: string; cleanup(): Promise<void> };
  let sb: ClientSandbox;
  let berth: RunningServer | undefined;
  const pushed: Pushed[] = [];
  let deleted: { repo: string; tag: string; digest: string };
  let distRoot: string;
  let berthRoot: string;
  let config: string;

  const skopeo = (...args: string[]) => run('skopeo', ['--insecure-policy', ...args], { env: sb.env });
  const copy = (...args: string[]) => skopeo('copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', ...args);
  const inspectRaw = async (host: string, ref: string) => (await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${host}/${ref}`)).stdout;

  /** Pulls every pushed reference from `host`; manifests, digests and blob bytes must be as pushed. */
  const pullAndCompare = async (host: string) => {
    let n = 0;
    for (const p of pushed) {
      const ref = `${p.repo}:${p.tag}`;
      assert.equal(await inspectRaw(host, ref), p.raw, `${ref}: manifest bytes`);
      const out = join(work.path, `pull-${n++}`);
      if (p.layout) {
        await copy('--preserve-digests', ...(p.all ? ['--all'] : []), `docker://${host}/${ref}`, `oci:${out}:${p.tag}`);
        const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
        assert.equal(index.manifests[0]!.digest, p.layout.digest, `${ref}: digest`);
        for (const d of p.layout.blobs) assert.deepEqual(await readLayoutBlob(out, d), await readLayoutBlob(p.layout.dir, d), `${ref}: blob ${d}`);
      } else {
        await copy(`docker://${host}/${ref}`, `dir:${out}`);
        assert.equal(await readFile(join(out, 'manifest.json'), 'utf8'), p.raw);
        const m = JSON.parse(p.raw) as { config: { digest: string }; layers: { digest: string }[] };
        for (const d of [m.config.digest, ...m.layers.map((l) => l.digest)]) assert.equal(sha256(await readFile(join(out, d.slice(7)))), d, `${ref}: blob ${d}`);
      }
    }
  };

  before(async () => {
    work = await tempDir('import-e2e');
    sb = await clientSandbox('import-e2e');
    distRoot = join(work.path, 'distribution');
    berthRoot = join(work.path, 'berth');
    config = await berthConfig(join(work.path, 'berth.yml'), berthRoot);

    const src = join(work.path, 'layout');
    const v1 = await makeOciLayout(src, { tag: 'v1', layers: 3, layerBytes: 256 * 1024 });
    const v2 = await makeOciLayout(src, { tag: 'v2', layers: 2, layerBytes: 128 * 1024 });
    const old = await makeOciLayout(src, { tag: 'old', layers: 1, layerBytes: 64 * 1024 });
    const multi = await makeOciLayout(src, {
      tag: 'multi',
      layers: 2,
      layerBytes: 32 * 1024,
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
        { os: 'linux', architecture: 's390x' },
      ],
    });

    const dist = await startDistribution({ root: distRoot, deleteEnabled: true });
    try {
      const push = async (layout: LayoutResult, repo: string, tag: string, all = false) => {
        await copy('--preserve-digests', ...(all ? ['--all'] : []), `oci:${src}:${layout.tag}`, `docker://${dist.host}/${repo}:${tag}`);
        pushed.push({ repo, tag, layout, all, raw: await inspectRaw(dist.host, `${repo}:${tag}`) });
      };
      await push(v1, 'library/alpine', 'v1');
      await push(v2, 'library/alpine', 'v2');
      await push(v2, 'library/alpine', 'latest');
      await push(v2, 'team', 'base');
      await push(v1, 'team/app', 'v1');
      await push(multi, 'multi/img', 'multi', true);
      // A Docker schema 2 manifest too (converted by skopeo, so its digest is whatever the registry got).
      await copy('--format', 'v2s2', `oci:${src}:v1`, `docker://${dist.host}/library/alpine:docker`);
      pushed.push({ repo: 'library/alpine', tag: 'docker', raw: await inspectRaw(dist.host, 'library/alpine:docker') });

      // Deleted through the API (by digest, which is what registry:2 2.8 supports).
      await copy('--preserve-digests', `oci:${src}:old`, `docker://${dist.host}/team/app:old`);
      deleted = { repo: 'team/app', tag: 'old', digest: old.digest };
      await skopeo('delete', '--tls-verify=false', `docker://${dist.host}/team/app:old`);
      const gone = await fetch(`${dist.url}/v2/team/app/manifests/old`);
      assert.equal(gone.status, 404, 'docker-registry itself no longer has the deleted tag');
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
    assert.equal(report.repositories, 4);
    // alpine: v1, v2, docker; team: v2; team/app: v1; multi/img: index + 3 images.
    assert.equal(report.imported.manifests, 9);
    assert.equal(report.imported.tags, 7);
    assert.ok(report.imported.blobs > 0);
    assert.equal(report.imported.hardLinked, report.imported.blobs, 'same filesystem: every blob hard-linked');
    assert.equal(report.imported.copied, 0);

    const layer = pushed[0]!.layout!.images[0]!.layers[0]!.digest;
    const hex = layer.slice(7);
    const [a, b] = await Promise.all([
      stat(join(distRoot, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data')),
      stat(join(berthRoot, 'blobs', 'sha256', hex.slice(0, 2), hex)),
    ]);
    assert.equal(b.ino, a.ino, 'the layer is the same inode in both trees');

    berth = await startBerth({ root: berthRoot });
    const catalog = (await (await fetch(`${berth.url}/v2/_catalog`)).json()) as { repositories: string[] };
    assert.deepEqual(catalog.repositories, ['library/alpine', 'multi/img', 'team', 'team/app']);

    // A failed pull is easier to read next to what the server logged.
    await withServerLogs(berth, () => pullAndCompare(berth!.host));

    const tags = JSON.parse((await skopeo('list-tags', '--tls-verify=false', `docker://${berth.host}/team/app`)).stdout) as { Tags: string[] };
    assert.deepEqual(tags.Tags, ['v1'], 'the deleted tag is absent');
    const gone = await fetch(`${berth.url}/v2/${deleted.repo}/manifests/${deleted.digest}`);
    assert.equal(gone.status, 404, 'and so is its deleted manifest');
    await berth.stop();
    berth = undefined;
  });

  it('a second import reports nothing new', async () => {
    const res = await cli(['import', join(distRoot, 'docker', 'registry', 'v2'), '--config', config, '--json']);
    assert.equal(res.code, 0, res.stderr);
    const report = parseReport(res.stdout, res.stderr);
    assert.deepEqual(report.skipped, []);
    assert.deepEqual(report.imported, { blobs: 0, layerLinks: 0, manifests: 0, tags: 0, bytes: 0, hardLinked: 0, copied: 0 });
    assert.equal(report.present.manifests, 9);
    assert.equal(report.present.tags, 7);
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
