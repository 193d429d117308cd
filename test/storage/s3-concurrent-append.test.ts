// Two replicas appending to one upload at the same moment (two clients holding its URL, or one
// that went on through another replica while its first PATCH was still being stored). Each
// replica hashes the bytes it received, in memory; if the two appends wrote one S3 object, the
// later one replaced the earlier, and the replica whose bytes were lost still took its own hash
// for the upload's: PUT ?digest= of those bytes then stored the other bytes under that digest, a
// blob that does not match its name, which every repository linking the digest serves. Two
// in-process registries share one bucket and one SQLite file; the S3 writes of the two segments
// are held and released one after the other, so the appends overlap every time.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { S3BlobStore } from '../../src/storage/drivers/s3.ts';
import { S3Keys } from '../../src/storage/drivers/s3/keys.ts';
import { cephS3Client, startCeph, type CephCluster } from '../helpers/ceph.ts';
import { tempDir } from '../helpers/processes.ts';
import { sha256, startTestRegistry, type TestRegistry } from '../http/harness.ts';

const skip = process.env.BERTH_SKIP_CEPH === '1' && 'BERTH_SKIP_CEPH=1';

/** Holds this store's segment writes (PutObject under an upload's data/) until release(). */
function holdSegmentWrites(store: S3BlobStore): { reached: Promise<void>; release(): void } {
  let reached!: () => void;
  let release!: () => void;
  const atGate = new Promise<void>((r) => (reached = r));
  const gate = new Promise<void>((r) => (release = r));
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      const key = String((args.input as { Key?: string }).Key ?? '');
      if (context.commandName === 'PutObjectCommand' && key.includes('/data/')) {
        reached();
        await gate;
      }
      return next(args);
    },
    { step: 'initialize', name: 'hold-segment-writes' },
  );
  return { reached: atGate, release };
}

describe('upload segment keys', () => {
  it('are new for every append, and those written before writer tokens still read', () => {
    const keys = new S3Keys('registry');
    const first = keys.segment('u-1', 4096);
    assert.notEqual(keys.segment('u-1', 4096), first);
    assert.deepEqual(keys.parseUploadKey(first), { id: 'u-1', kind: 'segment', offset: 4096 });
    assert.deepEqual(keys.parseUploadKey('registry/uploads/u-1/data/0000000000004096'), { id: 'u-1', kind: 'segment', offset: 4096 });
    assert.deepEqual(keys.parseUploadKey('registry/uploads/u-1/data/0000000000004096-x/y'), { id: 'u-1', kind: 'other' });
  });
});

describe('two replicas appending to one upload at once (S3)', { skip, timeout: 300_000 }, () => {
  let ceph: CephCluster;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let a: TestRegistry;
  let b: TestRegistry;

  before(async () => {
    ceph = await startCeph();
    work = await tempDir('s3-concurrent-append');
    const bucket = `berth-${randomUUID().slice(0, 8)}`;
    const admin = cephS3Client(ceph);
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    admin.destroy();
    const replica = () =>
      startTestRegistry((c) => {
        c.storage.driver = 's3';
        c.storage.s3 = { accessKey: ceph.accessKey, secretKey: ceph.secretKey, region: ceph.region, regionEndpoint: ceph.endpoint, bucket };
        c.storage.redirect.disable = true; // blob GETs stream, so the test reads what is stored
        c.http.secret = 'shared-by-the-replicas';
        c.berth.metadata.sqlite.path = join(work.path, 'berth.sqlite');
      });
    a = await replica();
    b = await replica();
  });

  after(async () => {
    await a?.stop();
    await b?.stop();
    await ceph?.stop();
    await work?.cleanup();
  });

  it('never stores a blob whose bytes do not match its digest', async () => {
    const post = await fetch(`${a.url}/v2/race/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(post.status, 202);
    const path = new URL(post.headers.get('location')!, a.url);
    const on = (r: TestRegistry) => `${r.url}${path.pathname}${path.search}`;

    const mine = randomBytes(4096);
    const theirs = randomBytes(4096); // the same length: the sizes agree, only the bytes differ
    const holdA = holdSegmentWrites(a.services.blobs as S3BlobStore);
    const holdB = holdSegmentWrites(b.services.blobs as S3BlobStore);
    const patch = (r: TestRegistry, data: Buffer) =>
      fetch(on(r), { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream' }, body: new Uint8Array(data) });
    // Both replicas have found the upload empty and hold a segment at byte 0 ready to write.
    const patchA = patch(a, mine);
    const patchB = patch(b, theirs);
    await Promise.all([holdA.reached, holdB.reached]);
    holdA.release();
    const resA = await patchA;
    holdB.release();
    const resB = await patchB;
    assert.equal(resA.status, 202, await resA.text());
    assert.equal(resB.status, 202, await resB.text());

    // The client of replica A completes the upload with the digest of what it sent.
    const digest = sha256(mine);
    const done = new URL(on(a));
    done.searchParams.set('digest', digest);
    const put = await fetch(done, { method: 'PUT' });
    await put.arrayBuffer();
    const get = await fetch(`${a.url}/v2/race/app/blobs/${digest}`);
    if (get.status === 200) {
      assert.equal(sha256(Buffer.from(await get.arrayBuffer())), digest, `blob ${digest} is stored with other bytes (PUT answered ${put.status})`);
    } else {
      assert.equal(get.status, 404);
      assert.notEqual(put.status, 201);
    }
  });
});
