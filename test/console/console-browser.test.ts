// The console in a real browser (Debian's chromium through playwright-core), against a berth with
// htpasswd users and access control, seeded by real pushes: a multi-platform index under two tags
// (skopeo), signed with a cosign key by `berth sign` and carrying an SPDX SBOM attached as an OCI
// referrer by `berth push --artifact-type --subject`; a second namespace whose image skopeo pushed
// with a GPG simple signature (--sign-by, stored in berth through the signatures extension). Walks
// the pages as a user would and checks the results with skopeo and berth verify; every page passes
// axe (no serious/critical violation), makes no request to another origin, logs no console error,
// and leaves a light and a dark screenshot in test-output/screenshots/ for a person to look at.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { basic, pushImage, startHtpasswdRegistry, type AuthRegistry } from '../auth/harness.ts';
import { browserSkip, checkPage, launchBrowser, openPage, type CheckedPage } from '../helpers/browser.ts';
import { clientSandbox, hasCommand, run, tempDir, type ClientSandbox } from '../helpers/processes.ts';
import { makeOciLayout, type LayoutResult } from '../helpers/images.ts';
import { berthCli } from '../cli/helpers.ts';
import { gpgHome, type GpgHome, type GpgKey } from '../trust/gpg-helpers.ts';

const skip = browserSkip || (['skopeo', 'gpg'].find((c) => !hasCommand(c)) ? 'skopeo or gpg is not installed' : false);
const ADMIN = { user: 'admin', password: 'admin-pw-1' };
const BOB = { user: 'bob', password: 'bob-pw-1' };
const ADMIN_CREDS = `${ADMIN.user}:${ADMIN.password}`;
const COSIGN_PASSWORD = 'console-browser cosign';
const SPDX = 'application/spdx+json';

