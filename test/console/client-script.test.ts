// The console's client script and stylesheet in a real browser (Debian's chromium through
// playwright-core; skipped when /usr/bin/chromium is missing). A fixture page written to the
// markup contract of web/README.md is served with the console's Content-Security-Policy, and each
// behaviour is checked with the script, the no-JS fallbacks without it, and WCAG A/AA rules
// (axe-core, contrast included) in the light and the dark scheme.
//
// This reference makes `npm run typecheck` check the client script too (web/ is not in tsconfig.json's include):
/// <reference path="../../web/console.ts" />
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { loadConsoleAssets, type ConsoleAssets } from '../../src/console/assets.ts';

const CHROMIUM = '/usr/bin/chromium';
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

function fixture(assets: ConsoleAssets, theme = 'auto'): string {
  return `<!doctype html>
<html lang="en" data-theme="${theme}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tags · library/alpine · berth</title>
<link rel="stylesheet" href="${assets.stylePath}">
<script defer src="${assets.scriptPath}"></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/ui/">berth</a>
  <nav class="main" aria-label="Main">
    <a href="/ui/" aria-current="page">Repositories</a>
    <a href="/ui/admin">Administration</a>
  </nav>
  <form class="search" role="search" action="/ui/search" method="get">
    <input type="search" name="q" data-search aria-label="Search repositories" placeholder="Search (press /)">
  </form>
  <nav class="lang-switch" aria-label="Language"><a href="/ui/lang/en" aria-current="true" lang="en">English</a><a href="/ui/lang/zh-CN" lang="zh-CN">中文</a></nav>
  <form action="/ui/prefs" method="post" class="js-hide"><button class="btn btn-small" name="theme" value="dark">Dark theme</button></form>
  <button type="button" class="btn btn-small theme-toggle" data-theme-toggle hidden
    data-label-auto="Theme: automatic" data-label-dark="Theme: dark" data-label-light="Theme: light">Theme</button>
</header>
<main id="main" tabindex="-1">
  <nav class="breadcrumbs" aria-label="Breadcrumbs"><ol><li><a href="/ui/">Repositories</a></li><li><a href="/ui/r/library">library</a></li><li><span aria-current="page">alpine</span></li></ol></nav>
  <div class="notice" role="status">Tag <a href="/ui/t/v1">v1.0</a> was pushed.</div>
  <div class="error-box" role="alert">Deleting <span class="mono">sha256:abc</span> failed: it is <a href="/ui/help">immutable</a>.</div>
  <div class="page-head">
    <h1>library/alpine <span class="badge badge-public">Public</span></h1>
    <div class="actions">
      <a class="btn" href="/ui/r/library/alpine/settings">Settings</a>
      <a class="btn btn-primary" href="/ui/r/library/alpine/new">New</a>
      <a class="btn btn-danger" id="delete-open" href="/ui/r/library/alpine/delete" data-dialog="delete-dialog">Delete</a>
    </div>
  </div>
  <p class="copy-row"><code id="pull">docker pull registry.example/library/alpine:latest</code>
    <button type="button" class="btn btn-small copy" data-copy="docker pull registry.example/library/alpine:latest" data-copied-label="Copied" hidden>Copy</button></p>
  <div class="toolbar">
    <input type="search" id="filter" data-filter="tags" data-filter-status="{n} shown" aria-label="Filter tags">
    <form data-autosubmit action="/ui/r/library/alpine" method="get">
      <label for="sort">Sort</label>
      <select id="sort" name="sort"><option value="name">Name</option><option value="pushed">Pushed</option></select>
      <button class="btn js-hide" id="apply">Apply</button>
    </form>
  </div>
  <form action="/ui/r/library/alpine/tags/delete" method="post">
  <div class="table-wrap">
  <table class="data" data-sortable id="tags">
    <caption class="visually-hidden">Tags</caption>
    <thead><tr>
      <th scope="col" class="check"><input type="checkbox" data-bulk-all="tags" aria-label="Select all tags" hidden></th>
      <th scope="col" data-sort="text" aria-sort="none">Tag</th>
      <th scope="col" data-sort="number" aria-sort="none" class="num">Size</th>
      <th scope="col" data-sort="date" aria-sort="none">Pushed</th>
      <th scope="col">Status</th>
    </tr></thead>
    <tbody>
      <tr data-row="v1"><td class="check"><input type="checkbox" name="tag" value="v1.0" data-bulk="tags" aria-label="Select v1.0"></td><td><a href="/ui/t/v1.0">v1.0</a></td><td class="num" data-value="300">300 B</td><td data-value="2024-01-03T00:00:00Z"><time datetime="2024-01-03T00:00:00Z">3 Jan 2024</time></td><td><span class="badge badge-signed">Signed</span></td></tr>
      <tr class="sub" data-parent="v1"><td></td><td colspan="4"><ul class="platforms"><li>linux/amd64</li><li>linux/arm64</li></ul></td></tr>
      <tr data-row="v2"><td class="check"><input type="checkbox" name="tag" value="v2.0" data-bulk="tags" aria-label="Select v2.0"></td><td><a href="/ui/t/v2.0">v2.0</a></td><td class="num" data-value="1000">1000 B</td><td data-value="2024-03-01T00:00:00Z"><time datetime="2024-03-01T00:00:00Z">1 Mar 2024</time></td><td><span class="badge badge-immutable">Immutable</span></td></tr>
      <tr data-row="latest"><td class="check"><input type="checkbox" name="tag" value="latest" data-bulk="tags" aria-label="Select latest"></td><td><a href="/ui/t/latest">latest</a></td><td class="num" data-value="20">20 B</td><td data-value="2023-12-01T00:00:00Z"><time datetime="2023-12-01T00:00:00Z">1 Dec 2023</time></td><td><span class="badge badge-warn">Stale</span></td></tr>
      <tr class="sub" data-parent="latest"><td></td><td colspan="4">windows/amd64</td></tr>
      <tr data-row="v10"><td class="check"><input type="checkbox" name="tag" value="v10.0" data-bulk="tags" aria-label="Select v10.0"></td><td><a href="/ui/t/v10.0">v10.0</a></td><td class="num">–</td><td data-value="2024-02-01T00:00:00Z"><time datetime="2024-02-01T00:00:00Z">1 Feb 2024</time></td><td><span class="badge badge-danger">Vulnerable</span> <span class="badge badge-ok">Scanned</span></td></tr>
    </tbody>
  </table>
  </div>
  <div class="actions"><span data-bulk-count="tags" data-template="{n} selected">0 selected</span>
    <button class="btn btn-danger btn-small" data-bulk-submit="tags">Delete selected</button></div>
  </form>
  <nav class="pager" aria-label="Pages"><span aria-disabled="true">Previous</span><a href="?page=2" rel="next">Next</a></nav>
  <div class="grid">
    <section class="card"><h2>Details</h2>
      <dl class="props"><dt>Digest</dt><dd class="mono">sha256:0123456789abcdef</dd><dt>Pulls</dt><dd>12 <span class="muted">last week</span></dd><dt>Visibility</dt><dd><span class="badge badge-private">Private</span> <span class="badge badge-muted">Archived</span> <span class="badge">Plain</span></dd></dl>
    </section>
    <section class="card"><h2>Referrers</h2>
      <ul class="tree"><li><span class="mono">sha256:aaa</span><ul><li>signature <span class="badge badge-signed">Signed</span></li><li>sbom</li></ul></li></ul>
    </section>
    <section class="card"><h2>Description</h2>
      <div class="markdown"><h2>Alpine</h2><p>A <a href="https://alpinelinux.org/">small</a> image with <code>apk</code>.</p><ul><li>one</li><li>two</li></ul><table><thead><tr><th>Key</th><th>Value</th></tr></thead><tbody><tr><td>a</td><td>b</td></tr></tbody></table><pre><code>FROM alpine</code></pre><blockquote><p>Quoted.</p></blockquote></div>
    </section>
  </div>
  <pre class="code" tabindex="0" aria-label="Manifest">{ "schemaVersion": 2 }</pre>
  <div class="empty"><p>No referrers yet.</p><p>Push a signature with <kbd>cosign</kbd>.</p></div>
  <form class="stack" action="/ui/settings" method="post">
    <div class="field"><label for="desc">Description</label><textarea id="desc" name="d" aria-describedby="desc-hint"></textarea><p class="hint" id="desc-hint">Markdown, no raw HTML.</p></div>
    <div class="field"><label for="name">Name</label><input id="name" name="n" aria-invalid="true" aria-describedby="name-err"><p class="field-error" id="name-err">Required.</p></div>
    <fieldset><legend>Visibility</legend><label><input type="radio" name="v" value="public" checked> Public</label><label><input type="radio" name="v" value="private"> Private</label></fieldset>
    <div class="actions"><button class="btn btn-primary">Save</button><button class="btn btn-link" type="reset">Reset</button></div>
  </form>
  <p class="muted">Press <kbd>?</kbd> for shortcuts. <span class="nowrap">No wrap</span> <span class="truncate">truncated text</span></p>
</main>
<footer class="foot">berth 0.1.0 · <a href="/ui/about">About</a></footer>
<dialog id="delete-dialog" aria-labelledby="delete-title">
  <h2 id="delete-title">Delete library/alpine?</h2>
  <p>Every tag and manifest of this repository is deleted.</p>
  <form method="post" action="/ui/r/library/alpine/delete">
    <div class="actions"><button type="button" class="btn" data-close>Cancel</button><button class="btn btn-danger">Delete</button></div>
  </form>
</dialog>
<dialog id="shortcuts" aria-labelledby="shortcuts-title">
  <h2 id="shortcuts-title">Keyboard shortcuts</h2>
  <dl class="props"><dt><kbd>/</kbd></dt><dd>Search</dd><dt><kbd>?</kbd></dt><dd>This help</dd></dl>
  <div class="actions"><button type="button" class="btn" data-close>Close</button></div>
</dialog>
<div id="status" role="status" aria-live="polite" class="visually-hidden"></div>
</body>
</html>`;
}

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing`;

describe('console client script in chromium', { skip }, () => {
  let assets: ConsoleAssets;
  let server: Server;
  let origin: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    assets = await loadConsoleAssets();
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (assets.serve(req, res, url.pathname)) return;
      res.setHeader('Content-Security-Policy', CSP);
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      if (url.pathname === '/ui/fixture') res.end(fixture(assets, url.searchParams.get('theme') ?? 'auto'));
      else res.end(`<!doctype html><html lang="en"><title>${url.pathname}</title><h1>${url.pathname}${url.search.replace(/</g, '')}</h1></html>`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    server?.closeAllConnections();
    server?.close();
  });

  /** A fresh page on the fixture; fails the test on any CSP violation or script error. */
  async function open(options: BrowserContextOptions & { theme?: string; init?: string } = {}): Promise<Page> {
    const { theme, init, ...contextOptions } = options;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...contextOptions });
    contexts.push(context);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        (window as unknown as { violations: string[] }).violations.push(`${e.violatedDirective} ${e.blockedURI}`);
      });
      (window as unknown as { violations: string[] }).violations = [];
    });
    if (init) await page.addInitScript(init);
    await page.goto(`${origin}/ui/fixture?theme=${theme ?? 'auto'}`);
    if (contextOptions.javaScriptEnabled !== false) await page.waitForFunction(() => document.documentElement.classList.contains('js'));
    (page as Page & { problems: string[] }).problems = problems;
    return page;
  }

  async function clean(page: Page): Promise<void> {
    const violations = await page.evaluate(() => (window as unknown as { violations: string[] }).violations ?? []);
    assert.deepEqual(violations, [], 'no CSP violations');
    assert.deepEqual((page as Page & { problems: string[] }).problems, [], 'no script errors');
  }

  const rowTags = (page: Page) =>
    page.$$eval('#tags tbody tr', (rows) => rows.map((r) => (r.classList.contains('sub') ? `  ${(r as HTMLElement).dataset.parent}` : (r as HTMLElement).dataset.row)));
  const status = (page: Page) => page.waitForFunction(() => document.getElementById('status')?.textContent).then((h) => h.jsonValue());

  it('starts: marks <html class="js">, shows copy buttons and the theme toggle, hides .js-hide, disables empty bulk submit', async () => {
    const page = await open();
    assert.equal(await page.isVisible('button[data-copy]'), true);
    assert.equal(await page.isVisible('[data-theme-toggle]'), true);
    assert.equal(await page.isVisible('[data-bulk-all]'), true);
    assert.equal(await page.getAttribute('[data-theme-toggle]', 'aria-label'), 'Theme: automatic');
    assert.equal(await page.isVisible('#apply'), false);
    assert.equal(await page.isVisible('form.js-hide'), false);
    assert.equal(await page.isDisabled('[data-bulk-submit]'), true);
    assert.equal(await page.textContent('[data-bulk-count]'), '0 selected');
    assert.equal(await page.locator('th[data-sort] > button.sort').count(), 3);
    await clean(page);
  });

  it('copies with the Clipboard API, announces it and swaps the label for 1.5 s', async () => {
    const page = await open({ permissions: ['clipboard-read', 'clipboard-write'] });
    const button = page.locator('button[data-copy]');
    await button.click();
    assert.equal(await status(page), 'Copied');
    assert.equal(await button.textContent(), 'Copied');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'docker pull registry.example/library/alpine:latest');
    await page.waitForFunction(() => document.querySelector('button[data-copy]')?.textContent === 'Copy', undefined, { timeout: 3000 });
    await clean(page);
  });

  it('copies through a selected textarea and execCommand when the Clipboard API is missing', async () => {
    // A string, not a function: tsx would wrap the function's inner functions in its __name helper,
    // which does not exist in the page.
    const page = await open({
      init: `Object.defineProperty(Navigator.prototype, 'clipboard', { get() { return undefined; } });
        window.copied = [];
        document.execCommand = function (command) {
          if (command === 'copy') window.copied.push(String(window.getSelection()) || document.activeElement.value);
          return command === 'copy';
        };`,
    });
    await page.click('button[data-copy]');
    assert.equal(await status(page), 'Copied');
    assert.deepEqual(await page.evaluate(() => (window as unknown as { copied: string[] }).copied), ['docker pull registry.example/library/alpine:latest']);
    assert.equal(await page.locator('textarea.copy-buffer').count(), 0, 'the buffer is removed');
    assert.equal(await page.evaluate(() => document.activeElement?.matches('button[data-copy]')), true, 'focus stays on the button');
    await clean(page);
  });

  it('opens a confirmation dialog instead of navigating, focuses it, and returns focus on close', async () => {
    const page = await open();
    await page.click('#delete-open');
    assert.equal(await page.evaluate(() => (document.getElementById('delete-dialog') as HTMLDialogElement).open), true);
    assert.equal(new URL(page.url()).pathname, '/ui/fixture', 'no navigation');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel');
    await page.click('#delete-dialog [data-close]');
    assert.equal(await page.evaluate(() => (document.getElementById('delete-dialog') as HTMLDialogElement).open), false);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'delete-open');

    await page.focus('#delete-open');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => (document.getElementById('delete-dialog') as HTMLDialogElement).open), true);
    await page.keyboard.press('Escape');
    assert.equal(await page.evaluate(() => (document.getElementById('delete-dialog') as HTMLDialogElement).open), false);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'delete-open');
    await clean(page);
  });

  it('filters rows by substring, keeps detail rows with their parent and announces the count', async () => {
    const page = await open();
    await page.fill('#filter', 'V1');
    const visible = () => page.$$eval('#tags tbody tr:not([hidden])', (rows) => rows.map((r) => (r as HTMLElement).dataset.row ?? `sub:${(r as HTMLElement).dataset.parent}`));
    assert.deepEqual(await visible(), ['v1', 'sub:v1', 'v10']);
    assert.equal(await status(page), '2 shown');
    // Text in a detail row matches its parent.
    await page.fill('#filter', 'windows');
    assert.deepEqual(await visible(), ['latest', 'sub:latest']);
    await page.fill('#filter', '');
    assert.equal((await visible()).length, 6);
    await clean(page);
  });

  it('sorts by text, number and date, toggles the direction, updates aria-sort, and keeps detail rows after their parent', async () => {
    const page = await open();
    const sortBy = (label: string) => page.click(`th[data-sort] > button.sort:text-is("${label}")`);
    const ariaSort = () => page.$$eval('th[data-sort]', (ths) => ths.map((th) => th.getAttribute('aria-sort')));

    await sortBy('Tag');
    assert.deepEqual(await rowTags(page), ['latest', '  latest', 'v1', '  v1', 'v2', 'v10']);
    assert.deepEqual(await ariaSort(), ['ascending', 'none', 'none']);
    await sortBy('Tag');
    assert.deepEqual(await rowTags(page), ['v10', 'v2', 'v1', '  v1', 'latest', '  latest']);
    assert.deepEqual(await ariaSort(), ['descending', 'none', 'none']);

    await sortBy('Size');
    assert.deepEqual(await ariaSort(), ['none', 'ascending', 'none']);
    assert.deepEqual(await rowTags(page), ['latest', '  latest', 'v1', '  v1', 'v2', 'v10'], 'numbers by data-value; no value last');
    await sortBy('Size');
    assert.deepEqual(await rowTags(page), ['v2', 'v1', '  v1', 'latest', '  latest', 'v10'], 'no value still last');

    await sortBy('Pushed');
    assert.deepEqual(await rowTags(page), ['latest', '  latest', 'v1', '  v1', 'v10', 'v2']);
    // The header label is still the th's accessible content, and the indicator is a shape.
    const after = await page.$eval('th[aria-sort="ascending"]', (th) => getComputedStyle(th, '::after').content);
    assert.match(after, /▲/);
    await clean(page);
  });

  it('bulk-selects with shift-click ranges and the header box, counting and enabling submit', async () => {
    const page = await open();
    const boxes = page.locator('input[data-bulk="tags"]');
    await boxes.nth(0).click();
    assert.equal(await page.textContent('[data-bulk-count]'), '1 selected');
    assert.equal(await page.isEnabled('[data-bulk-submit]'), true);
    await boxes.nth(2).click({ modifiers: ['Shift'] });
    assert.equal(await page.textContent('[data-bulk-count]'), '3 selected');
    assert.deepEqual(await page.$$eval('input[data-bulk]', (b) => b.map((x) => (x as HTMLInputElement).checked)), [true, true, true, false]);
    assert.equal(await page.$eval('[data-bulk-all]', (h) => (h as HTMLInputElement).indeterminate), true);
    // Shift-click to uncheck clears the range.
    await boxes.nth(1).click();
    await boxes.nth(0).click({ modifiers: ['Shift'] });
    assert.deepEqual(await page.$$eval('input[data-bulk]', (b) => b.map((x) => (x as HTMLInputElement).checked)), [false, false, true, false]);

    await page.click('[data-bulk-all]');
    assert.equal(await page.textContent('[data-bulk-count]'), '4 selected');
    assert.equal(await page.$eval('[data-bulk-all]', (h) => (h as HTMLInputElement).checked), true);
    await page.click('[data-bulk-all]');
    assert.equal(await page.textContent('[data-bulk-count]'), '0 selected');
    assert.equal(await page.isDisabled('[data-bulk-submit]'), true);

    // "Select all" selects only the rows the filter shows.
    await page.fill('#filter', 'v1');
    await page.click('[data-bulk-all]');
    assert.equal(await page.textContent('[data-bulk-count]'), '2 selected');
    // Space on a focused box counts too.
    await page.fill('#filter', '');
    await boxes.nth(1).focus();
    await page.keyboard.press('Space');
    assert.equal(await page.textContent('[data-bulk-count]'), '3 selected');
    await clean(page);
  });

  it('answers / and ? unless the user is typing; Escape closes the shortcuts', async () => {
    const page = await open();
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.hasAttribute('data-search')), true);
    await page.keyboard.type('a/b');
    assert.equal(await page.inputValue('[data-search]'), 'a/b', '/ in a field is just a character');
    await page.keyboard.type('?');
    assert.equal(await page.evaluate(() => (document.getElementById('shortcuts') as HTMLDialogElement).open), false);

    await page.evaluate(() => (document.activeElement as HTMLElement).blur());
    await page.keyboard.press('Shift+Slash');
    assert.equal(await page.evaluate(() => (document.getElementById('shortcuts') as HTMLDialogElement).open), true);
    await page.keyboard.press('Escape');
    assert.equal(await page.evaluate(() => (document.getElementById('shortcuts') as HTMLDialogElement).open), false);
    await clean(page);
  });

  it('cycles the theme auto → dark → light → auto, with a cookie, a label and the palette', async () => {
    const page = await open({ colorScheme: 'light' });
    const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor === 'rgba(0, 0, 0, 0)' ? getComputedStyle(document.documentElement).backgroundColor : getComputedStyle(document.body).backgroundColor);
    const light = await bg();
    const expected = [
      ['dark', 'Theme: dark'],
      ['light', 'Theme: light'],
      ['auto', 'Theme: automatic'],
    ];
    for (const [theme, label] of expected) {
      await page.click('[data-theme-toggle]');
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme);
      assert.equal(await page.getAttribute('[data-theme-toggle]', 'aria-label'), label);
      assert.equal(await page.textContent('[data-theme-toggle]'), label);
      const cookies = await page.context().cookies();
      const cookie = cookies.find((c) => c.name === 'berth_theme');
      assert.equal(cookie?.value, theme);
      assert.equal(cookie?.path, '/');
      assert.equal(cookie?.sameSite, 'Strict');
      assert.ok(cookie!.expires - Date.now() / 1000 > 364 * 86400);
      if (theme === 'dark') assert.notEqual(await bg(), light);
      else assert.equal(await bg(), light);
    }
    // With a dark system preference, auto follows it and light overrides it.
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await bg();
    assert.notEqual(dark, light);
    await page.evaluate(() => (document.documentElement.dataset.theme = 'light'));
    assert.equal(await bg(), light);
    await page.evaluate(() => (document.documentElement.dataset.theme = 'dark'));
    assert.equal(await bg(), dark);
    await clean(page);
  });

  it('submits a data-autosubmit form when its select changes', async () => {
    const page = await open();
    await Promise.all([page.waitForURL(/sort=pushed/), page.selectOption('#sort', 'pushed')]);
    assert.equal(new URL(page.url()).pathname, '/ui/r/library/alpine');
  });

  for (const scheme of ['light', 'dark'] as const) {
    it(`passes axe's WCAG 2 A/AA rules in the ${scheme} scheme, contrast included`, async () => {
      const page = await open({ colorScheme: scheme, theme: 'auto' });
      // Selected rows and an open-state header, so those styles are checked too.
      await page.click('input[data-bulk="tags"] >> nth=0');
      await page.click('th[data-sort] > button.sort >> nth=0');
      await page.evaluate(axeSource);
      const result = await page.evaluate(() =>
        (window as unknown as { axe: { run: (o: unknown) => Promise<{ passes: { id: string }[]; violations: { id: string; nodes: { target: string[]; failureSummary: string }[] }[] }> } }).axe.run({
          runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
        }),
      );
      assert.ok(result.passes.some((p) => p.id === 'color-contrast'), 'contrast was checked');
      const found = result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => `${n.target.join(' ')} (${n.failureSummary.replace(/\s+/g, ' ')})`).join('; ')}`);
      assert.deepEqual(found, []);

      // The dialog's contents too.
      await page.click('#delete-open');
      const inDialog = await page.evaluate(() =>
        (window as unknown as { axe: { run: (c: unknown, o: unknown) => Promise<{ violations: { id: string }[] }> } }).axe.run(
          { include: ['#delete-dialog'] },
          { runOnly: { type: 'tag', values: ['wcag2aa'] } },
        ),
      );
      assert.deepEqual(inDialog.violations.map((v) => v.id), []);
    });
  }

  it('keeps focus visible with a 2px outline', async () => {
    const page = await open();
    await page.keyboard.press('Tab');
    const outline = await page.evaluate(() => {
      const s = getComputedStyle(document.activeElement!);
      return [document.activeElement?.className, s.outlineStyle, s.outlineWidth];
    });
    assert.deepEqual(outline, ['skip-link', 'solid', '2px']);
    assert.equal(await page.isVisible('.skip-link'), true);
    const box = await page.locator('.skip-link').boundingBox();
    assert.ok(box && box.y >= 0, 'the skip link shows when focused');
  });

  it('degrades without JavaScript: links navigate, copy buttons stay hidden, fallbacks show', async () => {
    const page = await open({ javaScriptEnabled: false });
    assert.equal(await page.isVisible('button[data-copy]'), false);
    assert.equal(await page.isVisible('[data-theme-toggle]'), false);
    assert.equal(await page.isVisible('[data-bulk-all]'), false);
    assert.equal(await page.isVisible('#apply'), true);
    assert.equal(await page.isEnabled('[data-bulk-submit]'), true);
    await Promise.all([page.waitForURL(/\/delete$/), page.click('#delete-open')]);
    assert.equal(new URL(page.url()).pathname, '/ui/r/library/alpine/delete');
  });
});
