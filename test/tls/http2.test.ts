// The whole API through node:http2's compatibility layer, as an HTTP/2 client over TLS gets it:
// headers, 201/202/204/304/404/416 with and without bodies, HEAD, Range, uploads with and without
// Content-Length, and blob streaming that respects HTTP/2 flow control (a client that stops reading
// must not make the server buffer the blob).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { Agent, get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { tempDir } from '../helpers/processes.ts';
import { OCI_MANIFEST, sha256, startTestRegistry, type TestRegistry } from '../http/harness.ts';
import { h2, https1, tlsInit, type CertFiles, type H2Client } from './helpers.ts';

describe('HTTP/2 over TLS: every handler through the compatibility API', () => {
  let work: { path: string; cleanup(): Promise<void> };
  let certs: CertFiles;
  let registry: TestRegistry;
  let port: number;
  let client: H2Client;

  before(async () => {
    work = await tempDir('tls-h2');
    certs = (await tlsInit(join(work.path, 'certs'), ['--host', 'localhost', '--ip', '127.0.0.1'])).files;
    registry = await startTestRegistry((c) => {
      c.http.tls = { certificate: certs.cert, key: certs.key };
    });
    port = Number(new URL(registry.url).port);
    client = await h2(port, { ca: certs.ca });
  });
  after(async () => {
    await client?.close();
    await registry?.stop();
    await work?.cleanup();
  });

  const get = (path: string, extra: Record<string, string> = {}) => client.request({ ':method': 'GET', ':path': path, ...extra });
  const pathOf = (location: unknown) => {
    const u = new URL(String(location));
    return u.pathname + u.search;
  };

  it('serves https URLs and the API headers on an h2 stream', async () => {
    assert.equal(registry.url.startsWith('https://'), true);
    const r = await get('/v2/');
    assert.equal(r.status, 200);
    assert.equal(r.headers['docker-distribution-api-version'], 'registry/2.0');
    assert.equal(r.body.toString(), '{}');
    const s = await client.request({ ':method': 'POST', ':path': '/v2/h2/loc/blobs/uploads/' });
    assert.equal(s.status, 202);
    assert.match(String(s.headers.location), new RegExp(`^https://localhost:${port}/v2/h2/loc/blobs/uploads/`));
  });

  it('chunked upload: PATCH, status 204 without body, PUT with a streamed last chunk (no Content-Length)', async () => {
    const data = randomBytes(300_000);
    const start = await client.request({ ':method': 'POST', ':path': '/v2/h2/up/blobs/uploads/' });
    assert.equal(start.status, 202);
    const first = data.subarray(0, 200_000);
    const patched = await client.request({ ':method': 'PATCH', ':path': pathOf(start.headers.location), 'content-type': 'application/octet-stream', 'content-range': '0-199999', 'content-length': '200000' }, first);
    assert.equal(patched.status, 202);
    assert.equal(patched.headers.range, '0-199999');

    const status = await get(pathOf(patched.headers.location));
    assert.equal(status.status, 204);
    assert.equal(status.body.length, 0);
    assert.equal(status.headers['content-length'], undefined);

    // The rest in several DATA frames with no Content-Length: HTTP/2's way of streaming a body.
    const rest = data.subarray(200_000);
    const put = await client.request({ ':method': 'PUT', ':path': `${pathOf(patched.headers.location)}&digest=${sha256(data)}` }, [rest.subarray(0, 50_000), rest.subarray(50_000)]);
    assert.equal(put.status, 201, put.body.toString());
    assert.equal(put.headers['docker-content-digest'], sha256(data));
    const back = await get(`/v2/h2/up/blobs/${sha256(data)}`);
    assert.equal(sha256(back.body), sha256(data));
  });

  it('blob GET, HEAD, Range, 304 and 416', async () => {
    const data = randomBytes(100_000);
    const digest = sha256(data);
    const post = await client.request({ ':method': 'POST', ':path': `/v2/h2/blob/blobs/uploads/?digest=${digest}`, 'content-length': String(data.length) }, data);
    assert.equal(post.status, 201);

    const head = await client.request({ ':method': 'HEAD', ':path': `/v2/h2/blob/blobs/${digest}` });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '100000');
    assert.equal(head.body.length, 0);

    const range = await get(`/v2/h2/blob/blobs/${digest}`, { range: 'bytes=10-19' });
    assert.equal(range.status, 206);
    assert.equal(range.headers['content-range'], 'bytes 10-19/100000');
    assert.deepEqual(range.body, data.subarray(10, 20));

    const cached = await get(`/v2/h2/blob/blobs/${digest}`, { 'if-none-match': `"${digest}"` });
    assert.equal(cached.status, 304);
    assert.equal(cached.body.length, 0);

    // HTTP/1.1 on the same TLS listener: never the sendfile path (it would bypass encryption).
    const h1 = await https1(port, { ca: certs.ca }, `/v2/h2/blob/blobs/${digest}`);
    assert.equal(h1.httpVersion, '1.1');
    assert.equal(sha256(h1.body), digest);

    const bad = await get(`/v2/h2/blob/blobs/${digest}`, { range: 'bytes=200000-' });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers['content-range'], 'bytes */100000');
  });

  it('manifests, tags, catalog, DELETE 202 and JSON errors', async () => {
    const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
    const cd = sha256(config);
    await client.request({ ':method': 'POST', ':path': `/v2/h2/img/blobs/uploads/?digest=${cd}` }, config);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cd, size: config.length }, layers: [] }));
    const put = await client.request({ ':method': 'PUT', ':path': '/v2/h2/img/manifests/v1', 'content-type': OCI_MANIFEST }, manifest);
    assert.equal(put.status, 201, put.body.toString());
    assert.match(String(put.headers.location), /^https:\/\//);

    const got = await get('/v2/h2/img/manifests/v1', { accept: OCI_MANIFEST });
    assert.deepEqual(got.body, manifest);
    assert.equal(got.headers['content-type'], OCI_MANIFEST);
    const head = await client.request({ ':method': 'HEAD', ':path': '/v2/h2/img/manifests/v1', accept: OCI_MANIFEST });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['docker-content-digest'], sha256(manifest));

    assert.deepEqual(JSON.parse((await get('/v2/h2/img/tags/list')).body.toString()), { name: 'h2/img', tags: ['v1'] });
    assert.ok(JSON.parse((await get('/v2/_catalog')).body.toString()).repositories.includes('h2/img'));

    const del = await client.request({ ':method': 'DELETE', ':path': `/v2/h2/img/manifests/${sha256(manifest)}` });
    assert.equal(del.status, 202);
    const gone = await get('/v2/h2/img/manifests/v1');
    assert.equal(gone.status, 404);
    assert.equal(JSON.parse(gone.body.toString()).errors[0].code, 'MANIFEST_UNKNOWN');
    const notFound = await get('/nothing-here');
    assert.equal(notFound.status, 404);
    const wrongMethod = await client.request({ ':method': 'PATCH', ':path': '/v2/' }, Buffer.from('x'));
    assert.equal(wrongMethod.status, 405);
  });

  it('streams a large blob under flow control: a client that stops reading stalls the server, not its memory', async () => {
    const size = 48 * 1024 * 1024;
    const file = join(work.path, 'big.bin');
    await writeFile(file, randomBytes(size));
    const data = await readFile(file);
    const digest = sha256(data);
    const post = await client.request({ ':method': 'POST', ':path': `/v2/h2/big/blobs/uploads/?digest=${digest}`, 'content-length': String(size) }, data);
    assert.equal(post.status, 201);

    const before = process.memoryUsage().arrayBuffers;
    const stream = client.session.request({ ':method': 'GET', ':path': `/v2/h2/big/blobs/${digest}` });
    const chunks: Buffer[] = [];
    let received = 0;
    await new Promise<void>((resolve) => stream.once('data', (b: Buffer) => (chunks.push(b), (received += b.length), resolve())));
    stream.pause();
    // Give the server time to push everything it would buffer if it ignored backpressure.
    await new Promise((r) => setTimeout(r, 1500));
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 16 * 1024 * 1024, `server buffered ${(grown / 1048576).toFixed(1)} MiB for a paused client`);
    stream.on('data', (b: Buffer) => (chunks.push(b), (received += b.length)));
    stream.resume();
    await new Promise<void>((resolve, reject) => {
      stream.once('end', resolve);
      stream.once('error', reject);
    });
    assert.equal(received, size);
    assert.equal(sha256(Buffer.concat(chunks)), digest);
  });
});

