// The filesystem driver's one-stage body writer (src/storage/drivers/file-appender.ts): every byte
// in order, bytes of a stalled body stored without waiting for more, a body that breaks off is an
// error (and a later error on it is not an uncaught one), and a slow disk pauses the body instead
// of piling batches up in memory. Chunks are copied into two reused batch buffers, so a write
// never sees a chunk the body may still change and no chunk outlives its 'data' event. The
// upload's hash gets every batch in order (on the thread pool when the addon is built), and an
// append settles only when both its last write and its last hash have.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { FileHandle } from 'node:fs/promises';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendStream, batchBufferBytes } from '../../src/storage/drivers/file-appender.ts';
import { nativeAddon } from '../../src/native/addon.ts';
import { createSha256, type Sha256 } from '../../src/util/sha256.ts';
import { DIRECT_ALIGN, directWritesAvailable } from '../../src/storage/drivers/direct-io.ts';

async function withFile<T>(fn: (path: string, handle: FileHandle) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-appender-'));
  const path = join(dir, 'upload');
  await (await open(path, 'w')).close();
  const handle = await open(path, constants.O_WRONLY | constants.O_APPEND);
  try {
    return await fn(path, handle);
  } finally {
    await handle.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('appendStream', () => {
  it('writes every byte in order, shows each chunk to the tap and hashes every batch', async () => {
    await withFile(async (path, handle) => {
      const body = new PassThrough();
      const seen = createHash('sha256');
      const sent = createHash('sha256');
      const hash = createSha256();
      const done = appendStream(handle, body, { chunk: (c) => seen.update(c), hash });
      let total = 0;
      for (let i = 0; i < 200; i++) {
        // Odd sizes, from a few bytes to several batches' worth.
        const chunk = randomBytes(i % 7 === 0 ? 3 * 1024 * 1024 + i : 1 + ((i * 7919) % 70_000));
        sent.update(chunk);
        total += chunk.length;
        if (!body.write(chunk)) await new Promise((r) => body.once('drain', r));
      }
      body.end();
      assert.equal(await done, total);
      const expected = sent.digest('hex');
      assert.equal(seen.digest('hex'), expected);
      assert.equal(hash.digestHex(), expected);
      assert.equal(createHash('sha256').update(await readFile(path)).digest('hex'), expected);
    });
  });

  it('settles only when the write and the hash of the last batch both have, even when one fails', async () => {
    let writing = 0;
    let writesDone = 0;
    const slow = {
      write: async (buffer: Buffer, offset: number, length: number) => {
        writing++;
        await sleep(50);
        writing--;
        writesDone++;
        return { bytesWritten: length, buffer };
      },
    } as unknown as FileHandle;
    // A hash that fails at once: the append must still wait for the write using the same buffer.
    const failing: Sha256 = {
      update: () => undefined,
      updateBatch: () => Promise.reject(new Error('hash failed')),
      digestHex: () => '',
    };
    const body = new PassThrough();
    const done = appendStream(slow, body, { chunk: () => undefined, hash: failing });
    body.end(Buffer.alloc(100_000));
    await assert.rejects(done, /hash failed/);
    assert.equal(writing, 0, 'no write was still running when the append settled');
    assert.equal(writesDone, 1);
  });

  it('gives its batch buffers back to a pool that empties once appends stop', async () => {
    await withFile(async (_path, handle) => {
      const body = new PassThrough();
      const done = appendStream(handle, body);
      body.end(randomBytes(3 * 1024 * 1024));
      await done;
      assert.ok(batchBufferBytes().pooled > 0, 'the buffers are pooled for the next append');
      await sleep(700);
      assert.deepEqual(batchBufferBytes(), { inUse: 0, pooled: 0 }, 'an idle pool holds nothing');
    });
  });

  it('keeps concurrent appends apart (they share the batch budget)', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, k) =>
        withFile(async (path, handle) => {
          const body = new PassThrough();
          const sent = createHash('sha256');
          const done = appendStream(handle, body);
          for (let i = 0; i < 40; i++) {
            const chunk = randomBytes(1 + ((i * 104729 + k * 7) % 200_000));
            sent.update(chunk);
            if (!body.write(chunk)) await new Promise((r) => body.once('drain', r));
          }
          body.end();
          await done;
          return createHash('sha256').update(await readFile(path)).digest('hex') === sent.digest('hex');
        }),
      ),
    );
    assert.deepEqual(results, Array(8).fill(true));
  });

  it('sizes batches by the appends in progress, also for one that began alone, and pools at most two lone batches', async () => {
    const MiB = 1024 * 1024;
    const bodies = Array.from({ length: 8 }, () => new PassThrough());
    // The other seven start once the first is alone and busy; then all send.
    let go!: () => void;
    const others = new Promise<void>((r) => (go = r));
    const started = bodies.map((_, k) => (k === 0 ? Promise.resolve() : others));
    let during = -1;
    const settled = Promise.all(
      bodies.map((body, k) =>
        withFile(async (path, handle) => {
          const sent = createHash('sha256');
          await started[k];
          const done = appendStream(handle, body);
          const send = async (bytes: number) => {
            const chunk = randomBytes(bytes);
            sent.update(chunk);
            if (!body.write(chunk)) await new Promise((r) => body.once('drain', r));
          };
          if (k === 0) {
            await send(MiB);
            await sleep(50); // written early, as for a stalling client: its next buffer is the lone size
            assert.equal(batchBufferBytes().inUse, 8 * MiB, 'alone: two 4 MiB batches');
            await others;
          }
          for (let i = 0; i < 80; i++) {
            await send(200_000);
            // After some batches of the first one, while all eight are sending.
            if (k === 0 && i === 40) during = batchBufferBytes().inUse;
          }
          body.end();
          await done;
          return createHash('sha256').update(await readFile(path)).digest('hex') === sent.digest('hex');
        }),
      ),
    );
    await sleep(100);
    go();
    assert.deepEqual(await settled, Array(8).fill(true));
    assert.ok(during > 0 && during <= 2 * MiB, `eight appends hold their shares, the first one's shrunk too: ${during} bytes`);
    const after = batchBufferBytes();
    assert.equal(after.inUse, 0);
    assert.ok(after.pooled <= 8 * MiB, `the pool keeps at most two lone batches: ${after.pooled}`);
  });

  it('frees an HTTP/1 request body\'s chunks once copied, and loses no byte', { skip: !nativeAddon()?.freeNow && 'native addon not built' }, async () => {
    await withFile(async (path, handle) => {
      const seenLater: Buffer[] = [];
      let reported = 0;
      const server = createServer((req: IncomingMessage, res) => {
        const done = appendStream(handle, req, { chunk: (c) => (reported += c.length) });
        // A listener after the appender's sees each chunk once the appender has had it.
        req.on('data', (c: Buffer) => seenLater.push(c));
        done.then((n) => res.end(String(n)), (e: Error) => res.writeHead(500).end(e.message));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const body = randomBytes(6 * 1024 * 1024 + 12_345);
        const answer = await new Promise<string>((resolve, reject) => {
          const req = request({ port: (server.address() as AddressInfo).port, method: 'PUT', host: '127.0.0.1' }, (res) => {
            let text = '';
            res.on('data', (c) => (text += c));
            res.on('end', () => resolve(text));
          });
          req.on('error', reject);
          req.end(body);
        });
        assert.equal(answer, String(body.length));
        assert.ok(seenLater.length > 10);
        assert.deepEqual(seenLater.filter((c) => c.length > 0), [], 'every chunk was freed (detached)');
        assert.equal(reported, 0, 'freed chunks are not left to the collector');
        assert.ok((await readFile(path)).equals(body));
      } finally {
        server.close();
      }
    });
  });

  it('leaves the chunks of other bodies alone (a stream may hand out one buffer twice)', async () => {
    await withFile(async (path, handle) => {
      const body = new PassThrough();
      const chunk = randomBytes(300_000);
      let reported = 0;
      const done = appendStream(handle, body, { chunk: (c) => (reported += c.length) });
      body.write(chunk);
      body.end(chunk);
      assert.equal(await done, 600_000);
      assert.equal(chunk.length, 300_000);
      assert.equal(reported, 600_000);
      assert.ok((await readFile(path)).equals(Buffer.concat([chunk, chunk])));
    });
  });

  it('appends after what the file holds', async () => {
    await withFile(async (path, handle) => {
      await handle.write(Buffer.from('abc'));
      const body = new PassThrough();
      const done = appendStream(handle, body);
      body.end(Buffer.from('def'));
      assert.equal(await done, 3);
      assert.equal(await readFile(path, 'utf8'), 'abcdef');
    });
  });

  it('stores what a stalled body sent without waiting for the rest', async () => {
    await withFile(async (path, handle) => {
      const body = new PassThrough();
      const done = appendStream(handle, body);
      body.write(randomBytes(100 * 1024)); // far below a batch
      let size = 0;
      for (const deadline = Date.now() + 2000; size < 100 * 1024 && Date.now() < deadline; await sleep(5)) size = (await stat(path)).size;
      assert.equal(size, 100 * 1024);
      body.end();
      assert.equal(await done, 100 * 1024);
    });
  });

  it('rejects when the body breaks off, and a later error on it is not uncaught', async () => {
    await withFile(async (_path, handle) => {
      const body = new PassThrough();
      const done = appendStream(handle, body);
      body.write(randomBytes(64 * 1024));
      body.destroy(new Error('client went away'));
      await assert.rejects(done, /client went away/);
      // Emitting another error on the stream must not throw (it would crash the server).
      body.emit('error', new Error('late'));
    });
  });

  it('rejects when the body closes before its end', async () => {
    await withFile(async (_path, handle) => {
      const body = new PassThrough();
      const done = appendStream(handle, body);
      body.write(randomBytes(1024));
      body.destroy();
      await assert.rejects(done, /ended early/);
    });
  });

  it('pauses the body while a slow write is in flight, so memory stays bounded', async () => {
    let inFlight = 0;
    let maxVector = 0;
    let written = 0;
    // A file whose writes take 30 ms each: the disk, not the client, is the bottleneck.
    const slow = {
      write: async (buffer: Buffer, offset: number, length: number) => {
        inFlight++;
        assert.equal(inFlight, 1, 'one write at a time');
        maxVector = Math.max(maxVector, length);
        assert.ok(offset >= 0 && offset + length <= buffer.length);
        await sleep(30);
        written += length;
        inFlight--;
        return { bytesWritten: length, buffer };
      },
    } as unknown as FileHandle;
    const body = new PassThrough({ highWaterMark: 64 * 1024 });
    const done = appendStream(slow, body);
    let paused = false;
    const total = 16 * 1024 * 1024;
    for (let sent = 0; sent < total; sent += 64 * 1024) {
      if (!body.write(Buffer.alloc(64 * 1024))) {
        paused ||= body.isPaused();
        await new Promise((r) => body.once('drain', r));
      }
    }
    body.end();
    assert.equal(await done, total);
    assert.equal(written, total);
    assert.ok(paused, 'the body was paused while the disk was busy');
    // A write is one batch buffer (4 MiB for a lone upload).
    assert.ok(maxVector <= 4 * 1024 * 1024, `largest write ${maxVector} bytes`);
  });
});

