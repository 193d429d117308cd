// Reads docker-save tarballs written by skopeo (and by hand for multi-image and docker 25+ layout).
import assert from 'node:assert/strict';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, writeFile, truncate, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { createGzip, gunzipSync, gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { DockerArchive } from '../../src/images/docker-archive-reader.ts';
import { makeOciLayout, readLayoutBlob, sha256, type LayoutResult } from '../helpers/images.ts';
import { hasCommand, run, tempDir } from '../helpers/processes.ts';
import { collect, packTar } from './util.ts';

const skip = !hasCommand('skopeo') && 'skopeo not installed';

describe('docker save archive reader', { skip }, () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  let img: LayoutResult;
  let archive: string;
  before(async () => {
    tmp = await tempDir('images-reader');
    img = await makeOciLayout(join(tmp.path, 'oci'), { tag: 'v1', layers: 3, layerBytes: 200_000 });
    archive = join(tmp.path, 'one.tar');
    await run('skopeo', ['copy', `oci:${img.dir}:v1`, `docker-archive:${archive}:example/app:v1`]);
  });
  after(() => tmp.cleanup());

  async function checkImage(path: string, which?: string | number, gunzipTo?: string) {
    const a = await DockerArchive.open(path, { gunzipTo });
    const image = await a.image(which);
    const want = img.images[0]!;
    const cfg = await readLayoutBlob(img.dir, want.config.digest);
    assert.equal(image.configDigest, sha256(cfg));
    assert.deepEqual(image.layers.map((l) => l.diffId), want.diffIds);
    for (let i = 0; i < want.layers.length; i++) {
      const raw = gunzipSync(await readLayoutBlob(img.dir, want.layers[i]!.digest));
      assert.ok((await collect(image.openLayer(i))).equals(raw), `layer ${i} bytes`);
    }
    return image;
  }

  it('reads a skopeo docker-archive: config digest, diff_ids, layer bytes', async () => {
    const a = await DockerArchive.open(archive);
    assert.deepEqual(a.list(), [{ index: 0, repoTags: ['docker.io/example/app:v1'] }]);
    const image = await checkImage(archive, 'example/app:v1');
    const m = JSON.parse(image.dockerManifest().toString());
    assert.equal(m.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.deepEqual(m.layers.map((l: { digest: string }) => l.digest), img.images[0]!.diffIds);
    assert.equal(m.layers[0].mediaType, 'application/vnd.docker.image.rootfs.diff.tar');
  });

  it('reads the same archive gzipped', async () => {
    const gz = join(tmp.path, 'one.tar.gz');
    await pipeline(createReadStream(archive), createGzip(), createWriteStream(gz));
    await checkImage(gz);
    // decompressed once to a spool file, then read by offset
    const spool = join(tmp.path, 'spool.tar');
    await checkImage(gz, undefined, spool);
    assert.equal((await stat(spool)).size, (await stat(archive)).size);
  });

  it('gzips layers on the fly with digest and size known at the end', async () => {
    const image = await (await DockerArchive.open(archive)).image();
    const results = [];
    for (let i = 0; i < image.layers.length; i++) {
      const { stream, result } = image.gzipLayer(i);
      const bytes = await collect(stream);
      const r = await result;
      assert.equal(r.digest, sha256(bytes));
      assert.equal(r.size, bytes.length);
      assert.equal(sha256(gunzipSync(bytes)), image.layers[i]!.diffId);
      results.push(r);
    }
    const m = JSON.parse(image.dockerManifest(results).toString());
    assert.equal(m.layers[2].mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
    assert.equal(m.layers[2].digest, results[2]!.digest);
    assert.equal(m.config.digest, image.configDigest);
  });

  it('lists and picks from a two-image archive built by hand (legacy <id>/layer.tar layout)', async () => {
    const img2 = await makeOciLayout(join(tmp.path, 'oci2'), { tag: 'v2', layers: 1, layerBytes: 1000 });
    const files: Record<string, Buffer> = {};
    const manifest = [];
    for (const [r, tag] of [[img, 'a/one:1'], [img2, 'b/two:2']] as const) {
      const info = r.images[0]!;
      const cfgHex = info.config.digest.slice(7);
      files[`${cfgHex}.json`] = await readLayoutBlob(r.dir, info.config.digest);
      const layers = [];
      for (let i = 0; i < info.layers.length; i++) {
        const id = info.diffIds[i]!.slice(7);
        files[`${id}/layer.tar`] = gunzipSync(await readLayoutBlob(r.dir, info.layers[i]!.digest));
        files[`${id}/VERSION`] = Buffer.from('1.0');
        layers.push(`${id}/layer.tar`);
      }
      manifest.push({ Config: `${cfgHex}.json`, RepoTags: [tag], Layers: layers });
    }
    files['manifest.json'] = Buffer.from(JSON.stringify(manifest));
    const two = join(tmp.path, 'two.tar');
    await writeFile(two, await packTar(files));
    const a = await DockerArchive.open(two);
    assert.deepEqual(a.list().map((x) => x.repoTags), [['a/one:1'], ['b/two:2']]);
    await checkImage(two, 'a/one:1');
    const second = await a.image(1);
    assert.equal(second.configDigest, img2.images[0]!.config.digest);
    assert.equal(sha256(await collect(second.openLayer(0))), img2.images[0]!.diffIds[0]);
    await assert.rejects(a.image(), /holds 2 images/);
    await assert.rejects(a.image('c/three:3'), /no image tagged c\/three:3/);
  });

  it('reads the docker 25+ layout (blobs/sha256 inside the tar)', async () => {
    const info = img.images[0]!;
    const files: Record<string, Buffer> = {};
    files['oci-layout'] = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
    files[`blobs/sha256/${info.config.digest.slice(7)}`] = await readLayoutBlob(img.dir, info.config.digest);
    const layers = [];
    for (let i = 0; i < info.layers.length; i++) {
      files[`blobs/sha256/${info.diffIds[i]!.slice(7)}`] = gunzipSync(await readLayoutBlob(img.dir, info.layers[i]!.digest));
      layers.push(`blobs/sha256/${info.diffIds[i]!.slice(7)}`);
    }
    files['manifest.json'] = Buffer.from(JSON.stringify([{ Config: `blobs/sha256/${info.config.digest.slice(7)}`, RepoTags: ['x:1'], Layers: layers }]));
    files['index.json'] = Buffer.from('{"schemaVersion":2,"manifests":[]}');
    const p = join(tmp.path, 'new.tar');
    await writeFile(p, await packTar(files));
    await checkImage(p, 'x:1');
  });

  it('gunzips layers an archive stores gzipped (docker load accepts those)', async () => {
    const info = img.images[0]!;
    const files: Record<string, Buffer> = {};
    files['cfg.json'] = await readLayoutBlob(img.dir, info.config.digest);
    const layers = [];
    for (let i = 0; i < info.layers.length; i++) {
      files[`l${i}.tar.gz`] = await readLayoutBlob(img.dir, info.layers[i]!.digest); // still gzipped
      layers.push(`l${i}.tar.gz`);
    }
    files['manifest.json'] = Buffer.from(JSON.stringify([{ Config: 'cfg.json', RepoTags: null, Layers: layers }]));
    const p = join(tmp.path, 'gzlayers.tar');
    await writeFile(p, await packTar(files));
    await checkImage(p, 0);
  });

  it('a truncated archive gives a clear error', async () => {
    const p = join(tmp.path, 'cut.tar');
    await writeFile(p, await readFile(archive));
    await truncate(p, Math.floor((await stat(p)).size / 2));
    await assert.rejects(async () => {
      const image = await (await DockerArchive.open(p)).image();
      for (let i = 0; i < image.layers.length; i++) await collect(image.openLayer(i));
    }, /cut\.tar: not a readable tar archive \(truncated or corrupt\): truncated/);
    const gz = join(tmp.path, 'cut.tar.gz');
    await writeFile(gz, gzipSync(await readFile(archive)).subarray(0, 20_000));
    await assert.rejects(DockerArchive.open(gz), /cut\.tar\.gz: not a readable tar archive \(truncated or corrupt\)/);
    const junk = join(tmp.path, 'junk.tar');
    await writeFile(junk, Buffer.alloc(4096, 'x'));
    await assert.rejects(DockerArchive.open(junk), /junk\.tar: not a readable tar archive \(truncated or corrupt\): corrupt header/);
  });

  it('a layer that does not match its diff_id errors at the end of its stream', async () => {
    const files = await collectTar(archive);
    const layerName = [...files.keys()].find((n) => n.endsWith('.tar'))!;
    const buf = Buffer.from(files.get(layerName)!);
    buf[buf.length - 2000] ^= 0xff; // inside the payload or padding: bytes differ either way
    files.set(layerName, buf);
    const p = join(tmp.path, 'bad.tar');
    await writeFile(p, await packTar(Object.fromEntries(files)));
    const image = await (await DockerArchive.open(p)).image();
    const i = image.layers.findIndex((l) => l.path === layerName);
    await assert.rejects(collect(image.openLayer(i)), /digest mismatch: expected sha256:/);
  });
});

async function collectTar(path: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const ex = tar.extract();
  createReadStream(path).pipe(ex);
  for await (const e of ex) {
    const b = await collect(e as unknown as NodeJS.ReadableStream);
    if (e.header.type === 'file') out.set(e.header.name, b);
  }
  return out;
}
