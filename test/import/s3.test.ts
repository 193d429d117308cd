// End to end from S3: Debian's docker-registry (CNCF Distribution 2.8) with its s3-aws driver on a
// real Ceph RADOS Gateway is filled with skopeo and stopped; `berth import` reads the bucket with the
// storage.s3 section of that registry's own config.yml, into a filesystem berth, which then serves
// the same bytes under the same digests. The keys are random per cluster, so output can be searched
// for them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { cephS3Client, startCeph, type CephCluster } from '../helpers/ceph.ts';
import { clientSandbox, hasCommand, startBerth, startDistribution, tempDir, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { berthConfig, cli, EXPECTED, parseReport, skopeoClient, type Fixture } from './registry-fixture.ts';

const BUCKET = 'old-registry';
// With a leading slash, as operators write it; distribution stores keys without it.
const ROOT = '/dist/root';

const skip =
  process.env.BERTH_SKIP_CEPH === '1' ? 'BERTH_SKIP_CEPH=1' : !(hasCommand('docker-registry') && hasCommand('skopeo')) && 'needs docker-registry and skopeo';

/**
 * distribution 2.8's s3-aws driver: a regionendpoint switches it to path-style addressing (2.8 has
 * no forcepathstyle key; it is there for berth, which reads the same file) and skips the AWS region
 * check; the http:// endpoint plus `secure: false` keep it off TLS.
 */
function s3Section(ceph: CephCluster, secretKey = ceph.secretKey, rootdirectory = ROOT): string {
  return [
    'storage:',
    '  s3:',
    `    accesskey: ${ceph.accessKey}`,
    `    secretkey: ${secretKey}`,
    `    region: ${ceph.region}`,
    `    regionendpoint: ${ceph.endpoint}`,
    `    bucket: ${BUCKET}`,
    `    rootdirectory: ${rootdirectory}`,
    '    secure: false',
    '    v4auth: true',
    '    forcepathstyle: true',
    '  delete:',
    '    enabled: true',
    '',
  ].join('\n');
}

describe('berth import of a docker-registry storage in S3 (Ceph RGW)', { skip, timeout: 600_000 }, () => {
  let ceph: CephCluster;
  let work: { path: string; cleanup(): Promise<void> };
  let sb: ClientSandbox;
  let client: ReturnType<typeof skopeoClient>;
  let berth: RunningServer | undefined;
  let fixture: Fixture;
  let berthRoot: string;
  let config: string;
  let sourceConfig: string;

  /** A distribution config.yml as an operator has it: more than storage in it. */
  const writeSourceConfig = async (name: string, storage: string) => {
    const path = join(work.path, name);
    await writeFile(path, `version: 0.1\nlog:\n  level: info\nhttp:\n  addr: :5000\n  headers:\n    X-Content-Type-Options: [nosniff]\n${storage}`);
    return path;
  };
  const noSecrets = (text: string, ...secrets: string[]) => {
    for (const s of [ceph.accessKey, ...secrets]) assert.ok(!text.includes(s), 'credentials must not appear in the output');
  };

  before(async () => {
    [ceph, work, sb] = await Promise.all([startCeph(), tempDir('import-s3'), clientSandbox('import-s3')]);
    client = skopeoClient(sb, work.path);
    const admin = cephS3Client(ceph);
    try {
      await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
      // aws-sdk-go v1 cannot apply AWS_CA_BUNDLE to distribution's wrapped HTTP transport and panics
      // at start when it is set (some CI and proxy setups do); the endpoint is plain http anyway.
      const dist = await startDistribution({ configYaml: s3Section(ceph), env: { AWS_CA_BUNDLE: '' }, startTimeoutMs: 60_000 });
      try {
        fixture = await client.fill(dist);
      } catch (e) {
        (e as Error).message += `\n--- docker-registry logs (tail) ---\n${dist.logs().slice(-4000)}`;
        throw e;
      } finally {
        await dist.stop();
      }
      // The tree really is in the bucket, under the rootdirectory.
      const listed = await admin.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'dist/root/docker/registry/v2/', Delimiter: '/' }));
      assert.deepEqual(listed.CommonPrefixes?.map((p) => p.Prefix).sort(), ['dist/root/docker/registry/v2/blobs/', 'dist/root/docker/registry/v2/repositories/']);
    } finally {
      admin.destroy();
    }
    berthRoot = join(work.path, 'berth');
    config = await berthConfig(join(work.path, 'berth.yml'), berthRoot);
    sourceConfig = await writeSourceConfig('dist-config.yml', s3Section(ceph));
  });

  after(async () => {
    await berth?.stop();
    await sb?.cleanup();
    await work?.cleanup();
    await ceph?.stop();
  });

  it('imports everything by streamed copy, and berth serves identical digests and bytes', async () => {
    const res = await cli(['import', `s3://${BUCKET}/dist/root`, '--source-config', sourceConfig, '--config', config, '--json']);
    assert.equal(res.code, 0, res.stderr);
    noSecrets(res.stdout + res.stderr, ceph.secretKey);
    const report = parseReport(res.stdout, res.stderr);
    assert.equal(report.source, `s3://${BUCKET}/dist/root/docker/registry/v2`);
    assert.deepEqual(report.skipped, []);
    assert.equal(report.repositories, EXPECTED.repositories);
    assert.equal(report.imported.manifests, EXPECTED.manifests);
    assert.equal(report.imported.tags, EXPECTED.tags);
    assert.ok(report.imported.blobs > 0);
    assert.equal(report.imported.copied, report.imported.blobs, 'from S3 every blob is streamed');
    assert.equal(report.imported.hardLinked, 0);

    berth = await startBerth({ root: berthRoot });
    await client.checkServed(berth, fixture);
    await berth.stop();
    berth = undefined;
  });

  it('a second import (--source-config alone) reports nothing new', async () => {
    const res = await cli(['import', '--source-config', sourceConfig, '--config', config, '--json']);
    assert.equal(res.code, 0, res.stderr);
    noSecrets(res.stdout + res.stderr, ceph.secretKey);
    const report = parseReport(res.stdout, res.stderr);
    assert.deepEqual(report.skipped, []);
    assert.deepEqual(report.imported, { blobs: 0, layerLinks: 0, manifests: 0, tags: 0, bytes: 0, hardLinked: 0, copied: 0 });
    assert.equal(report.present.manifests, EXPECTED.manifests);
    assert.equal(report.present.tags, EXPECTED.tags);
    assert.equal(report.verifiedBytes, 0, 'nothing hashed again');
  });

  it('fails with a usable message, and no credentials, on a wrong key or a wrong rootdirectory', async () => {
    const wrongSecret = `${ceph.secretKey.slice(0, -4)}XXXX`;
    const badKey = await writeSourceConfig('bad-key.yml', s3Section(ceph, wrongSecret));
    const denied = await cli(['import', '--source-config', badKey, '--config', config]);
    assert.equal(denied.code, 1, denied.stderr);
    assert.match(denied.stderr, /^berth: S3 ListObjectsV2 s3:\/\/old-registry\/dist\/root\/.*(SignatureDoesNotMatch|HTTP 403)/m);
    noSecrets(denied.stdout + denied.stderr, ceph.secretKey, wrongSecret);

    const elsewhere = await cli(['import', `s3://${BUCKET}/nothing/here`, '--source-config', sourceConfig, '--config', config]);
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.stderr, /s3:\/\/old-registry\/nothing\/here\/ does not look like registry:2 storage/);
    noSecrets(elsewhere.stdout + elsewhere.stderr, ceph.secretKey);
  });
});