describe('appendStream on a body that is already over', () => {
  it('rejects at once when the body broke before the append began', { timeout: 5000 }, async () => {
    await withFile(async (_path, handle) => {
      const body = new PassThrough();
      body.on('error', () => undefined);
      body.destroy(new Error('gone before the file was open'));
      await new Promise((r) => setImmediate(r));
      await assert.rejects(appendStream(handle, body), /gone before the file was open/);
    });
  });

  it('resolves with 0 for a body that already ended', { timeout: 5000 }, async () => {
    await withFile(async (_path, handle) => {
      const body = new PassThrough();
      body.end();
      body.resume();
      await new Promise((r) => body.once('end', r));
      assert.equal(await appendStream(handle, body), 0);
    });
  });
});

describe('appendStream with an O_DIRECT handle', { skip: !directWritesAvailable() && 'no O_DIRECT here (native addon not built)' }, () => {
  /** The direct handle, recording each write's length (and able to refuse with EINVAL). */
  function recording(handle: FileHandle, opts: { refuse?: boolean } = {}) {
    const writes: number[] = [];
    const wrapped = {
      write: async (buffer: Buffer, offset: number, length: number, position: null) => {
        if (opts.refuse) throw Object.assign(new Error('EINVAL: invalid argument, write'), { code: 'EINVAL' });
        const r = await handle.write(buffer, offset, length, position);
        writes.push(r.bytesWritten);
        return r;
      },
    } as unknown as FileHandle;
    return { wrapped, writes };
  }

  async function appendWith(existing: number, chunks: Buffer[], opts: { refuse?: boolean; stallEvery?: number } = {}) {
    const dir = await mkdtemp(join(tmpdir(), 'berth-appender-direct-'));
    const path = join(dir, 'upload');
    const head = randomBytes(existing);
    await writeFile(path, head);
    const plain = await open(path, constants.O_WRONLY | constants.O_APPEND);
    const directHandle = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_DIRECT);
    const { wrapped, writes } = recording(directHandle, opts);
    try {
      const body = new PassThrough();
      const done = appendStream(plain, body, undefined, { open: async () => wrapped, position: existing });
      for (const [i, c] of chunks.entries()) {
        if (!body.write(c)) await new Promise((r) => body.once('drain', r));
        // A stall longer than the late-write timer: a partial batch, off the block grid, goes out early.
        if (opts.stallEvery && i % opts.stallEvery === opts.stallEvery - 1) await sleep(30);
      }
      body.end();
      const total = chunks.reduce((n, c) => n + c.length, 0);
      assert.equal(await done, total);
      const stored = await readFile(path);
      assert.ok(stored.equals(Buffer.concat([head, ...chunks])), 'the file holds the old bytes and every new one, in order');
      return { total, writes };
    } finally {
      await directHandle.close();
      await plain.close();
      await rm(dir, { recursive: true, force: true });
    }
  }

  const oddChunks = (n: number) => Array.from({ length: n }, (_, i) => randomBytes(1 + ((i * 7919) % 70_000)));

  it('writes whole blocks directly from an upload that starts off the block grid (a second PATCH)', async () => {
    const { total, writes } = await appendWith(1000, oddChunks(300));
    const direct = writes.reduce((a, b) => a + b, 0);
    assert.ok(writes.every((n) => n % DIRECT_ALIGN === 0), `direct writes in whole blocks: ${writes.join(',')}`);
    // Only the head up to the first boundary and the last partial block go through the page cache.
    assert.ok(direct >= total - 2 * DIRECT_ALIGN, `${direct} of ${total} bytes written directly`);
  });

  it('realigns after a stalled client made it write a partial batch early', async () => {
    const { total, writes } = await appendWith(0, oddChunks(300), { stallEvery: 40 });
    const direct = writes.reduce((a, b) => a + b, 0);
    assert.ok(writes.every((n) => n % DIRECT_ALIGN === 0));
    // Each stall costs the partial block at its end and the bytes up to the next boundary.
    assert.ok(direct >= total - 2 * DIRECT_ALIGN * (1 + 300 / 40), `${direct} of ${total} bytes written directly despite the stalls`);
  });

  it('opens the O_DIRECT handle only once there is a whole block to write', async () => {
    await withFile(async (path, handle) => {
      let opened = 0;
      const body = new PassThrough();
      const done = appendStream(handle, body, undefined, { open: async () => (opened++, undefined), position: 0 });
      body.end(Buffer.alloc(DIRECT_ALIGN - 1, 1));
      assert.equal(await done, DIRECT_ALIGN - 1);
      assert.equal(opened, 0, 'a blob smaller than a block never opens it');
      assert.equal((await readFile(path)).length, DIRECT_ALIGN - 1);
    });
  });

  it('falls back to buffered writes, losing nothing, when the file system refuses O_DIRECT', async () => {
    const { writes } = await appendWith(4096, oddChunks(120), { refuse: true });
    assert.deepEqual(writes, []);
  });
});
