// `berth pull` against berth and Debian's docker-registry (CNCF Distribution 2.8): docker archives
// and OCI layouts that skopeo reads back, platform choice from an index, --all-platforms, docker
// schema 2, resume after a killed process (bytes counted through a proxy), corrupt partials.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { clientSandbox, hasCommand, repoRoot, run, startBerth, startDistribution, tempDir, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { makeOciLayout, sha256, type LayoutResult } from '../helpers/images.ts';
import { berthCli } from './helpers.ts';
import { RegistryClient, putManifest } from '../../src/client/index.ts';
import { downloadBlob } from '../../src/transfer/download.ts';
import { startCountingProxy } from '../helpers/proxy.ts';

const registries: [string, () => Promise<RunningServer>][] = [
  ['berth', () => startBerth()],
  ['docker-registry', () => startDistribution()],
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** Bytes staged in `dir`: complete blobs and `.part` files. */
async function stagedBytes(dir: string): Promise<{ total: number; partial: number }> {
  let total = 0;
  let partial = 0;
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    const size = await stat(join(dir, f)).then((s) => s.size, () => 0);
    total += size;
    if (f.endsWith('.part')) partial += size;
  }
  return { total, partial };
}

interface PullJson {
  reference: string;
  digest: string;
  mediaType: string;
  platform?: string;
  indexDigest?: string;
  output: string;
  format: string;
  layers: number;
  bytes: number;
  downloaded: number;
}