describe('console in chromium', { skip }, () => {
  let registry: AuthRegistry;
  let browser: Browser;
  let sb: ClientSandbox;
  let work: { path: string; cleanup(): Promise<void> };
  let host: string;
  let multi: LayoutResult;
  let tool: LayoutResult;
  let gpg: GpgHome;
  let gpgKey: GpgKey;
  let cosign: { key: string; pub: string };
  let sbomDigest: string;
  let berth: ReturnType<typeof berthCli>;

  const skopeo = (...args: string[]) => run('skopeo', ['--insecure-policy', ...args], { env: sb.env, timeoutMs: 120_000 });
  const push = (layout: LayoutResult, ref: string, creds = ADMIN_CREDS) =>
    skopeo('copy', '--dest-tls-verify=false', '--dest-creds', creds, `oci:${layout.dir}:${layout.tag}`, `docker://${host}/${ref}`);
  const berthOk = async (args: string[]) => {
    const r = await berth(args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const catalog = async () =>
    ((await (await fetch(`${registry.url}/v2/_catalog?n=1000`, { headers: { Authorization: basic(ADMIN.user, ADMIN.password) } })).json()) as { repositories: string[] }).repositories;
  const tagsOf = async (name: string) =>
    ((await (await fetch(`${registry.url}/v2/${name}/tags/list`, { headers: { Authorization: basic(ADMIN.user, ADMIN.password) } })).json()) as { tags: string[] | null }).tags ?? [];

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
    tool = await makeOciLayout(join(work.path, 'tool'), { tag: '1.0', layers: 1, layerBytes: 2048 });
    await skopeo('copy', '--all', '--dest-tls-verify=false', '--dest-creds', ADMIN_CREDS, `oci:${multi.dir}:v1`, `docker://${host}/team/app:v1`);
    await skopeo('copy', '--all', '--dest-tls-verify=false', '--dest-creds', ADMIN_CREDS, `oci:${multi.dir}:v1`, `docker://${host}/team/app:latest`);

    // A real cosign signature of the index (berth sign: cosign's payload and its sha256-<hex>.sig
    // tag), with a key from berth key generate.
    berth = berthCli({ ...sb.env, COSIGN_PASSWORD });
    await berthOk(['key', 'generate', '--output-key-prefix', join(work.path, 'cosign')]);
    cosign = { key: join(work.path, 'cosign.key'), pub: join(work.path, 'cosign.pub') };
    await berthOk(['sign', `${host}/team/app@${multi.digest}`, '--key', cosign.key, '--creds', ADMIN_CREDS, '--insecure']);
    // An SPDX SBOM attached as an OCI referrer of the index, under cosign's .sbom tag.
    const sbom = join(work.path, 'app.spdx.json');
    await writeFile(
      sbom,
      JSON.stringify({
        spdxVersion: 'SPDX-2.3',
        dataLicense: 'CC0-1.0',
        SPDXID: 'SPDXRef-DOCUMENT',
        name: 'team/app',
        documentNamespace: 'https://berth.test/spdx/team-app-v1',
        creationInfo: { created: new Date().toISOString(), creators: ['Tool: berth-console-tests'] },
        packages: [{ name: 'app', SPDXID: 'SPDXRef-Package-app', versionInfo: '1', downloadLocation: 'NOASSERTION' }],
      }),
    );
    const pushed = JSON.parse(
      await berthOk(['push', sbom, `${host}/team/app:${multi.digest.replace(':', '-')}.sbom`, '--artifact-type', SPDX, '--subject', multi.digest, '--creds', ADMIN_CREDS, '--insecure', '--json', '--quiet']),
    ) as { digest: string };
    sbomDigest = pushed.digest;

    // other/tool:1.0 with a GPG simple signature: skopeo --sign-by stores it in berth (an empty
    // registries.d: no lookaside, so the signatures extension is what skopeo uses).
    gpg = await gpgHome(work.path);
    gpgKey = await gpg.generate('release');
    const regd = join(work.path, 'registries.d');
    await mkdir(regd);
    await run(
      'skopeo',
      ['--registries.d', regd, '--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', ADMIN_CREDS, '--sign-by', gpgKey.fingerprint, `oci:${tool.dir}:1.0`, `docker://${host}/other/tool:1.0`],
      { env: { ...sb.env, ...gpg.env }, timeoutMs: 120_000 },
    );
    // The pull commands the console copies are run as a user would: logged in, no flags added.
    await skopeo('login', '--tls-verify=false', '--username', ADMIN.user, '--password', ADMIN.password, host);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await gpg?.close();
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

  /** The computed font size of the page's h1. */
  const headingSize = (page: Page) => page.locator('main h1').first().evaluate((h) => getComputedStyle(h).fontSize);

  /** The vertical space between an element and the ones before and after it (negative: they overlap). */
  const gapsAround = (page: Page, selector: string) =>
    page.locator(selector).first().evaluate((el) => {
      const box = el.getBoundingClientRect();
      const prev = el.previousElementSibling?.getBoundingClientRect();
      const next = el.nextElementSibling?.getBoundingClientRect();
      return { before: prev ? box.top - prev.bottom : null, after: next ? next.top - box.bottom : null };
    });

  /**
   * Opens `path` in both schemes, checks each page (axe, origin, screenshot `name`) and that the
   * page's h1 is at heading size; the light page is left there for further checks.
   */
  async function visitBoth(light: CheckedPage, dark: CheckedPage, path: string, name: string): Promise<void> {
    for (const [checked, scheme] of [
      [light, 'light'],
      [dark, 'dark'],
    ] as const) {
      const res = await checked.page.goto(path);
      assert.equal(res?.status(), 200, `${path} (${scheme})`);
      await checkPage(checked, name);
    }
    assert.equal(await headingSize(light.page), '22px', `${path}: the h1 is at heading size`);
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
        ['/ui/namespaces', 'namespaces'],
        ['/ui/?namespace=team', 'repositories-namespace'],
        ['/ui/repo/team/app', 'repository'],
        [`/ui/repo/team/app/-/manifest/${multi.digest}`, 'image-index'],
        [`/ui/repo/team/app/-/manifest/${multi.images[0].manifest.digest}`, 'image'],
        [`/ui/repo/team/app/-/manifest/${sbomDigest}`, 'image-sbom'],
        [`/ui/repo/other/tool/-/manifest/${tool.digest}`, 'image-gpg-signed'],
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
        // GET only shows the confirmation; nothing is deleted.
        ['/ui/repo/other/tool/-/delete', 'confirm-delete-repository'],
      ];
      for (const [path, name] of pages) await visitBoth(light, dark, path, name);
    });
    // The login page, signed out, in both schemes.
    for (const colorScheme of ['light', 'dark'] as const) {
      const anon = await openPage(browser, { baseURL: registry.url, colorScheme });
      try {
        await anon.page.goto('/ui/login');
        await checkPage(anon, 'login');
      } finally {
        await anon.close();
      }
    }
  });

  it('the image page shows the cosign signature, the GPG simple signature and the SBOM referrer, and berth verify accepts both signatures', async () => {
    // The signatures are real: berth verify checks them with the public keys.
    await berthOk(['verify', `${host}/team/app@${multi.digest}`, '--key', cosign.pub, '--creds', ADMIN_CREDS, '--insecure']);
    await berthOk(['verify', `${host}/other/tool:1.0`, '--gpg-keyring', gpgKey.exported, '--creds', ADMIN_CREDS, '--insecure']);
    const checked = await openPage(browser, { baseURL: registry.url });
    const { page } = checked;
    const sigTag = `${multi.digest.replace(':', '-')}.sig`;
    const sbomTag = `${multi.digest.replace(':', '-')}.sbom`;
    try {
      await signIn(page);
      // The repository page: both tags signed; the signature and the SBOM under their subject, not as tags.
      await page.goto('/ui/repo/team/app');
      for (const tag of ['v1', 'latest']) {
        assert.match(await page.locator(`tr[data-row="${tag}"] th`).innerText(), /signed/, `${tag} is marked signed`);
        const sub = await page.locator(`tr.sub[data-parent="${tag}"]`).innerText();
        assert.ok(sub.includes(sigTag) && sub.includes(sbomTag) && sub.includes(SPDX), sub);
      }
      assert.equal(await page.locator(`#tags tbody tr[data-row="${sigTag}"], #tags tbody tr[data-row="${sbomTag}"]`).count(), 0);

      // The index's page: the cosign signature in the Signatures card, the SBOM in the referrers tree.
      await page.goto(`/ui/repo/team/app/-/manifest/${multi.digest}`);
      const cosignRow = page.locator('#signatures tbody tr', { hasText: 'cosign' });
      assert.equal(await cosignRow.count(), 1, await page.locator('main').innerText());
      const cosignText = await cosignRow.innerText();
      assert.match(cosignText, /signature tag/);
      assert.ok(cosignText.includes(`signed as ${host}/team/app`), cosignText);
      assert.match(cosignText, /no policy/);
      const referrers = page.locator('section[aria-labelledby="referrers-title"]');
      assert.ok((await referrers.innerText()).includes(SPDX));
      await referrers.locator(`a[href$="${sbomDigest}"]`).click();
      await page.waitForURL(new RegExp(`/-/manifest/${sbomDigest}$`));
      const summary = await page.locator('dl.props').first().innerText();
      assert.ok(summary.includes(SPDX) && summary.includes(multi.digest) && summary.includes(sbomTag), summary);
      await page.getByRole('link', { name: multi.digest }).click();
      await page.waitForURL(new RegExp(`/-/manifest/${multi.digest}$`));

      // The GPG simple signature skopeo stored, on other/tool's image page, with its key id.
      await page.goto('/ui/repo/other/tool');
      assert.match(await page.locator('tr[data-row="1.0"] th').innerText(), /signed/);
      await page.locator('tr[data-row="1.0"] th a').click();
      await page.waitForURL(new RegExp(`/-/manifest/${tool.digest}$`));
      // The history box keeps its distance from the cards around it.
      const history = await gapsAround(page, 'details.card');
      assert.ok(history.before! >= 12 && history.after! >= 12, JSON.stringify(history));
      const gpgRow = page.locator('#signatures tbody tr', { hasText: 'GPG simple signature' });
      assert.equal(await gpgRow.count(), 1, await page.locator('main').innerText());
      const gpgText = await gpgRow.innerText();
      assert.match(gpgText, /signatures extension/);
      assert.ok(gpgText.toUpperCase().includes(gpgKey.fingerprint.slice(-16)), `${gpgText} names key ${gpgKey.fingerprint}`);
      checked.assertClean();
    } finally {
      await checked.close();
    }
  });

  /** Clicks a copy button and returns what landed on the clipboard (the context must have clipboard permissions). */
  async function copied(page: Page, button: ReturnType<Page['locator']>): Promise<string> {
    await page.evaluate(() => navigator.clipboard.writeText(''));
    await button.click();
    await page.waitForFunction(async () => (await navigator.clipboard.readText()) !== '', undefined, { timeout: 10_000 });
    return page.evaluate(() => navigator.clipboard.readText());
  }

  /**
   * Runs a copied `skopeo copy [flags] docker://... oci:<dir>` command in a fresh directory, as a user
   * logged in with `skopeo login` would; returns the directory. Only what this plain-HTTP test
   * registry needs is added: --src-tls-verify=false (skopeo 1.9 ignores the sandbox's
   * registries.conf `insecure`) and skopeo's global --insecure-policy (no policy.json here).
   */
  async function runCopied(command: string, dir: string): Promise<string> {
    const [exe, sub, ...rest] = command.split(/\s+/);
    assert.equal(`${exe} ${sub}`, 'skopeo copy', command);
    const cwd = join(work.path, dir);
    await mkdir(cwd, { recursive: true });
    await run('skopeo', ['--insecure-policy', 'copy', '--src-tls-verify=false', ...rest], { env: sb.env, cwd, timeoutMs: 120_000 });
    return cwd;
  }

  it('search finds the repository, a tag opens, and the pull command on the clipboard works with skopeo', async () => {
    const checked = await openPage(browser, { baseURL: registry.url });
    const { page } = checked;
    try {
      await checked.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(registry.url).origin });
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
      // The copy button puts the skopeo command on the clipboard; run what is there, not the button's attribute.
      const button = page.locator('.copy-row', { hasText: 'skopeo' }).getByRole('button');
      const command = await copied(page, button);
      assert.ok(command.startsWith(`skopeo copy --remove-signatures docker://${host}/team/app@${multi.digest} oci:`), command);
      assert.equal(command, await button.getAttribute('data-copy'));
      const dir = await runCopied(command, 'pulled');
      const layout = join(dir, command.split(' ').at(-1)!.replace(/^oci:/, ''));
      await access(join(layout, 'index.json'));
      checked.assertClean();
    } finally {
      await checked.close();
    }
  });

  it('the skopeo command copied for an image with a GPG simple signature pulls it', async () => {
    const checked = await openPage(browser, { baseURL: registry.url });
    const { page } = checked;
    try {
      await checked.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(registry.url).origin });
      await signIn(page);
      await page.goto('/ui/repo/other/tool');
      const command = await copied(page, page.locator('.copy-row', { hasText: 'skopeo' }).first().getByRole('button'));
      assert.ok(command.startsWith(`skopeo copy --remove-signatures docker://${host}/other/tool:1.0 oci:`), command);
      // Without --remove-signatures skopeo refuses: "Pushing signatures for OCI images is not supported".
      const dir = await runCopied(command, 'pulled-signed');
      await access(join(dir, command.split(' ').at(-1)!.replace(/^oci:/, ''), 'index.json'));
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

  it('shift-click selects a range of tags on a repository page, and the bulk delete removes exactly those', async () => {
    const auth = basic(ADMIN.user, ADMIN.password);
    for (const tag of ['r1', 'r2', 'r3', 'r4', 'r5']) await pushImage(registry.url, 'range/app', tag, auth);
    const checked = await openPage(browser, { baseURL: registry.url });
    const { page } = checked;
    const box = (tag: string) => page.locator(`tr[data-row="${tag}"] input[type=checkbox][data-bulk="tags"]`);
    const selected = async () => {
      const out: string[] = [];
      for (const tag of ['r1', 'r2', 'r3', 'r4', 'r5']) if (await box(tag).isChecked()) out.push(tag);
      return out;
    };
    try {
      await signIn(page);
      await page.goto('/ui/repo/range/app?sort=name');
      const submit = page.getByRole('button', { name: 'Delete selected tags' });
      assert.equal(await submit.isDisabled(), true, 'nothing selected yet');
      await box('r2').click();
      await box('r4').click({ modifiers: ['Shift'] });
      assert.deepEqual(await selected(), ['r2', 'r3', 'r4'], 'shift-click selects r2 through r4');
      assert.match(await page.locator('[data-bulk-count="tags"]').innerText(), /3 selected/);
      // Shift-click back to r3 clears the r3..r4 range (what the clicked box became), then shift-click r4 restores it.
      await box('r3').click({ modifiers: ['Shift'] });
      assert.deepEqual(await selected(), ['r2']);
      await box('r4').click({ modifiers: ['Shift'] });
      assert.deepEqual(await selected(), ['r2', 'r3', 'r4']);
      await submit.click();
      await page.waitForURL(/\/ui\/repo\/range\/app\/-\/delete-tags\?tag=r2&tag=r3&tag=r4$/);
      const listed = await page.locator('main li strong').allInnerTexts();
      assert.deepEqual(listed, ['r2', 'r3', 'r4']);
      await checkPage(checked, 'confirm-delete-bulk');
      await page.getByRole('button', { name: /delete 3 tag/i }).click();
      await page.waitForURL(/\/ui\/repo\/range\/app$/);
      assert.match(await page.locator('.notice').innerText(), /r2, r3, r4/);
      const rows = await page.locator('#tags tbody tr[data-row]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-row')));
      assert.deepEqual(new Set(rows), new Set(['r1', 'r5']));
      checked.assertClean();
    } finally {
      await checked.close();
    }
    assert.deepEqual((await tagsOf('range/app')).sort(), ['r1', 'r5']);
    const gone = await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${host}/range/app:r3`).catch((e: Error) => e);
    assert.ok(gone instanceof Error && /manifest unknown|not found/i.test(gone.message), String(gone));
  });

  it('an administrator deletes whole repositories, with the dialog and without JavaScript through the confirmation page', async () => {
    const auth = basic(ADMIN.user, ADMIN.password);
    for (const tag of ['a', 'b']) await pushImage(registry.url, 'gone/dialog', tag, auth);
    await pushImage(registry.url, 'gone/page', 'a', auth);
    assert.ok((await catalog()).includes('gone/dialog') && (await catalog()).includes('gone/page'));

    const js = await openPage(browser, { baseURL: registry.url });
    try {
      await signIn(js.page);
      await js.page.goto('/ui/repo/gone/dialog');
      await js.page.getByRole('link', { name: 'Delete repository' }).click();
      const dialog = js.page.getByRole('dialog');
      assert.match(await dialog.innerText(), /gone\/dialog[\s\S]*All 2 tag/);
      await dialog.getByRole('button', { name: 'Delete repository' }).click();
      await js.page.waitForURL(/\/ui\/$/);
      js.assertClean();
    } finally {
      await js.close();
    }

    const nojs = await openPage(browser, { baseURL: registry.url, javaScriptEnabled: false });
    const { page } = nojs;
    try {
      await signIn(page);
      await page.goto('/ui/repo/gone/page');
      await page.getByRole('link', { name: 'Delete repository' }).click();
      await page.waitForURL(/\/ui\/repo\/gone\/page\/-\/delete$/);
      assert.match(await page.locator('h1').innerText(), /gone\/page/);
      assert.deepEqual(await page.locator('nav.breadcrumbs a').allInnerTexts(), ['Repositories', 'gone', 'page'], 'breadcrumbs as on the delete-tags page');
      assert.match(await page.locator('main').innerText(), /Its 1 tag and every manifest go/);
      await checkPage(nojs, 'confirm-delete-repository-nojs');
      await page.getByRole('button', { name: 'Delete repository' }).click();
      await page.waitForURL(/\/ui\/$/);
      // Gone from the list, from a search, and its page.
      assert.equal(await page.locator('#repositories a', { hasText: /^gone\// }).count(), 0);
      await page.goto('/ui/?q=gone');
      assert.equal(await page.locator('#repositories a', { hasText: /^gone\// }).count(), 0);
      assert.equal((await page.goto('/ui/repo/gone/page'))?.status(), 404);
    } finally {
      await nojs.close();
    }
    const repos = await catalog();
    assert.ok(!repos.includes('gone/dialog') && !repos.includes('gone/page'), repos.join(', '));
    const pull = await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${host}/gone/page:a`).catch((e: Error) => e);
    assert.ok(pull instanceof Error, 'the deleted repository does not pull');
  });

  it('after deleting a repository the repositories page says so, and the notice does not turn up later elsewhere', async () => {
    await pushImage(registry.url, 'gone/notice', 'a', basic(ADMIN.user, ADMIN.password));
    const checked = await openPage(browser, { baseURL: registry.url, javaScriptEnabled: false });
    const { page } = checked;
    try {
      await signIn(page);
      await page.goto('/ui/repo/gone/notice/-/delete');
      await page.getByRole('button', { name: 'Delete repository' }).click();
      await page.waitForURL(/\/ui\/$/);
      const here = await page.locator('main').innerText();
      await page.goto('/ui/repo/other/tool');
      const later = await page.locator('main').innerText();
      assert.match(here, /Repository gone\/notice deleted/, 'the notice is on the page the delete leads to');
      assert.doesNotMatch(later, /gone\/notice deleted/, 'and not on a later, unrelated page');
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
      const panel = await gapsAround(page, 'section[aria-labelledby="new-secret-title"]');
      assert.ok(panel.after! >= 12, `the namespace filter is apart from the secret card: ${JSON.stringify(panel)}`);
      await checkPage(checked, 'admin-robot-secret');
      // The secret is shown once: the dark picture is of the same page, switched to dark.
      // (After the colour transitions end: axe in mid-transition measures half-light, half-dark colours.)
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.evaluate(async () => {
        await new Promise((resolve) => requestAnimationFrame(resolve));
        await Promise.all(document.getAnimations().map((a) => a.finished));
      });
      await checkPage({ ...checked, colorScheme: 'dark' }, 'admin-robot-secret');
    } finally {
      await checked.close();
    }
    assert.ok(secret && secret.length > 20, 'the secret is on the page');
    await push(multi, 'team/from-robot:1', `robot$ci:${secret}`);
    // bob now reads other/ through the team, and only that.
    const bob = await openPage(browser, { baseURL: registry.url });
    try {
      await signIn(bob.page, BOB);
      const listed = await bob.page.locator('#repositories tbody a[href^="/ui/repo/"]').allInnerTexts();
      assert.deepEqual(listed, ['other/tool']);
    } finally {
      await bob.close();
    }
  });

  it('administration detail pages (user, team, robot, GC run, retention preview, quota) pass axe in light and dark', async () => {
    // Needs bob, team devs and robot ci from the test before; adds a dry GC run, a retention policy and a quota.
    const auth = basic(ADMIN.user, ADMIN.password);
    for (const tag of ['v1', 'v2', 'v3']) await pushImage(registry.url, 'ret/app', tag, auth);
    await withPages(async (light, dark) => {
      const { page } = light;
      await page.goto('/ui/admin/retention/-/new');
      await page.fill('#ret-namespace', 'ret');
      await page.fill('#keep-0-pushedCount', '1');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.waitForURL(/\/ui\/admin\/retention/);
      await page.goto('/ui/admin/quotas');
      await page.fill('#quota-namespace', 'team');
      await page.fill('#quota-limit', '1GiB');
      await page.getByRole('button', { name: 'Save quota' }).click();
      await page.waitForURL(/\/ui\/admin\/quotas/);
      // A dry run in each scheme: its report is the answer to the POST, so each context makes one.
      let runHref = '';
      for (const [checked, scheme] of [
        [light, 'light'],
        [dark, 'dark'],
      ] as const) {
        await checked.page.goto('/ui/admin/gc');
        await checked.page.getByLabel(/dry run/i).check();
        await checked.page.getByRole('button', { name: 'Run garbage collection' }).click();
        const details = checked.page.getByRole('link', { name: 'Details of this dry run' });
        await details.waitFor();
        await checkPage(checked, 'admin-gc-dry-run');
        runHref ||= (await details.getAttribute('href')) ?? '';
        assert.ok(runHref, scheme);
      }
      const pages: [string, string][] = [
        ['/ui/admin/users/bob', 'admin-user'],
        ['/ui/admin/teams/devs', 'admin-team'],
        [`/ui/admin/robots/${encodeURIComponent('robot$ci')}`, 'admin-robot'],
        [runHref, 'admin-gc-run'],
        ['/ui/admin/retention/ret/-/preview', 'admin-retention-preview'],
        ['/ui/admin/retention/ret', 'admin-retention-edit'],
        ['/ui/admin/quotas/team', 'admin-quota'],
      ];
      for (const [path, name] of pages) {
        // The name in the title is at heading size (h1.mono was 12px), and the summary card beside
        // the edit form is as tall as its content, not stretched to the form's height.
        await visitBoth(light, dark, path, name);
        const emptyBelow = await light.page.locator('.grid-start > .card').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().bottom - e.lastElementChild!.getBoundingClientRect().bottom));
        for (const px of emptyBelow) assert.ok(px <= 24, `${path}: a card ends ${px}px below its content`);
      }
      // What the detail pages say, once.
      await page.goto('/ui/admin/teams/devs');
      assert.match(await page.locator('main').innerText(), new RegExp(BOB.user));
      await page.goto('/ui/admin/retention/ret/-/preview');
      const doomed = await page.locator('main table').first().locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.querySelector('th, td')?.textContent?.trim()));
      assert.deepEqual(doomed.sort(), ['v1', 'v2'], 'v1 and v2 would go; v3, the most recently pushed, is kept');
      await page.goto('/ui/admin/quotas/team');
      assert.match(await page.locator('main').innerText(), /1(\.0)? GiB/);
    });
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
