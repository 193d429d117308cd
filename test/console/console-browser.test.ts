// The console in a real browser (Debian's chromium through playwright-core), against a berth with
// htpasswd users and access control, seeded by real skopeo pushes: a multi-platform index under two
// tags, a cosign-style signature tag, a second namespace. Walks the pages as a user would and checks
// the results with skopeo; every page passes axe (no serious/critical violation), makes no request
// to another origin, logs no console error, and leaves a light and a dark screenshot in
// test-output/screenshots/ for a person to look at.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startHtpasswdRegistry, type AuthRegistry } from '../auth/harness.ts';
import { browserSkip, checkPage, launchBrowser, openPage, type CheckedPage } from '../helpers/browser.ts';
import { clientSandbox, hasCommand, run, tempDir, type ClientSandbox } from '../helpers/processes.ts';
import { makeOciLayout, type LayoutResult } from '../helpers/images.ts';

const skip = browserSkip || (hasCommand('skopeo') ? false : 'skopeo is not installed');
const ADMIN = { user: 'admin', password: 'admin-pw-1' };
const BOB = { user: 'bob', password: 'bob-pw-1' };

describe('console in chromium', { skip }, () => {
  let registry: AuthRegistry;
  let browser: Browser;
  let sb: ClientSandbox;
  let work: { path: string; cleanup(): Promise<void> };
  let host: string;
  let multi: LayoutResult;

  const skopeo = (...args: string[]) => run('skopeo', ['--insecure-policy', ...args], { env: sb.env, timeoutMs: 120_000 });
  const push = (layout: LayoutResult, ref: string, creds = `${ADMIN.user}:${ADMIN.password}`) =>
    skopeo('copy', '--dest-tls-verify=false', '--dest-creds', creds, `oci:${layout.dir}:${layout.tag}`, `docker://${host}/${ref}`);

  before(async () => {
    registry = await startHtpasswdRegistry({ [ADMIN.user]: ADMIN.password, [BOB.user]: BOB.password }, (c) => {
      c.berth.auth.accessControl = { enabled: true, admins: [ADMIN.user] };
      c.log.level = 'warn';
    });
    host = new URL(registry.url).host;
    sb = await clientSandbox('console-browser', [host]);
    work = await tempDir('console-browser-layouts');
    multi = await makeOciLayout(join(work.path, 'multi'), {
      tag: 'v1',
      layers: 2,
      layerBytes: 4096,
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ],
    });
    const tool = await makeOciLayout(join(work.path, 'tool'), { tag: '1.0', layers: 1, layerBytes: 2048 });
    const sig = await makeOciLayout(join(work.path, 'sig'), { tag: 'sig', layers: 1, layerBytes: 256 });
    await skopeo('copy', '--all', '--dest-tls-verify=false', '--dest-creds', `${ADMIN.user}:${ADMIN.password}`, `oci:${multi.dir}:v1`, `docker://${host}/team/app:v1`);
    await skopeo('copy', '--all', '--dest-tls-verify=false', '--dest-creds', `${ADMIN.user}:${ADMIN.password}`, `oci:${multi.dir}:v1`, `docker://${host}/team/app:latest`);
    // cosign's tag scheme: the signature of sha256:<hex> is the tag sha256-<hex>.sig.
    await push(sig, `team/app:${multi.digest.replace(':', '-')}.sig`);
    await push(tool, 'other/tool:1.0');
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await registry?.stop();
    await sb?.cleanup();
    await work?.cleanup();
  });

  async function signIn(page: Page, who = ADMIN): Promise<void> {
    await page.goto('/ui/login');
    await page.getByLabel(/user name/i).fill(who.user);
    await page.getByLabel(/password/i).fill(who.password);
    await page.getByRole('button', { name: /sign in/i }).click();
    await page.waitForURL(/\/ui\/$/);
  }

  /** A signed-in page in light and one in dark; both are checked by checkPage. */
  async function withPages(fn: (light: CheckedPage, dark: CheckedPage) => Promise<void>, javaScriptEnabled = true): Promise<void> {
    const light = await openPage(browser, { baseURL: registry.url, javaScriptEnabled });
    const dark = await openPage(browser, { baseURL: registry.url, colorScheme: 'dark', javaScriptEnabled });
    try {
      await signIn(light.page);
      await signIn(dark.page);
      await fn(light, dark);
    } finally {
      await light.close();
      await dark.close();
    }
  }

  it('every page passes axe, stays on its origin and is screenshotted in light and dark', async () => {
    await withPages(async (light, dark) => {
      const pages: [string, string][] = [
        ['/ui/', 'repositories'],
        ['/ui/?q=app', 'repositories-search'],
        ['/ui/repo/team/app', 'repository'],
        [`/ui/repo/team/app/-/manifest/${multi.digest}`, 'image-index'],
        [`/ui/repo/team/app/-/manifest/${multi.images[0].manifest.digest}`, 'image'],
        ['/ui/settings', 'settings'],
        ['/ui/new', 'new-repository'],
        ['/ui/admin/', 'admin'],
        ['/ui/admin/users', 'admin-users'],
        ['/ui/admin/teams', 'admin-teams'],
        ['/ui/admin/permissions', 'admin-permissions'],
        ['/ui/admin/robots', 'admin-robots'],
        ['/ui/admin/tokens', 'admin-tokens'],
        ['/ui/admin/ldap', 'admin-ldap'],
        ['/ui/admin/audit', 'admin-audit'],
        ['/ui/admin/gc', 'admin-gc'],
        ['/ui/admin/retention', 'admin-retention'],
        ['/ui/admin/immutable', 'admin-immutable'],
        ['/ui/admin/quotas', 'admin-quotas'],
        ['/ui/admin/notifications', 'admin-notifications-empty'],
        ['/ui/repo/team/app/-/delete-tags?tag=v1', 'confirm-delete'],
      ];
      for (const [path, name] of pages) {
        for (const [checked, scheme] of [
          [light, 'light'],
          [dark, 'dark'],
        ] as const) {
          const res = await checked.page.goto(path);
          assert.equal(res?.status(), 200, `${path} (${scheme})`);
          await checkPage(checked, name);
        }
      }
    });
    // The login page, signed out.
    const anon = await openPage(browser, { baseURL: registry.url });
    try {
      await anon.page.goto('/ui/login');
      await checkPage(anon, 'login');
    } finally {
      await anon.close();
    }
  });

  it('search finds the repository, a tag opens, and the copied pull command works with skopeo', async () => {
    const checked = await openPage(browser, { baseURL: registry.url });
    const { page } = checked;
    try {
      await signIn(page);
      await page.keyboard.press('/');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'site-search', '/ focuses the search box');
      await page.keyboard.type('team/a');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\?q=team%2Fa/);
      const rows = page.locator('#repositories tbody tr');
      assert.equal(await rows.count(), 1);
      await page.getByRole('link', { name: 'team/app' }).click();
      await page.waitForURL(/\/ui\/repo\/team\/app$/);
      // Both tags, the index's platforms, and the signature under its subject, not as a tag row.
      const tags = await page.locator('#tags tbody tr[data-row]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-row')));
      assert.deepEqual(new Set(tags), new Set(['v1', 'latest']));
      assert.match(await page.locator('#tags').innerText(), /linux\/arm64\/v8/);
      assert.match(await page.locator('tr.sub').first().innerText(), /\.sig/);
      assert.match(await page.locator('tr[data-row="v1"]').innerText(), /signed/);
      await page.locator('tr[data-row="latest"] th a').click();
      await page.waitForURL(/\/-\/manifest\/sha256:/);
      assert.match(await page.getByRole('heading', { name: 'Platforms' }).innerText(), /Platforms/);
      // The copy button puts the skopeo command on the clipboard; run exactly that.
      const button = page.locator('.copy-row', { hasText: 'skopeo' }).getByRole('button');
      await button.click();
      const command = await button.getAttribute('data-copy');
      assert.ok(command?.startsWith(`skopeo copy docker://${host}/team/app@sha256:`), command ?? '');
      const [, , src, dst] = command!.split(' ');
      await mkdir(join(work.path, 'pulled'), { recursive: true });
      await skopeo('copy', '--src-tls-verify=false', '--src-creds', `${ADMIN.user}:${ADMIN.password}`, src, `${dst.replace(/^oci:/, `oci:${join(work.path, 'pulled')}/`)}`);
      checked.assertClean();
    } finally {
      await checked.close();
    }
  });

  it('deleting one of two tags on a digest keeps the other pullable', async () => {
    const checked = await openPage(browser, { baseURL: registry.url });
    const { page } = checked;
    try {
      await signIn(page);
      await page.goto('/ui/repo/team/app');
      await page.locator('tr[data-row="v1"]').getByRole('link', { name: /delete/i }).click();
      const dialog = page.getByRole('dialog');
      assert.match(await dialog.innerText(), /latest/, 'the dialog names the tag that keeps the image');
      await dialog.getByRole('button', { name: /delete v1/i }).click();
      await page.waitForURL(/\/ui\/repo\/team\/app$/);
      assert.match(await page.locator('.notice').innerText(), /v1/);
      assert.equal(await page.locator('tr[data-row="v1"]').count(), 0);
      checked.assertClean();
    } finally {
      await checked.close();
    }
    const gone = await skopeo('inspect', '--raw', '--tls-verify=false', '--creds', `${ADMIN.user}:${ADMIN.password}`, `docker://${host}/team/app:v1`).catch((e: Error) => e);
    assert.ok(gone instanceof Error, 'v1 is gone');
    await skopeo('inspect', '--raw', '--tls-verify=false', '--creds', `${ADMIN.user}:${ADMIN.password}`, `docker://${host}/team/app:latest`);
  });

  it('a private repository created in the console refuses anonymous pulls', async () => {
    const checked = await openPage(browser, { baseURL: registry.url });
    const { page } = checked;
    try {
      await signIn(page);
      await page.getByRole('link', { name: 'New repository' }).click();
      await page.getByLabel('Name').fill('team/secret');
      await page.getByRole('radio', { name: /Private/ }).check();
      await page.getByLabel('Description').fill('Internal builds. <script>alert(1)</script>');
      await page.getByRole('button', { name: 'Create repository' }).click();
      await page.waitForURL(/\/ui\/repo\/team\/secret$/);
      // The description's markup is text, not a script.
      assert.match(await page.locator('.markdown').innerText(), /<script>alert\(1\)<\/script>/);
      checked.assertClean();
    } finally {
      await checked.close();
    }
    await push(multi, 'team/secret:1');
    const anon = await skopeo('inspect', '--raw', '--tls-verify=false', '--no-creds', `docker://${host}/team/secret:1`).catch((e: Error) => e);
    assert.ok(anon instanceof Error && /unauthorized|authentication required|denied/i.test(anon.message), String(anon));
    await skopeo('inspect', '--raw', '--tls-verify=false', '--creds', `${ADMIN.user}:${ADMIN.password}`, `docker://${host}/team/secret:1`);
  });

  it('works with JavaScript off: browse, and delete through the confirmation page', async () => {
    await push(multi, 'nojs/app:a');
    await push(multi, 'nojs/app:b');
    const checked = await openPage(browser, { baseURL: registry.url, javaScriptEnabled: false });
    const { page } = checked;
    try {
      await signIn(page);
      await page.goto('/ui/?q=nojs');
      await page.getByRole('link', { name: 'nojs/app' }).click();
      await page.locator('tr[data-row="a"]').getByRole('link', { name: /delete/i }).click();
      await page.waitForURL(/delete-tags\?tag=a/);
      await checkPage(checked, 'confirm-delete-nojs');
      await page.getByRole('button', { name: /delete 1 tag/i }).click();
      await page.waitForURL(/\/ui\/repo\/nojs\/app$/);
      assert.equal(await page.locator('tr[data-row="a"]').count(), 0);
      assert.equal(await page.locator('tr[data-row="b"]').count(), 1);
    } finally {
      await checked.close();
    }
  });

  it('renders in Simplified Chinese from Accept-Language, and the switch is remembered', async () => {
    const checked = await openPage(browser, { baseURL: registry.url, locale: 'zh-CN' });
    const { page } = checked;
    try {
      await page.goto('/ui/login');
      assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
      await page.getByLabel('用户名').fill(ADMIN.user);
      await page.getByLabel('密码或访问令牌').fill(ADMIN.password);
      await page.getByRole('button', { name: '登录' }).click();
      await page.waitForURL(/\/ui\/$/);
      assert.match(await page.locator('h1').innerText(), /仓库/);
      await checkPage(checked, 'repositories-zh');
      await page.getByRole('button', { name: 'English' }).click();
      await page.waitForURL(/\/ui\/$/);
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      await page.goto('/ui/settings');
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
    } finally {
      await checked.close();
    }
  });

  it('an administrator manages a team and a robot account, and the robot pushes with its secret', async () => {
    const checked = await openPage(browser, { baseURL: registry.url });
    const { page } = checked;
    let secret: string | null = null;
    try {
      await signIn(page);
      // bob (an htpasswd user) gets a record, joins a new team, and the team gets write on team/.
      await page.goto('/ui/admin/users');
      await page.fill('#nu-name', BOB.user);
      await page.selectOption('#nu-source', 'htpasswd');
      await page.getByRole('button', { name: 'Create user' }).click();
      await page.goto('/ui/admin/teams');
      await page.fill('#nt-name', 'devs');
      await page.getByRole('button', { name: 'Create team' }).click();
      await page.waitForURL(/\/ui\/admin\/teams\/devs/);
      await page.getByLabel('Add a member').fill(BOB.user);
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      await page.waitForURL(/\/ui\/admin\/teams\/devs/);
      assert.match(await page.locator('main').innerText(), new RegExp(BOB.user));
      await page.goto('/ui/admin/permissions');
      await page.selectOption('#g-subject-kind', 'team');
      await page.fill('#g-subject', 'devs');
      await page.selectOption('#g-scope-kind', 'namespace');
      await page.fill('#g-scope', 'other');
      await page.selectOption('#g-role', 'read');
      await page.getByRole('button', { name: 'Grant', exact: true }).click();
      assert.match(await page.locator('main').innerText(), /devs/);
      // A robot in namespace team with write there; its secret is shown once.
      await page.goto('/ui/admin/robots');
      await page.fill('#nr-name', 'ci');
      await page.fill('#nr-namespace', 'team');
      await page.selectOption('#pr-0', 'write');
      await page.getByRole('button', { name: 'Create robot account' }).click();
      secret = await page.locator('.copy-row code').first().innerText();
      await checkPage(checked, 'admin-robot-secret');
    } finally {
      await checked.close();
    }
    assert.ok(secret && secret.length > 20, 'the secret is on the page');
    await push(multi, 'team/from-robot:1', `robot$ci:${secret}`);
    // bob now reads other/ through the team, and only that.
    const bob = await openPage(browser, { baseURL: registry.url });
    try {
      await signIn(bob.page, BOB);
      const listed = await bob.page.locator('#repositories tbody tr th, #repositories tbody tr td:first-child a').allInnerTexts();
      assert.deepEqual(listed.filter((x) => x.includes('/')), ['other/tool']);
    } finally {
      await bob.close();
    }
  });

  it('a non-admin sees only what they may pull and no administration', async () => {
    const checked = await openPage(browser, { baseURL: registry.url });
    const { page } = checked;
    try {
      await signIn(page, BOB);
      // bob holds no role on team/ (the robot test before gave his team read on other/ only).
      assert.equal(await page.locator('#repositories tbody tr', { hasText: 'team/' }).count(), 0);
      assert.equal(await page.getByRole('link', { name: 'Administration' }).count(), 0);
      const res = await page.goto('/ui/admin/');
      assert.equal(res?.status(), 403);
      const repo = await page.goto('/ui/repo/team/app');
      assert.equal(repo?.status(), 404);
    } finally {
      await checked.close();
    }
  });
});
