// tags, catalog, inspect, digest, tag and rm against berth and Debian's docker-registry (CNCF
// Distribution 2.8) without authentication: the client must work with any registry.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clientSandbox, hasCommand, run, startBerth, startDistribution, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { berthCli, client, pushRandomImage } from './helpers.ts';
import { headBlob, getBlob, mountBlob, putManifest, streamBlob, uploadBlob, uploadBlobStream } from '../../src/client/index.ts';
import { digestOf } from '../../src/oci/digest.ts';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

const registries: [string, () => Promise<RunningServer>][] = [
  ['berth', () => startBerth()],
  ['docker-registry', () => startDistribution()],
];

for (const [kind, start] of registries) {
  describe(`registry commands against ${kind}`, { skip: kind === 'docker-registry' && !hasCommand('docker-registry') }, () => {
    let server: RunningServer;
    let sb: ClientSandbox;
    let berth: ReturnType<typeof berthCli>;
    before(async () => {
      server = await start();
      sb = await clientSandbox(`cli-${kind}`, []);
      berth = berthCli(sb.env);
    });
    after(async () => {
      await server?.stop();
      await sb?.cleanup();
    });

    it('lists tags and the catalog across pages', async () => {
      const c = await client(server.host);
      const img = await pushRandomImage(c, 'pages/app', 't0');
      for (let i = 1; i < 5; i++) await c.request(`/v2/pages/app/manifests/t${i}`, { method: 'PUT', headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: img.bytes, scope: 'repository:pages/app:pull,push' });
      for (const r of ['pages/b', 'pages/c']) await pushRandomImage(c, r, 'x');
      assert.deepEqual((await c.tags('pages/app', 2)).sort(), ['t0', 't1', 't2', 't3', 't4']);
      const tags = await berth(['tags', `${server.host}/pages/app`, '--insecure', '--page-size', '2', '--json']);
      assert.equal(tags.code, 0, tags.stderr);
      assert.deepEqual((JSON.parse(tags.stdout) as { tags: string[] }).tags.sort(), ['t0', 't1', 't2', 't3', 't4']);
      const cat = await berth(['catalog', server.host, '--insecure', '--page-size', '1']);
      assert.equal(cat.code, 0, cat.stderr);
      for (const r of ['pages/app', 'pages/b', 'pages/c']) assert.ok(cat.stdout.split('\n').includes(r), cat.stdout);
    });

    it('inspects (the --raw bytes are what skopeo sees), prints digests, re-tags and deletes', async () => {
      const c = await client(server.host);
      const img = await pushRandomImage(c, 'team/app', '1.0', 1234);
      const image = `${server.host}/team/app:1.0`;

      const raw = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'inspect', image, '--insecure', '--raw'], { env: sb.env });
      assert.equal(raw.stdout, img.bytes.toString('utf8'));
      if (hasCommand('skopeo')) {
        const sk = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${image}`], { env: sb.env });
        assert.equal(raw.stdout, sk.stdout, 'berth inspect --raw and skopeo inspect --raw differ');
      }
      const info = await berth(['inspect', image, '--insecure', '--json']);
      assert.equal(info.code, 0, info.stderr);
      const j = JSON.parse(info.stdout) as { digest: string; platform: string; layers: { size: number }[]; layersSize: number };
      assert.equal(j.digest, img.digest);
      assert.equal(j.platform, 'linux/amd64');
      assert.deepEqual(j.layers.map((l) => l.size), [1234]);
      const human = await berth(['inspect', image, '--insecure']);
      assert.match(human.stdout, /Layers \(1, 1\.2 KiB\)/);

      const dg = await berth(['digest', image, '--insecure']);
      assert.equal(dg.code, 0, dg.stderr);
      assert.equal(dg.stdout.trim(), img.digest);

      const tag = await berth(['tag', image, `${server.host}/team/app:stable`, '--insecure']);
      assert.equal(tag.code, 0, tag.stderr);
      const tags = await berth(['tags', `${server.host}/team/app`, '--insecure']);
      assert.deepEqual(tags.stdout.trim().split('\n').sort(), ['1.0', 'stable']);
      assert.equal((await berth(['digest', `${server.host}/team/app:stable`, '--insecure'])).stdout.trim(), img.digest);

      // re-tag into another repository of the same registry: blobs mounted, same digest
      const cross = await berth(['tag', image, `${server.host}/other/app:copy`, '--insecure', '--json']);
      assert.equal(cross.code, 0, cross.stderr);
      assert.equal((JSON.parse(cross.stdout) as { digest: string }).digest, img.digest);

      // rm by tag: berth deletes the tag alone; registry:2 can only delete the manifest (all its tags)
      const rmTag = await berth(['rm', `${server.host}/team/app:stable`, '--insecure']);
      assert.equal(rmTag.code, 0, rmTag.stderr);
      const left = (await berth(['tags', `${server.host}/team/app`, '--insecure'])).stdout.trim().split('\n').filter(Boolean);
      if (kind === 'berth') assert.deepEqual(left, ['1.0']);
      else assert.deepEqual(left, []);

      // rm by digest
      const second = await pushRandomImage(c, 'team/app', '2.0');
      const rmDigest = await berth(['rm', `${server.host}/team/app@${second.digest}`, '--insecure', '--json']);
      assert.equal(rmDigest.code, 0, rmDigest.stderr);
      const gone = await berth(['digest', `${server.host}/team/app:2.0`, '--insecure']);
      assert.equal(gone.code, 1);
      assert.match(gone.stderr, /not found/);
    });

    it('inspects an index: its platforms', async () => {
      const c = await client(server.host);
      const a = await pushRandomImage(c, 'multi/app', 'amd64');
      const b = await pushRandomImage(c, 'multi/app', 'arm64');
      const index = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: [
            { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: a.digest, size: a.bytes.length, platform: { os: 'linux', architecture: 'amd64' } },
            { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: b.digest, size: b.bytes.length, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
          ],
        }),
      );
      const digest = await putManifest(c, 'multi/app', 'latest', index, 'application/vnd.oci.image.index.v1+json');
      const r = await berth(['inspect', `${server.host}/multi/app`, '--insecure', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as { digest: string; manifests: { digest: string; platform: { architecture: string } }[] };
      assert.equal(j.digest, digest);
      assert.deepEqual(j.manifests.map((m) => [m.digest, m.platform.architecture]), [[a.digest, 'amd64'], [b.digest, 'arm64']]);
      const human = await berth(['inspect', `${server.host}/multi/app:latest`, '--insecure']);
      assert.match(human.stdout, /linux\/arm64\/v8/);
      const raw = await berth(['inspect', `${server.host}/multi/app@${digest}`, '--insecure', '--raw']);
      assert.equal(raw.stdout, index.toString('utf8'));
    });

    it('uploads chunked, mounts, reads ranges; usage errors exit 2', async () => {
      const c = await client(server.host);
      const big = randomBytes((1 << 20) + 4097); // over the monolithic limit: POST + PATCH + PUT
      const d = digestOf(big);
      await uploadBlob(c, 'blobs/a', d, big);
      assert.equal(await headBlob(c, 'blobs/a', d), big.length);
      assert.ok((await getBlob(c, 'blobs/a', d)).equals(big));
      const chunks: Buffer[] = [];
      for await (const b of await streamBlob(c, 'blobs/a', d, 1000)) chunks.push(b as Buffer);
      assert.ok(Buffer.concat(chunks).equals(big.subarray(1000)));
      assert.equal(await mountBlob(c, 'blobs/b', d, 'blobs/a'), true);
      // a stream of unknown length: one chunked-encoding PATCH
      const streamed = randomBytes(3 << 20);
      const sd = digestOf(streamed);
      await uploadBlobStream(c, 'blobs/s', sd, Readable.from([streamed.subarray(0, 1 << 20), streamed.subarray(1 << 20)]));
      assert.ok((await getBlob(c, 'blobs/s', sd)).equals(streamed));
      assert.equal(await headBlob(c, 'blobs/b', d), big.length);

      assert.equal((await berth(['tags'])).code, 2);
      assert.equal((await berth(['inspect', 'no-host-here', '--insecure'])).code, 2);
      const missing = await berth(['inspect', `${server.host}/nope/nothing:1`, '--insecure']);
      assert.equal(missing.code, 1);
    });
  });
}
