// `berth copy` between Debian's docker-registry (CNCF Distribution 2.8: no referrers API) and
// berth (referrers API): digests preserved for images and indexes, skopeo can pull the copies,
// nothing moved twice, mounts within one registry, referrers carried along (and the referrers tag
// schema maintained where the API is missing), clear errors.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { clientSandbox, hasCommand, run, startBerth, startDistribution, tempDir, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { makeOciLayout } from '../helpers/images.ts';
import { berthCli, client } from './helpers.ts';
import {
  addToReferrersTag,
  getManifest,
  listReferrers,
  putManifest,
  readReferrersTag,
  referrersTag,
  uploadBlob,
  type RegistryClient,
} from '../../src/client/index.ts';
import { digestOf } from '../../src/oci/digest.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const SBOM = 'application/vnd.example.sbom.v1+json';
const SIG = 'application/vnd.example.signature.v1';

interface CopyJson {
  source: string;
  destination: string;
  digest: string;
  mediaType: string;
  manifests: number;
  blobs: { copied: number; exists: number; mounted: number };
  bytes: number;
  referrers: number;
}

/** An artifact whose subject is `subject` (as oras/cosign push them); pushed by digest. */
async function pushReferrer(c: RegistryClient, repo: string, subject: { digest: string; size: number }, artifactType: string): Promise<string> {
  const empty = Buffer.from('{}');
  const payload = randomBytes(200);
  await uploadBlob(c, repo, digestOf(empty), empty);
  await uploadBlob(c, repo, digestOf(payload), payload);
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: digestOf(empty), size: 2, data: 'e30=' },
      layers: [{ mediaType: 'application/octet-stream', digest: digestOf(payload), size: payload.length }],
      subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size },
      annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
    }),
  );
  const digest = digestOf(bytes);
  await putManifest(c, repo, digest, bytes, OCI_MANIFEST);
  return digest;
}

