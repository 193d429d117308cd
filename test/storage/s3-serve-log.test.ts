// `berth serve` on S3 (issue 14): stderr stays JSON lines, library warnings included (the AWS SDK
// prints a multi-line Node-version warning through process.emitWarning on Node 20), and the start
// line names the blobs' place as the driver writes keys: `s3://bucket/registry`, whatever slashes
// rootdirectory was written with. The last test runs berth on a real Ceph RADOS Gateway.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { routeProcessWarnings } from '../../src/logging.ts';
import { S3Keys } from '../../src/storage/drivers/s3/keys.ts';
import { normalizeRootDirectory, resolveS3Options, s3Location } from '../../src/storage/drivers/s3/options.ts';
import { cephS3Client, startCeph } from '../helpers/ceph.ts';
import { startBerth, tempDir } from '../helpers/processes.ts';

const skipCeph = process.env.BERTH_SKIP_CEPH === '1';

/** Every line is one JSON object; returns them. */
function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return assert.fail(`not a JSON line: ${JSON.stringify(line.slice(0, 200))}`);
      }
    });
}

describe('the S3 root directory', () => {
  it('has one normal form: no leading, trailing or doubled slash', () => {
    for (const [given, normal] of [
      ['/registry', 'registry'],
      ['registry/', 'registry'],
      ['//registry//', 'registry'],
      ['/a//b/', 'a/b'],
      ['a/b', 'a/b'],
      ['/', ''],
      ['', ''],
      [undefined, ''],
    ] as const) {
      assert.equal(normalizeRootDirectory(given), normal, String(given));
      assert.equal(resolveS3Options({ region: 'us-east-1', bucket: 'b', ...(given !== undefined && { rootDirectory: given }) }).rootDirectory, normal, 'the driver uses the same form');
    }
  });

  it('the start line and the keys agree', () => {
    assert.equal(s3Location('bucket', '/registry'), 's3://bucket/registry');
    assert.equal(s3Location('bucket', '/a//b/'), 's3://bucket/a/b');
    assert.equal(s3Location('bucket', undefined), 's3://bucket/');
    const keys = new S3Keys(resolveS3Options({ region: 'r', bucket: 'bucket', rootDirectory: '//a//b//' }).rootDirectory);
    assert.equal(keys.blobsPrefix, 'a/b/blobs/');
    assert.equal(new S3Keys(resolveS3Options({ region: 'r', bucket: 'bucket', rootDirectory: '/' }).rootDirectory).blobsPrefix, 'blobs/');
  });
});

describe('process warnings', () => {
  it('become one JSON log line each, and Node no longer prints them as text', async () => {
    const saved = process.listeners('warning');
    let out = '';
    const log = pino({ level: 'warn', formatters: { level: (label) => ({ level: label }) } }, new Writable({ write: (chunk, _enc, cb) => ((out += chunk.toString()), cb()) }));
    try {
      routeProcessWarnings(log);
      assert.equal(process.listenerCount('warning'), 1, "Node's own printer is gone");
      process.emitWarning('NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)\nversions published after ...\nwill require node >=22.');
      process.emitWarning('old API', 'DeprecationWarning', 'DEP0999');
      await new Promise((r) => setTimeout(r, 20)); // warnings are emitted on the next tick
    } finally {
      process.removeAllListeners('warning');
      for (const l of saved) process.on('warning', l);
    }
    const lines = jsonLines(out);
    assert.equal(lines.length, 2);
    assert.equal(lines[0]!.level, 'warn');
    assert.equal(lines[0]!.msg, 'Warning: NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)');
    assert.deepEqual(lines[0]!.warning, { name: 'Warning', message: 'NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)\nversions published after ...\nwill require node >=22.' });
    assert.deepEqual(lines[1]!.warning, { name: 'DeprecationWarning', code: 'DEP0999', message: 'old API' });
  });
});

describe('berth serve on S3 (Ceph RGW)', { skip: skipCeph && 'BERTH_SKIP_CEPH=1' }, () => {
  it('writes only JSON lines, the SDK warning included, and names s3://bucket/registry', { timeout: 240_000 }, async () => {
    const ceph = await startCeph();
    const work = await tempDir('s3-serve-log');
    let berth: Awaited<ReturnType<typeof startBerth>> | undefined;
    try {
      const bucket = `serve-log-${randomUUID().slice(0, 8)}`;
      const admin = cephS3Client(ceph);
      await admin.send(new CreateBucketCommand({ Bucket: bucket }));
      const configYaml = [
        'log:',
        '  level: info',
        'storage:',
        '  s3:',
        `    accesskey: ${ceph.accessKey}`,
        `    secretkey: ${ceph.secretKey}`,
        `    region: ${ceph.region}`,
        `    regionendpoint: ${ceph.endpoint}`,
        `    bucket: ${bucket}`,
        '    rootdirectory: /registry/', // as in the replicas, plus a trailing slash
        'berth:',
        '  metadata:',
        '    sqlite:',
        `      path: ${join(work.path, 'berth.sqlite')}`,
      ].join('\n');
      // The SDK's own switch for its warning must not hide what is tested here.
      berth = await startBerth({ configYaml, env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '' }, startTimeoutMs: 60_000 });

      // A blob through the registry API, so the driver has written keys under the prefix.
      const body = Buffer.from('a layer on S3');
      const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      const put = await fetch(`${berth.url}/v2/test/serve-log/blobs/uploads/?digest=${digest}`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(put.status, 201, await put.text());
      const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket }));
      const keys = (listed.Contents ?? []).map((o) => o.Key!);
      assert.ok(keys.includes(`registry/blobs/sha256/${digest.slice(7, 9)}/${digest.slice(7)}`), keys.join(', '));
      assert.ok(keys.every((k) => k.startsWith('registry/') && !k.includes('//')), keys.join(', '));
      admin.destroy();

      await berth.stop();
      const lines = jsonLines(berth.logs());
      const start = lines.find((l) => String(l.msg).startsWith('berth is serving'));
      assert.ok(start, 'the start line');
      assert.equal(start.blobs, `s3://${bucket}/registry`);
      assert.ok(!berth.logs().includes(ceph.secretKey), 'no secret in the logs');
      if (Number(process.versions.node.split('.')[0]) < 22) {
        const sdk = lines.find((l) => /NodeVersionSupportWarning/.test(JSON.stringify(l.warning ?? '')));
        assert.ok(sdk, 'on Node 20 the AWS SDK warns; the warning is a JSON line');
        assert.equal(sdk.level, 'warn');
      }
    } finally {
      await berth?.stop();
      await Promise.allSettled([ceph.stop(), work.cleanup()]);
    }
  });
});
