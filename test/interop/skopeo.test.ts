// skopeo (containers/image) against berth: archive, dir and OCI-layout round trips must give back
// the very bytes that went in, plus inspect/list-tags/delete.
// INTEROP_SERVER=distribution runs the same checks against docker-registry (to validate the test).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  clientSandbox,
  hasCommand,
  run,
  startBerth,
  startDistribution,
  tempDir,
  type ClientSandbox,
  type RunningServer,
} from '../helpers/processes.ts';
import { layoutRef, makeOciLayout, readLayoutBlob, readTarFile, sha256 } from '../helpers/images.ts';

const start = process.env.INTEROP_SERVER === 'distribution' ? startDistribution : startBerth;

describe('skopeo interop', { skip: !hasCommand('skopeo') && 'skopeo is not installed' }, () => {
  let server: RunningServer;
  let sb: ClientSandbox;
  let work: string;
  let cleanupWork: () => Promise<void>;

  // --insecure-policy: the machine's /etc/containers/policy.json is not the test's business.
  const skopeo = (...args: string[]) => run('skopeo', ['--insecure-policy', ...args], { env: sb.env });
  const copy = (...args: string[]) => skopeo('copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', ...args);
  const inspectRaw = async (ref: string) =>
    (await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${server.host}/${ref}`)).stdout;

  before(async () => {
    server = await start();
    sb = await clientSandbox('skopeo-interop', [server.host]);
    const t = await tempDir('skopeo-work');
    work = t.path;
    cleanupWork = t.cleanup;
  });
  after(async () => {
    await server?.stop();
    await sb?.cleanup();
    await cleanupWork?.();
  });

  it('docker-archive in, then back out to docker-archive and dir: with identical content', async () => {
    const src = await makeOciLayout(join(work, 'arch-src'), { tag: 'v1', layers: 3, layerBytes: 64 * 1024 });
    const archive = join(work, 'in.tar');
    await copy(`oci:${src.dir}:v1`, `docker-archive:${archive}:arch/img:v1`);
    await copy(`docker-archive:${archive}`, `docker://${server.host}/arch/img:v1`);

    const manifest = JSON.parse(await inspectRaw('arch/img:v1'));
    assert.equal(manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(manifest.layers.length, 3);

    // dir: keeps the registry's bytes as-is, each blob in a file named by its hex digest.
    const dir = join(work, 'arch-dir');
    await copy(`docker://${server.host}/arch/img:v1`, `dir:${dir}`);
    assert.equal(await readFile(join(dir, 'manifest.json'), 'utf8'), await inspectRaw('arch/img:v1'));
    for (const d of [manifest.config.digest, ...manifest.layers.map((l: { digest: string }) => l.digest)]) {
      const bytes = await readFile(join(dir, d.slice(7)));
      assert.equal(sha256(bytes), d, `blob ${d} in dir: output`);
    }

    // docker-archive: stores uncompressed layers, so they must hash to the original diff_ids.
    const back = join(work, 'back.tar');
    await copy(`docker://${server.host}/arch/img:v1`, `docker-archive:${back}:arch/img:v1`);
    const before = await readTarFile(archive);
    const files = await readTarFile(back);
    const [entry] = JSON.parse(files.get('manifest.json')!.toString()) as { Config: string; Layers: string[] }[];
    assert.deepEqual(entry.Layers.map((l) => sha256(files.get(l)!)), src.images[0].diffIds);
    const [origEntry] = JSON.parse(before.get('manifest.json')!.toString()) as { Config: string }[];
    assert.deepEqual(files.get(entry.Config), before.get(origEntry.Config), 'image config bytes survive the round trip');
  });

  it('oci: layout in with --preserve-digests and back out: same manifest digest, same blob bytes', async () => {
    const src = await makeOciLayout(join(work, 'oci-src'), { tag: 'v1', layers: 4, layerBytes: 200 * 1024 });
    await copy('--preserve-digests', `oci:${src.dir}:v1`, `docker://${server.host}/oci/img:v1`);
    assert.equal(sha256(await inspectRaw('oci/img:v1')), src.digest);

    const out = join(work, 'oci-back');
    await copy('--preserve-digests', `docker://${server.host}/oci/img:v1`, `oci:${out}:v1`);
    assert.equal((await layoutRef(out, 'v1'))?.digest, src.digest);
    for (const d of src.blobs) assert.deepEqual(await readLayoutBlob(out, d), await readLayoutBlob(src.dir, d), `blob ${d}`);
    assert.deepEqual((await readdir(join(out, 'blobs', 'sha256'))).sort(), src.blobs.map((d) => d.slice(7)).sort());
  });

  it('multi-platform index with --all: index and every child identical', async () => {
    const src = await makeOciLayout(join(work, 'multi-src'), {
      tag: 'multi',
      layers: 2,
      layerBytes: 32 * 1024,
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
        { os: 'linux', architecture: 's390x' },
      ],
    });
    await copy('--all', '--preserve-digests', `oci:${src.dir}:multi`, `docker://${server.host}/multi/img:multi`);
    const rawIndex = await inspectRaw('multi/img:multi');
    assert.deepEqual(Buffer.from(rawIndex), await readLayoutBlob(src.dir, src.digest));
    for (const img of src.images) {
      assert.equal(sha256(await inspectRaw(`multi/img@${img.manifest.digest}`)), img.manifest.digest);
    }

    const out = join(work, 'multi-back');
    await copy('--all', '--preserve-digests', `docker://${server.host}/multi/img:multi`, `oci:${out}:multi`);
    assert.equal((await layoutRef(out, 'multi'))?.digest, src.digest);
    for (const d of src.blobs) assert.deepEqual(await readLayoutBlob(out, d), await readLayoutBlob(src.dir, d), `blob ${d}`);
  });

  it('inspect --raw, list-tags and delete', async () => {
    const a = await makeOciLayout(join(work, 'tags-src'), { tag: 'one', layers: 1, layerBytes: 1024 });
    const b = await makeOciLayout(join(work, 'tags-src'), { tag: 'two', layers: 1, layerBytes: 1024 });
    await copy('--preserve-digests', `oci:${a.dir}:one`, `docker://${server.host}/tags/img:one`);
    await copy('--preserve-digests', `oci:${b.dir}:two`, `docker://${server.host}/tags/img:two`);
    await copy('--preserve-digests', `oci:${b.dir}:two`, `docker://${server.host}/tags/img:also-two`);

    assert.deepEqual(Buffer.from(await inspectRaw('tags/img:one')), await readLayoutBlob(a.dir, a.digest));
    const info = JSON.parse((await skopeo('inspect', '--tls-verify=false', `docker://${server.host}/tags/img:two`)).stdout);
    assert.equal(info.Digest, b.digest);
    assert.equal(info.Architecture, 'amd64');
    assert.deepEqual(info.Layers, b.images[0].layers.map((l) => l.digest));

    const listTags = async () =>
      JSON.parse((await skopeo('list-tags', '--tls-verify=false', `docker://${server.host}/tags/img`)).stdout);
    assert.deepEqual((await listTags()).Tags.sort(), ['also-two', 'one', 'two']);

    await skopeo('delete', '--tls-verify=false', `docker://${server.host}/tags/img:one`);
    const gone = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${server.host}/tags/img:one`], {
      env: sb.env,
      allowFail: true,
    });
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /manifest unknown/i);
    assert.deepEqual((await listTags()).Tags.sort(), ['also-two', 'two']);
    // Deleting by digest removes the manifest, and with it every tag pointing at it.
    await skopeo('delete', '--tls-verify=false', `docker://${server.host}/tags/img@${b.digest}`);
    const tags = await run('skopeo', ['list-tags', '--tls-verify=false', `docker://${server.host}/tags/img`], {
      env: sb.env,
      allowFail: true,
    });
    // An emptied repository may list no tags or be unknown (distribution answers NAME_UNKNOWN).
    if (tags.code === 0) assert.deepEqual(JSON.parse(tags.stdout).Tags ?? [], []);
    else assert.match(tags.stderr, /name unknown|repository name not known/i);
  });
});
