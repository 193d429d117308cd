import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemBlobStore } from '../../src/storage/drivers/filesystem.ts';
import { blobStoreContract } from './blob-store.contract.ts';

blobStoreContract('filesystem', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-fs-'));
  return { store: await FilesystemBlobStore.open(root), cleanup: () => rm(root, { recursive: true, force: true }) };
});

// A read stream allocates its whole highWaterMark for each read however small the file: 64
// concurrent first GETs of one manifest once held 75 MiB of 4 MiB buffers. Reads are sized to
// what they return.
describe('filesystem reads', () => {
  it('allocate no read buffer larger than the blob or range they read', async () => {
    const root = await mkdtemp(join(tmpdir(), 'berth-fs-'));
    try {
      const store = await FilesystemBlobStore.open(root);
      const data = Buffer.from('{"schemaVersion":2}'.repeat(50));
      const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
      await store.put(digest, data);
      const sizes: number[] = [];
      const real = Buffer.allocUnsafeSlow;
      Buffer.allocUnsafeSlow = (size: number) => {
        sizes.push(size);
        return real(size);
      };
      const read = async (range?: { start: number; end: number }) => {
        const chunks: Buffer[] = [];
        for await (const c of await store.read(digest, range)) chunks.push(c as Buffer);
        return Buffer.concat(chunks);
      };
      let whole: Buffer, part: Buffer;
      try {
        whole = await read();
        part = await read({ start: 10, end: 19 });
      } finally {
        Buffer.allocUnsafeSlow = real;
      }
      assert.ok(whole.equals(data));
      assert.ok(part.equals(data.subarray(10, 20)));
      assert.ok(sizes.length > 0, 'the read stream should allocate its buffers with Buffer.allocUnsafeSlow');
      assert.ok(Math.max(...sizes) <= data.length, `read buffers of ${sizes.join(', ')} bytes for a ${data.length}-byte blob`);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
