// The in-memory SHA-256 of uploads (src/registry/upload-hashes.ts) must not outlive its use. Behind
// a load balancer the PUT of an upload often reaches another replica, which finishes it: the
// replica that hashed the PATCH is never told, and kept that state (~800 bytes) for good, for
// half of all pushes with round robin. A state nobody has used for IDLE_MS is dropped; an upload
// that comes back after that is re-hashed from storage, which is what the storage read counts.
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { IDLE_MS, UploadHashes } from '../../src/registry/upload-hashes.ts';
import type { UploadArea } from '../../src/storage/blob-store.ts';

const data = Buffer.from('the bytes of one PATCH');
const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** The upload area as digest() uses it: read() gives the stored bytes back, and is counted. */
function storedUploads(): { area: UploadArea; reads: () => number } {
  let reads = 0;
  const area = {
    read: async () => {
      reads++;
      return Readable.from([data]);
    },
  } as unknown as UploadArea;
  return { area, reads: () => reads };
}

/** A PATCH on `id` whose body has arrived and been hashed. */
function patched(hashes: UploadHashes, id: string): void {
  hashes.tap(id, 0).hash!.update(data);
}

describe('upload hash states', () => {
  beforeEach(() => mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-12-05T12:00:00Z') }));
  afterEach(() => mock.timers.reset());

  it('are dropped once no request has used them for IDLE_MS (an upload finished on another replica)', async () => {
    const hashes = new UploadHashes();
    const { area, reads } = storedUploads();
    patched(hashes, 'elsewhere');
    mock.timers.tick(IDLE_MS + 60_000);
    patched(hashes, 'a-later-upload'); // requests go on; the replica never hears of 'elsewhere' again
    // Had the client come back after all, the upload is re-hashed from storage: right, just slower.
    assert.equal(await hashes.digest('elsewhere', data.length, digest, area), digest);
    assert.equal(reads(), 1, 'the idle state was dropped');
  });

  it('are kept while recently used, and while a body is still arriving', async () => {
    const hashes = new UploadHashes();
    const { area, reads } = storedUploads();
    patched(hashes, 'recent');
    const done = hashes.receiving('slow-body', { complete: false } as IncomingMessage);
    patched(hashes, 'slow-body');
    mock.timers.tick(IDLE_MS / 2);
    hashes.tap('recent', data.length).hash!.update(data); // its next chunk
    mock.timers.tick(IDLE_MS / 2 + 60_000);
    patched(hashes, 'a-later-upload');
    done(); // the long body ends; its PUT follows at once
    assert.equal(await hashes.digest('slow-body', data.length, digest, area), digest);
    const twice = `sha256:${createHash('sha256').update(data).update(data).digest('hex')}`;
    assert.equal(await hashes.digest('recent', 2 * data.length, twice, area), twice);
    assert.equal(reads(), 0, 'neither state was dropped');
  });
});
