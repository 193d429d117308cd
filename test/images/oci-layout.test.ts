// OCI image layouts: read ours and skopeo's, write one skopeo copies from, read one packed in a tar.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { OciLayoutReader } from '../../src/images/oci-layout-reader.ts';
import { OciLayoutWriter } from '../../src/images/oci-layout-writer.ts';
import { makeOciLayout, readLayoutBlob, sha256, type LayoutResult } from '../helpers/images.ts';
import { hasCommand, run, tempDir } from '../helpers/processes.ts';
import { collect, packTar } from './util.ts';

const skip = !hasCommand('skopeo') && 'skopeo not installed';

async function treeFiles(dir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const full = join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
      out[relative(dir, full)] = await readFile(full);
    }
  }
  return out;
}

describe('OCI image layout', { skip }, () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  let img: LayoutResult;
  let multi: LayoutResult;
  before(async () => {
    tmp = await tempDir('images-oci');
    img = await makeOciLayout(join(tmp.path, 'src'), { tag: 'v1', layers: 2, layerBytes: 100_000 });
    multi = await makeOciLayout(join(tmp.path, 'src'), {
      tag: 'multi',
      layers: 1,
      layerBytes: 2000,
      platforms: [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    });
  });
  after(() => tmp.cleanup());

  it('reads an image and an index with all platforms by ref name', async () => {
    const r = await OciLayoutReader.openDir(img.dir);
    assert.deepEqual(r.refs(), ['v1', 'multi']);
    const one = await r.read('v1');
    assert.equal(one.kind, 'image');
    if (one.kind === 'image') {
      assert.equal(one.descriptor.digest, img.digest);
      assert.equal(sha256(one.image.configBytes), img.images[0]!.config.digest);
      const layer = await collect(one.image.openLayer(1));
      assert.ok(layer.equals(await readLayoutBlob(img.dir, img.images[0]!.layers[1]!.digest)));
    }
    const idx = await r.read('multi');
    assert.equal(idx.kind, 'index');
    if (idx.kind === 'index') {
      assert.equal(sha256(idx.indexBytes), multi.digest);
      assert.deepEqual(idx.images.map((i) => sha256(i.configBytes)), multi.images.map((i) => i.config.digest));
    }
    await assert.rejects(r.read('nope'), /no ref "nope".*refs: v1, multi/);
  });

  it('reads a layout skopeo wrote', async () => {
    const dest = join(tmp.path, 'skopeo-out');
    await run('skopeo', ['copy', `oci:${img.dir}:v1`, `oci:${dest}:copied`]);
    const t = await (await OciLayoutReader.openDir(dest)).read('copied');
    assert.equal(t.kind, 'image');
    if (t.kind !== 'image') return;
    assert.equal(sha256(t.image.configBytes), img.images[0]!.config.digest);
    for (let i = 0; i < 2; i++) assert.equal(sha256(await collect(t.image.openLayer(i))), t.image.manifest.layers[i]!.digest);
  });

  it('writes a layout skopeo copies from, with the same config and diff_ids', async () => {
    const src = await OciLayoutReader.openDir(img.dir);
    const t = await src.read('v1');
    if (t.kind !== 'image') throw new Error('expected image');
    const outDir = join(tmp.path, 'written');
    const w = await OciLayoutWriter.open(outDir);
    const desc = await w.writeImage('mine', {
      manifestBytes: t.image.manifestBytes,
      configBytes: t.image.configBytes,
      openLayer: (d) => src.openBlob(d),
    });
    assert.equal(desc.digest, img.digest);
    // no temp files left behind
    assert.deepEqual((await readdir(join(outDir, 'blobs', 'sha256'))).filter((n) => n.startsWith('.')), []);
    const archive = join(tmp.path, 'from-written.tar');
    await run('skopeo', ['copy', `oci:${outDir}:mine`, `docker-archive:${archive}:re/written:1`]);
    const raw = JSON.parse((await run('skopeo', ['inspect', '--raw', `docker-archive:${archive}`])).stdout);
    assert.equal(raw.config.digest, img.images[0]!.config.digest);
    assert.deepEqual(raw.layers.map((l: { digest: string }) => l.digest), img.images[0]!.diffIds);
    // also the multi-platform index, copied with --all
    const m = await src.read('multi');
    if (m.kind !== 'index') throw new Error('expected index');
    for (const im of m.images) await w.writeImage(undefined, { manifestBytes: im.manifestBytes, configBytes: im.configBytes, openLayer: (d) => src.openBlob(d) });
    const put = await w.putBlob(m.indexBytes, m.descriptor);
    await w.tag('multi', { ...m.descriptor, size: put.size });
    await run('skopeo', ['copy', '--all', `oci:${outDir}:multi`, `oci:${join(tmp.path, 'multi-copy')}:m`]);
    const back = await (await OciLayoutReader.openDir(join(tmp.path, 'multi-copy'))).read('m');
    assert.equal(back.kind, 'index');
    assert.equal(back.descriptor.digest, multi.digest);
  });

  it('refuses a blob whose digest is wrong and keeps nothing', async () => {
    const w = await OciLayoutWriter.open(join(tmp.path, 'strict'));
    const wrong = sha256('something else');
    await assert.rejects(w.putBlob(Readable.from([Buffer.from('hello')]), { digest: wrong }), /digest mismatch: expected sha256:/);
    assert.deepEqual(await readdir(join(tmp.path, 'strict', 'blobs', 'sha256')), []);
  });

  it('reads a layout packed in a tar; a corrupted blob errors clearly', async () => {
    const files = await treeFiles(img.dir);
    const p = join(tmp.path, 'layout.tar');
    await writeFile(p, await packTar(files));
    const r = await OciLayoutReader.openTar(p);
    const t = await r.read('v1');
    if (t.kind !== 'image') throw new Error('expected image');
    assert.equal(sha256(t.image.configBytes), img.images[0]!.config.digest);
    assert.equal(sha256(await collect(t.image.openLayer(0))), img.images[0]!.layers[0]!.digest);

    const layerKey = `blobs/sha256/${img.images[0]!.layers[0]!.digest.slice(7)}`;
    const bad = Buffer.from(files[layerKey]!);
    bad[100] ^= 0xff;
    const badTar = join(tmp.path, 'bad-layout.tar');
    await writeFile(badTar, await packTar({ ...files, [layerKey]: bad }));
    const t2 = await (await OciLayoutReader.openTar(badTar)).read('v1');
    if (t2.kind !== 'image') throw new Error('expected image');
    await assert.rejects(collect(t2.image.openLayer(0)), /bad-layout\.tar: blob: digest mismatch/);
  });

  it('a directory that is not a layout is named in the error', async () => {
    await assert.rejects(OciLayoutReader.openDir(tmp.path), /no oci-layout file/);
  });
});
