// The console's notifications administration (/ui/admin/notifications) against a real registry
// whose two endpoints refuse every delivery, so that events end on the dead-letter list (maxage 1s).
// No authentication is configured: the console is open (every visitor is a site admin) and CSRF is
// still checked. The page shows each endpoint's state and the dead letters a page at a time, by
// endpoint; retrying one sends it again with the same event id, deleting one asks first (a page
// without JavaScript, a dialog with it), retrying all of an endpoint empties its list; the page says
// the same as the admin API, hides the webhook's token, speaks Chinese, and passes axe in chromium.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/index.ts';
import { pushBlob, startTestRegistry, type TestRegistry } from '../http/harness.ts';
import { startReceiver, type Receiver } from '../events/receiver.ts';
import { ConsoleClient, textOf } from '../helpers/console-client.ts';
import { axeViolations, browserSkip, checkPage, formatViolations, launchBrowser, openPage } from '../helpers/browser.ts';

const TOKEN = 'tok-3f9a-very-secret';
/** More than one page of dead letters (the page shows 50). */
const PUSHES = 53;

interface ApiLetter {
  id: number;
  endpoint: string;
  eventId: string;
  event: { action: string; target: { repository: string; digest: string } };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('console: notifications administration', { timeout: 240_000 }, () => {
  let flaky: Receiver;
  let other: Receiver;
  let reg: TestRegistry;
  let c: ConsoleClient;
  const digests: string[] = [];

  async function api<T>(path: string): Promise<T> {
    const res = await fetch(`${reg.url}/api/v1/notifications${path}`);
    assert.equal(res.status, 200, path);
    return (await res.json()) as T;
  }
  const letters = async (endpoint: string) => (await api<{ deadLetters: ApiLetter[] }>(`/deadletters?endpoint=${endpoint}&n=1000`)).deadLetters;

  before(async () => {
    [flaky, other] = await Promise.all([startReceiver(), startReceiver()]);
    flaky.setStatus(500);
    other.setStatus(503);
    const loaded = loadConfig({
      text: `version: 0.1
notifications:
  endpoints:
    - {name: flaky, url: "${flaky.url}?token=${TOKEN}", threshold: 1, backoff: 100ms}
    - {name: other, url: "${other.url}", threshold: 1, backoff: 100ms}
berth:
  notifications: {maxage: 1s, maxbackoff: 200ms}
`,
      env: {},
    }).config;
    reg = await startTestRegistry((cfg) => {
      cfg.notifications = loaded.notifications;
    });
    for (let i = 0; i < PUSHES; i++) digests.push(await pushBlob(reg.url, 'hooks/app', randomBytes(64)));
    const deadline = Date.now() + 60_000;
    while ((await letters('flaky')).length < PUSHES || (await letters('other')).length < PUSHES) {
      assert.ok(Date.now() < deadline, 'the events were dead-lettered');
      await sleep(250);
    }
    c = new ConsoleClient(reg.url);
  });

  after(async () => {
    await reg?.stop();
    await Promise.all([flaky?.stop(), other?.stop()]);
  });

  it('is an area of the administration overview', async () => {
    const page = await c.page('/ui/admin/');
    assert.ok(page.includes('href="/ui/admin/notifications"'));
    assert.match(page, /Notifications/);
  });

  it('shows each endpoint as the admin API does, with its token hidden', async () => {
    const page = await c.page('/ui/admin/notifications');
    const { endpoints } = await api<{ endpoints: { name: string; url: string; backlog: number; failures: number; deadLetters: number; lastError: string }[] }>('/endpoints');
    assert.deepEqual(endpoints.map((e) => [e.name, e.deadLetters, e.backlog]), [
      ['flaky', PUSHES, 0],
      ['other', PUSHES, 0],
    ]);
    const table = textOf(/<table class="data" id="nt-endpoints">[\s\S]*?<\/table>/.exec(page)![0]);
    assert.match(table, new RegExp(`flaky ${flaky.url.replace(/[.?]/g, '\\$&')}\\?token=\\*\\*\\*`));
    assert.match(table, /HTTP 500/);
    assert.match(table, /HTTP 503/);
    assert.match(table, new RegExp(`Show ${PUSHES}`));
    assert.match(table, new RegExp(`Retry all ${PUSHES}`));
    assert.ok(!page.includes(TOKEN), 'the page does not show the token');
    assert.ok(!JSON.stringify(endpoints).includes(TOKEN), 'nor does the API');
    assert.equal(endpoints[0]!.url, `${flaky.url}?token=***`);
  });

  it('lists dead letters oldest first, 50 a page, with action, target, times, attempts and the last error', async () => {
    const first = await c.page('/ui/admin/notifications?endpoint=flaky');
    assert.match(first, /<h2 id="nt-letters-title">Dead letters of flaky<\/h2>/);
    const rows = [...first.matchAll(/<tr id="nt-letter-(\d+)">([\s\S]*?)<\/tr>/g)];
    assert.equal(rows.length, 50);
    const api1 = await letters('flaky');
    assert.deepEqual(rows.map((r) => Number(r[1])), api1.slice(0, 50).map((l) => l.id));
    const row = textOf(rows[0]![2]!);
    assert.match(row, /push/);
    assert.match(row, /hooks\/app/);
    assert.match(row, new RegExp(`digest ${digests[0]!.slice(0, 19)}`));
    assert.match(row, /HTTP 500/);
    assert.match(rows[0]![2]!, new RegExp(`title="${digests[0]}"`));
    assert.match(rows[0]![2]!, /<time datetime="\d{4}-\d\d-\d\dT/);

    const next = /<a rel="next" href="([^"]+)">/.exec(first)?.[1];
    assert.equal(next, `/ui/admin/notifications?endpoint=flaky&amp;last=${api1[49]!.id}`);
    const second = await c.page(next!.replace(/&amp;/g, '&'));
    const rest = [...second.matchAll(/<tr id="nt-letter-(\d+)">/g)].map((r) => Number(r[1]));
    assert.deepEqual(rest, api1.slice(50).map((l) => l.id));
    assert.ok(!second.includes('rel="next"'));
    assert.ok(second.includes('href="/ui/admin/notifications?endpoint=flaky">← Oldest</a>'));

    // All endpoints: both endpoints' letters, by id.
    const all = await c.page('/ui/admin/notifications');
    assert.match(all, /<h2 id="nt-letters-title">Dead letters<\/h2>/);
    assert.equal([...all.matchAll(/<tr id="nt-letter-/g)].length, 50);
  });

  it('answers an unknown endpoint with 404 and a bad page link with 400, both with a message', async () => {
    const unknown = await c.page('/ui/admin/notifications?endpoint=nope', 404);
    assert.match(unknown, /There is no endpoint named nope\./);
    assert.ok(!unknown.includes('id="nt-letter-'));
    const bad = await c.page('/ui/admin/notifications?last=abc', 400);
    assert.match(bad, /That page link is not valid/);
    assert.equal([...bad.matchAll(/<tr id="nt-letter-/g)].length, 50);
    await c.page('/ui/admin/notifications/deadletters/999999/delete', 404);
    await c.page('/ui/admin/notifications/whatever', 404);
  });

  it('refuses a post without the CSRF token and changes nothing', async () => {
    const [one] = await letters('flaky');
    await c.page('/ui/admin/notifications');
    let res = await c.post(`/ui/admin/notifications/deadletters/${one!.id}/delete`, {}, { csrf: false });
    assert.equal(res.status, 403);
    res = await c.post('/ui/admin/notifications/retry', { endpoint: 'flaky' }, { cookies: false });
    assert.equal(res.status, 403);
    assert.equal((await letters('flaky')).length, PUSHES);
  });

  it('speaks Chinese with Accept-Language: zh-CN', async () => {
    const zh = new ConsoleClient(reg.url, 'zh-CN');
    const page = await zh.page('/ui/admin/notifications?endpoint=flaky');
    assert.match(page, /<html lang="zh-CN"/);
    assert.match(page, /flaky 的死信/);
    assert.match(page, /全部重试（53 个）/);
    assert.doesNotMatch(textOf(page), /Dead letters|Retry all|Last error/);
  });

  it('retries one dead letter: the endpoint gets it again with the same event id', async () => {
    flaky.setStatus(200);
    const [one] = await letters('flaky');
    await c.page('/ui/admin/notifications?endpoint=flaky');
    const page = await c.submit(`/ui/admin/notifications/deadletters/${one!.id}/retry?endpoint=flaky`, {}, '/ui/admin/notifications?endpoint=flaky');
    assert.match(page, new RegExp(`Event ${one!.id} is queued again for flaky\\.`));
    assert.ok(!page.includes(`id="nt-letter-${one!.id}"`));
    const got = await flaky.waitFor((ev) => ev.some((e) => e.id === one!.eventId), 10_000, 'the retried event');
    assert.equal(got.find((e) => e.id === one!.eventId)!.target.digest, digests[0]);
    assert.equal((await letters('flaky')).length, PUSHES - 1);
    // Once more: it is gone, and the page says so.
    const again = await c.submit(`/ui/admin/notifications/deadletters/${one!.id}/retry`, {}, '/ui/admin/notifications');
    assert.match(again, new RegExp(`Dead letter ${one!.id} is no longer there`));
  });

  it('deletes one dead letter after a confirmation page (no JavaScript needed)', async () => {
    const [, two] = await letters('flaky');
    const page = await c.page('/ui/admin/notifications?endpoint=flaky');
    const href = `/ui/admin/notifications/deadletters/${two!.id}/delete?endpoint=flaky`;
    assert.ok(page.includes(`href="${href.replace(/&/g, '&amp;')}" data-dialog="nt-del-${two!.id}"`));
    const confirm = await c.page(href);
    assert.match(confirm, new RegExp(`Delete dead letter ${two!.id}\\?`));
    assert.match(textOf(confirm), new RegExp(`The event \\(push hooks/app@${two!.event.target.digest.slice(0, 19)}\\) will never be sent to flaky`));
    assert.equal((await letters('flaky')).length, PUSHES - 1, 'nothing deleted by the GET');
    const after = await c.submit(href, {}, '/ui/admin/notifications?endpoint=flaky');
    assert.match(after, new RegExp(`Dead letter ${two!.id} was deleted\\.`));
    const left = await letters('flaky');
    assert.equal(left.length, PUSHES - 2);
    assert.ok(!left.some((l) => l.id === two!.id));
    await sleep(300);
    assert.ok(!flaky.accepted().some((e) => e.id === two!.eventId), 'a deleted letter is never sent');
  });

  it('works in chromium without and with JavaScript, with no accessibility violations in light or dark', { skip: browserSkip }, async () => {
    const browser = await launchBrowser();
    try {
      for (const colorScheme of ['light', 'dark'] as const) {
        const checked = await openPage(browser, { baseURL: reg.url, colorScheme, javaScriptEnabled: false });
        try {
          await checked.page.goto('/ui/admin/notifications');
          await checkPage(checked, 'admin-notifications');
          await checked.page.goto('/ui/admin/notifications?endpoint=flaky');
          await checkPage(checked, 'admin-notifications-endpoint');
          if (colorScheme === 'light') {
            // Without JavaScript, Delete is a link to the confirmation page.
            const [first] = await letters('flaky');
            await checked.page.click(`#nt-letter-${first!.id} a:has-text("Delete")`);
            await checked.page.waitForSelector('h1:has-text("Delete dead letter")');
            assert.equal((await axeViolations(checked.page)).length, 0);
            await checked.page.click('button:has-text("Delete dead letter")');
            await checked.page.waitForSelector(`text=Dead letter ${first!.id} was deleted.`);
            assert.match(checked.page.url(), /\/ui\/admin\/notifications\?endpoint=flaky$/);
          }
          checked.assertClean();
        } finally {
          await checked.close();
        }
      }
      // With JavaScript: the dialog, then a retry button.
      const js = await openPage(browser, { baseURL: reg.url });
      try {
        await js.page.goto('/ui/admin/notifications?endpoint=flaky');
        const [first, second] = await letters('flaky');
        await js.page.click(`#nt-letter-${first!.id} a:has-text("Delete")`);
        const dialog = js.page.locator(`#nt-del-${first!.id}`);
        await dialog.waitFor({ state: 'visible' });
        const violations = await axeViolations(js.page);
        assert.equal(violations.length, 0, formatViolations(violations));
        await dialog.locator('button[type="submit"]').click();
        await js.page.waitForSelector(`text=Dead letter ${first!.id} was deleted.`);
        await js.page.click(`#nt-letter-${second!.id} button:has-text("Retry")`);
        await js.page.waitForSelector(`text=Event ${second!.id} is queued again for flaky.`);
        await flaky.waitFor((ev) => ev.some((e) => e.id === second!.eventId), 10_000, 'the event retried in the browser');
        js.assertClean();
      } finally {
        await js.close();
      }
    } finally {
      await browser.close();
    }
  });

  it('retries all dead letters of an endpoint, in their order, and the list is then empty', async () => {
    other.setStatus(200);
    const before = await letters('other');
    assert.equal(before.length, PUSHES);
    await c.page('/ui/admin/notifications');
    const page = await c.submit('/ui/admin/notifications/retry', { endpoint: 'other' }, '/ui/admin/notifications');
    assert.match(page, new RegExp(`${PUSHES} events are queued again for other\\.`));
    const got = await other.waitFor((ev) => before.every((l) => ev.some((e) => e.id === l.eventId)), 20_000, 'every retried event');
    assert.deepEqual(
      got.filter((e) => before.some((l) => l.eventId === e.id)).map((e) => e.id),
      before.map((l) => l.eventId),
      'sent in their original order',
    );
    const empty = await c.page('/ui/admin/notifications?endpoint=other');
    assert.match(empty, /No dead letters for this endpoint\./);
    const nothing = await c.submit('/ui/admin/notifications/retry', { endpoint: 'other' }, '/ui/admin/notifications');
    assert.match(nothing, /other has no dead letters to retry\./);
    const unknown = await c.submit('/ui/admin/notifications/retry', { endpoint: 'nope' }, '/ui/admin/notifications');
    assert.match(unknown, /There is no endpoint named nope\./);
  });
});