describe('berth copy between docker-registry and berth', { skip: !hasCommand('docker-registry') || !hasCommand('skopeo') }, () => {
  let berthSrv: RunningServer;
  let dist: RunningServer;
  let sb: ClientSandbox;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let berth: ReturnType<typeof berthCli>;
  const single = { digest: '', layers: 0 };
  const multi = { digest: '', platforms: [] as string[] };

  const copy = async (args: string[]) => {
    const r = await berth(['copy', ...args, '--insecure']);
    assert.equal(r.code, 0, `berth copy ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
    return r;
  };
  const copyJson = async (args: string[]): Promise<CopyJson> => JSON.parse((await copy([...args, '--json'])).stdout) as CopyJson;
  const raw = async (image: string) => (await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${image}`], { env: sb.env })).stdout;

  before(async () => {
    [berthSrv, dist] = await Promise.all([startBerth(), startDistribution()]);
    sb = await clientSandbox('cli-copy', []);
    work = await tempDir('cli-copy-work');
    berth = berthCli(sb.env);
    const one = await makeOciLayout(join(work.path, 'single'), { tag: '1.0', layers: 2, layerBytes: 1_500_000 });
    const idx = await makeOciLayout(join(work.path, 'multi'), {
      tag: '1.0',
      layers: 1,
      layerBytes: 20_000,
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
        { os: 'linux', architecture: 's390x' },
      ],
    });
    await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${one.dir}:1.0`, `docker://${dist.host}/src/app:1.0`], { env: sb.env });
    await run('skopeo', ['copy', '-q', '--all', '--dest-tls-verify=false', `oci:${idx.dir}:1.0`, `docker://${dist.host}/src/multi:1.0`], { env: sb.env });
    const dc = await client(dist.host);
    single.digest = (await getManifest(dc, 'src/app', '1.0')).digest;
    single.layers = 3; // config + 2 layers
    const m = await getManifest(dc, 'src/multi', '1.0');
    multi.digest = m.digest;
    multi.platforms = (JSON.parse(m.bytes.toString('utf8')) as { manifests: { digest: string }[] }).manifests.map((d) => d.digest);
    assert.equal(multi.platforms.length, 3);
  });
  after(async () => {
    await Promise.all([berthSrv?.stop(), dist?.stop()]);
    await sb?.cleanup();
    await work?.cleanup();
  });

  it('copies an image and a 3-platform index docker-registry -> berth -> docker-registry, digests and bytes preserved', async () => {
    const a = await copy([`${dist.host}/src/app:1.0`, `${berthSrv.host}/copied/app`]);
    assert.match(a.stdout, new RegExp(`^Copied ${dist.host}/src/app:1\\.0 -> ${berthSrv.host}/copied/app:1\\.0 \\(${single.digest}\\)$`, 'm'));
    const b = await copyJson([`${dist.host}/src/multi:1.0`, `${berthSrv.host}/copied/multi:v1`]);
    assert.equal(b.digest, multi.digest);
    assert.equal(b.manifests, 4);
    assert.equal(b.blobs.copied, 6); // 3 configs + 3 layers
    assert.equal(b.mediaType, 'application/vnd.oci.image.index.v1+json');

    assert.equal(await raw(`${berthSrv.host}/copied/app:1.0`), await raw(`${dist.host}/src/app:1.0`));
    assert.equal(await raw(`${berthSrv.host}/copied/multi:v1`), await raw(`${dist.host}/src/multi:1.0`));
    for (const p of multi.platforms) assert.equal(await raw(`${berthSrv.host}/copied/multi@${p}`), await raw(`${dist.host}/src/multi@${p}`));

    // and back to docker-registry (another repository), by digest, keeping the tag given
    const c = await copyJson([`${berthSrv.host}/copied/multi@${multi.digest}`, `${dist.host}/back/multi:2.0`, '--parallel', '2']);
    assert.equal(c.digest, multi.digest);
    assert.equal(c.destination, `${dist.host}/back/multi:2.0`);
    // A destination named by digest alone gets no tag (skopeo pushes by digest too), on both registries.
    for (const host of [dist.host, berthSrv.host]) {
      const byDigest = await copyJson([`${dist.host}/src/app:1.0`, `${host}/bydigest/app@${single.digest}`]);
      assert.equal(byDigest.destination, `${host}/bydigest/app@${single.digest}`);
      assert.equal((await getManifest(await client(host), 'bydigest/app', single.digest)).digest, single.digest);
      assert.deepEqual(await (await client(host)).tags('bydigest/app').catch(() => []), []);
    }
    const d = await copy([`${berthSrv.host}/copied/app:1.0`, `${dist.host}/back/app`, '-q']);
    assert.match(d.stdout, /Copied .* -> .*\/back\/app:1\.0 /);
    assert.equal((await getManifest(await client(dist.host), 'back/app', '1.0')).digest, single.digest);
    assert.equal(await raw(`${dist.host}/back/multi:2.0`), await raw(`${dist.host}/src/multi:1.0`));

    // real clients can pull the copies, all platforms
    await run('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${berthSrv.host}/copied/app:1.0`, `oci:${join(work.path, 'pull-a')}:x`], { env: sb.env });
    await run('skopeo', ['copy', '-q', '--all', '--src-tls-verify=false', `docker://${dist.host}/back/multi:2.0`, `oci:${join(work.path, 'pull-b')}:x`], { env: sb.env });
  });

  it('moves no layer bytes the second time, mounts within berth, picks one platform', async () => {
    await copy([`${dist.host}/src/app:1.0`, `${berthSrv.host}/again/app:1.0`, '-q']);
    const second = await copyJson([`${dist.host}/src/app:1.0`, `${berthSrv.host}/again/app:1.0`]);
    assert.deepEqual(second.blobs, { copied: 0, exists: single.layers, mounted: 0 });
    assert.equal(second.bytes, 0);
    assert.equal(second.digest, single.digest);

    const mounted = await copyJson([`${berthSrv.host}/again/app:1.0`, `${berthSrv.host}/mounted/app:latest`]);
    assert.deepEqual(mounted.blobs, { copied: 0, exists: 0, mounted: single.layers });
    assert.equal(mounted.bytes, 0);
    assert.equal((await getManifest(await client(berthSrv.host), 'mounted/app', 'latest')).digest, single.digest);

    const arm = await copyJson([`${dist.host}/src/multi:1.0`, `${berthSrv.host}/plat/multi:arm`, '--platform', 'linux/arm64/v8']);
    assert.equal(arm.digest, multi.platforms[1]);
    assert.equal(arm.manifests, 1);
    assert.equal(arm.mediaType, OCI_MANIFEST);
    assert.equal((await getManifest(await client(berthSrv.host), 'plat/multi', 'arm')).digest, multi.platforms[1]);
    const none = await berth(['copy', `${dist.host}/src/multi:1.0`, `${berthSrv.host}/plat/multi:ppc`, '--platform', 'linux/ppc64le', '--insecure']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no linux\/ppc64le manifest \(platforms: linux\/amd64, linux\/arm64\/v8, linux\/s390x\)/);
  });

  it('--with-referrers: berth -> docker-registry writes the referrers tag; docker-registry -> berth fills the referrers API', async () => {
    const bc = await client(berthSrv.host);
    const dc = await client(dist.host);
    await copy([`${dist.host}/src/app:1.0`, `${berthSrv.host}/signed/app:1.0`, '-q']);
    const subject = await getManifest(bc, 'signed/app', '1.0');
    const sbom = await pushReferrer(bc, 'signed/app', { digest: subject.digest, size: subject.bytes.length }, SBOM);
    const sbomBytes = (await getManifest(bc, 'signed/app', sbom)).bytes;
    // a signature of the SBOM: referrers are followed recursively
    const sig = await pushReferrer(bc, 'signed/app', { digest: sbom, size: sbomBytes.length }, SIG);
    assert.deepEqual((await listReferrers(bc, 'signed/app', subject.digest)).manifests.map((d) => d.digest), [sbom]);

    const shown = await berth(['inspect', `${berthSrv.host}/signed/app:1.0`, '--insecure']);
    assert.match(shown.stdout, new RegExp(`Referrers \\(1\\):\\n  ${SBOM.replace(/[.+]/g, '\\$&')}\\s+${sbom}`));
    const shownJson = JSON.parse((await berth(['inspect', `${berthSrv.host}/signed/app:1.0`, '--insecure', '--json'])).stdout) as { referrers: unknown };
    assert.deepEqual(shownJson.referrers, [{ artifactType: SBOM, digest: sbom, size: sbomBytes.length }]);

    // without the flag nothing but the image goes
    const plain = await copyJson([`${berthSrv.host}/signed/app:1.0`, `${dist.host}/signed/app:1.0`]);
    assert.equal(plain.referrers, 0);
    assert.deepEqual(await readReferrersTag(dc, 'signed/app', subject.digest), []);

    const out = await copyJson([`${berthSrv.host}/signed/app:1.0`, `${dist.host}/signed/app:1.0`, '--with-referrers']);
    assert.equal(out.referrers, 2);
    assert.equal(out.digest, subject.digest);
    assert.equal((await getManifest(dc, 'signed/app', sbom)).bytes.toString('utf8'), sbomBytes.toString('utf8'));
    assert.equal((await getManifest(dc, 'signed/app', sig)).digest, sig);
    const tagIndex = await getManifest(dc, 'signed/app', referrersTag(subject.digest));
    assert.equal(referrersTag(subject.digest), `sha256-${subject.digest.slice(7)}`);
    assert.deepEqual(
      (JSON.parse(tagIndex.bytes.toString('utf8')) as { manifests: unknown[] }).manifests,
      [{ mediaType: OCI_MANIFEST, digest: sbom, size: sbomBytes.length, artifactType: SBOM, annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' } }],
    );
    assert.deepEqual((await readReferrersTag(dc, 'signed/app', sbom)).map((d) => [d.digest, d.artifactType]), [[sig, SIG]]);
    // listing through the client library falls back to the tag on docker-registry
    assert.deepEqual(await listReferrers(dc, 'signed/app', subject.digest, SBOM), { source: 'tag', manifests: (await readReferrersTag(dc, 'signed/app', subject.digest)) });
    // a repeat changes nothing (the tag index is not rewritten with duplicates)
    const again = await copyJson([`${berthSrv.host}/signed/app:1.0`, `${dist.host}/signed/app:1.0`, '--with-referrers']);
    assert.equal(again.bytes, 0);
    assert.equal((await readReferrersTag(dc, 'signed/app', subject.digest)).length, 1);

    // docker-registry -> berth: the source only has the fallback tag; berth's API lists the copy
    const fresh = await copyJson([`${dist.host}/signed/app:1.0`, `${berthSrv.host}/resigned/app:1.0`, '--with-referrers']);
    assert.equal(fresh.referrers, 2);
    assert.deepEqual(
      (await listReferrers(bc, 'resigned/app', subject.digest)).manifests.map((d) => [d.digest, d.artifactType]),
      [[sbom, SBOM]],
    );
    assert.deepEqual((await listReferrers(bc, 'resigned/app', sbom)).manifests.map((d) => d.digest), [sig]);
    // berth has the API: no fallback tag pushed there
    assert.deepEqual(await bc.tags('resigned/app'), ['1.0']);

    // referrers of an index's platform manifests come along too (pushed to docker-registry by hand, tag schema)
    const child = multi.platforms[2]!;
    const childBytes = (await getManifest(dc, 'src/multi', child)).bytes;
    const att = await pushReferrer(dc, 'src/multi', { digest: child, size: childBytes.length }, SBOM);
    await addToReferrersTag(dc, 'src/multi', child, [{ mediaType: OCI_MANIFEST, digest: att, size: (await getManifest(dc, 'src/multi', att)).bytes.length, artifactType: SBOM }]);
    const idx = await copyJson([`${dist.host}/src/multi:1.0`, `${berthSrv.host}/signed/multi:1.0`, '--with-referrers']);
    assert.equal(idx.referrers, 1);
    assert.deepEqual((await listReferrers(bc, 'signed/multi', child)).manifests.map((d) => d.digest), [att]);
  });

  it('errors: a missing source names the reference (exit 1, no credentials shown); bad flags exit 2', async () => {
    const missing = await berth(['copy', `${dist.host}/nope/app:9`, `${berthSrv.host}/x/app`, '--insecure', '--src-creds', 'me:s3cret-pass']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, new RegExp(`${dist.host}/nope/app:9: not found`));
    assert.doesNotMatch(missing.stderr, /s3cret/);
    const missingDigest = `sha256:${'0'.repeat(64)}`;
    const m2 = await berth(['copy', `${berthSrv.host}/copied/app@${missingDigest}`, `${dist.host}/x/app:1`, '--insecure']);
    assert.equal(m2.code, 1);
    assert.match(m2.stderr, new RegExp(`copied/app@${missingDigest}: not found`));
    assert.equal((await berth(['copy', `${dist.host}/src/app:1.0`, `${berthSrv.host}/x/app`, '--insecure', '--parallel', '0'])).code, 2);
    assert.equal((await berth(['copy', `${dist.host}/src/app:1.0`])).code, 2);
    const help = await berth(['copy', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--with-referrers/);
    assert.match(help.stdout, /Examples:/);
  });
});

/**
 * A minimal source registry: blob GETs answer 307 to another path (as registries backed by S3 do),
 * and in `broken/app` the layer's connection is cut halfway.
 */
async function fakeSource(): Promise<{ host: string; server: Server; digest: string; layer: Buffer }> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = randomBytes(2 << 20);
  const blobs = new Map([digestOf(config), digestOf(layer)].map((d, i) => [d, i ? layer : config]));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf(layer), size: layer.length }],
    }),
  );
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    let m: RegExpExecArray | null;
    if (url === '/v2/') return res.end('{}');
    if ((m = /^\/v2\/(.+)\/manifests\/[^/]+$/.exec(url))) {
      res.writeHead(200, { 'Content-Type': OCI_MANIFEST, 'Docker-Content-Digest': digestOf(manifest), 'Content-Length': manifest.length });
      return res.end(req.method === 'HEAD' ? undefined : manifest);
    }
    if ((m = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]+)$/.exec(url))) {
      res.writeHead(307, { Location: `/storage/${m[1]}/${m[2]}` });
      return res.end();
    }
    if ((m = /^\/storage\/(.+)\/(sha256:[a-f0-9]+)$/.exec(url)) && blobs.has(m[2]!)) {
      const data = blobs.get(m[2]!)!;
      res.writeHead(200, { 'Content-Length': data.length, 'Content-Type': 'application/octet-stream' });
      if (m[1] === 'broken/app' && data === layer) {
        res.write(data.subarray(0, data.length >> 1), () => setTimeout(() => res.socket?.destroy(), 50));
        return;
      }
      return res.end(data);
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'NOT_FOUND', message: url }] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, server, digest: digestOf(manifest), layer };
}