describe('graceful shutdown with TLS listeners', () => {
  let work: { path: string; cleanup(): Promise<void> };
  let certs: CertFiles;
  before(async () => {
    work = await tempDir('tls-h2-close');
    certs = (await tlsInit(join(work.path, 'certs'), ['--host', 'localhost'])).files;
  });
  after(() => work?.cleanup());

  /** Reads a paused body to its end; true when every byte came and the stream ended cleanly. */
  const drain = (body: NodeJS.ReadableStream & { destroyed?: boolean }, expected: string) =>
    new Promise<boolean>((resolve) => {
      const chunks: Buffer[] = [];
      body.on('data', (b: Buffer) => chunks.push(b));
      body.once('end', () => resolve(sha256(Buffer.concat(chunks)) === expected));
      body.once('error', () => resolve(false));
      body.resume();
    });

  for (const http2Disabled of [false, true]) {
    const kind = http2Disabled ? 'HTTP/1.1' : 'HTTP/2';
    it(`${kind}: idle connections do not hold up close(); a download in flight finishes first`, async () => {
      const registry = await startTestRegistry((c) => {
        c.http.tls = { certificate: certs.cert, key: certs.key };
        c.http.http2.disabled = http2Disabled;
      });
      const port = Number(new URL(registry.url).port);
      // Bigger than what socket buffers on both ends can hold, so the server cannot finish early.
      const data = randomBytes(48 * 1024 * 1024);
      const digest = sha256(data);
      const up = await https1(port, { ca: certs.ca }, `/v2/close/blob/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data });
      assert.equal(up.status, 201);

      // An idle keep-alive connection, and (HTTP/2) an idle session.
      const agent = new Agent({ keepAlive: true, ca: await readFile(certs.ca), servername: 'localhost' });
      const status = await new Promise<number>((resolve, reject) =>
        httpsGet({ host: '127.0.0.1', port, path: '/v2/', agent }, (res) => (res.resume(), res.on('end', () => resolve(res.statusCode ?? 0)))).on('error', reject),
      );
      assert.equal(status, 200);
      const idle = http2Disabled ? undefined : await h2(port, { ca: certs.ca });
      // The download: an h2 stream, or an HTTP/1.1 response, that the client stops reading.
      let body: NodeJS.ReadableStream;
      let session: H2Client | undefined;
      if (http2Disabled) {
        body = await new Promise<IncomingMessage>((resolve, reject) =>
          httpsGet({ host: '127.0.0.1', port, path: `/v2/close/blob/blobs/${digest}`, ca: agent.options.ca, servername: 'localhost', agent: false }, resolve).on('error', reject),
        );
      } else {
        session = await h2(port, { ca: certs.ca });
        const stream = session.session.request({ ':path': `/v2/close/blob/blobs/${digest}` });
        await new Promise((r) => stream.once('response', r));
        body = stream;
      }
      body.pause();

      const started = Date.now();
      let closed = false;
      const closing = registry.close().then(() => (closed = true));
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(closed, false, 'close() waits for the download');
      assert.equal(await drain(body, digest), true, 'the whole blob arrives');
      await closing;
      assert.ok(Date.now() - started < 10_000, `close() took ${Date.now() - started} ms`);
      agent.destroy();
      await idle?.close();
      await session?.close();
      await rm(registry.root, { recursive: true, force: true });
    });
  }
});
