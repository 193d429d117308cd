// The upload hash (src/util/sha256.ts): whichever way it is fed (chunks on the loop, batches on
// libuv's pool through the native addon, or both mixed) its digest is node:crypto's, reading the
// digest does not end it, and the native state refuses a second update while one runs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { nativeAddon } from '../../src/native/addon.ts';
import { createSha256, sha256OffLoop } from '../../src/util/sha256.ts';

const addon = nativeAddon();
const hasNative = addon?.sha256Available?.() === true;

describe('createSha256', () => {
  it('gives node:crypto\'s digest for any mix of chunks and batches, and reading it does not end it', async () => {
    const hash = createSha256();
    const reference = createHash('sha256');
    assert.equal(hash.digestHex(), createHash('sha256').digest('hex'), 'the empty digest');
    for (let i = 0; i < 40; i++) {
      // Small pieces (hashed on the loop) and batches above the pool's threshold, with slack at the end.
      const size = i % 3 === 0 ? 1 + ((i * 7919) % 70_000) : 256 * 1024 + ((i * 104_729) % (3 * 1024 * 1024));
      const data = randomBytes(size + 17);
      if (i % 2 === 0) hash.update(data.subarray(0, size));
      else await hash.updateBatch(data, size);
      reference.update(data.subarray(0, size));
      if (i % 10 === 0) assert.equal(hash.digestHex(), reference.copy().digest('hex'), `after piece ${i}`);
    }
    assert.equal(hash.digestHex(), reference.digest('hex'));
  });

  it('hashes batches off the event loop when the native addon is built', { skip: !hasNative && 'native addon not built' }, async () => {
    assert.equal(sha256OffLoop(), true);
    const hash = createSha256();
    const batch = randomBytes(8 * 1024 * 1024);
    // The loop stays free while the pool hashes: a timer set now runs before the batch is done.
    let loopRan = false;
    setImmediate(() => (loopRan = true));
    await hash.updateBatch(batch, batch.length);
    assert.ok(loopRan, 'the event loop ran while the batch was hashed');
    assert.equal(hash.digestHex(), createHash('sha256').update(batch).digest('hex'));
  });

  it('refuses a second update of one native state while the first runs', { skip: !hasNative && 'native addon not built' }, async () => {
    const state = addon!.sha256Create!();
    const batch = randomBytes(4 * 1024 * 1024);
    const first = addon!.sha256Update!(state, batch, batch.length);
    assert.throws(() => addon!.sha256Update!(state, batch, batch.length), /still running/);
    assert.throws(() => addon!.sha256UpdateSync!(state, batch, 1), /still running/);
    assert.throws(() => addon!.sha256Digest!(state), /still running/);
    await first;
    assert.equal(addon!.sha256Digest!(state), createHash('sha256').update(batch).digest('hex'));
    assert.throws(() => addon!.sha256Update!(state, batch, batch.length + 1), /bad length/);
  });

  it('hashes on the loop with BERTH_NATIVE_HASH=0, with the same digests', () => {
    const script = `
      import { createSha256, sha256OffLoop } from ${JSON.stringify(join(process.cwd(), 'src', 'util', 'sha256.ts'))};
      const h = createSha256();
      await h.updateBatch(Buffer.from('hello world!'), 11);
      console.log(sha256OffLoop(), h.digestHex());`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, BERTH_NATIVE_HASH: '0' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `false ${createHash('sha256').update('hello world').digest('hex')}`);
  });
});
