// parallelGzip: one valid gzip member (zlib and the system gzip both read it), the same bytes
// however the source chunks its data, a ratio close to single-stream gzip, bounded reading,
// errors passed on; and a throughput measurement against createGzip (printed, not asserted).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { buffer } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { constants, createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { parallelGzip, type ParallelGzipOptions } from '../../src/transfer/pgzip.ts';

const MiB = 1 << 20;
const hasGzip = spawnSync('sh', ['-c', 'command -v gzip'], { stdio: 'ignore' }).status === 0;

/** Deterministic PRNG (mulberry32), so compressible test data is the same every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` bytes of word salad from a fixed vocabulary: compresses roughly like text (~2.5:1 at level 6). */
function text(n: number, seed = 1): Buffer {
  const r = rng(seed);
  const vocab: Buffer[] = [];
  for (let i = 0; i < 4000; i++) {
    const len = 2 + Math.floor(r() * 9);
    let w = '';
    for (let j = 0; j < len; j++) w += String.fromCharCode(97 + Math.floor(r() * 26));
    vocab.push(Buffer.from(w + (r() < 0.1 ? '.\n' : ' ')));
  }
  const out = Buffer.allocUnsafe(n);
  let off = 0;
  while (off < n) {
    // Skewed choice: common words are much more common, as in real text.
    const w = vocab[Math.floor(vocab.length * r() * r())];
    off += w.copy(out, off, 0, Math.min(w.length, n - off));
  }
  return out;
}

/** `data` as an object-mode stream of `chunk`-byte pieces, so every piece arrives separately. */
function chunked(data: Buffer, chunk: number): Readable {
  return Readable.from(
    (function* () {
      for (let off = 0; off < data.length; off += chunk) yield data.subarray(off, off + chunk);
    })(),
  );
}

function gz(data: Buffer, opts?: ParallelGzipOptions, chunk = 64 * 1024): Promise<Buffer> {
  return buffer(parallelGzip(chunked(data, chunk), opts));
}

function cpuSeconds(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1e6;
}

function checkWithSystemGzip(compressed: Buffer, plain: Buffer): void {
  if (!hasGzip) return;
  const t = spawnSync('gzip', ['-t'], { input: compressed });
  assert.equal(t.status, 0, `gzip -t: ${t.stderr}`);
  const d = spawnSync('gzip', ['-dc'], { input: compressed, maxBuffer: plain.length + 1024 });
  assert.equal(d.status, 0, `gzip -dc: ${d.stderr}`);
  assert.ok(d.stdout.equals(plain), 'gzip -dc gives the input back');
}

