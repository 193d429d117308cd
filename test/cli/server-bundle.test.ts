// The bundled server (scripts/build-server.mjs -> dist/server/serve.mjs), which `berth serve` runs
// however berth is started. The tests otherwise run the TypeScript, so this file checks that the
// bundle serves as the TypeScript does where bundling can break things: files found next to the
// code (the sendfile addon, the console's assets), the native SQLite binding, parts loaded on
// first use (the console), and real clients pushing and pulling through it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clientSandbox, freePort, hasCommand, repoRoot, run, startBerth, tempDir, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { makeOciLayout, readLayoutBlob, sha256 } from '../helpers/images.ts';
import { redisSkip, startRedis, type RedisServer } from '../cache/redis-server.ts';

// Inside the package, so the bundle's bare imports (better-sqlite3) resolve from node_modules.
const scratch = mkdtempSync(join(repoRoot, '.test-server-bundle-'));
const bundle = join(scratch, 'server', 'serve.mjs');

describe('server bundle', { skip: !existsSync(join(repoRoot, 'dist', 'cli', 'main.js')) && 'needs the build (npm run build)' }, () => {
  let server: RunningServer;
  let sb: ClientSandbox | undefined;
  let work: { path: string; cleanup(): Promise<void> };

  before(async () => {
    const built = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build-server.mjs'), '--out', join(scratch, 'server')], { encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    // bin/berth.js, as installed, with the server taken from this build of the bundle.
    server = await startBerth({ compiled: true, configYaml: 'log: {level: info}\n', env: { BERTH_SERVER_BUNDLE: bundle } });
    work = await tempDir('server-bundle');
    if (hasCommand('skopeo')) sb = await clientSandbox('server-bundle', [server.host]);
  });
  after(async () => {
    await server?.stop();
    await sb?.cleanup();
    await work?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('runs the bundle BERTH_SERVER_BUNDLE names (so the server here is the one just built)', async () => {
    await assert.rejects(startBerth({ compiled: true, env: { BERTH_SERVER_BUNDLE: join(scratch, 'missing.mjs') } }), /exited/);
  });

  it('starts from the bundle, with sendfile(2) for blob GETs', () => {
    const start = server.logs().split('\n').find((l) => l.includes('berth is serving'));
    assert.ok(start, server.logs());
    assert.equal(JSON.parse(start).sendfile, true);
    // The CLI bundle configures the heap, the server bundle (its own copy of the module) collects:
    // without a shared state the server ran without its forced scavenges.
    assert.equal(JSON.parse(start).heapTuned, true);
  });

  it('serves blobs whole and by range, byte for byte', async () => {
    const data = Buffer.alloc(3 * 1024 * 1024 + 7, 'berth');
    const digest = sha256(data);
    const post = await fetch(`${server.url}/v2/bundle/blob/blobs/uploads/`, { method: 'POST' });
    assert.equal(post.status, 202);
    const put = await fetch(new URL(`${post.headers.get('location')}${post.headers.get('location')!.includes('?') ? '&' : '?'}digest=${digest}`, server.url), {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: data,
    });
    assert.equal(put.status, 201, await put.text());
    const whole = await fetch(`${server.url}/v2/bundle/blob/blobs/${digest}`);
    assert.equal(whole.status, 200);
    assert.ok(Buffer.from(await whole.arrayBuffer()).equals(data));
    const part = await fetch(`${server.url}/v2/bundle/blob/blobs/${digest}`, { headers: { Range: 'bytes=1000-1999' } });
    assert.equal(part.status, 206);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(data.subarray(1000, 2000)));
  });

  it('serves the console and its built assets', async () => {
    const page = await fetch(`${server.url}/ui/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    const css = html.match(/href="([^"]+\.css)"/)?.[1];
    assert.ok(css, 'the page links its stylesheet');
    const asset = await fetch(new URL(css, server.url));
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type') ?? '', /text\/css/);
  });

  it('skopeo pushes an image through it and pulls it back byte-identical', { skip: !hasCommand('skopeo') && 'skopeo is not installed' }, async () => {
    const src = await makeOciLayout(join(work.path, 'src'), { tag: 'v1', layers: 2, layerBytes: 256 * 1024 });
    const skopeo = (...args: string[]) => run('skopeo', ['--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', ...args], { env: sb!.env });
    await skopeo(`oci:${src.dir}:v1`, `docker://${server.host}/bundle/app:v1`);
    const back = join(work.path, 'back');
    await skopeo(`docker://${server.host}/bundle/app:v1`, `oci:${back}:v1`);
    for (const layer of src.images[0]!.layers) {
      assert.ok((await readLayoutBlob(back, layer.digest)).equals(await readLayoutBlob(src.dir, layer.digest)));
    }
    const manifest = await (await fetch(`${server.url}/v2/bundle/app/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })).text();
    assert.equal(JSON.parse(manifest).layers.length, 2);
    assert.ok(await readFile(join(back, 'index.json')));
  });

  // prom-client and ioredis are CommonJS packages loaded with import() on first use; the bundle
  // puts each in a chunk of its own, which exports only `default`. Both made the bundled server
  // exit at start ("prom.Registry is not a constructor", "Redis is not a constructor") while the
  // TypeScript the other tests run was fine.
  describe('CommonJS packages loaded on first use', { skip: redisSkip() }, () => {
    let redis: RedisServer;
    let withBoth: RunningServer;
    let debugUrl: string;

    before(async () => {
      redis = await startRedis();
      const debugPort = await freePort();
      debugUrl = `http://127.0.0.1:${debugPort}`;
      withBoth = await startBerth({
        compiled: true,
        env: { BERTH_SERVER_BUNDLE: bundle },
        configYaml: [
          'storage: {cache: {blobdescriptor: redis}}',
          `redis: {addr: "${redis.addr}"}`,
          `http: {debug: {addr: "127.0.0.1:${debugPort}", prometheus: {enabled: true}}}`,
        ].join('\n'),
      });
    });
    after(async () => {
      await withBoth?.stop();
      await redis?.stop();
    });

    it('serves Prometheus metrics (prom-client) and caches in Redis (ioredis)', async () => {
      const data = Buffer.from('bundle and redis');
      const digest = sha256(data);
      const post = await fetch(`${withBoth.url}/v2/bundle/cached/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: data });
      assert.equal(post.status, 201, await post.text());
      for (let i = 0; i < 2; i++) assert.equal((await fetch(`${withBoth.url}/v2/bundle/cached/blobs/${digest}`, { method: 'HEAD' })).status, 200);
      assert.ok((await redis.admin.dbsize()) > 0, 'the blob lookups went through Redis');
      const scrape = await fetch(`${debugUrl}/metrics`);
      assert.equal(scrape.status, 200);
      const text = await scrape.text();
      assert.match(text, /^registry_http_requests_total\{.*handler="blob".*\} \d+/m);
      assert.match(text, /^registry_storage_cache_total\{type="Request"\} [1-9]/m);
    });
  });
});
