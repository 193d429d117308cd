// Blob bodies sent with sendfile(2) (native/sendfile): same bytes, ranges and keep-alive behaviour
// as the streaming path, and a client that stalls or vanishes mid-body costs nothing lasting.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { Agent, createServer, get, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { open, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { sendFileBody, zeroCopyAvailable } from '../../src/http/zero-copy.ts';
import { nativeAddon } from '../../src/native/addon.ts';
import { pushBlob, startTestRegistry, type TestRegistry } from './harness.ts';
import { repoRoot, startBerth, type RunningServer } from '../helpers/processes.ts';

const SIZE = 24 * 1024 * 1024 + 123;

function request(url: string, opts: { agent?: Agent; headers?: Record<string, string> } = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => get(url, { agent: opts.agent, headers: opts.headers }, resolve).on('error', reject));
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const openFds = () => readdirSync('/proc/self/fd').length;

describe('zero-copy blob responses', () => {
  let r: TestRegistry;
  let data: Buffer;
  let url: string;

  before(async () => {
    r = await startTestRegistry();
    data = randomBytes(SIZE);
    const digest = await pushBlob(r.url, 'big/blob', data);
    url = `${r.url}/v2/big/blob/blobs/${digest}`;
  });
  after(() => r.stop());

  it('is built and loaded on Linux (npm ci builds native/sendfile)', { skip: process.platform !== 'linux' }, () => {
    assert.ok(existsSync(join(repoRoot, 'native', 'sendfile', 'build', 'Release', 'berth_sendfile.node')), 'native addon not built: run npm run build:native');
    assert.equal(zeroCopyAvailable, true);
  });

  it('sends the whole blob and byte ranges exactly', async () => {
    const whole = await request(url);
    assert.equal(whole.statusCode, 200);
    assert.equal(whole.headers['content-length'], String(SIZE));
    assert.ok((await readAll(whole)).equals(data));
    for (const [range, start, end] of [
      ['bytes=0-0', 0, 0],
      ['bytes=1000-5242879', 1000, 5242879],
      ['bytes=-7', SIZE - 7, SIZE - 1],
      [`bytes=${SIZE - 10}-`, SIZE - 10, SIZE - 1],
    ] as const) {
      const res = await request(url, { headers: { Range: range } });
      assert.equal(res.statusCode, 206, range);
      assert.equal(res.headers['content-range'], `bytes ${start}-${end}/${SIZE}`);
      assert.ok((await readAll(res)).equals(data.subarray(start, end + 1)), range);
    }
  });

  it('keeps the connection usable for the next request', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const sockets = new Set<unknown>();
      for (let i = 0; i < 3; i++) {
        const res = await request(url, { agent, headers: { Range: 'bytes=0-1048575' } });
        sockets.add(res.socket);
        assert.ok((await readAll(res)).equals(data.subarray(0, 1048576)));
      }
      const v2 = await request(`${r.url}/v2/`, { agent });
      sockets.add(v2.socket);
      assert.equal(v2.statusCode, 200);
      await readAll(v2);
      assert.equal(sockets.size, 1, 'all four requests should share one connection');
    } finally {
      agent.destroy();
    }
  });

  it('serves a slow reader correctly (the kernel buffer fills and drains)', async () => {
    const res = await request(url);
    const chunks: Buffer[] = [];
    let paused = 0;
    for await (const c of res) {
      chunks.push(c as Buffer);
      if (paused < 3 && chunks.length % 50 === 0) {
        paused++;
        res.pause();
        await new Promise((done) => setTimeout(done, 150));
        res.resume();
      }
    }
    assert.ok(Buffer.concat(chunks).equals(data));
  });

  // Regression (hung CI): a keep-alive client may send its next request as soon as it has the last
  // byte of a body sendfile wrote, before the server has ended that response. Node then holds the
  // new response's socket back until the first one ends; the zero-copy path once returned early on
  // such a response and left it hanging forever.
  it('answers requests pipelined on one connection, each with its own bytes', { timeout: 20_000 }, async () => {
    const { host, pathname } = new URL(url);
    const ranges = [[0, 9], [10, 4194313], [SIZE - 5, SIZE - 1]] as const;
    const requests = ranges.map(([a, b]) => `GET ${pathname} HTTP/1.1\r\nHost: ${host}\r\nRange: bytes=${a}-${b}\r\n\r\n`).join('');
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    socket.write(requests);
    let buffered = Buffer.alloc(0);
    const bodies: Buffer[] = [];
    for await (const chunk of socket) {
      buffered = Buffer.concat([buffered, chunk as Buffer]);
      for (;;) {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd < 0) break;
        const head = buffered.subarray(0, headEnd).toString('latin1');
        assert.match(head, /^HTTP\/1\.1 206 /);
        const length = Number(/content-length: (\d+)/i.exec(head)![1]);
        if (buffered.length < headEnd + 4 + length) break;
        bodies.push(buffered.subarray(headEnd + 4, headEnd + 4 + length));
        buffered = buffered.subarray(headEnd + 4 + length);
      }
      if (bodies.length === ranges.length) break;
    }
    socket.destroy();
    assert.equal(bodies.length, ranges.length);
    ranges.forEach(([a, b], i) => assert.ok(bodies[i]!.equals(data.subarray(a, b + 1)), `range ${a}-${b}`));
  });

  // Under load most blob GETs on keep-alive connections arrive while the previous response is still
  // being ended: they must wait for the socket and go out with sendfile, not stream through
  // user-space read buffers (which held 100+ MiB with 64 concurrent pulls).
  it('sends queued (pipelined) responses with sendfile too, once they get the socket', { timeout: 20_000, skip: !zeroCopyAvailable }, async () => {
    const addon = nativeAddon()!;
    const real = addon.sendfile;
    let calls = 0;
    addon.sendfile = (...args) => {
      calls++;
      return real.apply(addon, args);
    };
    try {
      const { host, pathname } = new URL(url);
      const n = 4;
      const requests = Array.from({ length: n }, () => `GET ${pathname} HTTP/1.1\r\nHost: ${host}\r\nRange: bytes=0-1048575\r\n\r\n`).join('');
      const socket = connect(Number(new URL(url).port), '127.0.0.1');
      socket.write(requests);
      let received = 0;
      const expected = n * 1048576;
      for await (const chunk of socket) {
        received += (chunk as Buffer).length;
        if (received >= expected) break;
      }
      socket.destroy();
      assert.ok(received >= expected);
      assert.equal(calls, n, 'every pipelined response should have gone out through sendfile');
    } finally {
      addon.sendfile = real;
    }
  });

  // Regression (hung CI): when the response head does not reach the kernel at once, the body must
  // follow as soon as it does; waiting for 'drain' (emitted only after a write() returned false)
  // waited forever. A corked socket holds the head back the same way, deterministically.
  it('sends the body once a head that could not be flushed at once goes out', { timeout: 20_000 }, async () => {
    const path = join(r.root, 'head-held-back');
    await writeFile(path, data.subarray(0, 65536));
    const server = createServer(async (req, res) => {
      res.setHeader('Content-Length', 65536);
      req.socket.cork();
      setTimeout(() => req.socket.uncork(), 100);
      const file = await open(path);
      try {
        await sendFileBody(req, res, file, 0, 65536);
      } finally {
        await file.close();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { agent: new Agent({ keepAlive: false }) });
      assert.ok((await readAll(res)).equals(data.subarray(0, 65536)));
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('survives clients that disconnect mid-body, leaking no descriptors', async () => {
    // Warm up so lazily opened descriptors (database, logs) are not counted as leaks.
    await readAll(await request(url, { headers: { Range: 'bytes=0-0' } }));
    const before = openFds();
    for (let i = 0; i < 5; i++) {
      const res = await request(url);
      await new Promise<void>((resolve) => {
        res.once('data', () => {
          res.destroy();
          resolve();
        });
      });
    }
    // The server notices on its next write to each socket; give the transfers time to end.
    let now = openFds();
    for (let i = 0; i < 50 && now > before; i++) {
      await new Promise((done) => setTimeout(done, 100));
      now = openFds();
    }
    assert.ok(now <= before, `descriptors before ${before}, after ${now}`);
    const res = await request(url, { headers: { Range: 'bytes=5-9' } });
    assert.ok((await readAll(res)).equals(data.subarray(5, 10)));
  });
});

describe('streamed blob responses (BERTH_SENDFILE=0)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startBerth({ env: { BERTH_SENDFILE: '0' } });
  });
  after(() => server.stop());

  it('sends the same bytes and ranges without the addon', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 7);
    const digest = await pushBlob(server.url, 'streamed/blob', data);
    const url = `${server.url}/v2/streamed/blob/blobs/${digest}`;
    assert.ok((await readAll(await request(url))).equals(data));
    const res = await request(url, { headers: { Range: 'bytes=4194300-4194310' } });
    assert.equal(res.statusCode, 206);
    assert.ok((await readAll(res)).equals(data.subarray(4194300, 4194311)));
  });
});

