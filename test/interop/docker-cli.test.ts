// The docker CLI without an engine: `docker manifest inspect/create/push --insecure` talk to the
// registry directly (images are put there with skopeo, since `docker push` needs a daemon).
// INTEROP_SERVER=distribution runs the same checks against docker-registry (to validate the test).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
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
import { makeOciLayout, readLayoutBlob, sha256 } from '../helpers/images.ts';

const start = process.env.INTEROP_SERVER === 'distribution' ? startDistribution : startBerth;
const missing = ['docker', 'skopeo'].filter((c) => !hasCommand(c));

describe('docker CLI interop', { skip: missing.length > 0 && `not installed: ${missing.join(', ')}` }, () => {
  let server: RunningServer;
  let sb: ClientSandbox;
  let work: string;
  let cleanupWork: () => Promise<void>;

  const docker = (...args: string[]) => run('docker', args, { env: sb.env });
  const skopeo = (...args: string[]) => run('skopeo', ['--insecure-policy', ...args], { env: sb.env });
  const push = (src: string, ref: string, ...flags: string[]) =>
    skopeo('copy', '--quiet', '--dest-tls-verify=false', ...flags, src, `docker://${server.host}/${ref}`);
  const rawManifest = async (ref: string) =>
    (await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${server.host}/${ref}`)).stdout;

  before(async () => {
    server = await start();
    sb = await clientSandbox('docker-interop', [server.host]);
    const t = await tempDir('docker-work');
    work = t.path;
    cleanupWork = t.cleanup;
  });
  after(async () => {
    await server?.stop();
    await sb?.cleanup();
    await cleanupWork?.();
  });

  it('manifest inspect of an image (OCI and Docker schema 2) and of an index', async () => {
    const lay = join(work, 'inspect');
    const img = await makeOciLayout(lay, { tag: 'img', layers: 2, layerBytes: 4096 });
    const idx = await makeOciLayout(lay, {
      tag: 'idx',
      layers: 1,
      layerBytes: 4096,
      platforms: [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    });
    await push(`oci:${lay}:img`, 'insp/oci:1', '--preserve-digests');
    await push(`oci:${lay}:img`, 'insp/docker:1', '--format', 'v2s2');
    await push(`oci:${lay}:idx`, 'insp/index:1', '--all', '--preserve-digests');

    const oci = JSON.parse((await docker('manifest', 'inspect', '--insecure', `${server.host}/insp/oci:1`)).stdout);
    assert.deepEqual(oci, JSON.parse((await readLayoutBlob(lay, img.digest)).toString()));

    const v2 = JSON.parse((await docker('manifest', 'inspect', '--insecure', '-v', `${server.host}/insp/docker:1`)).stdout);
    assert.equal(v2.Descriptor.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(v2.Descriptor.digest, sha256(await rawManifest('insp/docker:1')));
    assert.equal(v2.SchemaV2Manifest.layers.length, 2);

    const list = JSON.parse((await docker('manifest', 'inspect', '--insecure', `${server.host}/insp/index:1`)).stdout);
    assert.equal(list.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(
      list.manifests.map((m: { digest: string; platform: { architecture: string } }) => [m.digest, m.platform.architecture]),
      idx.images.map((i) => [i.manifest.digest, i.platform.architecture]),
    );
  });

  it('manifest create + push of a list from two single-platform images', async () => {
    const lay = join(work, 'list');
    await makeOciLayout(lay, { tag: 'amd', layers: 1, layerBytes: 8192 });
    await makeOciLayout(lay, { tag: 'arm', layers: 1, layerBytes: 8192, platforms: [{ os: 'linux', architecture: 'arm64' }] });
    // Docker schema 2 images: what `docker manifest create` has always handled.
    await push(`oci:${lay}:amd`, 'ml/amd:1', '--format', 'v2s2');
    await push(`oci:${lay}:arm`, 'ml/arm:1', '--format', 'v2s2', '--override-arch', 'arm64');
    const amd = sha256(await rawManifest('ml/amd:1'));
    const arm = sha256(await rawManifest('ml/arm:1'));

    const list = `${server.host}/ml/list:1`;
    await docker('manifest', 'create', '--insecure', list, `${server.host}/ml/amd:1`, `${server.host}/ml/arm:1`);
    // push mounts the children's blobs into ml/list and puts them there by digest, then the list.
    const pushed = await docker('manifest', 'push', '--insecure', list);
    const listDigest = pushed.stdout.trim().split('\n').pop()!;
    assert.match(listDigest, /^sha256:[0-9a-f]{64}$/);

    const raw = await rawManifest('ml/list:1');
    assert.equal(sha256(raw), listDigest);
    const parsed = JSON.parse(raw);
    assert.equal(parsed.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
    const children = parsed.manifests as { digest: string; mediaType: string; platform: { architecture: string } }[];
    assert.deepEqual(children.map((c) => [c.platform.architecture, c.digest]).sort(), [['amd64', amd], ['arm64', arm]].sort());
    for (const c of children) {
      assert.equal(c.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
      // Each child must be fetchable from the list's own repository, with its blobs.
      const child = JSON.parse(await rawManifest(`ml/list@${c.digest}`));
      for (const d of [child.config.digest, ...child.layers.map((l: { digest: string }) => l.digest)]) {
        const head = await fetch(`${server.url}/v2/ml/list/blobs/${d}`, { method: 'HEAD' });
        assert.equal(head.status, 200, `blob ${d} mounted into ml/list`);
      }
    }
  });
});
