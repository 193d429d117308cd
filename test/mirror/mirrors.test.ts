// berth.mirrors: two upstreams in one berth, next to a local repository. Upstream A is Debian's
// docker-registry with htpasswd (Basic; ns docker.io, so Docker Hub's library/ rule applies), upstream
// B is another berth with its token service (the WWW-Authenticate Bearer flow); each behind a
// counting proxy. Real clients: skopeo and podman through
// registries.conf mirrors, containerd's ctr through hosts.toml (?ns=), and plain HTTP for the rest.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { htpasswdText } from '../auth/harness.ts';
import { join } from 'node:path';
import { clientSandbox, hasCommand, run, startBerth, tempDir, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { sha256, type LayoutResult } from '../helpers/images.ts';
import { blobPaths, pushImage, skopeo, startCountingHttpProxy, startDistributionUpstream, startMirrorBerth, UPSTREAM_PASSWORD, UPSTREAM_USER, type CountingHttpProxy } from './harness.ts';
import { hasContainerd, startContainerd, type Containerd } from './containerd.ts';

const CREDS = `${UPSTREAM_USER}:${UPSTREAM_PASSWORD}`;
const B_NS = 'upstream-b.example';

describe('berth.mirrors: two upstreams next to local repositories', { skip: (!hasCommand('skopeo') || !hasCommand('docker-registry')) && 'needs skopeo and docker-registry' }, () => {
  let work: { path: string; cleanup(): Promise<void> };
  let sb: ClientSandbox;
  let upA: RunningServer;
  let upB: RunningServer;
  let countA: CountingHttpProxy;
  let countB: CountingHttpProxy;
  let mirror: RunningServer;
  let app: LayoutResult;
  let busybox: LayoutResult;
  let cli: LayoutResult;
  let multi: LayoutResult;

  const copy = (src: string, dest: string, opts: { allowFail?: boolean } = {}) =>
    skopeo(sb, ['copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', src, dest], opts);
  const manifestOf = async (dir: string) => sha256(await readFile(join(work.path, dir, 'manifest.json')));

  before(async () => {
    work = await tempDir('mirror-mirrors');
    upA = await startDistributionUpstream(work.path);
    await writeFile(join(work.path, 'b.htpasswd'), await htpasswdText({ [UPSTREAM_USER]: UPSTREAM_PASSWORD }));
    upB = await startBerth({
      configYaml: `auth:\n  htpasswd: {realm: upstream-b, path: ${join(work.path, 'b.htpasswd')}}\n  token: {service: upstream-b, issuer: upstream-b}\nberth:\n  auth:\n    tokenservice: {enabled: true}\n`,
    });
    countA = await startCountingHttpProxy(upA.host);
    countB = await startCountingHttpProxy(upB.host);
    mirror = await startMirrorBerth(
      [
        'berth:',
        '  mirrors:',
        `    - {prefix: dist/, remoteurl: "http://${countA.host}", username: ${UPSTREAM_USER}, password: ${UPSTREAM_PASSWORD}, ttl: 1m, ns: docker.io}`,
        `    - {prefix: b/, remoteurl: "http://${countB.host}", username: ${UPSTREAM_USER}, password: ${UPSTREAM_PASSWORD}, ttl: 1m, ns: ${B_NS}}`,
        `    - {prefix: bad/, remoteurl: "http://${countB.host}", username: ${UPSTREAM_USER}, password: Wr0ng-B-S3cret}`,
        '',
      ].join('\n'),
    );
    sb = await clientSandbox('mirror-mirrors', [mirror.host, upA.host, upB.host]);
    app = await pushImage(sb, join(work.path, 'app'), `${upA.host}/team/app:v1`, { creds: CREDS, layers: 2 });
    busybox = await pushImage(sb, join(work.path, 'busybox'), `${upA.host}/library/busybox:v1`, { creds: CREDS, layers: 1 });
    multi = await pushImage(sb, join(work.path, 'multi'), `${upA.host}/team/multi:v1`, {
      creds: CREDS,
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
    });
    cli = await pushImage(sb, join(work.path, 'cli'), `${upB.host}/tools/cli:v1`, { layers: 2, creds: CREDS });
    countA.reset();
    countB.reset();
  });
  after(async () => {
    await mirror?.stop();
    await countA?.close();
    await countB?.close();
    await upA?.stop();
    await upB?.stop();
    await sb?.cleanup();
    await work?.cleanup();
  });

  it('skopeo pulls through each prefix; a local repository works beside them; pushes under a prefix are refused', async () => {
    await copy(`docker://${mirror.host}/dist/team/app:v1`, `dir:${join(work.path, 'p-app')}`);
    assert.equal(await manifestOf('p-app'), app.digest);
    await copy(`docker://${mirror.host}/b/tools/cli:v1`, `dir:${join(work.path, 'p-cli')}`);
    assert.equal(await manifestOf('p-cli'), cli.digest);
    for (const path of blobPaths('team/app', app)) assert.equal(countA.count('GET', path), 1, path);
    for (const path of blobPaths('tools/cli', cli)) assert.equal(countB.count('GET', path), 1, path);
    assert.equal(countA.requests.filter((r) => r.includes('tools/cli')).length, 0, 'each prefix goes to its own upstream');
    // B's token service was asked for a Bearer token with berth's credentials (through the same proxy: its realm).
    assert.ok(countB.count('GET', '/auth/token') >= 1, countB.requests.join('\n'));

    // A wrong password: the token service refuses it, and the client is told so (no secret in the message).
    const bad = await fetch(`${mirror.url}/v2/bad/tools/cli/manifests/v1`);
    assert.equal(bad.status, 403);
    const badText = await bad.text();
    assert.match(badText, /token service refused berth's credentials: check berth\.mirrors\.2\.username and berth\.mirrors\.2\.password/);
    assert.ok(!badText.includes('Wr0ng-B-S3cret') && !mirror.logs().includes('Wr0ng-B-S3cret'));

    // A local repository next to the mirrors: pushed and pulled as always, never sent upstream.
    await copy(`oci:${join(work.path, 'app')}:v1`, `docker://${mirror.host}/local/app:v1`);
    await copy(`docker://${mirror.host}/local/app:v1`, `dir:${join(work.path, 'p-local')}`);
    assert.equal(countA.requests.concat(countB.requests).filter((r) => r.includes('local/')).length, 0);

    const refused = await copy(`oci:${join(work.path, 'app')}:v1`, `docker://${mirror.host}/dist/team/pushed:v1`, { allowFail: true });
    assert.notEqual(refused.code, 0);
    const res = await fetch(`${mirror.url}/v2/b/tools/cli/manifests/v1`, { method: 'DELETE' });
    assert.equal(res.status, 405);
    assert.match(await res.text(), /b\/ is a pull-through cache/);
    const catalog = (await (await fetch(`${mirror.url}/v2/_catalog`)).json()) as { repositories: string[] };
    assert.deepEqual(catalog.repositories, ['b/tools/cli', 'dist/team/app', 'local/app']);
  });

  it('podman and skopeo pull through registries.conf mirrors ([[registry.mirror]]), without credentials for the upstream', { skip: !hasCommand('podman') && 'podman is not installed' }, async () => {
    const conf = [
      'unqualified-search-registries = []',
      '',
      '[[registry]]',
      `location = "${countA.host}"`,
      'insecure = true',
      '[[registry.mirror]]',
      `location = "${mirror.host}/dist"`,
      'insecure = true',
      '',
      '[[registry]]',
      `location = "${countB.host}"`,
      'insecure = true',
      '[[registry.mirror]]',
      `location = "${mirror.host}/b"`,
      'insecure = true',
      '',
    ].join('\n');
    await writeFile(sb.env.CONTAINERS_REGISTRIES_CONF!, conf);
    countA.reset();
    // The multi-platform image: podman takes linux/amd64 only, so only that image's blobs are fetched.
    const r = await run('podman', [...sb.podmanFlags, 'pull', '--quiet', '--arch', 'amd64', `${countA.host}/team/multi:v1`], { env: sb.env });
    const amd64 = multi.images.find((i) => i.platform.architecture === 'amd64')!;
    const arm64 = multi.images.find((i) => i.platform.architecture === 'arm64')!;
    const inspect = JSON.parse((await run('podman', [...sb.podmanFlags, 'image', 'inspect', r.stdout.trim()], { env: sb.env })).stdout) as { Digest: string }[];
    assert.equal(inspect[0]!.Digest, multi.digest);
    // The upstream was asked for it (through the mirror: the sandbox has no credentials for A).
    assert.equal(countA.count('GET', `/v2/team/multi/manifests/${amd64.manifest.digest}`), 1, countA.requests.join('\n'));
    for (const l of amd64.layers) assert.equal(countA.count('GET', `/v2/team/multi/blobs/${l.digest}`), 1);
    for (const l of arm64.layers) assert.equal(countA.count('GET', `/v2/team/multi/blobs/${l.digest}`), 0);
    const catalog = (await (await fetch(`${mirror.url}/v2/_catalog`)).json()) as { repositories: string[] };
    assert.ok(catalog.repositories.includes('dist/team/multi'));

    // skopeo resolves the same registries.conf: upstream B through its mirror.
    countB.reset();
    // skopeo 1.9 reads /etc/containers/registries.conf unless told: --registries-conf.
    await skopeo(sb, ['--registries-conf', sb.env.CONTAINERS_REGISTRIES_CONF!, 'copy', '--quiet', `docker://${countB.host}/tools/cli:v1`, `dir:${join(work.path, 'rc-cli')}`]);
    assert.equal(await manifestOf('rc-cli'), cli.digest);
    // Cached already by the first test: only a tag check at most, no blob.
    assert.equal(countB.requests.filter((r) => r.includes('/blobs/')).length, 0, countB.requests.join('\n'));
  });

  it("Docker Hub's library/ rule and containerd's ?ns= (OCI-Namespace) over plain HTTP", async () => {
    countA.reset();
    const byPrefix = await fetch(`${mirror.url}/v2/dist/busybox/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(byPrefix.status, 200);
    assert.equal(byPrefix.headers.get('docker-content-digest'), busybox.digest);
    assert.equal(countA.count('GET', '/v2/library/busybox/manifests/v1'), 1, countA.requests.join('\n'));

    const byNs = await fetch(`${mirror.url}/v2/library/busybox/manifests/v1?ns=docker.io`);
    assert.equal(byNs.status, 200);
    assert.equal(byNs.headers.get('oci-namespace'), 'docker.io');
    assert.equal(byNs.headers.get('docker-content-digest'), busybox.digest);
    const layer = busybox.images[0]!.layers[0]!;
    const blob = await fetch(`${mirror.url}/v2/library/busybox/blobs/${layer.digest}?ns=docker.io`);
    assert.equal(blob.status, 200);
    assert.equal(sha256(Buffer.from(await blob.arrayBuffer())), layer.digest);

    const byNsB = await fetch(`${mirror.url}/v2/tools/cli/manifests/v1?ns=${B_NS}`);
    assert.equal(byNsB.status, 200);
    assert.equal(byNsB.headers.get('oci-namespace'), B_NS);
    // An ns no mirror answers is ignored: the name is a local one (and there is none).
    const other = await fetch(`${mirror.url}/v2/tools/cli/manifests/v1?ns=elsewhere.example`);
    assert.equal(other.status, 404);
    assert.equal(other.headers.get('oci-namespace'), null);
    const catalog = (await (await fetch(`${mirror.url}/v2/_catalog`)).json()) as { repositories: string[] };
    assert.ok(catalog.repositories.includes('dist/library/busybox') && catalog.repositories.includes('dist/busybox'), catalog.repositories.join(' '));
  });

  it('ctr (containerd) pulls through hosts.toml mirrors, which send ?ns=', { skip: !hasContainerd() && 'containerd is not installed' }, async () => {
    const ctrd = await startContainerd(join(work.path, 'containerd'));
    try {
      await ctrd.mirror('docker.io', mirror.url);
      await ctrd.mirror(B_NS, mirror.url);
      await ctrd.pull('docker.io/library/busybox:v1');
      await ctrd.pull(`${B_NS}/tools/cli:v1`);
      countA.reset();
      await ctrd.pull('docker.io/team/app:v1');
      // Cached by the first test under dist/team/app: nothing fetched again.
      assert.equal(countA.requests.filter((r) => r.includes('/blobs/')).length, 0, countA.requests.join('\n'));
    } finally {
      await ctrd.stop();
    }
  });

  it('with one upstream stopped, its cached images still pull and the other mirror is unaffected', async () => {
    await upB.stop();
    await copy(`docker://${mirror.host}/b/tools/cli:v1`, `dir:${join(work.path, 'down-cli')}`);
    assert.equal(await manifestOf('down-cli'), cli.digest);
    await copy(`docker://${mirror.host}/dist/team/app:v1`, `dir:${join(work.path, 'down-app')}`);
    const missing = await fetch(`${mirror.url}/v2/b/tools/other/manifests/v1`);
    assert.equal(missing.status, 503);
  });
});
