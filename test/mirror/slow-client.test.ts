// A client that stops reading a blob the mirror is still fetching must not hold back anyone else:
// a client arriving once the retained prefix is gone (it waits for the commit, then reads from
// storage) gets its blob as soon as the upstream transfer is over, the blob is stored and linked
// while the stalled client still reads nothing, and the stalled client gets every byte once it
// reads again. The upstream is an in-process fake that sends the first part of the blob, then holds
// the rest back until the test lets it go, so that the late client arrives, deterministically, after
// the retained prefix was dropped and before the commit.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, get, type ClientRequest, type IncomingMessage, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { sha256, startTestRegistry, type TestRegistry } from '../http/harness.ts';
import { buildMirrors } from '../../src/config/mirrors.ts';
import { RETAIN_BYTES } from '../../src/mirror/blob-fetch.ts';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mirror: a stalled client of a blob in flight', { timeout: 120_000 }, () => {
  let fake: Server;
  let mirror: TestRegistry;
  const blob = randomBytes(48 * MiB);
  const digest = sha256(blob);
  /** Bytes sent at once; the rest waits for `release`. */
  const FIRST = 24 * MiB;
  let releaseRest!: () => void;
  const rest = new Promise<void>((r) => (releaseRest = r));
  const gets: string[] = [];
  /** The stalled client's request, ended by `after` whatever happened (the server would wait for it). */
  let aReq: ClientRequest | undefined;

  before(async () => {
    fake = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      if (path === '/v2/') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      if (path !== `/v2/lib/big/blobs/${digest}`) return void res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"no"}]}');
      res.writeHead(200, { 'Content-Length': blob.length, 'Docker-Content-Digest': digest, 'Content-Type': 'application/octet-stream' });
      if (req.method === 'HEAD') return void res.end();
      gets.push(path);
      void (async () => {
        const send = async (from: number, to: number) => {
          for (let off = from; off < to; off += 256 * 1024) {
            if (!res.write(blob.subarray(off, Math.min(off + 256 * 1024, to)))) await new Promise((r) => res.once('drain', r));
          }
        };
        await send(0, FIRST);
        await rest;
        await send(FIRST, blob.length);
        res.end();
      })();
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
    const fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    mirror = await startTestRegistry((c) => {
      c.berth.mirrors = buildMirrors([{ prefix: 'up/', remoteurl: fakeUrl, ttl: 60_000 }], []);
    });
  });
  after(async () => {
    aReq?.destroy();
    releaseRest();
    await mirror?.stop();
    fake?.closeAllConnections();
    await new Promise<void>((r) => fake.close(() => r()));
  });

  /** Size of the mirror's upload of the blob in flight (0 before it starts). */
  async function stored(): Promise<number> {
    const dir = join(mirror.root, 'uploads');
    const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.startsWith('mirror-'));
    let size = 0;
    for (const f of files) size = Math.max(size, (await stat(join(dir, f)).catch(() => ({ size: 0 }))).size);
    return size;
  }

  it('a client arriving after the retained prefix gets the whole blob at the commit, while the first client reads nothing', async (t) => {
    const url = `${mirror.url}/v2/up/lib/big/blobs/${digest}`;
    // A: a cold GET that reads nothing (beyond what the sockets take) until told.
    let readA!: () => void;
    const aMayRead = new Promise<void>((r) => (readA = r));
    let aRes: IncomingMessage | undefined;
    const a = new Promise<Buffer>((resolve, reject) => {
      aReq = get(url, (res) => {
        aRes = res;
        res.pause();
        const chunks: Buffer[] = [];
        void aMayRead.then(() => {
          res.on('data', (c: Buffer) => chunks.push(c));
          res.resume();
        });
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      });
      aReq.on('error', reject);
    });
    a.catch(() => undefined);
    // Wait until the first part is stored: by then more than the retained prefix went out to A.
    assert.ok(FIRST - MiB > RETAIN_BYTES + MiB);
    for (let i = 0; (await stored()) < FIRST - MiB; i++) {
      if (i > 400) assert.fail(`the mirror stored only ${await stored()} bytes of the first ${FIRST}`);
      await sleep(25);
    }
    assert.equal(aRes?.statusCode, 200, 'A has its headers');

    // B: too late for the retained prefix, so it waits for the commit. The upstream is held back
    // until B is surely waiting (before the commit), then lets the rest go.
    const t0 = Date.now();
    const b = fetch(url, { signal: AbortSignal.timeout(15_000) }).then(async (res) => ({ status: res.status, bytes: Buffer.from(await res.arrayBuffer()) }));
    b.catch(() => undefined);
    await sleep(500);
    assert.equal(gets.length, 1, 'B joined the transfer in flight');
    releaseRest();
    const rb = await b.catch((e: unknown) => assert.fail(`B did not get its blob within ${Date.now() - t0} ms while A reads nothing: ${(e as Error).message}`));
    const bMs = Date.now() - t0;
    assert.equal(rb.status, 200);
    assert.equal(sha256(rb.bytes), digest);
    assert.ok(bMs < 12_000, `B took ${bMs} ms`);

    // Stored and linked while A still reads nothing; a new client is served from storage at once.
    const blobFile = join(mirror.root, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));
    assert.equal((await stat(blobFile)).size, blob.length);
    assert.equal((await mirror.services.metadata.repositoryBlob('up/lib/big', digest))?.size, blob.length);
    const c = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    assert.equal(sha256(Buffer.from(await c.arrayBuffer())), digest);
    assert.equal(mirror.services.mirror!.inFlight, 0, 'the fetch is over although A has not read its blob');
    assert.equal(gets.length, 1, 'one upstream GET');

    // A gets every byte once it reads: the rest from storage (it fell behind) or the transfer.
    readA();
    const aBytes = await a;
    assert.equal(aBytes.length, blob.length);
    assert.equal(sha256(aBytes), digest);
    t.diagnostic(`48 MiB blob, first client reading nothing: a client arriving after the retained prefix got it in ${bMs} ms (500 ms of which the upstream was held back); 1 upstream GET`);
  });
});
