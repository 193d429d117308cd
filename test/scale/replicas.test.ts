// Two berth processes sharing PostgreSQL, S3 (Ceph's RADOS Gateway) and Redis, as replicas behind a
// load balancer: an upload hops between them chunk by chunk, a push through one is pulled through
// the other, deletes through either are seen by both, and a replica killed mid-upload loses nothing
// because the other finishes the upload.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { CephCluster } from '../helpers/ceph.ts';
import { startReplicaBackends, type ReplicaBackends } from '../helpers/replica-backends.ts';
import { clientSandbox, hasCommand, run, startBerth, tempDir, type RunningServer } from '../helpers/processes.ts';
import { makeOciLayout } from '../helpers/images.ts';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

describe('replicas over PostgreSQL, S3 and Redis', { timeout: 300_000 }, () => {
  let backends: ReplicaBackends;
  let ceph: CephCluster;
  let a: RunningServer;
  let b: RunningServer;
  let configYaml: string;

  before(async () => {
    backends = await startReplicaBackends('berth', 'replicas');
    ({ ceph, configYaml } = backends);
    // Started one after the other: the second finds the schema migrated (and would wait on the lock).
    a = await startBerth({ configYaml, startTimeoutMs: 60_000 });
    b = await startBerth({ configYaml, startTimeoutMs: 60_000 });
  });

  after(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await backends?.stop();
  });

  /** The same path on another replica (Location headers name the replica that issued them). */
  const on = (server: RunningServer, location: string) => {
    const u = new URL(location, server.url);
    return `${server.url}${u.pathname}${u.search}`;
  };

  async function chunkedUploadAcross(name: string, data: Buffer, replicas: RunningServer[]): Promise<string> {
    const digest = sha256(data);
    let res = await fetch(`${replicas[0]!.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
    assert.equal(res.status, 202);
    let location = res.headers.get('location')!;
    const chunk = Math.ceil(data.length / 4);
    for (let i = 0, off = 0; off < data.length; i++, off += chunk) {
      const piece = data.subarray(off, Math.min(off + chunk, data.length));
      const replica = replicas[(i + 1) % replicas.length]!;
      res = await fetch(on(replica, location), {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${off}-${off + piece.length - 1}` },
        body: new Uint8Array(piece),
      });
      assert.equal(res.status, 202, `chunk ${i} on replica ${replica.port}: ${await res.text()}`);
      assert.equal(res.headers.get('range'), `0-${off + piece.length - 1}`);
      location = res.headers.get('location')!;
    }
    const done = on(replicas[0]!, location);
    res = await fetch(`${done}${done.includes('?') ? '&' : '?'}digest=${digest}`, { method: 'PUT' });
    assert.equal(res.status, 201, await res.text());
    return digest;
  }

  async function putImage(server: RunningServer, name: string, tag: string, layer: string, layerSize: number): Promise<string> {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const configDigest = sha256(config);
    const res = await fetch(`${server.url}/v2/${name}/blobs/uploads/?digest=${configDigest}`, { method: 'POST', body: new Uint8Array(config) });
    assert.equal(res.status, 201);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer, size: layerSize }],
      }),
    );
    const put = await fetch(`${server.url}/v2/${name}/manifests/${tag}`, { method: 'PUT', headers: { 'Content-Type': OCI_MANIFEST }, body: new Uint8Array(manifest) });
    assert.equal(put.status, 201, await put.text());
    return sha256(manifest);
  }

  it('completes an upload whose chunks alternate between the replicas, and serves it from both', async () => {
    const data = randomBytes(12 * 1024 * 1024 + 5);
    const digest = await chunkedUploadAcross('team/app', data, [a, b]);
    const manifest = await putImage(b, 'team/app', 'v1', digest, data.length);

    // GET redirects to object storage (fetch follows); HEAD answers itself.
    const head = await fetch(`${a.url}/v2/team/app/blobs/${digest}`, { method: 'HEAD', redirect: 'manual' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(data.length));
    const redirect = await fetch(`${a.url}/v2/team/app/blobs/${digest}`, { redirect: 'manual' });
    assert.equal(redirect.status, 307);
    assert.ok(redirect.headers.get('location')!.startsWith(ceph.endpoint), 'blob bytes come from S3, not through berth');
    const got = Buffer.from(await (await fetch(`${a.url}/v2/team/app/blobs/${digest}`)).arrayBuffer());
    assert.ok(got.equals(data));

    const viaA = await fetch(`${a.url}/v2/team/app/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
    assert.equal(viaA.headers.get('docker-content-digest'), manifest);
    const tags = await (await fetch(`${a.url}/v2/team/app/tags/list`)).json();
    assert.deepEqual(tags, { name: 'team/app', tags: ['v1'] });
  });

  it('sees a tag move and a delete made through the other replica at once (shared cache invalidated)', async () => {
    const layer = randomBytes(1024);
    const layerDigest = sha256(layer);
    assert.equal((await fetch(`${a.url}/v2/moving/app/blobs/uploads/?digest=${layerDigest}`, { method: 'POST', body: new Uint8Array(layer) })).status, 201);
    const first = await putImage(a, 'moving/app', 'latest', layerDigest, layer.length);
    // Warm both replicas' caches.
    for (const s of [a, b]) assert.equal((await fetch(`${s.url}/v2/moving/app/manifests/latest`, { method: 'HEAD' })).headers.get('docker-content-digest'), first);

    const layer2 = randomBytes(2048);
    const layer2Digest = sha256(layer2);
    assert.equal((await fetch(`${b.url}/v2/moving/app/blobs/uploads/?digest=${layer2Digest}`, { method: 'POST', body: new Uint8Array(layer2) })).status, 201);
    const second = await putImage(b, 'moving/app', 'latest', layer2Digest, layer2.length);
    assert.equal((await fetch(`${a.url}/v2/moving/app/manifests/latest`, { method: 'HEAD' })).headers.get('docker-content-digest'), second);

    const del = await fetch(`${a.url}/v2/moving/app/manifests/${second}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    assert.equal((await fetch(`${b.url}/v2/moving/app/manifests/latest`, { method: 'HEAD' })).status, 404);
    assert.equal((await fetch(`${b.url}/v2/moving/app/manifests/${second}`, { method: 'HEAD' })).status, 404);
    assert.equal((await fetch(`${b.url}/v2/moving/app/manifests/${first}`, { method: 'HEAD' })).status, 200);

    const unlink = await fetch(`${b.url}/v2/moving/app/blobs/${layer2Digest}`, { method: 'DELETE' });
    assert.equal(unlink.status, 202);
    assert.equal((await fetch(`${a.url}/v2/moving/app/blobs/${layer2Digest}`, { method: 'HEAD' })).status, 404);
  });

  it('lets one replica finish an upload when the other is killed in the middle of it', async () => {
    const data = randomBytes(8 * 1024 * 1024);
    const digest = sha256(data);
    const victim = await startBerth({ configYaml, startTimeoutMs: 60_000 });
    let res = await fetch(`${victim.url}/v2/survivor/app/blobs/uploads/`, { method: 'POST' });
    let location = res.headers.get('location')!;
    res = await fetch(on(victim, location), { method: 'PATCH', headers: { 'Content-Range': `0-${4 * 1024 * 1024 - 1}` }, body: new Uint8Array(data.subarray(0, 4 * 1024 * 1024)) });
    assert.equal(res.status, 202);
    location = res.headers.get('location')!;
    // Killed while a second chunk is on the wire: that chunk is lost, never half-counted.
    const inFlight = fetch(on(victim, location), { method: 'PATCH', body: new Uint8Array(data.subarray(4 * 1024 * 1024)) }).catch(() => undefined);
    await new Promise((d) => setTimeout(d, 20));
    await victim.stop('SIGKILL');
    await inFlight;

    const status = await fetch(on(b, location));
    assert.equal(status.status, 204);
    const have = Number(status.headers.get('range')!.split('-')[1]) + 1;
    assert.ok(have === 4 * 1024 * 1024 || have === data.length, `upload holds ${have} bytes`);
    const rest = data.subarray(have);
    const final = on(b, status.headers.get('location')!);
    res = await fetch(`${final}&digest=${digest}`, {
      method: 'PUT',
      ...(rest.length > 0 && { headers: { 'Content-Range': `${have}-${data.length - 1}` }, body: new Uint8Array(rest) }),
    });
    assert.equal(res.status, 201, await res.text());
    const got = Buffer.from(await (await fetch(`${a.url}/v2/survivor/app/blobs/${digest}`)).arrayBuffer());
    assert.ok(got.equals(data));
  });

  it('takes a skopeo push through one replica and a skopeo pull through the other, byte-identical', { skip: !hasCommand('skopeo') && 'skopeo not installed' }, async () => {
    const work = await tempDir('berth-replicas-skopeo');
    const sandbox = await clientSandbox('replicas', [a.host, b.host]);
    try {
      const layout = await makeOciLayout(`${work.path}/src`, { tag: 'v1', layers: 3, layerBytes: 1024 * 1024 });
      const image = layout.images[0]!;
      let r = await run('skopeo', ['copy', '-q', '--preserve-digests', '--dest-tls-verify=false', `oci:${work.path}/src:v1`, `docker://${a.host}/skopeo/app:v1`], { env: sandbox.env });
      assert.equal(r.code, 0, r.stderr);
      r = await run('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${b.host}/skopeo/app:v1`, `oci:${work.path}/out:v1`], { env: sandbox.env });
      assert.equal(r.code, 0, r.stderr);
      r = await run('skopeo', ['inspect', '--raw', `oci:${work.path}/out:v1`], { env: sandbox.env });
      assert.equal(sha256(Buffer.from(r.stdout)), image.manifest.digest);
    } finally {
      await sandbox.cleanup();
      await work.cleanup();
    }
  });
});
