// Throughput of the S3 driver on a throwaway Ceph RGW (not part of the test suite: it moves
// 1 GiB+ through a 2-core machine). Run by hand:
//   node --import tsx test/storage/s3-throughput.measure.ts [blob MiB, default 256] [chunkSize MiB, default 10]
// Measures one append of the whole blob, the commit, a blob read, and the cross-replica re-hash
// (a second store instance reading the upload back), plus a direct SDK PutObject as the baseline.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { S3BlobStore } from '../../src/storage/drivers/s3.ts';
import { startCeph } from '../helpers/ceph.ts';

const MiB = 1024 * 1024;
const sizeMiB = Number(process.argv[2] ?? 256);
const chunkSize = process.argv[3] ? Number(process.argv[3]) * MiB : undefined;
const total = sizeMiB * MiB;
const pool = randomBytes(16 * MiB);

/** The blob as an HTTP request would deliver it: 1 MiB at a time, generated, never all in memory. */
function body(): Readable {
  return Readable.from(
    (function* () {
      for (let at = 0; at < total; at += MiB) yield pool.subarray(at % pool.length, (at % pool.length) + MiB);
    })(),
    { objectMode: false },
  );
}

function expectedDigest(): string {
  const h = createHash('sha256');
  for (let at = 0; at < total; at += MiB) h.update(pool.subarray(at % pool.length, (at % pool.length) + MiB));
  return `sha256:${h.digest('hex')}`;
}

let peakArrayBuffers = 0;
const sampler = setInterval(() => {
  peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers);
}, 20);

async function timed<T>(label: string, bytes: number, fn: () => Promise<T>): Promise<T> {
  const before = process.memoryUsage().arrayBuffers;
  peakArrayBuffers = before;
  const t0 = performance.now();
  const out = await fn();
  const s = (performance.now() - t0) / 1000;
  const rate = bytes ? `${(bytes / MiB / s).toFixed(0).padStart(5)} MiB/s` : '';
  console.log(`${label.padEnd(44)} ${s.toFixed(2).padStart(6)} s ${rate}   peak buffers +${((peakArrayBuffers - before) / MiB).toFixed(0)} MiB`);
  return out;
}

const ceph = await startCeph({ memstoreBytes: Math.max(2 * 1024, sizeMiB * 6) * MiB });
try {
  const bucket = `measure-${randomUUID().slice(0, 8)}`;
  const options = { accessKey: ceph.accessKey, secretKey: ceph.secretKey, region: ceph.region, regionEndpoint: ceph.endpoint, bucket, chunkSize };
  const a = await S3BlobStore.open(options, { verify: false }); // the bucket does not exist yet
  await a.client.send(new CreateBucketCommand({ Bucket: bucket }));
  const b = await S3BlobStore.open(options); // the second replica
  const digest = expectedDigest();
  console.log(`${sizeMiB} MiB, chunkSize ${a.settings.chunkSize / MiB} MiB, RGW memstore on 127.0.0.1`);

  await timed('baseline: SDK PutObject, one 256 MiB stream', total, () =>
    a.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'baseline', Body: body(), ContentLength: total })),
  );

  const id = randomUUID();
  await a.uploads.create(id);
  await timed('upload: one append (replica A)', total, () => a.uploads.append(id, body()));
  const rehashed = await timed('cross-replica re-hash: read + sha256 (B)', total, async () => {
    const h = createHash('sha256');
    for await (const chunk of await b.uploads.read(id)) h.update(chunk as Buffer);
    return `sha256:${h.digest('hex')}`;
  });
  if (rehashed !== digest) throw new Error('re-hash mismatch');
  await timed('commit: multipart server-side copy (B)', total, () => b.uploads.commit(id, digest));
  await timed('blob read: GetObject stream (A)', total, async () => {
    let n = 0;
    for await (const chunk of await a.read(digest)) n += (chunk as Buffer).length;
    if (n !== total) throw new Error(`read ${n} bytes`);
  });
} finally {
  clearInterval(sampler);
  await ceph.stop();
}
