// The native addon's helpers besides sendfile (test/http/zero-copy.test.ts has that): memory that
// O_DIRECT accepts (and that a collection frees), and glibc's malloc thresholds.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { nativeAddon } from '../../src/native/addon.ts';
import { batchBuffer } from '../../src/storage/drivers/direct-io.ts';

const addon = nativeAddon();
const addonPath = fileURLToPath(new URL('../../native/sendfile/build/Release/berth_sendfile.node', import.meta.url));

describe('native addon', { skip: !addon && 'native/sendfile is not built here' }, () => {
  it('batchBuffer gives memory an O_DIRECT write accepts, where an ordinary Buffer is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-addon-'));
    try {
      const path = join(dir, 'f');
      await (await open(path, 'w')).close();
      const handle = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_DIRECT).catch(() => undefined);
      if (!handle) return; // a file system without O_DIRECT: nothing to compare
      try {
        const aligned = batchBuffer(64 * 1024).fill(7);
        assert.equal(aligned.length, 64 * 1024);
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

  it('alignmentOffset finds the aligned address in a Buffer, and refuses an alignment that is not a power of two', () => {
    for (let i = 0; i < 20; i++) {
      const raw = Buffer.allocUnsafeSlow(10_000 + i * 13);
      const skip = addon!.alignmentOffset!(raw, 4096);
      assert.ok(skip >= 0 && skip < 4096);
      // The same Buffer seen from `skip` bytes further is aligned: its offset is then 0.
      assert.equal(addon!.alignmentOffset!(raw.subarray(skip), 4096), 0);
      assert.equal(addon!.alignmentOffset!(raw.subarray(skip + 1), 4096), 4095);
    }
    assert.throws(() => addon!.alignmentOffset!(Buffer.alloc(8), 3000), /power of two/);
  });

  it('batch buffers are ordinary Buffers: their memory goes back once a collection finds them dead', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const before = process.memoryUsage().arrayBuffers;
    let held: Buffer[] | undefined = Array.from({ length: 16 }, () => batchBuffer(1024 * 1024).fill(1));
    assert.ok(process.memoryUsage().arrayBuffers >= before + 16 * 1024 * 1024);
    held = undefined;
    void held;
    // V8 frees dead buffers' memory on a background thread after the collection: give it a moment.
    for (let i = 0; i < 3 && process.memoryUsage().arrayBuffers >= before + 4 * 1024 * 1024; i++) {
      gc();
      await new Promise((done) => setTimeout(done, 50));
    }
    assert.ok(process.memoryUsage().arrayBuffers < before + 4 * 1024 * 1024, `still ${process.memoryUsage().arrayBuffers - before} bytes`);
  });

  it('tuneMalloc sets glibc thresholds', () => {
    assert.equal(addon!.tuneMalloc!(8 * 1024 * 1024, 8 * 1024 * 1024), true);
    assert.equal(addon!.tuneMalloc!(8 * 1024 * 1024, 8 * 1024 * 1024, 1), true, 'with an arena cap');
  });

  it('releaseFilePages drops clean file pages from RSS, and what was copied on write (relocations) stays: native code runs on', async () => {
    // In a child, so the numbers are its own. better-sqlite3 and node:zlib call through their
    // relocated symbol tables (RELRO): had those pages been dropped, the calls after the release
    // would jump to the file's unrelocated contents and crash.
    const script = `
      const fs = require('node:fs');
      const fileKb = () => Number(fs.readFileSync('/proc/self/status', 'utf8').match(/^RssFile:\\s+(\\d+)/m)[1]);
      const addon = require(${JSON.stringify(addonPath)});
      const Database = require('better-sqlite3');
      const db = new Database(':memory:');
      db.exec('CREATE TABLE t (v TEXT)');
      const before = fileKb();
      const released = addon.releaseFilePages();
      const after = fileKb();
      db.prepare('INSERT INTO t VALUES (?)').run('after');
      const row = db.prepare('SELECT v FROM t').get();
      const zipped = require('node:zlib').gunzipSync(require('node:zlib').gzipSync('x'.repeat(1000))).length;
      const digest = require('node:crypto').createHash('sha256').update('abc').digest('hex').slice(0, 8);
      console.log(JSON.stringify({ before, released, after, row, zipped, digest }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: process.cwd() });
    const r = JSON.parse(stdout);
    assert.deepEqual(r.row, { v: 'after' });
    assert.equal(r.zipped, 1000);
    assert.equal(r.digest, 'ba7816bf');
    assert.ok(r.released > 8 * 1024 * 1024, `released ${r.released} bytes`);
    assert.ok(r.after < r.before - 8 * 1024, `RssFile ${r.before} kB -> ${r.after} kB`);
  });
});
