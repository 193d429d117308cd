// `berth push` against berth and Debian's docker-registry: docker save tarballs made by skopeo
// (plain, gzipped, multi-image), OCI layouts (directory and tar, with an index), artifacts; skopeo
// reads every push back. Then skipping, mounting, resuming, zstd and stored credentials.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DockerArchive, writeDockerArchive } from '../../src/images/index.ts';
import { getManifest, listReferrers, readReferrersTag } from '../../src/client/index.ts';
import { clientSandbox, hasCommand, repoRoot, run, startBerth, startDistribution, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { makeDockerArchive, makeLayerTar, makeOciLayout, sha256 } from '../helpers/images.ts';
import { htpasswdText } from '../auth/harness.ts';
import { startCountingProxy } from '../helpers/proxy.ts';
import { berthCli, client } from './helpers.ts';

async function layerDigests(archivePath: string): Promise<{ config: Buffer; diffIds: string[] }> {
  const a = await DockerArchive.open(archivePath);
  const img = await a.image();
  // openLayer verifies each tar against its diff_id: equal diff_ids mean byte-identical layers.
  for (let i = 0; i < img.layers.length; i++) for await (const _ of img.openLayer(i)) void _;
  return { config: img.configBytes, diffIds: img.layers.map((l) => l.diffId) };
}

const registries: [string, () => Promise<RunningServer>][] = [
  ['berth', () => startBerth()],
  ['docker-registry', () => startDistribution()],
];

for (const [kind, start] of registries) {
  describe(`berth push to ${kind}`, { skip: kind === 'docker-registry' && !hasCommand('docker-registry') }, () => {
    let server: RunningServer;
    let sb: ClientSandbox;
    let berth: ReturnType<typeof berthCli>;
    let skopeo: (args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;
    let archive: string;
    before(async () => {
      server = await start();
      sb = await clientSandbox(`cli-push-${kind}`, []);
      berth = berthCli(sb.env);
      skopeo = (args) => run('skopeo', args, { env: sb.env, timeoutMs: 120_000 });
      // A docker-archive written by skopeo itself, from a fresh OCI layout.
      const layout = await makeOciLayout(join(sb.dir, 'src-layout'), { tag: 'v1', layers: 2, layerBytes: 300_000 });
      void layout;
      archive = join(sb.dir, 'app.tar');
      await skopeo(['copy', '-q', `oci:${join(sb.dir, 'src-layout')}:v1`, `docker-archive:${archive}:app:v1`]);
    });
    after(async () => {
      await server?.stop();
      await sb?.cleanup();
    });

    it('pushes a skopeo docker-archive (plain and gzipped); skopeo reads it back byte-identical', async () => {
      const r = await berth(['push', archive, `${server.host}/push/app:v1`, '--insecure']);
      assert.equal(r.code, 0, r.stderr);
      const digest = r.stdout.trim();
      assert.match(digest, /^sha256:[a-f0-9]{64}$/);
      assert.match(r.stderr, /Pushed .*push\/app:v1/);
      const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${server.host}/push/app:v1`]);
      assert.equal(sha256(raw.stdout), digest);
      assert.equal(JSON.parse(raw.stdout).mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
      const back = join(sb.dir, 'back.tar');
      await skopeo(['copy', '-q', '--src-tls-verify=false', `docker://${server.host}/push/app:v1`, `docker-archive:${back}:app:v1`]);
      assert.deepEqual(await layerDigests(back), await layerDigests(archive));

      // docker save | gzip: the same image, and gzip on the fly is deterministic, so the same digest.
      await run('sh', ['-c', `gzip -c ${archive} > ${archive}.gz`]);
      const gz = await berth(['push', `${archive}.gz`, `${server.host}/push/gz:v1`, '--insecure', '--quiet']);
      assert.equal(gz.code, 0, gz.stderr);
      assert.equal(gz.stdout.trim(), digest);
      assert.equal(gz.stderr, '', '--quiet prints nothing on stderr');
    });

    it('--compress none pushes the tars as they are (blob digest = diff_id)', async () => {
      const r = await berth(['push', archive, `${server.host}/push/plain:v1`, '--insecure', '--compress', 'none', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { digest: string; blobs: { pushed: number } };
      const m = await getManifest(await client(server.host), 'push/plain', 'v1');
      assert.equal(m.digest, out.digest);
      const { diffIds } = await layerDigests(archive);
      assert.deepEqual(JSON.parse(m.bytes.toString()).layers.map((l: { digest: string }) => l.digest), diffIds);
      const dir = join(sb.dir, 'plain-dir');
      await skopeo(['copy', '-q', '--src-tls-verify=false', `docker://${server.host}/push/plain:v1`, `dir:${dir}`]);
      for (const d of diffIds) assert.equal(sha256(await readFile(join(dir, d.slice(7)))), d);
    });

    it('pushes OCI layouts (a 3-platform index; a directory and a tar) keeping every digest', async () => {
      const dir = join(sb.dir, 'multi');
      const lay = await makeOciLayout(dir, {
        tag: '2.0',
        layers: 1,
        layerBytes: 50_000,
        platforms: [
          { os: 'linux', architecture: 'amd64' },
          { os: 'linux', architecture: 'arm64', variant: 'v8' },
          { os: 'linux', architecture: 'arm', variant: 'v7' },
        ],
      });
      const r = await berth(['push', `${dir}:2.0`, `${server.host}/push/multi:2.0`, '--insecure']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), lay.digest);
      const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${server.host}/push/multi:2.0`]);
      assert.equal(sha256(raw.stdout), lay.digest);
      const arm = await skopeo(['inspect', '--tls-verify=false', `docker://${server.host}/push/multi@${lay.images[1]!.manifest.digest}`]);
      assert.equal(JSON.parse(arm.stdout).Architecture, 'arm64');

      const tarPath = join(sb.dir, 'multi.tar');
      await run('tar', ['-C', dir, '-cf', tarPath, '.']);
      const t = await berth(['push', tarPath, `${server.host}/push/multi-tar:2.0`, '--insecure', '--image', '2.0', '--json', '--quiet']);
      assert.equal(t.code, 0, t.stderr);
      const j = JSON.parse(t.stdout) as { digest: string; manifests: number; mediaType: string };
      assert.equal(j.digest, lay.digest);
      assert.equal(j.manifests, 4);
      assert.equal(j.mediaType, 'application/vnd.oci.image.index.v1+json');
    });

    it('picks one image of a multi-image docker archive with --image', async () => {
      const images = [];
      for (const tag of ['one:1', 'two:2']) {
        const layer = await makeLayerTar(20_000);
        const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', tag, rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
        images.push({
          repoTags: [tag],
          manifest: { config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: sha256(config), size: config.length }, layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar', digest: sha256(layer), size: layer.length }] },
          config,
          openLayer: () => Readable.from([layer]),
        });
      }
      const multi = join(sb.dir, 'multi-image.tar');
      await writeDockerArchive(multi, images);
      const none = await berth(['push', multi, `${server.host}/push/pick:x`, '--insecure']);
      assert.equal(none.code, 2, none.stderr);
      assert.match(none.stderr, /one:1.*two:2[\s\S]*--image/);
      const r = await berth(['push', multi, `${server.host}/push/pick:x`, '--insecure', '--image', 'two:2']);
      assert.equal(r.code, 0, r.stderr);
      const cfg = await berth(['inspect', `${server.host}/push/pick:x`, '--insecure', '--config']);
      assert.match(cfg.stdout, /two:2/);
    });

    it('pushes files as an OCI artifact, and a referrer with --subject', async () => {
      const files = join(sb.dir, 'charts');
      await mkdir(join(files, 'sub'), { recursive: true });
      await writeFile(join(files, 'a.yaml'), 'a: 1\n');
      await writeFile(join(files, 'sub', 'b.txt'), 'bee\n');
      const r = await berth(['push', files, `${server.host}/push/art:1`, '--insecure', '--artifact-type', 'application/vnd.example.charts', '--annotation', 'team=infra']);
      assert.equal(r.code, 0, r.stderr);
      const m = JSON.parse((await getManifest(await client(server.host), 'push/art', '1')).bytes.toString());
      assert.equal(m.artifactType, 'application/vnd.example.charts');
      assert.equal(m.config.mediaType, 'application/vnd.oci.empty.v1+json');
      assert.deepEqual(m.layers.map((l: { annotations: Record<string, string> }) => l.annotations['org.opencontainers.image.title']), ['a.yaml', 'sub/b.txt']);
      assert.equal(m.layers[1].digest, sha256('bee\n'));
      assert.equal(m.annotations.team, 'infra');
      const pulled = join(sb.dir, 'art-dir');
      await skopeo(['copy', '-q', '--src-tls-verify=false', `docker://${server.host}/push/art:1`, `dir:${pulled}`]);
      assert.equal(await readFile(join(pulled, m.layers[0].digest.slice(7)), 'utf8'), 'a: 1\n');

      const subject = r.stdout.trim();
      const sbom = join(sb.dir, 'sbom.json');
      await writeFile(sbom, '{"spdxVersion":"SPDX-2.3"}');
      const s = await berth(['push', sbom, `${server.host}/push/art:sbom`, '--insecure', '--artifact-type', 'application/spdx+json', '--subject', subject]);
      assert.equal(s.code, 0, s.stderr);
      const sm = JSON.parse((await getManifest(await client(server.host), 'push/art', 'sbom')).bytes.toString());
      assert.equal(sm.subject.digest, subject);
      if (kind === 'berth') {
        const refs = await (await client(server.host)).request(`/v2/push/art/referrers/${subject}`);
        assert.equal(JSON.parse(refs.body.toString()).manifests[0].digest, s.stdout.trim());
      }
      // Either way the referrer can be found: the API, or the referrers tag the client keeps without it.
      const listed = await listReferrers(await client(server.host), 'push/art', subject);
      assert.deepEqual(listed.manifests.map((d) => [d.digest, d.artifactType]), [[s.stdout.trim(), 'application/spdx+json']]);
      if (kind === 'docker-registry') assert.deepEqual((await readReferrersTag(await client(server.host), 'push/art', subject)).map((d) => d.digest), [s.stdout.trim()]);
    });

    it('says what is wrong: missing source, a plain directory, a bad flag, an unreachable registry', async () => {
      const missing = await berth(['push', join(sb.dir, 'nope.tar'), `${server.host}/push/x:1`, '--insecure']);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /no such file/);
      const plainDir = join(sb.dir, 'plain');
      await mkdir(plainDir, { recursive: true });
      const d = await berth(['push', plainDir, `${server.host}/push/x:1`, '--insecure']);
      assert.equal(d.code, 2);
      assert.match(d.stderr, /--artifact-type/);
      const bad = await berth(['push', archive, `${server.host}/push/x:1`, '--insecure', '--compress', 'lz4']);
      assert.equal(bad.code, 2);
      const down = await berth(['push', archive, '127.0.0.1:1/push/x:1', '--insecure', '--quiet']);
      assert.equal(down.code, 1);
      assert.match(down.stderr, /ECONNREFUSED|connect/);
    });

    it('an interrupted push continues: finished blobs are skipped, the rest resumes', async () => {
      const big = join(sb.dir, 'big.tar');
      await makeDockerArchive(big, { repoTag: 'big:1', layers: 2, layerBytes: 24 << 20 });
      // Through a proxy that stops forwarding the upload after the config, the first layer and
      // about half of the second (random data: gzip keeps each layer at ~24 MiB), then SIGKILL.
      const proxy = await startCountingProxy(server.port, 'up');
      try {
        proxy.budget = 36 << 20;
        const dest = `127.0.0.1:${proxy.port}/push/big:1`;
        const args = ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'push', big, dest, '--insecure', '--parallel', '1'];
        const child = spawn(process.execPath, args, { env: { ...process.env, ...sb.env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let err = '';
        child.stderr.on('data', (b: Buffer) => (err += b.toString()));
        const exited = new Promise((r) => child.on('close', r));
        const deadline = Date.now() + 60_000;
        while (proxy.bytes < (35 << 20) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setTimeout(r, 300)); // let the registry take in what was forwarded
        child.kill('SIGKILL');
        await exited;
        assert.match(err, /pushed 24\.0 MiB/, err);
        assert.doesNotMatch(err, /Pushed /, 'it was killed before the end');

        proxy.budget = undefined;
        proxy.bytes = 0;
        const again = await berth(['push', big, dest, '--insecure', '--parallel', '1']);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stderr, /exists/);
        if (kind === 'berth') {
          // berth keeps the bytes of a broken PATCH: only the rest of the second layer goes again.
          assert.match(again.stderr, /resuming at byte \d+/);
          assert.ok(proxy.bytes < 20 << 20, `the second run sent ${proxy.bytes} bytes`);
        }
        // The same bytes as an uninterrupted push: gzip on the fly is deterministic.
        const clean = await berth(['push', big, `${server.host}/push/big-clean:1`, '--insecure', '--no-cache', '--quiet']);
        assert.equal(clean.stdout.trim(), again.stdout.trim());
        const back = join(sb.dir, 'big-back.tar');
        await skopeo(['copy', '-q', '--src-tls-verify=false', `docker://${server.host}/push/big:1`, `docker-archive:${back}:big:1`]);
        assert.deepEqual(await layerDigests(back), await layerDigests(big));
      } finally {
        await proxy.close();
      }
    });
  });
}

describe('berth push: skipping, mounting, zstd, stored credentials (berth)', () => {
  let server: RunningServer;
  let sb: ClientSandbox;
  let berth: ReturnType<typeof berthCli>;
  let archive: string;
  before(async () => {
    sb = await clientSandbox('cli-push-extra', []);
    const htpasswd = join(sb.dir, 'htpasswd');
    await writeFile(htpasswd, await htpasswdText({ ci: 'ci-Pa55-word' }));
    server = await startBerth({ configYaml: `auth:\n  htpasswd: {realm: berth, path: ${htpasswd}}\n` });
    berth = berthCli(sb.env);
    archive = join(sb.dir, 'app.tar');
    await makeDockerArchive(archive, { repoTag: 'app:1', layers: 3, layerBytes: 200_000, fill: 'text' });
    // Credentials as docker writes them: base64 user:password under auths.
    await mkdir(sb.env.DOCKER_CONFIG!, { recursive: true });
    await writeFile(join(sb.env.DOCKER_CONFIG!, 'config.json'), JSON.stringify({ auths: { [server.host]: { auth: Buffer.from('ci:ci-Pa55-word').toString('base64') } } }));
  });
  after(async () => {
    await server?.stop();
    await sb?.cleanup();
  });

  it('uses the stored base64 login; without it the registry refuses (exit 1, no secret printed)', async () => {
    const r = await berth(['push', archive, `${server.host}/team/app:1`, '--insecure', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).blobs, { pushed: 4, exists: 0, mounted: 0 });
    const wrong = await berth(['push', archive, `${server.host}/team/app:1`, '--insecure', '--creds', 'ci:wrong-secret-xyz']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /unauthorized/);
    assert.doesNotMatch(wrong.stderr + wrong.stdout, /wrong-secret-xyz|ci-Pa55-word/);
  });

  it('skips what the repository has and mounts what another repository has', async () => {
    const same = await berth(['push', archive, `${server.host}/team/app:1`, '--insecure', '--json']);
    assert.equal(same.code, 0, same.stderr);
    const s = JSON.parse(same.stdout) as { blobs: Record<string, number>; bytes: number };
    assert.deepEqual(s.blobs, { pushed: 0, exists: 4, mounted: 0 });
    assert.equal(s.bytes, 0);
    const other = await berth(['push', archive, `${server.host}/team/other:1`, '--insecure', '--json']);
    const o = JSON.parse(other.stdout) as { blobs: Record<string, number>; bytes: number; digest: string };
    assert.deepEqual(o.blobs, { pushed: 0, exists: 0, mounted: 4 });
    assert.equal(o.bytes, 0);
    assert.equal(o.digest, JSON.parse(same.stdout).digest);
  });

  it('--compress zstd writes an OCI manifest with zstd layers that skopeo can read', { skip: !hasCommand('zstd') }, async () => {
    const r = await berth(['push', archive, `${server.host}/team/zstd:1`, '--insecure', '--compress', 'zstd', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse((await getManifest(await client(server.host, { insecure: true, creds: 'ci:ci-Pa55-word' }), 'team/zstd', '1')).bytes.toString());
    assert.equal(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.ok(m.layers.every((l: { mediaType: string }) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar+zstd'));
    // skopeo will not write zstd layers into a docker-archive; an OCI layout keeps them as pushed.
    const back = join(sb.dir, 'zstd-back');
    await run('skopeo', ['copy', '-q', '--src-tls-verify=false', '--src-creds', 'ci:ci-Pa55-word', `docker://${server.host}/team/zstd:1`, `oci:${back}:1`], { env: sb.env, timeoutMs: 120_000 });
    const { diffIds } = await layerDigests(archive);
    for (const [i, l] of (m.layers as { digest: string }[]).entries()) {
      const plain = await run('sh', ['-c', `zstd -dc ${join(back, 'blobs', 'sha256', l.digest.slice(7))} | sha256sum`]);
      assert.equal(`sha256:${plain.stdout.split(' ')[0]}`, diffIds[i]);
    }
  });

  it('draws progress bars (per layer and total, with speed and ETA) on a terminal', { skip: !hasCommand('script') }, async () => {
    // script(1) gives the command a pseudo-terminal, as a person at a shell would have.
    const cmd = [process.execPath, '--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'push', archive, `${server.host}/team/tty:1`, '--insecure', '--no-cache']
      .map((a) => `'${a}'`)
      .join(' ');
    const r = await run('script', ['-qec', cmd, '/dev/null'], { env: { ...sb.env, TERM: 'xterm' }, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const screen = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    assert.match(screen, /total \|[█░]+\| \d+% /);
    assert.match(screen, /push [a-f0-9]{12} \|[█░]+\|.*\/s ETA/);
    assert.match(screen, /[a-f0-9]{12}: pushed \d+\.\d KiB in/);
  });

  it('keeps no upload session files after a finished push', async () => {
    const dir = join(sb.env.HOME!, '.cache', 'berth', 'uploads');
    const left = await readdir(dir).catch(() => [] as string[]);
    assert.deepEqual(left, []);
    assert.ok((await stat(join(sb.env.HOME!, '.cache', 'berth', 'blob-info.json'))).size > 0);
  });
});
