// The native addon's helpers besides sendfile (test/http/zero-copy.test.ts has that): memory that
// O_DIRECT accepts, and glibc's malloc thresholds.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeAddon } from '../../src/native/addon.ts';

const addon = nativeAddon();

describe('native addon', { skip: !addon && 'native/sendfile is not built here' }, () => {
  it('alignedBuffer gives memory an O_DIRECT write accepts, where an ordinary Buffer is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-addon-'));
    try {
      const path = join(dir, 'f');
      await (await open(path, 'w')).close();
      const handle = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_DIRECT).catch(() => undefined);
      if (!handle) return; // a file system without O_DIRECT: nothing to compare
      try {
        const aligned = Buffer.from(addon!.alignedBuffer!(64 * 1024, 4096)).fill(7);
        assert.equal((await handle.write(aligned, 0, aligned.length, null)).bytesWritten, aligned.length);
        // An ordinary Buffer is (almost always) not 4 KiB-aligned; at an odd offset it never is.
        const plain = Buffer.alloc(64 * 1024 + 1);
        await assert.rejects(handle.write(plain, 1, 64 * 1024, null), { code: 'EINVAL' });
      } finally {
        await handle.close();
      }
      assert.ok((await readFile(path)).equals(Buffer.alloc(64 * 1024, 7)));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('alignedBuffer refuses a bad size or alignment with a clear error', () => {
    assert.throws(() => addon!.alignedBuffer!(0, 4096), /bad size or alignment/);
    assert.throws(() => addon!.alignedBuffer!(4096, 3000), /bad size or alignment/);
  });

  it('tuneMalloc sets glibc thresholds', () => {
    assert.equal(addon!.tuneMalloc!(8 * 1024 * 1024, 8 * 1024 * 1024), true);
    assert.equal(addon!.tuneMalloc!(8 * 1024 * 1024, 8 * 1024 * 1024, 1), true, 'with an arena cap');
  });
});