describe('berth copy from a source that redirects blobs or breaks off', () => {
  let berthSrv: RunningServer;
  let sb: ClientSandbox;
  let src: Awaited<ReturnType<typeof fakeSource>>;
  before(async () => {
    [berthSrv, src] = await Promise.all([startBerth(), fakeSource()]);
    sb = await clientSandbox('cli-copy-fake', []);
  });
  after(async () => {
    src?.server.close();
    src?.server.closeAllConnections();
    await berthSrv?.stop();
    await sb?.cleanup();
  });

  it('follows blob redirects; a source cut off mid-blob fails the copy (exit 1) instead of hanging', async () => {
    const berth = berthCli(sb.env);
    const ok = await berth(['copy', `${src.host}/ok/app:1`, `${berthSrv.host}/from-fake/app`, '--insecure', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const j = JSON.parse(ok.stdout) as CopyJson;
    assert.equal(j.digest, src.digest);
    assert.deepEqual(j.blobs, { copied: 2, exists: 0, mounted: 0 });
    assert.ok(j.bytes >= src.layer.length);
    const t0 = Date.now();
    const broken = await berth(['copy', `${src.host}/broken/app:1`, `${berthSrv.host}/from-fake/broken`, '--insecure']);
    assert.equal(broken.code, 1, broken.stderr);
    assert.ok(Date.now() - t0 < 30_000);
    assert.match(broken.stderr, /berth: .*reading sha256:[a-f0-9]+ failed: /);
    await assert.rejects(getManifest(await client(berthSrv.host), 'from-fake/broken', '1'), /404/);
  });
});
