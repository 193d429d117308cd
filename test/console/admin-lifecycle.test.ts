// The console's lifecycle administration (/ui/admin/gc, /retention, /immutable, /quotas) against a
// real registry with no authentication (the console is open: every visitor is a site admin, and
// CSRF is still checked): a GC dry run lists what would go and deletes nothing, a real run is
// started and its page shows it, a busy lease is a 409 with a message; a retention policy is
// previewed before it is saved and from the list; an immutable rule added here stops the console's
// tag deletion; a quota set here shows with its usage; a POST without _csrf is refused; the pages
// speak Chinese with Accept-Language: zh-CN.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { pushBlob, pushImage, randomBlob, startTestRegistry, OCI_MANIFEST, type TestRegistry } from '../http/harness.ts';
import { GC_LEASE } from '../../src/lifecycle/blob-writes.ts';
import { axeViolations, browserSkip, formatViolations, launchBrowser, openPage } from '../helpers/browser.ts';
import { ConsoleFormClient } from '../helpers/console-client.ts';

function location(res: Response): string {
  assert.equal(res.status, 303, `expected a redirect, got ${res.status}`);
  const l = res.headers.get('location');
  assert.ok(l);
  return l;
}

async function api(reg: TestRegistry, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${reg.url}/api/v1${path}`);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function blobStatus(reg: TestRegistry, repo: string, digest: string): Promise<number> {
  return (await fetch(`${reg.url}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' })).status;
}

async function tagStatus(reg: TestRegistry, repo: string, tag: string): Promise<number> {
  return (await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: OCI_MANIFEST } })).status;
}

/** The text of an element's content, with tags removed and whitespace collapsed. */
function text(html: string): string {
  return html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
}

