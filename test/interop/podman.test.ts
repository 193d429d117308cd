// podman and buildah against berth: push/pull round trips and a scratch image built with buildah.
// Storage is vfs inside a sandbox (no overlay, no systemd); `podman run` is not possible here.
// INTEROP_SERVER=distribution runs the same checks against docker-registry (to validate the test).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createGunzip } from 'node:zlib';
import { readFile, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import tar from 'tar-stream';
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
import { makeOciLayout, sha256 } from '../helpers/images.ts';

const start = process.env.INTEROP_SERVER === 'distribution' ? startDistribution : startBerth;
const missing = ['podman', 'buildah', 'skopeo'].filter((c) => !hasCommand(c));

/** Files of a gzip'd (or plain) layer tar, by path without a leading ./ or /. */
async function layerFiles(blob: Buffer): Promise<Map<string, string>> {
  const gz = blob[0] === 0x1f && blob[1] === 0x8b;
  const extract = tar.extract();
  (gz ? Readable.from([blob]).pipe(createGunzip()) : Readable.from([blob])).pipe(extract);
  const files = new Map<string, string>();
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    if (entry.header.type === 'file') files.set(entry.header.name.replace(/^\.?\//, ''), Buffer.concat(chunks).toString());
  }
  return files;
}

describe('podman and buildah interop', { skip: missing.length > 0 && `not installed: ${missing.join(', ')}` }, () => {
  let server: RunningServer;
  let sb: ClientSandbox;
  let work: string;
  let cleanupWork: () => Promise<void>;

  const podman = (...args: string[]) => run('podman', [...sb.podmanFlags, ...args], { env: sb.env });
  const buildah = (...args: string[]) => run('buildah', [...sb.buildahFlags, ...args], { env: sb.env });
  const skopeo = (...args: string[]) => run('skopeo', ['--insecure-policy', ...args], { env: sb.env });
  const rawManifest = async (ref: string) =>
    (await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${server.host}/${ref}`)).stdout;

  before(async () => {
    server = await start();
    sb = await clientSandbox('podman-interop', [server.host]);
    const t = await tempDir('podman-work');
    work = t.path;
    cleanupWork = t.cleanup;
  });
  after(async () => {
    await server?.stop();
    await sb?.cleanup();
    await cleanupWork?.();
  });

  it('podman pull of a pushed image, re-tag, push, pull back', async () => {
    const src = await makeOciLayout(join(work, 'src'), { tag: 'v1', layers: 2, layerBytes: 50 * 1024 });
    await skopeo('copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `oci:${src.dir}:v1`, `docker://${server.host}/pod/src:v1`);

    await podman('pull', '--quiet', '--tls-verify=false', `${server.host}/pod/src:v1`);
    const pulled = (await podman('image', 'inspect', '--format', '{{.Digest}}', `${server.host}/pod/src:v1`)).stdout.trim();
    assert.equal(pulled, src.digest);

    await podman('tag', `${server.host}/pod/src:v1`, `${server.host}/pod/copy:v2`);
    const digestFile = join(work, 'push.digest');
    await podman('push', '--quiet', '--tls-verify=false', '--digestfile', digestFile, `${server.host}/pod/copy:v2`);
    const pushed = (await readFile(digestFile, 'utf8')).trim();
    assert.equal(sha256(await rawManifest('pod/copy:v2')), pushed, 'registry serves the manifest podman pushed');

    // Drop the local copy and pull it back: the image config (its ID) must be unchanged.
    await podman('rmi', '--force', `${server.host}/pod/copy:v2`, `${server.host}/pod/src:v1`);
    await podman('pull', '--quiet', '--tls-verify=false', `${server.host}/pod/copy:v2`);
    const id = (await podman('image', 'inspect', '--format', '{{.Id}}', `${server.host}/pod/copy:v2`)).stdout.trim();
    assert.equal(`sha256:${id}`, src.images[0].config.digest);
  });

  it('buildah from scratch + add + commit + push, then podman pull', async () => {
    const file = join(work, 'hello.txt');
    await writeFile(file, 'hello from berth\n');
    const ctr = (await buildah('from', 'scratch')).stdout.trim();
    try {
      await buildah('add', ctr, file, '/hello.txt');
      await buildah('config', '--cmd', '/hello', '--label', 'org.example=berth', ctr);
      await buildah('commit', '--quiet', ctr, 'localhost/built:1');
    } finally {
      await buildah('rm', ctr);
    }
    const digestFile = join(work, 'buildah.digest');
    await buildah('push', '--quiet', '--tls-verify=false', '--digestfile', digestFile, 'localhost/built:1', `docker://${server.host}/built/img:1`);
    const pushed = (await readFile(digestFile, 'utf8')).trim();

    await buildah('rmi', '--force', 'localhost/built:1');
    await podman('pull', '--quiet', '--tls-verify=false', `${server.host}/built/img:1`);
    const inspect = JSON.parse((await podman('image', 'inspect', `${server.host}/built/img:1`)).stdout)[0];
    assert.equal(inspect.Digest, pushed);
    assert.equal(inspect.Labels['org.example'], 'berth');

    // The one layer served by the registry holds the file buildah added.
    const manifest = JSON.parse(await rawManifest('built/img:1'));
    assert.equal(manifest.layers.length, 1);
    const layer = await fetch(`${server.url}/v2/built/img/blobs/${manifest.layers[0].digest}`);
    assert.equal(layer.status, 200);
    const files = await layerFiles(Buffer.from(await layer.arrayBuffer()));
    assert.equal(files.get('hello.txt'), 'hello from berth\n');
  });
});
