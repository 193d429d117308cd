// distribution's `proxy:` section: berth as a pull-through cache of Debian's docker-registry (with
// htpasswd), reached through a counting proxy so every upstream request is seen. skopeo pulls through
// it; 20 parallel cold pulls fetch each blob once (the upstream is held back until all 20 clients wait
// for the same manifest or blob, so the pulls provably overlap); blobs stream to the client while they are stored;
// a cut upstream transfer commits nothing; pushes are refused; a wrong upstream password is named
// as such; with the upstream stopped, cached images still pull.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { get } from 'node:http';
import { join } from 'node:path';
import { clientSandbox, hasCommand, tempDir, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { readLayoutBlob, sha256 } from '../helpers/images.ts';
import { blobPaths, pushImage, skopeo, startCountingHttpProxy, startDistributionUpstream, startMirrorBerth, UPSTREAM_PASSWORD, UPSTREAM_USER, type CountingHttpProxy } from './harness.ts';

const CREDS = `${UPSTREAM_USER}:${UPSTREAM_PASSWORD}`;

describe('proxy: berth as a pull-through cache of docker-registry', { skip: (!hasCommand('skopeo') || !hasCommand('docker-registry')) && 'needs skopeo and docker-registry' }, () => {
  let work: { path: string; cleanup(): Promise<void> };
  let sb: ClientSandbox;
  let upstream: RunningServer;
  let counter: CountingHttpProxy;
  let mirror: RunningServer;
  /** In front of the mirror: sees each client request as it reaches the mirror. */
  let front: CountingHttpProxy;

  const pull = (ref: string, dir: string, { host, ...opts }: { allowFail?: boolean; host?: string } = {}) =>
    skopeo(sb, ['copy', '--quiet', '--src-tls-verify=false', `docker://${host ?? mirror.host}/${ref}`, `dir:${join(work.path, dir)}`], opts);

  before(async () => {
    work = await tempDir('mirror-proxy');
    upstream = await startDistributionUpstream(work.path);
    counter = await startCountingHttpProxy(upstream.host);
    mirror = await startMirrorBerth(`proxy:\n  remoteurl: http://${counter.host}\n  username: ${UPSTREAM_USER}\n  password: ${UPSTREAM_PASSWORD}\n  ttl: 1s\n`);
    front = await startCountingHttpProxy(mirror.host);
    sb = await clientSandbox('mirror-proxy', [mirror.host, upstream.host, counter.host, front.host]);
  });
  after(async () => {
    await front?.close();
    await mirror?.stop();
    await counter?.close();
    await upstream?.stop();
    await sb?.cleanup();
    await work?.cleanup();
  });

  it('skopeo pulls an image through the cache; the second pull comes from the cache', async () => {
    const layout = await pushImage(sb, join(work.path, 'app'), `${upstream.host}/team/app:v1`, { creds: CREDS, layers: 3 });
    counter.reset();
    await pull('team/app:v1', 'app-1');
    const manifest = await readFile(join(work.path, 'app-1', 'manifest.json'));
    assert.equal(sha256(manifest), layout.digest, 'the manifest bytes are the upstream\'s');
    for (const path of blobPaths('team/app', layout)) assert.equal(counter.count('GET', path), 1, path);

    counter.reset();
    await pull('team/app:v1', 'app-2');
    // Within the ttl: nothing upstream at all. After it: a HEAD of the tag, no blob.
    assert.equal(counter.requests.filter((r) => r.includes('/blobs/')).length, 0, counter.requests.join('\n'));
    await new Promise((r) => setTimeout(r, 1100));
    counter.reset();
    await pull('team/app:v1', 'app-3');
    assert.equal(counter.count('HEAD', '/v2/team/app/manifests/v1'), 1, counter.requests.join('\n'));
    assert.equal(counter.count('GET', /\/manifests\//), 0, counter.requests.join('\n'));
    assert.equal(counter.requests.filter((r) => r.includes('/blobs/')).length, 0, counter.requests.join('\n'));
    // A pull by digest needs no upstream either.
    counter.reset();
    await pull(`team/app@${layout.digest}`, 'app-4');
    assert.deepEqual(counter.requests, []);
  });

  it('a moved tag is seen after the ttl (a HEAD, then the new manifest)', async () => {
    await pushImage(sb, join(work.path, 'moving'), `${upstream.host}/team/moving:latest`, { creds: CREDS });
    await pull('team/moving:latest', 'moving-1');
    const second = await pushImage(sb, join(work.path, 'moving-src-2'), `${upstream.host}/team/moving:latest`, { creds: CREDS });
    await new Promise((r) => setTimeout(r, 1100));
    await pull('team/moving:latest', 'moving-2');
    assert.equal(sha256(await readFile(join(work.path, 'moving-2', 'manifest.json'))), second.digest);
  });

  it('20 parallel cold pulls of one image fetch each blob and the manifest from the upstream once', async (t) => {
    const layout = await pushImage(sb, join(work.path, 'par'), `${upstream.host}/team/parallel:v1`, { creds: CREDS, layers: 3, layerBytes: 2 * 1024 * 1024 });
    const manifestPath = '/v2/team/parallel/manifests/v1';
    const paths = [manifestPath, ...blobPaths('team/parallel', layout)];
    counter.reset();
    front.reset();
    // A slow upstream, made deterministic: the mirror's GET of the manifest or of a blob is held at the
    // upstream until all 20 clients have asked the mirror for it (as seen by the proxy in front of the
    // mirror). So every client's request is in flight at the mirror while the upstream has not answered
    // yet; without single-flight, each would have sent its own upstream GET.
    const waiting = new Map<string, number>();
    counter.hold = async (method, path) => {
      if (method !== 'GET' || !paths.includes(path)) return;
      const deadline = Date.now() + 30_000;
      while (front.count('GET', path) < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      if (!waiting.has(path)) waiting.set(path, front.count('GET', path));
    };
    const t0 = Date.now();
    let results;
    try {
      results = await Promise.all(Array.from({ length: 20 }, (_, i) => pull('team/parallel:v1', `par-${i}`, { host: front.host })));
    } finally {
      delete counter.hold;
    }
    const ms = Date.now() - t0;
    assert.equal(results.length, 20);
    for (let i = 0; i < 20; i++) {
      for (const l of layout.images[0]!.layers) {
        const got = await readFile(join(work.path, `par-${i}`, l.digest.slice(7)));
        assert.equal(sha256(got), l.digest);
      }
    }
    const overlap = paths.map((p) => `${p.replace(/sha256:(.{12}).*/, 'sha256:$1…')}: ${waiting.get(p)} clients waiting`);
    for (const path of paths) {
      assert.equal(waiting.get(path), 20, `all 20 clients asked the mirror for ${path} before the upstream answered it\n${overlap.join('\n')}\nclients:\n${front.requests.join('\n')}`);
    }
    for (const path of blobPaths('team/parallel', layout)) assert.equal(counter.count('GET', path), 1, `${path}\n${counter.requests.join('\n')}`);
    assert.equal(counter.count('GET', manifestPath), 1, counter.requests.join('\n'));
    t.diagnostic(`20 parallel skopeo pulls (3 x 2 MiB layers + config) in ${ms} ms, the upstream held back until every client waited: ${overlap.join('; ')}; upstream saw ${counter.requests.length} requests: ${[...new Set(counter.requests)].map((r) => `${r.replace(/sha256:(.{12}).*/, 'sha256:$1…')} x${counter.requests.filter((x) => x === r).length}`).join(', ')}`);
  });

  it('a blob streams to the client while the upstream is still sending it; a second client joins the same transfer', async (t) => {
    const layout = await pushImage(sb, join(work.path, 'slow'), `${upstream.host}/team/slow:v1`, { creds: CREDS, layers: 1, layerBytes: 6 * 1024 * 1024 });
    const layer = layout.images[0]!.layers[0]!;
    const expected = await readLayoutBlob(layout.dir, layer.digest);
    counter.reset();
    counter.bytesPerSecond = 3 * 1024 * 1024;
    try {
      const timed = async () => {
        const t0 = Date.now();
        const res = await fetch(`${mirror.url}/v2/team/slow/blobs/${layer.digest}`);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-length'), String(layer.size));
        const reader = res.body!.getReader();
        const chunks: Uint8Array[] = [];
        let first = 0;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (!first) first = Date.now() - t0;
          chunks.push(value);
        }
        return { first, total: Date.now() - t0, bytes: Buffer.concat(chunks) };
      };
      const a = timed();
      await new Promise((r) => setTimeout(r, 400));
      const b = timed();
      const [ra, rb] = await Promise.all([a, b]);
      for (const r of [ra, rb]) assert.ok(r.bytes.equals(expected));
      // The upstream needs ~2 s for the layer at this rate; both clients have bytes long before.
      assert.ok(ra.total > 1500, `total ${ra.total} ms`);
      assert.ok(ra.first < 700, `first byte after ${ra.first} ms of ${ra.total}`);
      assert.ok(rb.first < 700, `second client: first byte after ${rb.first} ms`);
      assert.equal(counter.count('GET', `/v2/team/slow/blobs/${layer.digest}`), 1);
      t.diagnostic(`6 MiB layer at 3 MiB/s upstream: first client first byte ${ra.first} ms, done ${ra.total} ms; second client (400 ms later) first byte ${rb.first} ms, done ${rb.total} ms; 1 upstream GET`);
    } finally {
      counter.bytesPerSecond = 0;
    }
    // Now stored: served from storage (with ranges), no upstream request.
    counter.reset();
    const ranged = await fetch(`${mirror.url}/v2/team/slow/blobs/${layer.digest}`, { headers: { Range: 'bytes=10-19' } });
    assert.equal(ranged.status, 206);
    assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(expected.subarray(10, 20)));
    assert.deepEqual(counter.requests, []);
  });

  it('a client that stops reading neither holds back the others nor the transfer; a late one is served from storage', async (t) => {
    const layout = await pushImage(sb, join(work.path, 'big'), `${upstream.host}/team/big:v1`, { creds: CREDS, layers: 1, layerBytes: 40 * 1024 * 1024 });
    const layer = layout.images[0]!.layers[0]!;
    const url = `${mirror.url}/v2/team/big/blobs/${layer.digest}`;
    counter.reset();
    // A reads nothing until told; B reads as fast as it can.
    let releaseA!: () => void;
    const aReleased = new Promise<void>((r) => (releaseA = r));
    const a = new Promise<Buffer>((resolve, reject) => {
      get(url, (res) => {
        const chunks: Buffer[] = [];
        res.pause();
        void aReleased.then(() => {
          res.on('data', (c: Buffer) => chunks.push(c));
          res.resume();
        });
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      }).on('error', reject);
    });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const b = Buffer.from(await (await fetch(url)).arrayBuffer());
    const bMs = Date.now() - t0;
    assert.equal(sha256(b), layer.digest);
    // C asks once more than the retained prefix has come: it waits for the commit, then storage.
    const c = Buffer.from(await (await fetch(url)).arrayBuffer());
    assert.equal(sha256(c), layer.digest);
    releaseA();
    const aBytes = await a;
    assert.equal(sha256(aBytes), layer.digest, 'the paused client gets the rest (from storage, once it fell behind)');
    assert.equal(counter.count('GET', `/v2/team/big/blobs/${layer.digest}`), 1);
    t.diagnostic(`40 MiB layer: with one client reading nothing, another got the whole blob in ${bMs} ms; the paused one got all of it once it read; 1 upstream GET`);
  });

  it('a cut upstream transfer fails the client and commits nothing; the next request fetches it whole', async () => {
    const layout = await pushImage(sb, join(work.path, 'cut'), `${upstream.host}/team/cut:v1`, { creds: CREDS, layers: 1, layerBytes: 1024 * 1024 });
    const layer = layout.images[0]!.layers[0]!;
    counter.cutBlobsAfter = 100 * 1024;
    try {
      const res = await fetch(`${mirror.url}/v2/team/cut/blobs/${layer.digest}`);
      await assert.rejects(res.arrayBuffer(), 'the client sees the transfer break off');
    } finally {
      delete counter.cutBlobsAfter;
    }
    await new Promise((r) => setTimeout(r, 300));
    const blobFile = join(mirror.root, 'blobs', 'sha256', layer.digest.slice(7, 9), layer.digest.slice(7));
    await assert.rejects(stat(blobFile), 'no blob was committed');
    assert.deepEqual((await readdir(join(mirror.root, 'uploads'))).filter((f) => f.startsWith('mirror-')), [], 'the partial upload is gone');
    counter.reset();
    const again = await fetch(`${mirror.url}/v2/team/cut/blobs/${layer.digest}`);
    assert.equal(again.status, 200);
    assert.equal(sha256(Buffer.from(await again.arrayBuffer())), layer.digest);
    assert.equal(counter.count('GET', `/v2/team/cut/blobs/${layer.digest}`), 1);
    // The client has its bytes before the commit (it never waits for it): the file follows right after.
    for (let i = 0; ; i++) {
      try {
        await stat(blobFile);
        break;
      } catch (e) {
        if (i > 40) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });

  it('pushes and deletes are refused as registry:2 refuses them in proxy mode (405 UNSUPPORTED)', async () => {
    const res = await fetch(`${mirror.url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(res.status, 405);
    const body = (await res.json()) as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]!.code, 'UNSUPPORTED');
    assert.match(body.errors[0]!.message, /pull-through cache/);
    const del = await fetch(`${mirror.url}/v2/team/app/manifests/v1`, { method: 'DELETE' });
    assert.equal(del.status, 405);
    const src = join(work.path, 'app');
    const r = await skopeo(sb, ['copy', '--quiet', '--dest-tls-verify=false', `oci:${src}:v1`, `docker://${mirror.host}/team/pushed:v1`], { allowFail: true });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unsupported|pull-through cache/i);
  });

  it('a wrong upstream password gives a clear error, with no secret in it or in the logs', async () => {
    const wrong = await startMirrorBerth(`proxy:\n  remoteurl: http://${counter.host}\n  username: ${UPSTREAM_USER}\n  password: Wr0ng-S3cret\n`);
    try {
      const res = await fetch(`${wrong.url}/v2/team/app/manifests/v1`);
      assert.equal(res.status, 403);
      const text = await res.text();
      assert.match(text, /refused berth's credentials/);
      assert.match(text, /proxy\.username and proxy\.password/);
      const r = await skopeo(sb, ['copy', '--quiet', '--src-tls-verify=false', `docker://${wrong.host}/team/app:v1`, `dir:${join(work.path, 'wrong')}`], { allowFail: true });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /refused berth's credentials/);
      for (const t of [text, r.stderr, wrong.logs()]) assert.ok(!t.includes('Wr0ng-S3cret'));
    } finally {
      await wrong.stop();
    }
  });

  it('with the upstream stopped, cached images still pull; what is not cached says the upstream is unreachable', async () => {
    await pushImage(sb, join(work.path, 'never'), `${upstream.host}/team/never:v1`, { creds: CREDS });
    await upstream.stop();
    await new Promise((r) => setTimeout(r, 1100)); // past the ttl: the tag check fails, the cache answers
    await pull('team/app:v1', 'down-1');
    await pull('team/parallel:v1', 'down-2');
    const r = await pull('team/never:v1', 'down-3', { allowFail: true });
    assert.notEqual(r.code, 0);
    // 503 with Retry-After: containers/image shows the status only; the body says why.
    const res = await fetch(`${mirror.url}/v2/team/never/manifests/v1`);
    assert.equal(res.status, 503);
    const body = (await res.json()) as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]!.code, 'UNAVAILABLE');
    assert.match(body.errors[0]!.message, /not cached/);
  });
});
