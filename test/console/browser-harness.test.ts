// The browser harness's own tests (test/helpers/browser.ts), on fixture pages from a local server:
// each kind of problem must be reported, and a clean page under the console's strict CSP must
// report nothing, so the console's tests can trust a pass.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { axeViolations, browserSkip, checkPage, launchBrowser, openPage, screenshot, type CheckedPage } from '../helpers/browser.ts';

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'";

function html(body: string, head = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fixture</title>${head}</head><body><main>${body}</main></body></html>`;
}

// path -> [content type, body, extra headers]. Only /clean and /violations carry the CSP: the
// foreign-request page must not, or the CSP would block the request before the harness sees it.
const CLEAN = html(
  '<h1>Repositories</h1><p id="state">static</p><p>Nothing to see but text and colours.</p><script src="/clean.js"></script>',
  '<link rel="stylesheet" href="/style.css">',
);
const fixtures: Record<string, [string, string, Record<string, string>?]> = {
  '/clean': ['text/html', CLEAN, { 'content-security-policy': CSP }],
  '/style.css': [
    'text/css',
    'body { background: #fff; color: #111; font: 16px sans-serif; margin: 2rem; }\n' +
      '@media (prefers-color-scheme: dark) { body { background: #111; color: #eee; } }\n',
  ],
  '/clean.js': ['text/javascript', "document.getElementById('state').textContent = 'scripted';"],
  '/console-error': ['text/html', html('<h1>Logs</h1><script src="/console-error.js"></script>'), { 'content-security-policy': CSP }],
  '/console-error.js': ['text/javascript', "console.error('fixture says something broke');"],
  '/throws': ['text/html', html('<h1>Throws</h1><script src="/throws.js"></script>'), { 'content-security-policy': CSP }],
  '/throws.js': ['text/javascript', "throw new Error('fixture uncaught');"],
  '/server-error': ['text/html', html('<h1>Broken image</h1><img src="/status/500" alt="broken">'), { 'content-security-policy': CSP }],
  '/violations': [
    'text/html',
    html('<h1>Form</h1><img src="data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==" id="noalt"><form><input type="text" id="nolabel"></form>'),
    { 'content-security-policy': CSP },
  ],
};

function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  return new Promise((res) => server.listen(0, '127.0.0.1', () => res({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((res) => server.close(() => res()));
}

/** PNG signature and the IHDR's width and height. */
function pngSize(buf: Buffer): { width: number; height: number } {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'not a PNG');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

describe('browser harness', { skip: browserSkip, timeout: 120_000 }, () => {
  let browser: Browser;
  let site: { server: Server; url: string };
  // A second, reachable origin: the harness must abort requests to it, so it must see none.
  let foreign: { server: Server; url: string };
  let foreignHits = 0;

  before(async () => {
    site = await serve((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/status/500') return res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
      if (path === '/foreign') {
        return res
          .writeHead(200, { 'content-type': 'text/html' })
          .end(html(`<h1>Foreign</h1><img src="http://example.invalid/x.png" alt="a"><img src="${foreign.url}/y.png" alt="b">`));
      }
      const f = fixtures[path];
      if (!f) return res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      res.writeHead(200, { 'content-type': f[0], ...f[2] }).end(f[1]);
    });
    foreign = await serve((_req, res) => {
      foreignHits++;
      res.writeHead(404).end();
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    if (site) await stop(site.server);
    if (foreign) await stop(foreign.server);
  });

  /** Opens a page on the fixture site, runs fn, and always closes the context. */
  async function withPage<T>(opts: Partial<Parameters<typeof openPage>[1]>, fn: (c: CheckedPage) => Promise<T>): Promise<T> {
    const checked = await openPage(browser, { baseURL: site.url, ...opts });
    try {
      return await fn(checked);
    } finally {
      await checked.close();
    }
  }

  it('reports nothing for a clean page under a strict CSP, axe included, and runs its same-origin script', async () => {
    await withPage({}, async (c) => {
      const res = await c.page.goto('/clean');
      assert.equal(res?.headers()['content-security-policy'], CSP);
      assert.equal(await c.page.locator('#state').textContent(), 'scripted');
      assert.deepEqual(await axeViolations(c.page, ['minor', 'moderate', 'serious', 'critical']), []);
      const path = await checkPage(c, 'harness-clean');
      assert.match(path, /test-output\/screenshots\/harness-clean-light\.png$/);
      // Injecting axe must not have tripped the CSP (a blocked inline script logs a console error).
      assert.deepEqual(c.problems(), []);
    });
  });

  it('reports a console.error', async () => {
    await withPage({}, async (c) => {
      await c.page.goto('/console-error');
      const problems = c.problems();
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0], /^console error: fixture says something broke/);
      assert.throws(() => c.assertClean(), /page problems:\n- console error: fixture says something broke/);
    });
  });

  it('reports an uncaught page error', async () => {
    await withPage({}, async (c) => {
      await c.page.goto('/throws');
      assert.ok(c.problems().some((p) => p.startsWith('page error: Error: fixture uncaught')), c.problems().join('\n'));
    });
  });

  it('reports a 5xx response', async () => {
    await withPage({}, async (c) => {
      await c.page.goto('/server-error', { waitUntil: 'load' });
      assert.ok(c.problems().includes(`HTTP 500: GET ${site.url}/status/500`), c.problems().join('\n'));
    });
  });

  it('reports and aborts requests to other origins', async () => {
    await withPage({}, async (c) => {
      await c.page.goto('/foreign', { waitUntil: 'load' });
      const problems = c.problems();
      assert.ok(problems.includes('request to another origin (aborted): GET http://example.invalid/x.png'), problems.join('\n'));
      assert.ok(problems.includes(`request to another origin (aborted): GET ${foreign.url}/y.png`), problems.join('\n'));
      assert.equal(foreignHits, 0, 'the foreign origin was reached');
      assert.throws(() => c.assertClean(), /example\.invalid/);
    });
  });

  it('finds axe violations under the strict CSP and checkPage fails with rule ids, help and selectors', async () => {
    await withPage({}, async (c) => {
      await c.page.goto('/violations');
      const violations = await axeViolations(c.page);
      const byId = new Map(violations.map((v) => [v.id, v]));
      assert.deepEqual([...byId.keys()].sort(), ['image-alt', 'label'], JSON.stringify(violations));
      assert.deepEqual(byId.get('image-alt')?.nodes, ['#noalt']);
      assert.deepEqual(byId.get('label')?.nodes, ['#nolabel']);
      assert.equal(byId.get('image-alt')?.impact, 'critical');
      await assert.rejects(checkPage(c, 'harness-violations'), (err: Error) => {
        assert.match(err.message, /- image-alt \(critical\): Images must have alternative text\n {4}#noalt/);
        assert.match(err.message, /- label \(critical\): .*\n {4}#nolabel/);
        return true;
      });
      assert.deepEqual(c.problems(), [], 'running axe under the CSP caused problems');
    });
  });

  it('does not run scripts when JavaScript is disabled, and axe still runs there', async () => {
    await withPage({ javaScriptEnabled: false }, async (c) => {
      await c.page.goto('/clean');
      assert.equal(await c.page.locator('#state').textContent(), 'static');
      assert.deepEqual(await axeViolations(c.page), []);
      // Script execution is off again after axe: a page timer never fires (it fires at once when on).
      const timer = c.page.evaluate(() => new Promise((res) => setTimeout(() => res('fired'), 0)));
      const waited = new Promise((res) => setTimeout(() => res('never fired'), 1000));
      assert.equal(await Promise.race([timer, waited]), 'never fired');
      assert.equal(await c.page.locator('#state').textContent(), 'static');
      assert.deepEqual(c.problems(), []);
    });
  });

  it('emulates the dark colour scheme, and the dark screenshot differs from the light one', async () => {
    const light = await withPage({}, async (c) => {
      await c.page.goto('/clean');
      assert.equal(await c.page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches), false);
      return checkPage(c, 'harness-scheme');
    });
    const dark = await withPage({ colorScheme: 'dark' }, async (c) => {
      await c.page.goto('/clean');
      assert.equal(await c.page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches), true);
      assert.equal(await c.page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(17, 17, 17)');
      return checkPage(c, 'harness-scheme');
    });
    assert.match(dark, /harness-scheme-dark\.png$/);
    assert.notDeepEqual(await readFile(light), await readFile(dark));
  });

  it('writes a full-page PNG screenshot and returns its path', async () => {
    await withPage({}, async (c) => {
      await c.page.setViewportSize({ width: 800, height: 300 });
      await c.page.goto('/clean');
      // Taller than the viewport, so a full-page shot is taller than 300 px.
      // Through the CSSOM: a style attribute would be blocked by the CSP's style-src 'self'.
      await c.page.locator('main').evaluate((m) => (m as HTMLElement).style.setProperty('height', '1200px'));
      const path = await screenshot(c.page, 'harness-full page');
      assert.match(path, /test-output\/screenshots\/harness-full-page\.png$/);
      const size = pngSize(await readFile(path));
      assert.equal(size.width, 800);
      assert.ok(size.height >= 1200, `height ${size.height}`);
    });
  });
});
