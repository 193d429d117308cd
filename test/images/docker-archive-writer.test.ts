// Writes docker save tarballs from pulled-style inputs (manifest, config, gzipped layers) and has
// skopeo read them back.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { DockerArchive } from '../../src/images/docker-archive-reader.ts';
import { writeDockerArchive, type ArchiveImageInput } from '../../src/images/docker-archive-writer.ts';
import { OciLayoutReader } from '../../src/images/oci-layout-reader.ts';
import { makeOciLayout, readTarFile, sha256, type LayoutResult } from '../helpers/images.ts';
import { hasCommand, run, tempDir } from '../helpers/processes.ts';
import { collect } from './util.ts';

const skip = !hasCommand('skopeo') && 'skopeo not installed';

async function inputFromLayout(dir: string, ref: string, repoTags: string[]): Promise<ArchiveImageInput> {
  const layout = await OciLayoutReader.openDir(dir);
  const t = await layout.read(ref);
  assert.equal(t.kind, 'image');
  const image = t.image;
  return {
    repoTags,
    manifest: image.manifestBytes,
    config: image.configBytes,
    openLayer: (desc) => layout.openBlob(desc),
  };
}

describe('docker save archive writer', { skip }, () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  let img: LayoutResult;
  before(async () => {
    tmp = await tempDir('images-writer');
    img = await makeOciLayout(join(tmp.path, 'oci'), { tag: 'v1', layers: 2, layerBytes: 300_000 });
  });
  after(() => tmp.cleanup());

  it('writes a tarball skopeo inspects and copies with the same config digest and diff_ids', async () => {
    const out = join(tmp.path, 'out.tar');
    await writeDockerArchive(out, [await inputFromLayout(img.dir, 'v1', ['example/app:v1'])]);
    const files = await readTarFile(out);
    const manifest = JSON.parse(files.get('manifest.json')!.toString());
    assert.deepEqual(manifest[0].RepoTags, ['example/app:v1']);
    assert.ok(files.has('repositories'));
    assert.equal(manifest[0].Config, `${img.images[0]!.config.digest.slice(7)}.json`);

    const raw = JSON.parse((await run('skopeo', ['inspect', '--raw', `docker-archive:${out}`])).stdout);
    assert.equal(raw.config.digest, img.images[0]!.config.digest);
    assert.deepEqual(raw.layers.map((l: { digest: string }) => l.digest), img.images[0]!.diffIds);

    const copy = join(tmp.path, 'copy');
    await run('skopeo', ['copy', `docker-archive:${out}`, `oci:${copy}:back`]);
    const back = await OciLayoutReader.openDir(copy);
    const t = await back.read('back');
    assert.equal(t.kind, 'image');
    if (t.kind !== 'image') return;
    assert.equal(sha256(t.image.configBytes), img.images[0]!.config.digest);
    assert.deepEqual(JSON.parse(t.image.configBytes.toString()).rootfs.diff_ids, img.images[0]!.diffIds);

    // and our own reader agrees
    const mine = await (await DockerArchive.open(out)).image('example/app:v1');
    assert.equal(mine.configDigest, img.images[0]!.config.digest);
    for (let i = 0; i < mine.layers.length; i++) assert.equal(sha256(await collect(mine.openLayer(i))), img.images[0]!.diffIds[i]);
  });

  it('writes two images into one tarball, sharing nothing but the file', async () => {
    const img2 = await makeOciLayout(join(tmp.path, 'oci2'), { tag: 'w', layers: 1, layerBytes: 5000 });
    const out = join(tmp.path, 'two.tar');
    await writeDockerArchive(out, [
      await inputFromLayout(img.dir, 'v1', ['a/one:1', 'a/one:latest']),
      await inputFromLayout(img2.dir, 'w', ['b/two:2']),
    ]);
    const a = await DockerArchive.open(out);
    assert.deepEqual(a.list().map((x) => x.repoTags), [['a/one:1', 'a/one:latest'], ['b/two:2']]);
    assert.equal((await a.image('b/two:2')).configDigest, img2.images[0]!.config.digest);
    const repos = JSON.parse((await readTarFile(out)).get('repositories')!.toString());
    assert.deepEqual(Object.keys(repos).sort(), ['a/one', 'b/two']);
    const raw = JSON.parse((await run('skopeo', ['inspect', '--raw', `docker-archive:${out}:b/two:2`])).stdout);
    assert.equal(raw.config.digest, img2.images[0]!.config.digest);
  });

  it('refuses a layer whose blob does not match its descriptor, leaving no output', async () => {
    const input = await inputFromLayout(img.dir, 'v1', ['x:1']);
    // Layer 0's descriptor served with layer 1's bytes: what a misbehaving registry would deliver.
    const layers = JSON.parse((input.manifest as Buffer).toString()).layers;
    const bad: ArchiveImageInput = { ...input, openLayer: (d) => input.openLayer(d.digest === layers[0].digest ? layers[1] : d) };
    const out = join(tmp.path, 'bad.tar');
    await assert.rejects(writeDockerArchive(out, [bad]), /digest mismatch/);
    await assert.rejects(readFile(out), /ENOENT/);
    assert.deepEqual((await readdir(tmp.path)).filter((n) => n.startsWith('.bad.tar')), [], 'temp dir removed');
  });

  it('decompresses zstd layers with the zstd command', { skip: !hasCommand('zstd') && 'zstd not installed' }, async () => {
    const input = await inputFromLayout(img.dir, 'v1', ['z/std:1']);
    const m = JSON.parse((input.manifest as Buffer).toString());
    const plain = gunzipSync(await collect(await input.openLayer(m.layers[0])));
    const zst = spawnSync('zstd', ['-c', '-q'], { input: plain, maxBuffer: 1 << 26 }).stdout;
    m.layers[0] = { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: sha256(zst), size: zst.length };
    const out = join(tmp.path, 'z.tar');
    const openLayer = (d: { digest: string }) => (d.digest === m.layers[0].digest ? Readable.from([zst]) : input.openLayer(d as never));
    await writeDockerArchive(out, [{ ...input, manifest: m, openLayer }]);
    const raw = JSON.parse((await run('skopeo', ['inspect', '--raw', `docker-archive:${out}`])).stdout);
    assert.deepEqual(raw.layers.map((l: { digest: string }) => l.digest), img.images[0]!.diffIds);

    // bytes that are not zstd at all: zstd's own complaint comes through
    const junk = Buffer.from('definitely not zstd');
    m.layers[0] = { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: sha256(junk), size: junk.length };
    await assert.rejects(
      writeDockerArchive(join(tmp.path, 'z2.tar'), [{ ...input, manifest: m, openLayer: (d) => (d.digest === sha256(junk) ? Readable.from([junk]) : input.openLayer(d)) }]),
      /zstd-compressed layer: zstd failed/,
    );
  });
});
