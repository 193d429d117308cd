// The registry when S3 fails under a request (the gateway killed, a balancer in front of it
// resetting connections): the client gets a 500 in the JSON error envelope and the failure is
// logged, as with a full disk on the filesystem driver; nothing half-written counts toward an
// upload, which goes on once S3 is back. S3 is a real Ceph RADOS Gateway behind a loopback TCP
// proxy that the tests cut, or replace with a listener that resets every connection.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { Readable } from 'node:stream';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import pino from 'pino';
import type { S3BlobStore } from '../../src/storage/drivers/s3.ts';
import { cephS3Client, startCeph, type CephCluster } from '../helpers/ceph.ts';
import { startTcpProxy, type TcpProxy } from '../cache/tcp-proxy.ts';
import { jsonLineSink, sha256, startTestRegistry, type TestRegistry } from '../http/harness.ts';

const MiB = 1024 * 1024;
const skip = process.env.BERTH_SKIP_CEPH === '1' && 'BERTH_SKIP_CEPH=1';

interface ErrorBody {
  errors: Array<{ code: string }>;
}

describe('S3 failing under a request', { skip, timeout: 300_000 }, () => {
  let ceph: CephCluster;
  let proxy: TcpProxy;
  let registry: TestRegistry;
  const log = jsonLineSink();

  before(async () => {
    ceph = await startCeph();
    const bucket = `berth-${randomUUID().slice(0, 8)}`;
    const admin = cephS3Client(ceph);
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    admin.destroy();
    proxy = await startTcpProxy(Number(new URL(ceph.endpoint).port));
    registry = await startTestRegistry((c) => {
      c.storage.driver = 's3';
      c.storage.s3 = {
        accessKey: ceph.accessKey,
        secretKey: ceph.secretKey,
        region: ceph.region,
        regionEndpoint: `http://127.0.0.1:${proxy.port}`,
        bucket,
        chunkSize: 5 * MiB,
      };
    }, pino({ level: 'error' }, log.sink));
  });

  after(async () => {
    await registry?.stop();
    await proxy?.close();
    await ceph?.stop();
  });

  const failures = () => log.lines.filter((l) => l.msg === 'request failed');

  it('answers a PATCH whose body S3 stops taking with 500, and keeps the upload as it was', async () => {
    const url = registry.url;
    const post = await fetch(`${url}/v2/outage/patch/blobs/uploads/`, { method: 'POST' });
    assert.equal(post.status, 202);
    const location = new URL(post.headers.get('location')!, url).href;

    // The proxy is cut when the PATCH starts storing its first part, so S3 fails while the body
    // is being received: the rest of it is sent only after the cut.
    const store = registry.services.blobs as S3BlobStore;
    let wasCut!: () => void;
    const cutDone = new Promise<void>((resolve) => (wasCut = resolve));
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'CreateMultipartUploadCommand') {
          await proxy.cut();
          wasCut();
        }
        return next(args);
      },
      { step: 'initialize', name: 'outage-test-cut' },
    );
    const data = randomBytes(12 * MiB);
    async function* slowBody(): AsyncGenerator<Uint8Array> {
      for (let off = 0; off < 6 * MiB; off += MiB) yield data.subarray(off, off + MiB);
      await cutDone;
      for (let off = 6 * MiB; off < data.length; off += MiB) yield data.subarray(off, off + MiB);
    }
    const before = failures().length;
    const res = await fetch(location, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length) },
      body: Readable.toWeb(Readable.from(slowBody())),
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 500);
    assert.deepEqual(((await res.json()) as ErrorBody).errors.map((e) => e.code), ['UNKNOWN']);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(failures().length, before + 1, 'the S3 failure is logged once');
    store.client.middlewareStack.remove('outage-test-cut');

    // S3 back: nothing of the failed PATCH counts, and the upload completes from byte 0.
    await proxy.restore();
    const status = await fetch(location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-0');
    const patch = await fetch(location, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream' }, body: new Uint8Array(data) });
    assert.equal(patch.status, 202, await patch.text());
    const done = new URL(patch.headers.get('location')!, url);
    done.searchParams.set('digest', sha256(data));
    const put = await fetch(done, { method: 'PUT' });
    assert.equal(put.status, 201, await put.text());
    const head = await fetch(`${url}/v2/outage/patch/blobs/${sha256(data)}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
  });

  it('answers 500 when S3 resets every connection, rather than dropping the client as if it had left', async () => {
    // What a load balancer in front of a dead gateway does: accept, then reset. The S3 errors then
    // carry ECONNRESET, the code a client that went away gives too.
    await proxy.cut();
    const resetter: Server = createServer((socket) => socket.resetAndDestroy());
    await new Promise<void>((resolve) => resetter.listen(proxy.port, '127.0.0.1', resolve));
    try {
      const before = failures().length;
      const res = await fetch(`${registry.url}/v2/outage/reset/blobs/uploads/`, { method: 'POST' });
      assert.equal(res.status, 500);
      assert.deepEqual(((await res.json()) as ErrorBody).errors.map((e) => e.code), ['UNKNOWN']);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(failures().length, before + 1, 'the S3 failure is logged');
    } finally {
      await new Promise<void>((resolve) => resetter.close(() => resolve()));
      await proxy.restore();
    }
  });
});
