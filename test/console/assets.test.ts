// The web console's static assets: scripts/build-web.mjs (hashed files within budget, a
// manifest), and src/console/assets.ts serving them (headers, gzip, conditional requests), from
// web/dist/ or, when that is missing, built in memory.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { loadConsoleAssets, acceptsGzip, type ConsoleAssets } from '../../src/console/assets.ts';
import { BUDGETS } from '../../scripts/web-build-options.mjs';

const repo = join(import.meta.dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'berth-web-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A server that answers with `assets.serve`, and 404 when it returns false. */
async function serveAssets(assets: ConsoleAssets): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (!assets.serve(req, res, pathname)) {
      res.statusCode = 404;
      res.end('not ours');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('scripts/build-web.mjs', () => {
  const root = join(scratch, 'built');
  const out = join(root, 'web', 'dist');
  let stdout = '';
  let manifest: Record<string, string> = {};

  before(() => {
    mkdirSync(root, { recursive: true });
    // A stale hashed file from an earlier build is removed; other files in the directory are not.
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'console.00000000.js'), 'old');
    writeFileSync(join(out, 'keep.txt'), 'keep');
    const r = spawnSync(process.execPath, [join(repo, 'scripts', 'build-web.mjs'), '--out', out], { cwd: repo, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    stdout = r.stdout;
    manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  });

  it('writes content-hashed files and a manifest naming them', () => {
    assert.deepEqual(Object.keys(manifest).sort(), ['console.css', 'console.js']);
    assert.match(manifest['console.js'], /^console\.[0-9a-f]{8}\.js$/);
    assert.match(manifest['console.css'], /^console\.[0-9a-f]{8}\.css$/);
    for (const file of Object.values(manifest)) {
      const hash = createHash('sha256').update(readFileSync(join(out, file))).digest('hex').slice(0, 8);
      assert.equal(file.split('.')[1], hash, `${file} is named after its content`);
    }
    assert.deepEqual(readdirSync(out).sort(), [...Object.values(manifest), 'keep.txt', 'manifest.json'].sort());
  });

  it('stays within the gzipped budgets and prints the sizes', () => {
    for (const [name, file] of Object.entries(manifest)) {
      const gz = gzipSync(readFileSync(join(out, file)), { level: 9 }).length;
      assert.ok(gz <= BUDGETS[name as keyof typeof BUDGETS], `${name}: ${gz} bytes gzipped`);
      assert.match(stdout, new RegExp(`${file.replace(/\./g, '\\.')}\\s+[\\d.]+ KB raw\\s+[\\d.]+ KB gzipped`));
    }
    // The aims, well under the hard budgets.
    assert.ok(gzipSync(readFileSync(join(out, manifest['console.js']))).length < 8 * 1024);
    assert.ok(gzipSync(readFileSync(join(out, manifest['console.css']))).length < 6 * 1024);
  });

  it('builds a script that needs no eval (CSP without unsafe-eval) and is minified', () => {
    const js = readFileSync(join(out, manifest['console.js']), 'utf8');
    assert.doesNotMatch(js, /\beval\s*\(/);
    assert.doesNotMatch(js, /\bnew\s+Function\b|\bFunction\s*\(/);
    assert.doesNotMatch(js, /setTimeout\(\s*["'`]/, 'no string timers');
    assert.doesNotMatch(js, /\bimport\s*\(|\brequire\s*\(/, 'no runtime dependencies');
    assert.ok(js.split('\n').length <= 3, 'minified');
  });

  it('builds a stylesheet with no web fonts and no third-party origin', () => {
    const css = readFileSync(join(out, manifest['console.css']), 'utf8');
    assert.doesNotMatch(css, /@font-face|@import/);
    assert.doesNotMatch(css, /url\(\s*["']?(https?:)?\/\//);
    assert.match(css, /prefers-color-scheme:\s*dark/);
    assert.match(css, /prefers-reduced-motion/);
    assert.match(css, /:focus-visible/);
  });
});

describe('loadConsoleAssets', () => {
  let assets: ConsoleAssets;
  let port: number;
  let server: Server;
  let js: Buffer;
  let css: Buffer;

  before(async () => {
    const root = join(scratch, 'served');
    const r = spawnSync(process.execPath, [join(repo, 'scripts', 'build-web.mjs'), '--out', join(root, 'web', 'dist')], { cwd: repo, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const manifest = JSON.parse(readFileSync(join(root, 'web', 'dist', 'manifest.json'), 'utf8'));
    js = readFileSync(join(root, 'web', 'dist', manifest['console.js']));
    css = readFileSync(join(root, 'web', 'dist', manifest['console.css']));
    assets = await loadConsoleAssets({ root });
    ({ server, port } = await serveAssets(assets));
  });
  after(() => server?.close());

  it('names hashed paths under /ui/static/, without the http prefix', () => {
    assert.match(assets.scriptPath, /^\/ui\/static\/console\.[0-9a-f]{8}\.js$/);
    assert.match(assets.stylePath, /^\/ui\/static\/console\.[0-9a-f]{8}\.css$/);
  });

  it('answers GET with the bytes and long-lived cache headers', async () => {
    const a = await get(port, assets.scriptPath);
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, js);
    assert.equal(a.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(a.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(a.headers['x-content-type-options'], 'nosniff');
    assert.equal(a.headers['vary'], 'Accept-Encoding');
    assert.equal(a.headers['content-length'], String(js.length));
    assert.equal(a.headers['content-encoding'], undefined);
    assert.match(a.headers.etag ?? '', /^"[\w-]+"$/);

    const c = await get(port, assets.stylePath);
    assert.equal(c.status, 200);
    assert.deepEqual(c.body, css);
    assert.equal(c.headers['content-type'], 'text/css; charset=utf-8');
  });

  it('answers HEAD with the headers and no body', async () => {
    const a = await get(port, assets.stylePath, {}, 'HEAD');
    assert.equal(a.status, 200);
    assert.equal(a.headers['content-length'], String(css.length));
    assert.equal(a.body.length, 0);
  });

  it('sends gzip when Accept-Encoding allows it, with its own ETag', async () => {
    const plain = await get(port, assets.scriptPath);
    const a = await get(port, assets.scriptPath, { 'Accept-Encoding': 'br, gzip, deflate' });
    assert.equal(a.status, 200);
    assert.equal(a.headers['content-encoding'], 'gzip');
    assert.equal(a.headers['vary'], 'Accept-Encoding');
    assert.equal(a.headers['content-length'], String(a.body.length));
    assert.ok(a.body.length < js.length);
    assert.deepEqual(gunzipSync(a.body), js);
    assert.notEqual(a.headers.etag, plain.headers.etag);

    for (const refused of ['gzip;q=0', 'identity', 'br', '*;q=0']) {
      const b = await get(port, assets.scriptPath, { 'Accept-Encoding': refused });
      assert.equal(b.headers['content-encoding'], undefined, refused);
      assert.deepEqual(b.body, js, refused);
    }
    const star = await get(port, assets.scriptPath, { 'Accept-Encoding': '*' });
    assert.equal(star.headers['content-encoding'], 'gzip');
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await get(port, assets.stylePath, { 'Accept-Encoding': 'gzip' });
    const etag = first.headers.etag!;
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const a = await get(port, assets.stylePath, { 'Accept-Encoding': 'gzip', 'If-None-Match': inm });
      assert.equal(a.status, 304, inm);
      assert.equal(a.body.length, 0);
      assert.equal(a.headers.etag, etag);
      assert.equal(a.headers['cache-control'], 'public, max-age=31536000, immutable');
    }
    // The identity representation's tag also matches (same content, other coding).
    const plain = await get(port, assets.stylePath);
    const b = await get(port, assets.stylePath, { 'Accept-Encoding': 'gzip', 'If-None-Match': plain.headers.etag! });
    assert.equal(b.status, 304);
    const c = await get(port, assets.stylePath, { 'If-None-Match': '"something-else"' });
    assert.equal(c.status, 200);
  });

  it('answers 405 to other methods on its paths', async () => {
    const a = await get(port, assets.scriptPath, {}, 'POST');
    assert.equal(a.status, 405);
    assert.equal(a.headers.allow, 'GET, HEAD');
  });

  it('returns false for paths that are not its own', async () => {
    for (const path of ['/ui/static/console.00000000.js', '/ui/static/', '/ui/static/manifest.json', '/ui/static/console.js', `${assets.scriptPath}x`, '/v2/']) {
      const a = await get(port, path);
      assert.equal(a.status, 404, path);
      assert.equal(a.body.toString(), 'not ours');
    }
    const post = await get(port, '/ui/static/nope.js', {}, 'POST');
    assert.equal(post.status, 404);
  });

  it('finds the repository root on its own (web/dist/ built by npm ci or npm run build:web)', async () => {
    const own = await loadConsoleAssets();
    assert.match(own.scriptPath, /^\/ui\/static\/console\.[0-9a-f]{8}\.js$/);
  });
});

describe('loadConsoleAssets without web/dist/', () => {
  it('builds in memory, to the same bytes and names as the build script', async () => {
    const root = join(scratch, 'source-only');
    mkdirSync(join(root, 'web'), { recursive: true });
    for (const f of ['console.ts', 'console.css']) cpSync(join(repo, 'web', f), join(root, 'web', f));
    const built = join(scratch, 'reference');
    const r = spawnSync(process.execPath, [join(repo, 'scripts', 'build-web.mjs'), '--out', join(built, 'web', 'dist')], { cwd: repo, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);

    const fromMemory = await loadConsoleAssets({ root });
    const fromDist = await loadConsoleAssets({ root: built });
    assert.equal(fromMemory.scriptPath, fromDist.scriptPath);
    assert.equal(fromMemory.stylePath, fromDist.stylePath);
  });

  it('says to run npm run build:web when the manifest is unusable', async () => {
    const root = join(scratch, 'broken');
    mkdirSync(join(root, 'web', 'dist'), { recursive: true });
    writeFileSync(join(root, 'web', 'dist', 'manifest.json'), JSON.stringify({ 'console.js': '../../etc/passwd' }));
    await assert.rejects(loadConsoleAssets({ root }), /npm run build:web/);
    writeFileSync(join(root, 'web', 'dist', 'manifest.json'), JSON.stringify({ 'console.js': 'console.00000000.js', 'console.css': 'console.00000000.css' }));
    await assert.rejects(loadConsoleAssets({ root }), /npm run build:web/);
  });
});

describe('acceptsGzip', () => {
  it('follows the q-values of Accept-Encoding', () => {
    assert.equal(acceptsGzip(undefined), false);
    assert.equal(acceptsGzip(''), false);
    assert.equal(acceptsGzip('gzip'), true);
    assert.equal(acceptsGzip('GZIP;Q=0.5'), true);
    assert.equal(acceptsGzip('deflate, gzip;q=0'), false);
    assert.equal(acceptsGzip('*'), true);
    assert.equal(acceptsGzip('*, gzip;q=0'), false);
    assert.equal(acceptsGzip('br;q=1, identity;q=0.5'), false);
    assert.equal(acceptsGzip(['br', 'gzip']), true);
  });
});
