// The mirror against an upstream that misbehaves on purpose (an in-process fake registry): wrong
// bytes under a digest never reach a client whole and are never stored; a HEAD of a blob that is not
// cached asks the upstream (once for concurrent HEADs) and stores nothing; the upstream's 404, 429
// and 5xx become BLOB_UNKNOWN/MANIFEST_UNKNOWN, TOOMANYREQUESTS and UNAVAILABLE.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { sha256, startTestRegistry, type TestRegistry } from '../http/harness.ts';
import { buildMirrors } from '../../src/config/mirrors.ts';

interface FakeBlob {
  status?: number;
  body: Buffer;
  /** Answer after this long (so that concurrent requests overlap). */
  delayMs?: number;
}

describe('the mirror against a misbehaving upstream', () => {
  let fake: Server;
  let fakeUrl: string;
  let mirror: TestRegistry;
  const blobs = new Map<string, FakeBlob>();
  const manifestStatus = new Map<string, number>();
  const seen: string[] = [];

  before(async () => {
    fake = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      seen.push(`${req.method} ${path}`);
      if (path === '/v2/') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      const b = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(path);
      const blob = b ? blobs.get(b[2]!) : undefined;
      if (blob) {
        if (blob.delayMs) return void setTimeout(() => res.writeHead(blob.status ?? 200, { 'Content-Length': blob.body.length, 'Docker-Content-Digest': b![2]! }).end(req.method === 'HEAD' ? undefined : blob.body), blob.delayMs);
        res.writeHead(blob.status ?? 200, { 'Content-Length': blob.body.length, 'Docker-Content-Digest': b![2]! });
        return void res.end(req.method === 'HEAD' ? undefined : blob.body);
      }
      const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
      const status = m ? manifestStatus.get(m[1]!) : undefined;
      if (status) return void res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: status === 429 ? 'TOOMANYREQUESTS' : 'UNKNOWN', message: 'fake' }] }));
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'not here' }] }));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
    fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    mirror = await startTestRegistry((c) => {
      c.berth.mirrors = buildMirrors([{ prefix: 'up/', remoteurl: fakeUrl, ttl: 60_000 }], []);
    });
  });
  after(async () => {
    await mirror?.stop();
    await new Promise<void>((r) => fake.close(() => r()));
  });

  const blobFile = (digest: string) => join(mirror.services.config.storage.filesystem.rootdirectory, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));

  it('wrong bytes under a digest: the client never gets a whole body, nothing is stored', async () => {
    const good = randomBytes(300 * 1024);
    const digest = sha256(good);
    const bad = Buffer.from(good);
    bad[bad.length - 1] ^= 0xff;
    blobs.set(digest, { body: bad });
    // Raw HTTP: count what arrives against the Content-Length announced.
    const { status, length, received, complete } = await new Promise<{ status: number; length: number; received: number; complete: boolean }>((resolve) => {
      const r = request(`${mirror.url}/v2/up/x/blobs/${digest}`, (res) => {
        let received = 0;
        res.on('data', (c: Buffer) => (received += c.length));
        const done = (complete: boolean) => resolve({ status: res.statusCode ?? 0, length: Number(res.headers['content-length']), received, complete });
        res.on('end', () => done(true));
        res.on('error', () => done(false));
        res.on('aborted', () => done(false));
      });
      r.on('error', () => resolve({ status: 0, length: 0, received: 0, complete: false }));
      r.end();
    });
    assert.equal(status, 200);
    assert.equal(length, good.length);
    assert.ok(!complete && received < length, `received ${received} of ${length}, complete ${complete}`);
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(stat(blobFile(digest)));
    assert.equal(await mirror.services.metadata.repositoryBlob('up/x', digest), undefined);
  });

  it('a HEAD of a blob that is not cached asks the upstream, once for concurrent HEADs, and stores nothing', async () => {
    const data = randomBytes(1000);
    const digest = sha256(data);
    blobs.set(digest, { body: data, delayMs: 300 });
    seen.length = 0;
    const answers = await Promise.all(Array.from({ length: 10 }, () => fetch(`${mirror.url}/v2/up/y/blobs/${digest}`, { method: 'HEAD' })));
    for (const a of answers) {
      assert.equal(a.status, 200);
      assert.equal(a.headers.get('content-length'), '1000');
      assert.equal(a.headers.get('docker-content-digest'), digest);
    }
    assert.equal(seen.filter((s) => s === `HEAD /v2/y/blobs/${digest}`).length, 1, seen.join('\n'));
    assert.equal(seen.filter((s) => s.startsWith('GET')).length, 0);
    await assert.rejects(stat(blobFile(digest)));
  });

  it("the upstream's 404, 429 and 5xx, in the registry's error envelope", async () => {
    const missing = await fetch(`${mirror.url}/v2/up/z/blobs/sha256:${'a'.repeat(64)}`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { errors: { code: string }[] }).errors[0]!.code, 'BLOB_UNKNOWN');
    const noManifest = await fetch(`${mirror.url}/v2/up/z/manifests/v1`);
    assert.equal(noManifest.status, 404);
    assert.equal(((await noManifest.json()) as { errors: { code: string }[] }).errors[0]!.code, 'MANIFEST_UNKNOWN');
    manifestStatus.set('limited', 429);
    const limited = await fetch(`${mirror.url}/v2/up/limited/manifests/v1`);
    assert.equal(limited.status, 429);
    assert.equal(((await limited.json()) as { errors: { code: string }[] }).errors[0]!.code, 'TOOMANYREQUESTS');
    manifestStatus.set('broken', 500);
    const broken = await fetch(`${mirror.url}/v2/up/broken/manifests/v1`);
    assert.equal(broken.status, 503);
    const body = (await broken.json()) as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]!.code, 'UNAVAILABLE');
    assert.match(body.errors[0]!.message, /the upstream answered 500.*not cached/);
    assert.equal(broken.headers.get('retry-after'), '5');
  });
});