for (const [kind, start] of registries) {
  describe(`berth pull against ${kind}`, { skip: !hasCommand('skopeo') || (kind === 'docker-registry' && !hasCommand('docker-registry')) }, () => {
    let server: RunningServer;
    let sb: ClientSandbox;
    let berth: ReturnType<typeof berthCli>;
    let work: { path: string; cleanup(): Promise<void> };
    const skopeo = (args: string[]) => run('skopeo', args, { env: sb.env, timeoutMs: 120_000 });
    const push = (layout: LayoutResult, repo: string, extra: string[] = []) =>
      skopeo(['copy', '--dest-tls-verify=false', ...extra, `oci:${layout.dir}:${layout.tag}`, `docker://${server.host}/${repo}:${layout.tag}`]);
    const path = (name: string) => join(work.path, name);
    const json = (stdout: string) => JSON.parse(stdout) as PullJson;

    before(async () => {
      server = await start();
      sb = await clientSandbox(`pull-${kind}`, []);
      berth = berthCli(sb.env);
      work = await tempDir(`pull-${kind}-work`);
    });
    after(async () => {
      await server?.stop();
      await sb?.cleanup();
      await work?.cleanup();
    });

    it('pulls one image to a docker archive, an OCI layout directory and an OCI archive', async () => {
      const layout = await makeOciLayout(path('src-single'), { tag: '1.0', layers: 2, layerBytes: 100_000 });
      await push(layout, 'single/app');
      const image = `${server.host}/single/app:1.0`;
      const img = layout.images[0]!;

      const tarball = path('single.tar');
      const r = await berth(['pull', image, '--insecure', '-o', tarball]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '', 'nothing on stdout without --json');
      assert.match(r.stderr, new RegExp(`Pulled ${image.replace(/[.]/g, '\\.')} \\(${layout.digest}\\) to ${tarball.replace(/[.]/g, '\\.')}`));
      assert.equal(await exists(`${tarball}.partial`), false, 'staging removed');
      const raw = JSON.parse((await skopeo(['inspect', '--raw', `docker-archive:${tarball}`])).stdout) as { config: { digest: string } };
      assert.equal(raw.config.digest, img.config.digest);
      const config = JSON.parse((await skopeo(['inspect', '--config', `docker-archive:${tarball}`])).stdout) as { rootfs: { diff_ids: string[] } };
      assert.deepEqual(config.rootfs.diff_ids, img.diffIds);
      const info = JSON.parse((await skopeo(['inspect', `docker-archive:${tarball}`])).stdout) as { RepoTags?: string[]; Layers: string[] };
      assert.deepEqual(info.Layers, img.diffIds);
      await skopeo(['copy', `docker-archive:${tarball}`, `oci:${path('single-back')}:x`]);

      // --format oci: the manifest bytes as stored, under the tag
      const dir = path('single-oci');
      const o = await berth(['pull', image, '--insecure', '--format', 'oci', '-o', dir, '--json']);
      assert.equal(o.code, 0, o.stderr);
      const oj = json(o.stdout);
      assert.equal(oj.digest, layout.digest);
      assert.equal(oj.format, 'oci');
      assert.equal(oj.layers, 2);
      assert.equal(oj.platform, 'linux/amd64');
      assert.equal(oj.bytes, img.config.size + img.layers.reduce((s, l) => s + l.size, 0));
      const manifest = (await skopeo(['inspect', '--raw', `oci:${dir}:1.0`])).stdout;
      assert.equal(sha256(manifest), layout.digest);
      assert.deepEqual((await readdir(join(dir, 'blobs', 'sha256'))).filter((f) => f.includes('.')), [], 'no .part or temp files left');
      const ociCfg = JSON.parse((await skopeo(['inspect', '--config', `oci:${dir}:1.0`])).stdout) as { rootfs: { diff_ids: string[] } };
      assert.deepEqual(ociCfg.rootfs.diff_ids, img.diffIds);

      // --format oci with OUT.tar: the same layout as an archive
      const ociTar = path('single-oci.tar');
      const t = await berth(['pull', image, '--insecure', '--format', 'oci', '-o', ociTar, '-q']);
      assert.equal(t.code, 0, t.stderr);
      assert.equal(t.stderr, '', '--quiet prints nothing');
      assert.equal(sha256((await skopeo(['inspect', '--raw', `oci-archive:${ociTar}:1.0`])).stdout), layout.digest);
      assert.equal(await exists(`${ociTar}.partial`), false);

      // --platform naming another platform than a single-platform image's: written, with docker's warning
      const other = await berth(['pull', image, '--insecure', '-o', path('other.tar'), '--platform', 'linux/arm64', '-q']);
      assert.equal(other.code, 0, other.stderr);
      assert.match(other.stderr, /^warning: .* is a single-platform image for linux\/amd64, not the linux\/arm64 asked for with --platform\n$/);
      const same = await berth(['pull', image, '--insecure', '-o', path('same.tar'), '--platform', 'linux/amd64', '-q']);
      assert.equal(same.stderr, '', 'no warning when the platform matches');

      // by digest
      const d = await berth(['pull', `${server.host}/single/app@${layout.digest}`, '--insecure', '-o', path('bydigest.tar'), '--json']);
      assert.equal(d.code, 0, d.stderr);
      assert.equal(json(d.stdout).digest, layout.digest);
      assert.deepEqual((JSON.parse((await skopeo(['inspect', '--config', `docker-archive:${path('bydigest.tar')}`])).stdout) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids, img.diffIds);
    });

    it('chooses a platform from an index, or keeps them all with --all-platforms --format oci', async () => {
      const platforms = [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
        { os: 'linux', architecture: 'arm', variant: 'v7' },
      ];
      const layout = await makeOciLayout(path('src-multi'), { tag: 'multi', layers: 1, layerBytes: 20_000, platforms });
      await push(layout, 'multi/app', ['--all']);
      const image = `${server.host}/multi/app:multi`;
      const arm64 = layout.images[1]!;

      const r = await berth(['pull', image, '--insecure', '--platform', 'linux/arm64', '-o', path('arm64.tar'), '--json']);
      assert.equal(r.code, 0, r.stderr);
      const j = json(r.stdout);
      assert.equal(j.digest, arm64.manifest.digest);
      assert.equal(j.indexDigest, layout.digest);
      assert.equal(j.platform, 'linux/arm64');
      const cfg = JSON.parse((await skopeo(['inspect', '--config', `docker-archive:${path('arm64.tar')}`])).stdout) as { architecture: string; rootfs: { diff_ids: string[] } };
      assert.equal(cfg.architecture, 'arm64');
      assert.deepEqual(cfg.rootfs.diff_ids, arm64.diffIds);

      // no --platform: this machine's
      const mine = process.arch === 'arm64' ? layout.images[1]! : layout.images[0]!;
      const m = await berth(['pull', image, '--insecure', '--format', 'oci', '-o', path('mine'), '--json']);
      assert.equal(m.code, 0, m.stderr);
      assert.equal(json(m.stdout).digest, mine.manifest.digest);
      assert.equal(sha256((await skopeo(['inspect', '--raw', `oci:${path('mine')}:multi`])).stdout), mine.manifest.digest);

      // --all-platforms: the index as stored, each platform readable
      const all = path('all');
      const a = await berth(['pull', image, '--insecure', '--format', 'oci', '--all-platforms', '-o', all, '--json']);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(json(a.stdout).digest, layout.digest);
      assert.equal(sha256((await skopeo(['inspect', '--raw', `oci:${all}:multi`])).stdout), layout.digest);
      // (skopeo 1.9 reports the index digest for every platform of an oci: image, so compare configs)
      for (const [i, args] of [
        [0, ['--override-arch', 'amd64']],
        [1, ['--override-arch', 'arm64']],
        [2, ['--override-arch', 'arm', '--override-variant', 'v7']],
      ] as const) {
        const c = JSON.parse((await skopeo([...args, 'inspect', '--config', `oci:${all}:multi`])).stdout) as { architecture: string; rootfs: { diff_ids: string[] } };
        assert.equal(c.architecture, platforms[i]!.architecture, `platform ${i}`);
        assert.deepEqual(c.rootfs.diff_ids, layout.images[i]!.diffIds, `platform ${i}`);
      }

      // usage errors: exit 2
      const bad = await berth(['pull', image, '--insecure', '--platform', 'linux/s390x', '-o', path('none.tar')]);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /linux\/s390x/);
      for (const p of ['linux/amd64', 'linux/arm64', 'linux/arm/v7']) assert.ok(bad.stderr.includes(p), bad.stderr);
      assert.equal(await exists(path('none.tar.partial')), false, 'no staging left by a usage error');
      if (kind !== 'berth') return; // the rest is the client's own argument checking
      const dockerAll = await berth(['pull', image, '--insecure', '--all-platforms', '-o', path('all.tar')]);
      assert.equal(dockerAll.code, 2);
      assert.match(dockerAll.stderr, /--all-platforms needs --format oci/);
      assert.equal((await berth(['pull', image, '--insecure', '--format', 'zip', '-o', path('x')])).code, 2);
      assert.equal((await berth(['pull', image, '--insecure'])).code, 2, 'missing -o');
    });

    it('pulls a docker schema 2 image (skopeo --format v2s2)', async () => {
      const layout = await makeOciLayout(path('src-v2'), { tag: 'v2', layers: 2, layerBytes: 30_000 });
      await push(layout, 'docker/app', ['--format', 'v2s2']);
      const image = `${server.host}/docker/app:v2`;
      const registryRaw = (await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${image}`])).stdout;
      assert.match(registryRaw, /application\/vnd\.docker\.distribution\.manifest\.v2\+json/);
      const digest = sha256(registryRaw);

      const r = await berth(['pull', image, '--insecure', '-o', path('v2.tar'), '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(json(r.stdout).digest, digest);
      assert.equal(json(r.stdout).mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
      const cfg = JSON.parse((await skopeo(['inspect', '--config', `docker-archive:${path('v2.tar')}`])).stdout) as { rootfs: { diff_ids: string[] } };
      assert.deepEqual(cfg.rootfs.diff_ids, layout.images[0]!.diffIds);

      // --format oci: converted to OCI media types as skopeo copy ... oci: does (skopeo reads no
      // docker types from a layout); config and layer blobs unchanged
      const o = await berth(['pull', image, '--insecure', '--format', 'oci', '-o', path('v2-oci'), '--json']);
      assert.equal(o.code, 0, o.stderr);
      const oj = json(o.stdout) as PullJson & { sourceDigest?: string };
      assert.equal(oj.sourceDigest, digest);
      assert.equal(oj.mediaType, 'application/vnd.oci.image.manifest.v1+json');
      const ociRaw = (await skopeo(['inspect', '--raw', `oci:${path('v2-oci')}:v2`])).stdout;
      assert.equal(sha256(ociRaw), oj.digest);
      const stored = JSON.parse(ociRaw) as { mediaType: string; config: { digest: string }; layers: { digest: string; mediaType: string }[] };
      const orig = JSON.parse(registryRaw) as { config: { digest: string }; layers: { digest: string }[] };
      assert.equal(stored.config.digest, orig.config.digest);
      assert.deepEqual(stored.layers.map((l) => l.digest), orig.layers.map((l) => l.digest));
      assert.ok(stored.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar+gzip'));
      const ociCfg = JSON.parse((await skopeo(['inspect', '--config', `oci:${path('v2-oci')}:v2`])).stdout) as { rootfs: { diff_ids: string[] } };
      assert.deepEqual(ociCfg.rootfs.diff_ids, layout.images[0]!.diffIds);
    });

    it('pulls from a docker manifest list: one platform, or all of them converted for the OCI layout', async () => {
      const platforms = [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ];
      const layout = await makeOciLayout(path('src-list'), { tag: 'l', layers: 1, layerBytes: 20_000, platforms });
      const children = [];
      for (const p of platforms) {
        const tag = `${p.architecture}-only`;
        await skopeo(['copy', '--dest-tls-verify=false', '--format', 'v2s2', '--override-arch', p.architecture, ...(p.variant ? ['--override-variant', p.variant] : []), `oci:${layout.dir}:l`, `docker://${server.host}/list/app:${tag}`]);
        const raw = (await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${server.host}/list/app:${tag}`])).stdout;
        children.push({ mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: sha256(raw), size: Buffer.byteLength(raw), platform: p });
      }
      const list = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', manifests: children }));
      const c = await RegistryClient.create(server.host, { insecure: true, noStoredCredentials: true });
      const listDigest = await putManifest(c, 'list/app', 'l', list, 'application/vnd.docker.distribution.manifest.list.v2+json');
      const image = `${server.host}/list/app:l`;

      const r = await berth(['pull', image, '--insecure', '--platform', 'linux/arm64', '-o', path('list-arm64.tar'), '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(json(r.stdout).digest, children[1]!.digest);
      assert.equal(json(r.stdout).indexDigest, listDigest);
      const cfg = JSON.parse((await skopeo(['inspect', '--config', `docker-archive:${path('list-arm64.tar')}`])).stdout) as { rootfs: { diff_ids: string[] } };
      assert.deepEqual(cfg.rootfs.diff_ids, layout.images[1]!.diffIds);

      const a = await berth(['pull', image, '--insecure', '--format', 'oci', '--all-platforms', '-o', path('list-all'), '--json']);
      assert.equal(a.code, 0, a.stderr);
      const aj = json(a.stdout) as PullJson & { sourceDigest?: string };
      assert.equal(aj.sourceDigest, listDigest);
      const idx = JSON.parse((await skopeo(['inspect', '--raw', `oci:${path('list-all')}:l`])).stdout) as { mediaType: string; manifests: { mediaType: string }[] };
      assert.equal(idx.mediaType, 'application/vnd.oci.image.index.v1+json');
      assert.ok(idx.manifests.every((m) => m.mediaType === 'application/vnd.oci.image.manifest.v1+json'));
      for (const [i, arch] of ['amd64', 'arm64'].entries()) {
        const pc = JSON.parse((await skopeo(['--override-arch', arch, 'inspect', '--config', `oci:${path('list-all')}:l`])).stdout) as { rootfs: { diff_ids: string[] } };
        assert.deepEqual(pc.rootfs.diff_ids, layout.images[i]!.diffIds, arch);
      }
    });

    it('names the reference when the tag does not exist (exit 1)', async () => {
      const r = await berth(['pull', `${server.host}/single/app:no-such-tag`, '--insecure', '-o', path('missing.tar')]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /single\/app:no-such-tag/);
      assert.equal(await exists(path('missing.tar')), false);
    });

    it('resumes a killed pull with Range requests instead of starting over', async () => {
      const layout = await makeOciLayout(path('src-big'), { tag: 'big', layers: 2, layerBytes: 16 << 20 });
      await push(layout, 'big/app');
      const img = layout.images[0]!;
      const total = img.config.size + img.layers.reduce((s, l) => s + l.size, 0);
      const proxy = await startCountingProxy(server.port);
      try {
        const out = path('big.tar');
        const staging = join(`${out}.partial`, 'blobs', 'sha256');
        const args = ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'pull', `127.0.0.1:${proxy.port}/big/app:big`, '--insecure', '-o', out, '-q'];
        // First run: the proxy stops forwarding after ~20 MiB (of ~32), so a layer is left partial;
        // once the staging dir holds a good share of that, the CLI is killed (SIGKILL: no cleanup of any kind).
        proxy.budget = 20 << 20;
        const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...sb.env }, stdio: 'ignore', detached: true });
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        const deadline = Date.now() + 60_000;
        while ((await stagedBytes(staging)).total < 12 << 20) {
          if (Date.now() > deadline) throw new Error(`no partial download appeared (proxy forwarded ${proxy.bytes} bytes)`);
          await sleep(100);
        }
        process.kill(-child.pid!, 'SIGKILL');
        await exited;
        const { total: kept, partial } = await stagedBytes(staging);
        assert.ok(kept >= 12 << 20 && kept < total && partial > 0, `kept ${kept}, of it partial ${partial}`);
        assert.equal(await exists(out), false);

        // Second run, same arguments, nothing in the way.
        proxy.budget = undefined;
        proxy.bytes = 0;
        const r = await berth(args.slice(3).filter((a) => a !== '-q').concat('--json'));
        assert.equal(r.code, 0, r.stderr);
        const j = json(r.stdout);
        assert.ok(proxy.bytes < total - kept + (1 << 20), `second run moved ${proxy.bytes} bytes of ${total} (kept ${kept})`);
        assert.ok(j.downloaded <= total - kept, `downloaded ${j.downloaded}`);
        assert.equal(await exists(`${out}.partial`), false);
        const cfg = JSON.parse((await skopeo(['inspect', '--config', `docker-archive:${out}`])).stdout) as { rootfs: { diff_ids: string[] } };
        assert.deepEqual(cfg.rootfs.diff_ids, img.diffIds);
      } finally {
        await proxy.close();
      }
    });

    it('throws away a corrupt partial or complete blob and downloads it again', { skip: kind !== 'berth' && 'local files only: berth covers it' }, async () => {
      const layout = await makeOciLayout(path('src-corrupt'), { tag: 'c', layers: 1, layerBytes: 2 << 20 });
      await push(layout, 'corrupt/app');
      const img = layout.images[0]!;
      const layer = img.layers[0]!;
      for (const [format, out, blobs] of [
        ['docker', path('corrupt.tar'), join(path('corrupt.tar.partial'), 'blobs', 'sha256')],
        ['oci', path('corrupt-oci'), join(path('corrupt-oci'), 'blobs', 'sha256')],
      ] as const) {
        await mkdir(blobs, { recursive: true });
        if (format === 'oci') await writeFile(join(path('corrupt-oci'), 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
        await writeFile(join(blobs, `${layer.digest.slice(7)}.part`), randomBytes(layer.size >> 1)); // wrong bytes, half the size
        await writeFile(join(blobs, img.config.digest.slice(7)), randomBytes(img.config.size)); // "complete" but wrong
        const r = await berth(['pull', `${server.host}/corrupt/app:c`, '--insecure', '--format', format, '-o', out]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /partial download was corrupt/);
        assert.match(r.stderr, /stored copy is corrupt/);
        const ref = format === 'docker' ? `docker-archive:${out}` : `oci:${out}:c`;
        const cfg = JSON.parse((await skopeo(['inspect', '--config', ref])).stdout) as { rootfs: { diff_ids: string[] } };
        assert.deepEqual(cfg.rootfs.diff_ids, img.diffIds);
        if (format === 'oci') {
          assert.equal(sha256(await readFile(join(blobs, layer.digest.slice(7)))), layer.digest);
          assert.equal(sha256(await readFile(join(blobs, img.config.digest.slice(7)))), img.config.digest);
        }
      }
    });
  });
}

// Within one run: a dropped connection is retried from what was written; a registry that ignores
// Range (answers 200) gets the blob from the start, never an appended duplicate.
describe('blob downloads against a minimal fake registry', () => {
  const blob = randomBytes(3 << 20);
  const digest = sha256(blob);
  let mode: 'normal' | 'drop-once' | 'ignore-range' = 'normal';
  let ranges: (string | undefined)[] = [];
  let srv: HttpServer;
  let host: string;
  let work: { path: string; cleanup(): Promise<void> };
  before(async () => {
    work = await tempDir('pull-fake');
    srv = createHttpServer((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      if (req.url !== `/v2/r/blobs/${digest}`) return void res.writeHead(404).end();
      ranges.push(req.headers.range);
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (m && mode !== 'ignore-range') {
        const start = Number(m[1]);
        res.writeHead(206, { 'Content-Range': `bytes ${start}-${blob.length - 1}/${blob.length}`, 'Content-Length': blob.length - start });
        return void res.end(blob.subarray(start));
      }
      res.writeHead(200, { 'Content-Length': blob.length });
      if (mode === 'drop-once' && ranges.length === 1) return void res.write(blob.subarray(0, 1 << 20), () => setTimeout(() => res.socket?.destroy(), 50));
      res.end(blob);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    host = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
  });
  after(async () => {
    srv?.closeAllConnections();
    await new Promise<void>((r) => (srv ? srv.close(() => r()) : r()));
    await work?.cleanup();
  });
  const download = async (dir: string) => {
    const client = await RegistryClient.create(host, { insecure: true, noStoredCredentials: true });
    const notes: string[] = [];
    const r = await downloadBlob({ client, repo: 'r', desc: { digest, size: blob.length }, dir, note: (n) => notes.push(n) });
    assert.ok((await readFile(r.path)).equals(blob));
    return { ...r, notes };
  };

  it('retries a dropped connection from the bytes already written', async () => {
    mode = 'drop-once';
    ranges = [];
    const dir = join(work.path, 'drop');
    await mkdir(dir);
    const r = await download(dir);
    assert.equal(ranges.length, 2, String(ranges));
    assert.equal(ranges[0], undefined);
    const from = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1]);
    assert.ok(from > 0 && from <= 1 << 20, String(ranges[1]));
    assert.ok(r.transferred >= blob.length && r.transferred <= blob.length + (1 << 20), `transferred ${r.transferred}: the retry did not start over`);
    assert.ok(r.notes.some((n) => /retrying/.test(n)), r.notes.join('\n'));
  });

  it('starts a blob over when the registry ignores Range', async () => {
    mode = 'ignore-range';
    ranges = [];
    const dir = join(work.path, 'norange');
    await mkdir(dir);
    await writeFile(join(dir, `${digest.slice(7)}.part`), blob.subarray(0, 1 << 20));
    const r = await download(dir);
    assert.deepEqual(ranges, [`bytes=${1 << 20}-`]);
    assert.equal(r.transferred, blob.length);
    assert.ok(r.notes.some((n) => /does not resume/.test(n)), r.notes.join('\n'));
    // and a complete, verified blob is reused without a request
    ranges = [];
    assert.equal((await download(dir)).outcome, 'cached');
    assert.deepEqual(ranges, []);
  });
});
