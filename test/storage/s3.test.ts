// The S3 driver against a real Ceph RADOS Gateway (test/helpers/ceph.ts): the BlobStore contract,
// then what only S3 has: uploads continued by another replica, segment composition, multipart
// copy, presigned redirects, torn appends, credentials. One cluster serves the whole file; each
// test gets its own bucket. Without Ceph installed these tests fail (BERTH_SKIP_CEPH=1 skips them).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { CreateBucketCommand, CreateMultipartUploadCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { S3BlobStore, S3StorageError, type S3StorageOptions } from '../../src/storage/drivers/s3.ts';
import { cephS3Client, startCeph, type CephCluster } from '../helpers/ceph.ts';
import { blobStoreContract } from './blob-store.contract.ts';

const MiB = 1024 * 1024;
const skip = process.env.BERTH_SKIP_CEPH === '1';

let cluster: Promise<CephCluster> | undefined;
const ceph = (): Promise<CephCluster> => (cluster ??= startCeph());
after(async () => {
  const c = await cluster?.catch(() => undefined);
  await c?.stop();
});

const adminClient = cephS3Client;

interface Fixture {
  c: CephCluster;
  bucket: string;
  admin: S3Client;
  options: S3StorageOptions;
  store: S3BlobStore;
}

/** A fresh bucket and a store on it; `overrides` adjust the driver options. */
async function fixture(overrides: Partial<S3StorageOptions> = {}): Promise<Fixture> {
  const c = await ceph();
  const admin = adminClient(c);
  const bucket = `berth-${randomUUID().slice(0, 8)}`;
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  const options: S3StorageOptions = { accessKey: c.accessKey, secretKey: c.secretKey, region: c.region, regionEndpoint: c.endpoint, bucket, ...overrides };
  return { c, bucket, admin, options, store: await S3BlobStore.open(options) };
}

async function bucketKeys(f: Fixture): Promise<string[]> {
  const out = await f.admin.send(new ListObjectsV2Command({ Bucket: f.bucket }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

async function openMultipartUploads(f: Fixture): Promise<string[]> {
  const out = await f.admin.send(new ListMultipartUploadsCommand({ Bucket: f.bucket }));
  return (out.Uploads ?? []).map((u) => u.Key!);
}

/** Names of the S3 commands a store sends while `fn` runs. */
async function commandsDuring(store: S3BlobStore, fn: () => Promise<unknown>): Promise<string[]> {
  const names: string[] = [];
  const name = `record-${randomUUID()}`;
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      names.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize', name },
  );
  try {
    await fn();
  } finally {
    store.client.middlewareStack.remove(name);
  }
  return names;
}

const count = (names: string[], command: string): number => names.filter((n) => n === command).length;

function digestOf(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A body that arrives in 1 MiB chunks, as an HTTP request does (not one huge Buffer). */
function chunked(data: Buffer, chunk = MiB): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
    })(),
    { objectMode: false },
  );
}