describe('console: lifecycle administration', () => {
  let reg: TestRegistry;
  let b: ConsoleFormClient;
  let loose: string;
  before(async () => {
    reg = await startTestRegistry((c) => {
      c.berth.lifecycle.gc.enabled = false;
      c.berth.lifecycle.immutableTags = [{ repositories: ['base/**'], tags: ['stable'] }];
      c.berth.lifecycle.quotas = [{ repositories: ['base/**'], limitBytes: 1024 ** 3 }];
      c.berth.lifecycle.retention.policies = [{ repositories: ['ci/**'], deleteUntagged: true, deleteReferrers: false, keepTags: [{ patterns: ['^release-'] }] }];
    });
    for (const tag of ['v1', 'v2', 'v3', 'latest']) {
      await pushImage(reg.url, 'team/app', tag);
      await sleep(5); // distinct push times, so "most recently pushed" has one answer
    }
    await pushImage(reg.url, 'team/tools', 'v1');
    // A blob linked to team/app that no manifest refers to: garbage once its grace period is over.
    loose = await pushBlob(reg.url, 'team/app', randomBlob(4096).data);
    b = new ConsoleFormClient(reg.url);
  });
  after(() => reg?.stop());

  it('lists the four areas on the administration overview', async () => {
    const html = await b.page('/ui/admin/');
    for (const path of ['/ui/admin/gc', '/ui/admin/retention', '/ui/admin/immutable', '/ui/admin/quotas']) assert.ok(html.includes(`href="${path}"`), path);
    assert.match(html, /Garbage collection/);
    assert.match(html, /Quotas and usage/);
  });

  it('GC: shows the settings, and a dry run lists what would be removed without removing it', async () => {
    const page = await b.page('/ui/admin/gc');
    assert.match(page, /Background collector/);
    assert.match(page, /<label for="gc-delay">/);
    const csrf = await b.csrf('/ui/admin/gc');
    const res = await b.post('/ui/admin/gc/run', { _csrf: csrf, dryRun: 'on', delay: '0s' });
    const html = await res.text();
    assert.equal(res.status, 200, html.slice(0, 2000));
    assert.match(html, /Garbage collection dry run/);
    assert.match(html, /Would remove/);
    assert.ok(html.includes(loose), 'the unreferenced blob is listed');
    assert.equal(await blobStatus(reg, 'team/app', loose), 200, 'a dry run deletes nothing');
    // The dry run is in the list of runs, as a dry run.
    const runs = (await api(reg, '/gc/runs')).body.runs as { id: string; dryRun: boolean; blobsRemoved: number }[];
    assert.equal(runs[0]!.dryRun, true);
    assert.ok(runs[0]!.blobsRemoved >= 1);
    assert.ok(html.includes(`/ui/admin/gc/runs/${runs[0]!.id}`));
  });

  it('GC: an invalid grace period is refused with an alert, and nothing runs', async () => {
    const before = (await api(reg, '/gc/runs')).body.runs.length;
    const res = await b.post('/ui/admin/gc/run', { _csrf: await b.csrf('/ui/admin/gc'), delay: 'soon' });
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.match(html, /role="alert"/);
    assert.match(html, /aria-invalid="true"/);
    assert.equal((await api(reg, '/gc/runs')).body.runs.length, before);
  });

  it('GC: a busy lease is a 409 with a clear message', async () => {
    const lifecycle = reg.services.metadata.lifecycle;
    assert.ok(await lifecycle.acquireLease(GC_LEASE, 'another-replica', 60_000));
    try {
      for (const dryRun of [true, false]) {
        const res = await b.post('/ui/admin/gc/run', { _csrf: await b.csrf('/ui/admin/gc'), delay: '0s', ...(dryRun && { dryRun: 'on' }) });
        assert.equal(res.status, 409);
        const html = await res.text();
        assert.match(text(html), /Another garbage collection is running/);
        assert.match(html, /role="alert"/);
      }
    } finally {
      await lifecycle.releaseLease(GC_LEASE, 'another-replica');
    }
  });

  it('GC: a real run is started and its page shows it until it has finished', async () => {
    const res = await b.post('/ui/admin/gc/run', { _csrf: await b.csrf('/ui/admin/gc'), delay: '0s' });
    const where = location(res);
    const m = /^\/ui\/admin\/gc\/runs\/([0-9a-f-]+)$/.exec(where);
    assert.ok(m, where);
    let html = await b.page(where);
    assert.match(html, /Garbage collection started\./, 'the one-shot notice');
    assert.ok(html.includes(m[1]!), 'the run id is shown');
    for (let i = 0; i < 400 && /Running/.test(html); i++) {
      await sleep(50);
      html = await b.page(where);
    }
    assert.doesNotMatch(html, /Garbage collection started\./, 'the notice is shown once');
    assert.match(html, /Succeeded/);
    assert.match(html, /Deleting/);
    assert.match(text(html), /Removed/);
    assert.equal(await blobStatus(reg, 'team/app', loose), 404, 'the unreferenced blob is gone');
    const list = await b.page('/ui/admin/gc');
    assert.ok(list.includes(`/ui/admin/gc/runs/${m[1]}`), 'the run is in the recent runs');
    await b.page('/ui/admin/gc/runs/no-such-run', 404);
  });

  it('retention: previews a new policy before saving it, then saves, previews and deletes it', async () => {
    await b.page('/ui/admin/retention/-/new');
    const csrf = await b.csrf('/ui/admin/retention/-/new');
    const form = {
      _csrf: csrf,
      namespace: 'team',
      entries: '2',
      'keep-0-patterns': '^v',
      'keep-0-pushedCount': '1',
      'keep-1-patterns': '^latest$',
    };
    const preview = await b.post('/ui/admin/retention/-/new', { ...form, action: 'preview' });
    const html = await preview.text();
    assert.equal(preview.status, 200, html.slice(0, 2000));
    assert.match(html, /Preview: what a run would delete now/);
    const tags = [...html.matchAll(/<th scope="row" class="mono">([^<]+)<\/th><td class="mono"><a href="\/ui\/repo\/team\/app\/-\/manifest/g)].map((x) => x[1]).sort();
    assert.deepEqual(tags, ['v1', 'v2']);
    assert.match(text(html), /A run now would delete 2 tags and 2 manifests in 1 repository \(2 repositories are under a policy\)/);
    assert.ok(html.includes('value="^v"') || html.includes('>^v</textarea>'), 'the form keeps what was typed');
    assert.equal((await api(reg, '/retention')).body.namespaces.length, 0, 'a preview saves nothing');
    assert.equal(await tagStatus(reg, 'team/app', 'v1'), 200, 'a preview deletes nothing');

    // Invalid input: an alert, and the field marked.
    const bad = await b.post('/ui/admin/retention/-/new', { ...form, 'keep-0-patterns': '(', action: 'save' });
    assert.equal(bad.status, 400);
    const badHtml = await bad.text();
    assert.match(badHtml, /role="alert"/);
    assert.match(badHtml, /id="keep-0-patterns"[^>]*aria-invalid="true"/);

    // "Add another entry" keeps the values and adds a blank entry.
    const more = await b.post('/ui/admin/retention/-/new', { ...form, action: 'more' });
    const moreHtml = await more.text();
    assert.equal(more.status, 200);
    assert.match(moreHtml, /name="keep-2-patterns"/);
    assert.match(moreHtml, /name="entries" value="3"/);

    const saved = await b.post('/ui/admin/retention/-/new', { ...form, action: 'save' });
    assert.equal(location(saved), '/ui/admin/retention');
    const one = await api(reg, '/retention/team');
    assert.equal(one.status, 200);
    assert.deepEqual(one.body.policy, { deleteUntagged: false, deleteReferrers: false, keepTags: [{ patterns: ['^v'], mostRecentlyPushedCount: 1 }, { patterns: ['^latest$'] }] });

    const list = await b.page('/ui/admin/retention');
    assert.match(list, /Saved the retention policy for team\./);
    assert.ok(list.includes('href="/ui/admin/retention/team/-/preview"'));
    assert.match(list, /berth\.retention\.policies\[0\]/, 'the config policies are listed');
    assert.ok(list.includes('<code>ci/**</code>'));

    const again = await b.page('/ui/admin/retention/team/-/preview');
    for (const tag of ['v1', 'v2']) assert.ok(again.includes(`<th scope="row" class="mono">${tag}</th>`), tag);
    assert.ok(!again.includes('<th scope="row" class="mono">v3</th>'));
    assert.ok(!again.includes('<th scope="row" class="mono">latest</th>'));

    const edit = await b.page('/ui/admin/retention/team');
    assert.match(edit, /<textarea[^>]*name="keep-0-patterns"[^>]*>\^v<\/textarea>/);
    // Saving a second "new" policy for the namespace is refused (edit it instead).
    const dup = await b.post('/ui/admin/retention/-/new', { ...form, action: 'save' });
    assert.equal(dup.status, 409);

    // The confirmation page without JavaScript, then the delete.
    const confirm = await b.page('/ui/admin/retention/team/-/delete');
    assert.match(confirm, /Delete the retention policy for team\?/);
    const del = await b.post('/ui/admin/retention/team/-/delete', { _csrf: csrf });
    assert.equal(location(del), '/ui/admin/retention');
    assert.equal((await api(reg, '/retention/team')).status, 404);
    assert.equal(await tagStatus(reg, 'team/app', 'v1'), 200);
  });

  it('immutable tags: a rule added here makes the console refuse deleting a matching tag', async () => {
    const csrf = await b.csrf('/ui/admin/immutable');
    const bad = await b.post('/ui/admin/immutable/-/new', { _csrf: csrf, namespace: 'team', patterns: 'v[0-9' });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /role="alert"/);

    const res = await b.post('/ui/admin/immutable/-/new', { _csrf: csrf, namespace: 'team', patterns: 'v[0-9]+' });
    assert.equal(location(res), '/ui/admin/immutable');
    const list = await b.page('/ui/admin/immutable');
    assert.match(list, /Added an immutable tag rule for team\./);
    assert.ok(list.includes('<code>v[0-9]+</code>'));
    assert.match(list, /berth\.immutabletags\[0\]/, 'the config rules are listed');
    assert.equal((await api(reg, '/immutabletags/team')).body.tags[0], 'v[0-9]+');

    // Adding to a namespace that has a rule adds the patterns.
    const more = await b.post('/ui/admin/immutable/-/new', { _csrf: csrf, namespace: 'team', patterns: 'release-.*' });
    location(more);
    assert.deepEqual((await api(reg, '/immutabletags/team')).body.tags, ['v[0-9]+', 'release-.*']);

    const refused = await b.post('/ui/repo/team/app/-/delete-tags', { _csrf: csrf, tag: 'v3' });
    assert.equal(location(refused), '/ui/repo/team/app');
    assert.equal(await tagStatus(reg, 'team/app', 'v3'), 200, 'the immutable tag is still there');
    const repoPage = await b.page('/ui/repo/team/app');
    assert.match(text(repoPage), /v3/);
    assert.match(repoPage, /immutable/i);

    // Edit (replace the patterns), then delete the rule; the tag can be deleted again.
    const edit = await b.post('/ui/admin/immutable/team', { _csrf: csrf, patterns: 'v1\nv2' });
    location(edit);
    assert.deepEqual((await api(reg, '/immutabletags/team')).body.tags, ['v1', 'v2']);
    const del = await b.post('/ui/admin/immutable/team/-/delete', { _csrf: csrf });
    assert.equal(location(del), '/ui/admin/immutable');
    assert.equal((await api(reg, '/immutabletags/team')).status, 404);
    const deleted = await b.post('/ui/repo/team/app/-/delete-tags', { _csrf: csrf, tag: 'v3' });
    location(deleted);
    assert.equal(await tagStatus(reg, 'team/app', 'v3'), 404);
  });

  it('quotas: a quota set here shows with the namespace usage, and can be removed', async () => {
    const csrf = await b.csrf('/ui/admin/quotas');
    const bad = await b.post('/ui/admin/quotas/-/new', { _csrf: csrf, namespace: 'team', limit: 'lots' });
    assert.equal(bad.status, 400);
    const badHtml = await bad.text();
    assert.match(badHtml, /role="alert"/);
    assert.match(badHtml, /id="quota-limit"[^>]*aria-invalid="true"/);

    const res = await b.post('/ui/admin/quotas/-/new', { _csrf: csrf, namespace: 'team', limit: '10MiB' });
    assert.equal(location(res), '/ui/admin/quotas/team');
    const quota = await api(reg, '/quotas/team');
    assert.equal(quota.body.limitBytes, 10 * 1024 ** 2);
    const used = quota.body.usedBytes as number;
    assert.ok(used > 0);

    const page = await b.page('/ui/admin/quotas/team');
    assert.match(page, /The quota of team is now 10 MiB\./);
    assert.match(page, new RegExp(`<meter min="0" max="${10 * 1024 ** 2}"[^>]*value="${used}"[^>]*aria-label="[^"]+">`));
    assert.ok(page.includes('href="/ui/repo/team/app"') && page.includes('href="/ui/repo/team/tools"'), 'the repositories are listed');
    assert.match(text(page), /of 10 MiB \(/);
    assert.match(page, /name="limit"[^>]*value="10MiB"/);

    const overview = await b.page('/ui/admin/quotas');
    assert.ok(overview.includes('href="/ui/admin/quotas/team"'));
    assert.match(overview, /<meter [^>]*aria-label="Quota usage of team"/);
    assert.match(overview, /berth\.quotas\[0\]/);
    assert.ok(overview.includes('<code>team/**</code>'));

    const del = await b.post('/ui/admin/quotas/team/-/delete', { _csrf: csrf });
    assert.equal(location(del), '/ui/admin/quotas');
    assert.equal((await api(reg, '/quotas/team')).status, 404);
  });

  it('refuses a POST without _csrf, or without the visitor cookie, with 403 and changes nothing', async () => {
    const runs = (await api(reg, '/gc/runs')).body.runs.length;
    const noToken = await b.post('/ui/admin/gc/run', { dryRun: 'on' });
    assert.equal(noToken.status, 403);
    const csrf = await b.csrf('/ui/admin/quotas');
    const noCookie = await b.post('/ui/admin/quotas/-/new', { _csrf: csrf, namespace: 'team', limit: '1GiB' }, { cookies: false });
    assert.equal(noCookie.status, 403);
    assert.equal((await api(reg, '/gc/runs')).body.runs.length, runs);
    assert.equal((await api(reg, '/quotas/team')).status, 404);
  });

  it('renders every page without inline styles, with labelled fields, and 404 for unknown paths', async () => {
    for (const path of ['/ui/admin/gc', '/ui/admin/retention', '/ui/admin/retention/-/new', '/ui/admin/retention/-/preview', '/ui/admin/immutable', '/ui/admin/quotas', '/ui/admin/quotas/team']) {
      const html = await b.page(path);
      assert.doesNotMatch(html, /\sstyle="/, path);
      for (const id of html.matchAll(/<(?:input|textarea|select)(?![^>]*type="(?:hidden|checkbox|radio|search)")[^>]*\sid="([^"]+)"/g)) {
        assert.ok(html.includes(`<label for="${id[1]}"`) || html.includes(`<label class="visually-hidden" for="${id[1]}"`), `${path}: #${id[1]} has a label`);
      }
    }
    await b.page('/ui/admin/retention/nope', 404);
    await b.page('/ui/admin/quotas/Bad%20Name', 404);
    await b.page('/ui/admin/gc/whatever', 404);
  });

  it('speaks Chinese with Accept-Language: zh-CN', async () => {
    const zh = new ConsoleFormClient(reg.url, 'zh-CN');
    const pages: [string, RegExp][] = [
      ['/ui/admin/gc', /立即运行/],
      ['/ui/admin/retention', /命名空间策略/],
      ['/ui/admin/retention/-/new', /新建保留策略/],
      ['/ui/admin/immutable', /不可变标签/],
      ['/ui/admin/quotas', /各命名空间用量/],
      ['/ui/admin/quotas/team', /team 的用量/],
    ];
    for (const [path, expected] of pages) {
      const html = await zh.page(path);
      assert.match(html, /<html lang="zh-CN"/, path);
      assert.match(html, expected, path);
    }
    const gc = await zh.page('/ui/admin/gc');
    assert.doesNotMatch(gc, /Recent runs|Run now|Background collector/);
    const dry = await zh.post('/ui/admin/gc/run', { _csrf: await zh.csrf('/ui/admin/gc'), dryRun: 'on' });
    assert.equal(dry.status, 200);
    assert.match(await dry.text(), /垃圾回收试运行/);
  });

  it('works in a browser without JavaScript, with no accessibility violations in light or dark', { skip: browserSkip }, async () => {
    const put = await fetch(`${reg.url}/api/v1/retention/team`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keepTags: [{ patterns: ['^v'], mostRecentlyPushedCount: 1 }] }) });
    assert.equal(put.status, 200);
    const quota = await fetch(`${reg.url}/api/v1/quotas/team`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ limit: '1MiB' }) });
    assert.equal(quota.status, 200);
    const runId = ((await api(reg, '/gc/runs')).body.runs as { id: string }[])[0]!.id;
    const paths = ['/ui/admin/gc', `/ui/admin/gc/runs/${runId}`, '/ui/admin/retention', '/ui/admin/retention/team', '/ui/admin/retention/team/-/preview', '/ui/admin/immutable', '/ui/admin/quotas', '/ui/admin/quotas/team'];
    const browser = await launchBrowser();
    try {
      for (const colorScheme of ['light', 'dark'] as const) {
        const checked = await openPage(browser, { baseURL: reg.url, colorScheme, javaScriptEnabled: false });
        try {
          for (const path of paths) {
            await checked.page.goto(path);
            const violations = await axeViolations(checked.page);
            assert.equal(violations.length, 0, `${path} (${colorScheme}):\n${formatViolations(violations)}`);
          }
          // Plain forms: a dry run, then a retention preview of the form's values.
          await checked.page.goto('/ui/admin/gc');
          await checked.page.fill('#gc-delay', '0s');
          await checked.page.click('text=Run garbage collection');
          await checked.page.waitForSelector('h1:has-text("Garbage collection dry run")');
          assert.equal((await axeViolations(checked.page)).length, 0);
          await checked.page.goto('/ui/admin/retention/team');
          await checked.page.click('button[value="preview"]');
          await checked.page.waitForSelector('#preview');
          assert.match(checked.page.url(), /#preview$/);
          assert.match(await checked.page.textContent('#preview') ?? '', /v1/);
          assert.equal((await axeViolations(checked.page)).length, 0);
          checked.assertClean();
        } finally {
          await checked.close();
        }
      }
    } finally {
      await browser.close();
    }
  });
});
