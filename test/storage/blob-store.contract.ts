// The storage driver contract, run against every driver (filesystem.test.ts, s3.test.ts).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { BlobNotFoundError, type BlobStore } from '../../src/storage/blob-store.ts';

function digestOf(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export function blobStoreContract(driver: string, open: () => Promise<{ store: BlobStore; cleanup(): Promise<void> }>): void {
  describe(`BlobStore contract: ${driver}`, () => {
    let store: BlobStore;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await open());
    });
    after(() => cleanup());

    it('puts a small blob atomically and reads it back; put is idempotent', async () => {
      const data = Buffer.from('{"hello":"manifest"}');
      const digest = digestOf(data);
      await store.put(digest, data);
      await store.put(digest, data);
      const info = await store.stat(digest);
      assert.deepEqual({ digest: info?.digest, size: info?.size }, { digest, size: data.length });
      // When a driver reports a modification time (the collector spares fresh files by it), it is now-ish.
      if (info?.modifiedAt) assert.ok(Math.abs(info.modifiedAt.getTime() - Date.now()) < 60_000);
      assert.deepEqual(await readAll(await store.read(digest)), data);
    });

    it('reads byte ranges (inclusive ends)', async () => {
      const data = randomBytes(5000);
      const digest = digestOf(data);
      await store.put(digest, data);
      assert.deepEqual(await readAll(await store.read(digest, { start: 0, end: 0 })), data.subarray(0, 1));
      assert.deepEqual(await readAll(await store.read(digest, { start: 100, end: 4999 })), data.subarray(100));
    });

    it('reports absent blobs: stat undefined, read rejects with BlobNotFoundError', async () => {
      const digest = digestOf(randomBytes(10));
      assert.equal(await store.stat(digest), undefined);
      await assert.rejects(() => store.read(digest), BlobNotFoundError);
    });

    it('writes uploads by appending, commits them under their digest, then forgets the upload', async () => {
      const id = randomUUID();
      const data = randomBytes(300_000);
      await store.uploads.create(id);
      assert.equal(await store.uploads.size(id), 0);
      assert.equal(await store.uploads.append(id, Readable.from([data.subarray(0, 100_000)])), 100_000);
      assert.equal(await store.uploads.append(id, Readable.from([data.subarray(100_000)])), 300_000);
      assert.deepEqual(await readAll(await store.uploads.read(id)), data);
      const digest = digestOf(data);
      assert.equal(await store.stat(digest), undefined, 'not visible before commit');
      await store.uploads.commit(id, digest);
      assert.equal(await store.uploads.size(id), undefined);
      assert.deepEqual(await readAll(await store.read(digest)), data);
    });

    it('aborts uploads and lists those in progress', async () => {
      const a = randomUUID();
      const b = randomUUID();
      await store.uploads.create(a);
      await store.uploads.create(b);
      await store.uploads.append(b, Readable.from([Buffer.from('xyz')]));
      const listed = new Map<string, number>();
      for await (const u of store.uploads.list()) listed.set(u.id, u.size);
      assert.equal(listed.get(a), 0);
      assert.equal(listed.get(b), 3);
      await store.uploads.abort(a);
      await store.uploads.abort(b);
      assert.equal(await store.uploads.size(a), undefined);
    });

    it('commits the same content twice without error (one stored copy)', async () => {
      const data = randomBytes(1000);
      const digest = digestOf(data);
      for (let i = 0; i < 2; i++) {
        const id = randomUUID();
        await store.uploads.create(id);
        await store.uploads.append(id, Readable.from([data]));
        await store.uploads.commit(id, digest);
      }
      assert.deepEqual(await readAll(await store.read(digest)), data);
    });

    it('deletes blobs and walks what is stored', async () => {
      const data = randomBytes(64);
      const digest = digestOf(data);
      await store.put(digest, data);
      const walked = new Map<string, number>();
      for await (const b of store.walk()) walked.set(b.digest, b.size);
      assert.equal(walked.get(digest), 64);
      await store.delete(digest);
      assert.equal(await store.stat(digest), undefined);
      await store.delete(digest);
    });

    it('passes its health check', async () => {
      await store.check();
    });
  });
}