if (skip) {
  describe('S3 driver on Ceph RGW', { skip: 'BERTH_SKIP_CEPH=1' }, () => {
    it('needs Ceph', () => undefined);
  });
} else {
  blobStoreContract('s3 (Ceph RGW)', async () => {
    // A rootDirectory with the slashes people write in config.yml.
    const f = await fixture({ rootDirectory: '/registry/v2/' });
    return { store: f.store, cleanup: async () => f.admin.destroy() };
  });

  describe('S3 driver on Ceph RGW', { timeout: 300_000 }, () => {
    it('lays blobs and uploads out under rootDirectory', async () => {
      const f = await fixture({ rootDirectory: '/team/registry/' });
      const data = randomBytes(10);
      const digest = digestOf(data);
      await f.store.put(digest, data);
      await f.store.uploads.create('u-1');
      await f.store.uploads.append('u-1', Readable.from([data]));
      const hex = digest.slice('sha256:'.length);
      const keys = await bucketKeys(f);
      assert.deepEqual(keys.slice(0, 2), [`team/registry/blobs/sha256/${hex.slice(0, 2)}/${hex}`, 'team/registry/uploads/u-1/created']);
      // A segment is named by its offset and the append that wrote it (keys.ts).
      assert.equal(keys.length, 3);
      assert.match(keys[2]!, /^team\/registry\/uploads\/u-1\/data\/0000000000000000-[0-9a-f]+$/);
    });

    it('continues an upload started on another replica (append, size, read, commit)', async () => {
      const f = await fixture({ chunkSize: 5 * MiB });
      const replicaB = await S3BlobStore.open(f.options);
      const data = randomBytes(11 * MiB + 123);
      const id = randomUUID();
      await f.store.uploads.create(id);
      assert.equal(await f.store.uploads.append(id, chunked(data.subarray(0, 3 * MiB))), 3 * MiB);
      // Replica B has no in-memory state at all: everything comes from the bucket.
      assert.equal(await replicaB.uploads.size(id), 3 * MiB);
      assert.equal(await replicaB.uploads.append(id, chunked(data.subarray(3 * MiB))), data.length);
      assert.equal(await f.store.uploads.size(id), data.length);
      // The re-hash path: B reads back what both replicas wrote.
      const digest = digestOf(await readAll(await replicaB.uploads.read(id)));
      assert.equal(digest, digestOf(data));
      await replicaB.uploads.commit(id, digest);
      assert.equal(await f.store.uploads.size(id), undefined);
      assert.deepEqual(await f.store.stat(digest), { digest, size: data.length });
      assert.deepEqual(await readAll(await f.store.read(digest)), data);
      assert.deepEqual(await bucketKeys(f), [f.store.keyOf(digest)], 'no upload objects left');
    });

    it('commits many small and large segments as one multipart upload, copying the large ones server-side', async () => {
      const f = await fixture({ chunkSize: 5 * MiB, multipartCopyChunkSize: 5 * MiB });
      // Planned parts (compose-plan.ts): stream [100 kB + 7 MiB], stream [1 MiB + first 4 MiB of
      // the 12], copy [the other 8], stream [300 kB + 300 kB + 6 MiB], copy 11 MiB in 2 pieces, stream [3 bytes].
      const sizes = [100_000, 7 * MiB, 1 * MiB, 12 * MiB, 300_000, 300_000, 6 * MiB, 11 * MiB, 3];
      const data = randomBytes(sizes.reduce((a, b) => a + b, 0));
      const id = randomUUID();
      await f.store.uploads.create(id);
      let at = 0;
      for (const size of sizes) {
        await f.store.uploads.append(id, chunked(data.subarray(at, at + size)));
        at += size;
      }
      const digest = digestOf(data);
      const sent = await commandsDuring(f.store, () => f.store.uploads.commit(id, digest));
      assert.equal(count(sent, 'UploadPartCopyCommand'), 3, `server-side copies: ${sent.join(' ')}`);
      assert.equal(count(sent, 'UploadPartCommand'), 4, `streamed merges: ${sent.join(' ')}`);
      assert.equal(count(sent, 'CompleteMultipartUploadCommand'), 1);
      assert.deepEqual(await readAll(await f.store.read(digest)), data);
      assert.deepEqual(await bucketKeys(f), [f.store.keyOf(digest)]);
      assert.deepEqual(await openMultipartUploads(f), []);
    });

    it('merges several small segments with one streamed PutObject', async () => {
      const f = await fixture();
      const parts = [randomBytes(1000), randomBytes(2000), randomBytes(1)];
      const data = Buffer.concat(parts);
      const id = randomUUID();
      await f.store.uploads.create(id);
      for (const p of parts) await f.store.uploads.append(id, Readable.from([p]));
      const sent = await commandsDuring(f.store, () => f.store.uploads.commit(id, digestOf(data)));
      assert.equal(count(sent, 'PutObjectCommand'), 1, sent.join(' '));
      assert.equal(count(sent, 'CreateMultipartUploadCommand'), 0, sent.join(' '));
      assert.deepEqual(await readAll(await f.store.read(digestOf(data))), data);
    });

    it('copies a blob above multipartCopyThresholdSize with parallel UploadPartCopy, below it with one CopyObject', async () => {
      const f = await fixture({ chunkSize: 5 * MiB, multipartCopyThresholdSize: 6 * MiB, multipartCopyChunkSize: 5 * MiB });
      const big = randomBytes(16 * MiB + 7);
      const small = randomBytes(6 * MiB);
      for (const [data, expectCopyParts] of [
        [big, 3],
        [small, 0],
      ] as const) {
        const id = randomUUID();
        await f.store.uploads.create(id);
        await f.store.uploads.append(id, chunked(data));
        const digest = digestOf(data);
        const sent = await commandsDuring(f.store, () => f.store.uploads.commit(id, digest));
        assert.equal(count(sent, 'UploadPartCopyCommand'), expectCopyParts, sent.join(' '));
        assert.equal(count(sent, 'CopyObjectCommand'), expectCopyParts ? 0 : 1, sent.join(' '));
        assert.deepEqual(await readAll(await f.store.read(digest)), data);
        const head = await f.admin.send(new HeadObjectCommand({ Bucket: f.bucket, Key: f.store.keyOf(digest) }));
        if (expectCopyParts) assert.match(head.ETag ?? '', new RegExp(`-${expectCopyParts}"$`), 'a multipart object');
      }
    });

    it('commits an empty upload as an empty blob', async () => {
      const f = await fixture();
      const id = randomUUID();
      await f.store.uploads.create(id);
      const digest = digestOf(Buffer.alloc(0));
      await f.store.uploads.commit(id, digest);
      assert.deepEqual(await f.store.stat(digest), { digest, size: 0 });
      assert.equal((await readAll(await f.store.read(digest))).length, 0);
    });

    it('gives presigned GET and HEAD URLs that plain fetch can use, with Range', async () => {
      const f = await fixture();
      const data = randomBytes(200_000);
      const digest = digestOf(data);
      await f.store.put(digest, data);
      const url = await f.store.redirectURL(digest, { method: 'GET', expiresInSeconds: 60 });
      assert.ok(url.startsWith(f.c.endpoint), url);
      assert.ok(!url.includes(f.c.secretKey));
      const whole = await fetch(url);
      assert.equal(whole.status, 200);
      assert.deepEqual(Buffer.from(await whole.arrayBuffer()), data);
      const part = await fetch(url, { headers: { Range: 'bytes=1000-1999' } });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes 1000-1999/${data.length}`);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), data.subarray(1000, 2000));
      const headURL = await f.store.redirectURL(digest, { method: 'HEAD', expiresInSeconds: 60 });
      const head = await fetch(headURL, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(data.length));
      const tampered = await fetch(url.replace(/X-Amz-Signature=[0-9a-f]{4}/, 'X-Amz-Signature=0000'));
      await tampered.arrayBuffer();
      assert.equal(tampered.status, 403, 'the URL is really signed');
    });

    it('leaves size() unchanged when an append is torn mid-body, and aborts its multipart upload', async () => {
      const f = await fixture({ chunkSize: 5 * MiB });
      const id = randomUUID();
      await f.store.uploads.create(id);
      const head = randomBytes(1000);
      await f.store.uploads.append(id, Readable.from([head]));
      // A client that disconnects after `tornAfter` MiB: the request stream is destroyed, with an
      // error (as http does) or without one (premature close). 12 MiB: two parts were already stored.
      for (const [tornAfter, error] of [
        [12, new Error('aborted')],
        [1, undefined],
        [7, undefined],
      ] as const) {
        let sent = 0;
        const body = new Readable({
          read() {
            if (sent++ < tornAfter) this.push(randomBytes(MiB));
            else this.destroy(error);
          },
        });
        await assert.rejects(() => f.store.uploads.append(id, body), error ? /aborted/ : /premature close/i);
        assert.equal(await f.store.uploads.size(id), head.length, `after a tear at ${tornAfter} MiB`);
        assert.deepEqual(await openMultipartUploads(f), []);
      }
      // The upload is still usable.
      const rest = randomBytes(6 * MiB);
      assert.equal(await f.store.uploads.append(id, chunked(rest)), head.length + rest.length);
      const data = Buffer.concat([head, rest]);
      await f.store.uploads.commit(id, digestOf(data));
      assert.deepEqual(await readAll(await f.store.read(digestOf(data))), data);
    });

    it('abort removes every object and multipart upload of the session, even one left by a crashed replica', async () => {
      const f = await fixture({ chunkSize: 5 * MiB });
      const id = randomUUID();
      await f.store.uploads.create(id);
      await f.store.uploads.append(id, Readable.from([randomBytes(100)]));
      await f.store.uploads.append(id, chunked(randomBytes(7 * MiB)));
      // What a replica killed mid-append leaves: an open multipart upload on the next segment.
      await f.admin.send(new CreateMultipartUploadCommand({ Bucket: f.bucket, Key: `uploads/${id}/data/${String(7 * MiB + 100).padStart(16, '0')}` }));
      assert.equal((await openMultipartUploads(f)).length, 1);
      await f.store.uploads.abort(id);
      assert.deepEqual(await bucketKeys(f), []);
      assert.deepEqual(await openMultipartUploads(f), []);
      assert.equal(await f.store.uploads.size(id), undefined);
      await f.store.uploads.abort(id); // idempotent
    });

    it('lists leftovers of a crashed commit or append so the purger can remove them', async () => {
      const f = await fixture();
      const id = randomUUID();
      await f.store.uploads.create(id);
      await f.store.uploads.append(id, Readable.from([randomBytes(10)]));
      // A crash after the marker was deleted leaves unmarked data; one before any object, a lone multipart upload.
      await f.admin.send(new CreateMultipartUploadCommand({ Bucket: f.bucket, Key: 'uploads/orphan-1/data/0000000000000000' }));
      const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
      await f.admin.send(new DeleteObjectCommand({ Bucket: f.bucket, Key: `uploads/${id}/created` }));
      const listed = new Map<string, { size: number; modifiedAt: Date }>();
      for await (const u of f.store.uploads.list()) listed.set(u.id, u);
      assert.equal(listed.get(id)?.size, 10);
      assert.ok(listed.has('orphan-1'));
      assert.ok(Math.abs(listed.get(id)!.modifiedAt.getTime() - Date.now()) < 60_000);
      for (const u of listed.keys()) await f.store.uploads.abort(u);
      assert.deepEqual(await bucketKeys(f), []);
      assert.deepEqual(await openMultipartUploads(f), []);
    });

    it('takes credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY when no keys are configured', async () => {
      const f = await fixture();
      const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
      process.env.AWS_ACCESS_KEY_ID = f.c.accessKey;
      process.env.AWS_SECRET_ACCESS_KEY = f.c.secretKey;
      try {
        const { accessKey: _a, secretKey: _s, ...noKeys } = f.options;
        const store = await S3BlobStore.open(noKeys);
        assert.equal(store.settings.staticCredentials, false);
        const data = randomBytes(100);
        await store.put(digestOf(data), data);
        assert.deepEqual(await readAll(await store.read(digestOf(data))), data);
      } finally {
        for (const [k, v] of [
          ['AWS_ACCESS_KEY_ID', saved.id],
          ['AWS_SECRET_ACCESS_KEY', saved.secret],
        ] as const) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      }
    });

    it('reports a wrong secret key clearly, without the secret in the error or the store', async () => {
      const f = await fixture();
      const wrongSecret = `wrong-${randomBytes(16).toString('hex')}`;
      const wrong = { ...f.options, secretKey: wrongSecret };
      const failures: unknown[] = [];
      await assert.rejects(() => S3BlobStore.open(wrong), (e: unknown) => (failures.push(e), true));
      const store = await S3BlobStore.open(wrong, { verify: false });
      const data = randomBytes(10);
      await assert.rejects(() => store.put(digestOf(data), data), (e: unknown) => (failures.push(e), true));
      await assert.rejects(() => store.uploads.append('x-1', Readable.from([data])), (e: unknown) => (failures.push(e), true));
      for (const e of failures) {
        assert.ok(e instanceof S3StorageError, String(e));
        assert.match(e.message, /403/);
        assert.match(e.message, /secret|accessKey|forbidden/i, e.message);
        const everything = `${e.message}\n${e.stack}\n${inspect(e, { depth: Infinity, showHidden: true })}\n${JSON.stringify(e)}`;
        assert.ok(!everything.includes(wrongSecret), 'wrong secret leaked');
        assert.ok(!everything.includes(f.c.secretKey), 'real secret leaked');
      }
      // HEAD answers carry no error code; the first request with a response body names the problem.
      assert.match((failures[2] as Error).message, /SignatureDoesNotMatch.*check secretKey/);
      const dump = `${inspect(store, { depth: 3 })}${JSON.stringify(store.settings)}`;
      assert.ok(!dump.includes(wrongSecret), 'secret visible when the store is logged');
    });

    it('reports a missing bucket at open', async () => {
      const f = await fixture();
      await assert.rejects(() => S3BlobStore.open({ ...f.options, bucket: 'no-such-bucket-here' }), /HeadBucket s3:\/\/no-such-bucket-here\/ failed \(.*HTTP 404\): the bucket does not exist/);
    });
  });
}