describe('zero-copy under parallel load (a separate server process)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startBerth();
  });
  after(() => server.stop());

  // Regression: the transfer thread once read its job after queueing the completion, which the
  // JS thread frees (use after free): under parallel pulls the server died with SIGSEGV.
  it('serves rounds of parallel downloads of many blobs and stays up', async () => {
    const blobs: Array<{ url: string; digest: string }> = [];
    for (let i = 0; i < 48; i++) {
      const data = randomBytes(4 * 1024 * 1024);
      blobs.push({ url: '', digest: await pushBlob(server.url, 'load/blob', data) });
      blobs[i]!.url = `${server.url}/v2/load/blob/blobs/${blobs[i]!.digest}`;
    }
    let failures = 0;
    const why: string[] = [];
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        blobs.flatMap((b) =>
          [0, 1, 2, 3].map(async () => {
            try {
              const res = await fetch(b.url);
              const got = Buffer.from(await res.arrayBuffer());
              if (res.status !== 200 || `sha256:${createHash('sha256').update(got).digest('hex')}` !== b.digest) {
                failures++;
                why.push(`round ${round}: ${res.status}, ${got.length} bytes`);
              }
            } catch (e) {
              failures++;
              const cause = (e as { cause?: { code?: string; message?: string } }).cause;
              why.push(`round ${round}: ${String(e)}${cause ? ` (${cause.code ?? ''} ${cause.message ?? ''})` : ''}`);
            }
          }),
        ),
      );
    }
    assert.equal(failures, 0, `failed downloads: ${why.slice(0, 5).join('; ')}; server log tail:\n${server.logs().slice(-2000)}`);
    assert.equal((await fetch(`${server.url}/v2/`)).status, 200);
  });
});