describe('parallelGzip', () => {
  const blockSize = 256 * 1024; // small blocks, so "many blocks" stays cheap
  const cases: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['1 byte', Buffer.from('x')],
    ['exactly one block', text(blockSize, 2)],
    ['one block + 1 byte', text(blockSize + 1, 3)],
    ['many blocks of random data', randomBytes(blockSize * 9 + 12345)],
    ['many blocks of compressible data', text(blockSize * 11 + 777, 4)],
    ['exactly several blocks', text(blockSize * 4, 5)],
  ];
  for (const [name, data] of cases) {
    it(`round-trips ${name} (zlib and system gzip)`, async () => {
      const out = await gz(data, { blockSize, concurrency: 3 });
      assert.ok(gunzipSync(out).equals(data), 'zlib.gunzipSync gives the input back');
      checkWithSystemGzip(out, data);
    });
  }

  it('round-trips at every level, with the header createGzip writes', async () => {
    const data = Buffer.concat([text(600 * 1024, 6), randomBytes(100 * 1024), text(300 * 1024, 7)]);
    for (const level of [-1, 0, 1, 2, 5, 6, 8, 9]) {
      const out = await gz(data, { level, blockSize });
      assert.ok(gunzipSync(out).equals(data), `level ${level}`);
      assert.deepEqual(out.subarray(0, 10), gzipSync(Buffer.alloc(0), { level }).subarray(0, 10), `header at level ${level}`);
      checkWithSystemGzip(out, data);
    }
  });

  it('is byte-identical to gzipSync when the input fits one block', async () => {
    for (const data of [Buffer.alloc(0), Buffer.from('hello'), text(100_000, 8), randomBytes(50_000)]) {
      for (const level of [-1, 1, 6, 9]) {
        assert.deepEqual(await gz(data, { level }), gzipSync(data, { level }), `${data.length} bytes at level ${level}`);
      }
    }
  });

  it('with the default 1 MiB blocks, round-trips a multi-block input', async () => {
    const data = text(3 * MiB + 5, 9);
    const out = await buffer(parallelGzip(Readable.from([data])));
    assert.ok(gunzipSync(out).equals(data));
    checkWithSystemGzip(out, data);
  });

  describe('determinism', () => {
    it('gives the same bytes however the source chunks its data', async () => {
      const data = text(3 * MiB + 4321, 10);
      const bs = 512 * 1024;
      const reference = await gz(data, { blockSize: bs }, 7 * MiB);
      for (const chunk of [1000, 4096, 65536, bs, bs + 1, 3 * MiB]) {
        assert.deepEqual(await gz(data, { blockSize: bs }, chunk), reference, `${chunk}-byte chunks`);
      }
      // Byte-mode sources that coalesce or split as they please.
      assert.deepEqual(await buffer(parallelGzip(Readable.from([data], { objectMode: false }), { blockSize: bs })), reference);
    });

    it('gives the same bytes for 1-byte chunks as for one big chunk', async () => {
      const data = text(100 * 1024 + 17, 11); // 1-byte object-mode chunks are slow to feed: keep it small
      for (const bs of [16 * 1024, 40_000, MiB]) {
        const one = await gz(data, { blockSize: bs }, 1);
        const big = await gz(data, { blockSize: bs }, 7 * MiB);
        assert.deepEqual(one, big, `blockSize ${bs}`);
        assert.ok(gunzipSync(one).equals(data));
      }
      for (const small of [Buffer.alloc(0), Buffer.from('a'), Buffer.from('abc'), text(100, 12)]) {
        assert.deepEqual(await gz(small, {}, 1), await gz(small, {}, 7 * MiB), `${small.length} bytes`);
      }
    });

    it('gives the same bytes whatever the concurrency (timing)', async () => {
      const data = Buffer.concat([text(2 * MiB, 13), randomBytes(MiB), text(MiB + 3, 14)]);
      const reference = await gz(data, { blockSize, concurrency: 1 });
      for (const concurrency of [2, 3, 8]) {
        assert.deepEqual(await gz(data, { blockSize, concurrency }), reference, `concurrency ${concurrency}`);
      }
      // Level 0 too: zlib's stored blocks depend on the output buffer size, which we fix per blockSize.
      const l0 = await gz(data, { level: 0, blockSize, concurrency: 1 });
      assert.deepEqual(await gz(data, { level: 0, blockSize, concurrency: 4 }, 1000), l0);
      assert.ok(gunzipSync(l0).equals(data));
    });
  });

  it('compresses within 2% of single-stream gzip at the same level', async () => {
    const data = text(8 * MiB, 15);
    for (const level of [1, 6, 9]) {
      const single = gzipSync(data, { level }).length;
      const parallel = (await gz(data, { level })).length;
      console.log(`  level ${level}: gzipSync ${single} bytes, parallelGzip ${parallel} bytes (${((parallel / single - 1) * 100).toFixed(3)}%)`);
      assert.ok(parallel <= single * 1.02, `level ${level}: ${parallel} vs ${single}`);
    }
  });

  describe('errors and flow', () => {
    it('fails the output when the source fails midway', async () => {
      const src = Readable.from(
        (async function* () {
          yield randomBytes(300 * 1024);
          yield randomBytes(300 * 1024);
          throw new Error('disk on fire');
        })(),
      );
      await assert.rejects(buffer(parallelGzip(src, { blockSize: 100 * 1024 })), /disk on fire/);
    });

    it('fails the output when the source fails before anyone reads', async () => {
      const src = new Readable({ read() {} });
      const out = parallelGzip(src);
      out.on('error', () => {}); // a consumer that is set up but has not started reading
      src.destroy(new Error('gone early'));
      await sleep(10);
      assert.ok(out.destroyed, 'output destroyed with the source error');
      await assert.rejects(buffer(out), /gone early/);
    });

    it('rejects bad options', () => {
      const src = Readable.from([]);
      assert.throws(() => parallelGzip(src, { level: 10 }), RangeError);
      assert.throws(() => parallelGzip(src, { blockSize: 0 }), RangeError);
      assert.throws(() => parallelGzip(src, { concurrency: 0 }), RangeError);
    });

    it('reads the source no faster than the output is consumed', async () => {
      const bs = 64 * 1024;
      let produced = 0;
      const src = new Readable({
        highWaterMark: bs,
        read() {
          produced += bs;
          this.push(randomBytes(bs));
        },
      });
      const out = parallelGzip(src, { blockSize: bs, concurrency: 2 });
      let received = 0;
      await new Promise<void>((resolve) => {
        out.on('data', (c: Buffer) => {
          received += c.length;
          if (received > 4 * bs) {
            out.pause();
            resolve();
          }
        });
      });
      // Let in-flight work settle (polling, the machine may be busy); a reader that ignored
      // backpressure would keep pulling the endless source meanwhile.
      let stable = false;
      for (let i = 0; i < 20 && !stable; i++) {
        const before = produced;
        await sleep(200);
        stable = produced === before;
      }
      assert.ok(stable, 'stopped reading while the output is paused');
      // Taken out: `received`; in flight: 2 blocks; gathering: 1-2; buffered: the source's and the output's.
      assert.ok(produced <= received + 10 * bs, `read ${produced} bytes, handed out ${received}`);
      out.destroy();
      await sleep(10);
      assert.ok(src.destroyed, 'destroying the output destroys the source');
    });
  });

  it('measures throughput against createGzip (64 MiB, level 6)', async () => {
    const data = text(64 * MiB, 16);
    const mb = data.length / 1e6;
    const sink = () =>
      new Writable({
        write(_chunk, _enc, cb) {
          cb();
        },
      });
    const feed = () => chunked(data, 256 * 1024);

    // Wall-clock speed depends on what else the machine runs; CPU time (all threads) does not.
    let t = performance.now();
    let cpu = process.cpuUsage();
    await pipeline(feed(), createGzip({ level: constants.Z_DEFAULT_COMPRESSION, chunkSize: 256 * 1024 }), sink());
    const single = (performance.now() - t) / 1000;
    const singleCpu = cpuSeconds(process.cpuUsage(cpu));

    t = performance.now();
    cpu = process.cpuUsage();
    let size = 0;
    await pipeline(parallelGzip(feed(), { level: 6 }), async function (src: AsyncIterable<Buffer>) {
      for await (const c of src) size += c.length;
    });
    const parallel = (performance.now() - t) / 1000;
    const parallelCpu = cpuSeconds(process.cpuUsage(cpu));
    console.log(
      `  64 MiB level 6, ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(1)}: ` +
        `createGzip ${(mb / single).toFixed(1)} MB/s (${singleCpu.toFixed(2)} s CPU), ` +
        `parallelGzip ${(mb / parallel).toFixed(1)} MB/s (${parallelCpu.toFixed(2)} s CPU), ` +
        `speed-up x${(single / parallel).toFixed(2)}, ${size} bytes`,
    );
  });
});
