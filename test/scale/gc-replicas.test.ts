// Garbage collection with several replicas on PostgreSQL, S3 (Ceph's RADOS Gateway) and Redis:
// collections started at once on both replicas and from `berth gc` never overlap (one lease), and
// after a collection neither replica's cache serves what it removed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startReplicaBackends, type ReplicaBackends } from '../helpers/replica-backends.ts';
import { repoRoot, run, startBerth, tempDir, type RunningServer } from '../helpers/processes.ts';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

async function pushImage(server: RunningServer, name: string, tag: string): Promise<{ digest: string; layer: string; config: string }> {
  const layerBytes = randomBytes(50_000);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: randomBytes(4).toString('hex') }));
  for (const b of [layerBytes, config]) {
    const res = await fetch(`${server.url}/v2/${name}/blobs/uploads/?digest=${sha256(b)}`, { method: 'POST', body: new Uint8Array(b) });
    assert.equal(res.status, 201, await res.text());
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layerBytes), size: layerBytes.length }],
    }),
  );
  const put = await fetch(`${server.url}/v2/${name}/manifests/${tag}`, { method: 'PUT', headers: { 'Content-Type': OCI_MANIFEST }, body: new Uint8Array(manifest) });
  assert.equal(put.status, 201, await put.text());
  return { digest: sha256(manifest), layer: sha256(layerBytes), config: sha256(config) };
}

const statusOf = async (url: string, method = 'GET') => {
  const res = await fetch(url, { method });
  await res.arrayBuffer();
  return res.status;
};

describe('gc with replicas over PostgreSQL, S3 and Redis', { timeout: 300_000 }, () => {
  let backends: ReplicaBackends;
  let a: RunningServer;
  let b: RunningServer;
  let s3: S3Client;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let configPath: string;
  const gcCli = (args: string[]) => run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'gc', configPath, ...args], { allowFail: true, timeoutMs: 120_000 });

  before(async () => {
    backends = await startReplicaBackends('gcreplicas', 'gcreplicas');
    s3 = backends.s3;
    // The scheduled collector stays off: only the test's runs collect.
    const configYaml = `${backends.configYaml}\n  gc:\n    enabled: false`;
    a = await startBerth({ configYaml, startTimeoutMs: 60_000 });
    b = await startBerth({ configYaml, startTimeoutMs: 60_000 });
    work = await tempDir('gc-replicas');
    configPath = join(work.path, 'config.yml');
    await writeFile(configPath, `version: 0.1\n${configYaml.replace('storage:\n', 'storage:\n  delete:\n    enabled: true\n')}\nlog:\n  level: warn\n`);
  });

  after(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await Promise.allSettled([backends?.stop(), work?.cleanup()]);
  });

  it("never serves a collected blob or manifest from either replica's cache", async () => {
    const keep = await pushImage(a, 'team/keep', 'v1');
    const drop = await pushImage(a, 'team/drop', 'v1');
    // Warm both replicas' shared cache entries for what is about to go.
    for (const r of [a, b]) {
      for (let i = 0; i < 2; i++) {
        assert.equal(await statusOf(`${r.url}/v2/team/drop/blobs/${drop.layer}`, 'HEAD'), 200);
        assert.equal(await statusOf(`${r.url}/v2/team/drop/manifests/${drop.digest}`), 200);
      }
    }
    assert.equal(await statusOf(`${b.url}/v2/team/drop/manifests/${drop.digest}`, 'DELETE'), 202);
    const res = await gcCli(['--delay', '0s', '--json']);
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout) as { blobs: { digest: string }[] };
    const removed = report.blobs.map((x) => x.digest);
    for (const d of [drop.layer, drop.config, drop.digest]) assert.ok(removed.includes(d), `${d} collected`);
    for (const r of [a, b]) {
      assert.equal(await statusOf(`${r.url}/v2/team/drop/blobs/${drop.layer}`, 'HEAD'), 404, 'no cached link survives');
      assert.equal(await statusOf(`${r.url}/v2/team/drop/blobs/${drop.layer}`), 404);
      assert.equal(await statusOf(`${r.url}/v2/team/drop/manifests/${drop.digest}`), 404);
      assert.equal(await statusOf(`${r.url}/v2/team/keep/manifests/v1`), 200);
      assert.equal(await statusOf(`${r.url}/v2/team/keep/blobs/${keep.layer}`), 200);
    }
    const hex = drop.layer.slice('sha256:'.length);
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'gcreplicas', Key: `registry/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data` })), 'the object is gone from S3');
    // The same image pushed again through the other replica works and pulls whole.
    const again = await fetch(`${b.url}/v2/team/drop/blobs/uploads/?digest=${drop.layer}`, { method: 'POST', body: new Uint8Array(randomBytes(1)) });
    assert.equal(again.status, 400, 'wrong bytes are still refused');
  });

  it('runs at most one collection at a time across replicas and berth gc processes', async () => {
    for (let i = 0; i < 40; i++) {
      const r = i % 2 ? a : b;
      await fetch(`${r.url}/v2/junk/r${i % 4}/blobs/uploads/?digest=${sha256(Buffer.from(`junk ${i} ${Math.random()}`))}`, { method: 'POST', body: new Uint8Array(Buffer.from(`junk ${i}`)) }).then((x) => x.arrayBuffer());
    }
    for (let i = 0; i < 30; i++) {
      const bytes = randomBytes(3000);
      const res = await fetch(`${(i % 2 ? a : b).url}/v2/junk/r${i % 4}/blobs/uploads/?digest=${sha256(bytes)}`, { method: 'POST', body: new Uint8Array(bytes) });
      assert.equal(res.status, 201);
    }
    const api = (r: RunningServer) => fetch(`${r.url}/api/v1/gc`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ delay: '0s' }) }).then(async (x) => ({ status: x.status, body: await x.text() }));
    const results = await Promise.all([api(a), api(b), gcCli(['--delay', '0s', '--quiet']), gcCli(['--delay', '0s', '--quiet']), api(a), api(b)]);
    const statuses = results.map((x) => ('status' in x ? x.status : x.code));
    for (const s of statuses) assert.ok([200, 409, 0, 3].includes(s), `unexpected outcome ${s}`);
    assert.ok(statuses.some((s) => s === 200 || s === 0), 'one of them ran');
    const runs = ((await (await fetch(`${a.url}/api/v1/gc/runs?limit=100`)).json()) as { runs: { startedAt: number; finishedAt: number; status: string }[] }).runs;
    const done = runs.filter((x) => x.finishedAt).sort((x, y) => x.startedAt - y.startedAt);
    for (let i = 1; i < done.length; i++) assert.ok(done[i]!.startedAt >= done[i - 1]!.finishedAt, `runs ${i - 1} and ${i} overlapped`);
    const total = runs.reduce((n, x) => n + ((x as unknown as { blobsRemoved: number }).blobsRemoved ?? 0), 0);
    assert.ok(total >= 30, 'the junk was collected once');
  });
});
