// The access-control administration pages (/ui/admin/{users,teams,permissions,namespaces,robots,
// tokens,ldap,audit}) driven over plain HTTP like a browser without JavaScript: a real berth with
// htpasswd users and access control, a console session from the login form, and each change
// checked where it matters (the registry API: a granted team member pushes, a public namespace
// answers anonymous pulls, a robot's secret pushes until it is rotated or deleted, a revoked token
// stops working), plus the refusals (non-admins get 403, a POST without the CSRF token 403),
// secrets shown once, the audit log's filters and pages, and both languages.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/index.ts';
import { basic, pushBlob, startAuthRegistry, startHtpasswdRegistry, type AuthRegistry } from '../auth/harness.ts';
import { ldapSection } from '../ldap/harness.ts';
import { axeViolations, browserSkip, formatViolations, launchBrowser, openPage } from '../helpers/browser.ts';
import { ConsoleClient } from '../helpers/console-client.ts';
import { PASSWORDS, SERVICE_DN, SERVICE_PW, SKIP_LDAP, startSlapd, type Slapd } from '../ldap/slapd.ts';

const USERS = { admin: 'admin-password-1', alice: 'alice-password-1', bob: 'bob-password-1' };

/** The shared console client, with a login through the form as one of USERS. */
class Browser extends ConsoleClient {
  async login(user: keyof typeof USERS): Promise<void> {
    await this.page('/ui/login');
    const res = await this.post('/ui/login', { username: user, password: USERS[user], next: '/ui/' });
    assert.equal(res.status, 303, `login ${user}`);
    assert.ok(this.cookies.has('berth_session'));
    // The session has its own CSRF token: take it from a page.
    await this.page('/ui/settings');
  }
}

const as = (user: keyof typeof USERS) => basic(user, USERS[user]);
const secretIn = (html: string, prefix: 'berth_rbt_' | 'berth_pat_') => {
  const m = new RegExp(`${prefix}[A-Za-z0-9_-]{20,}`).exec(html);
  assert.ok(m, `no ${prefix} secret in the page`);
  return m[0];
};

/** Every page of the access areas, for the refusal and language checks. */
const PAGES = ['/ui/admin/users', '/ui/admin/teams', '/ui/admin/permissions', '/ui/admin/namespaces', '/ui/admin/robots', '/ui/admin/tokens', '/ui/admin/ldap', '/ui/admin/audit'];

describe('console administration: access control', () => {
  let r: AuthRegistry;
  let admin: Browser;

  before(async () => {
    r = await startHtpasswdRegistry(USERS, (c) => {
      c.berth.auth.accessControl = { enabled: true, admins: ['admin'] };
      c.log.level = 'warn';
    });
    admin = new Browser(r.url);
    await admin.login('admin');
  });
  after(() => r?.stop());

  it('lists the access areas on the administration overview', async () => {
    const html = await admin.page('/ui/admin/');
    for (const p of PAGES) assert.ok(html.includes(`href="${p}"`), `overview links ${p}`);
  });

  it('creates, edits and deletes users, with errors shown next to the fields', async () => {
    let html = await admin.page('/ui/admin/users');
    assert.match(html, /<table class="data" id="users"|class="empty"/);
    // An invalid name and e-mail: 400, the form again with the values and the errors.
    const bad = await admin.post('/ui/admin/users', { name: 'no spaces', email: 'nope', source: 'local', displayName: 'Still here' });
    assert.equal(bad.status, 400);
    html = await bad.text();
    assert.match(html, /role="alert"/);
    assert.match(html, /id="nu-name"[^>]*aria-invalid="true"/);
    assert.match(html, /id="nu-email"[^>]*aria-invalid="true"/);
    assert.match(html, /value="Still here"/);
    // A local user with a password, who can then docker login.
    html = await admin.submit('/ui/admin/users', { name: 'carol', displayName: 'Carol C', email: 'carol@example.com', source: 'local', password: 'carol-password-1' }, '/ui/admin/users/carol');
    assert.match(html, /User carol created/);
    assert.match(html, /carol@example\.com/);
    assert.doesNotMatch(html, /carol-password-1/);
    assert.equal((await fetch(`${r.url}/v2/`, { headers: { Authorization: basic('carol', 'carol-password-1') } })).status, 200);
    // The same name again: refused with the store's conflict, translated.
    const again = await admin.post('/ui/admin/users', { name: 'carol', source: 'local' });
    assert.equal(again.status, 409);
    assert.match(await again.text(), /A user with this name already exists/);
    // A password for a directory user is refused.
    const dir = await admin.post('/ui/admin/users', { name: 'dora', source: 'htpasswd', password: 'dora-password-1' });
    assert.equal(dir.status, 400);
    assert.match(await dir.text(), /Only local users have a password here/);
    // Edit: disable carol; her password stops working.
    await admin.page('/ui/admin/users/carol');
    html = await admin.submit('/ui/admin/users/carol', { displayName: 'Carol C', email: 'carol@example.com', disabled: 'on' }, '/ui/admin/users/carol');
    assert.match(html, /User carol saved/);
    assert.match(html, /badge-danger">Disabled/);
    assert.equal((await fetch(`${r.url}/v2/`, { headers: { Authorization: basic('carol', 'carol-password-1') } })).status, 401);
    // Nothing changed: a notice, no audit event.
    html = await admin.submit('/ui/admin/users/carol', { displayName: 'Carol C', email: 'carol@example.com', disabled: 'on' });
    assert.match(html, /Nothing changed/);
    // Delete, through the confirmation page a browser without JavaScript sees.
    html = await admin.page('/ui/admin/users/carol/delete');
    assert.match(html, /Delete user carol\?/);
    html = await admin.submit('/ui/admin/users/carol/delete', {}, '/ui/admin/users');
    assert.match(html, /User carol deleted/);
    await admin.page('/ui/admin/users/carol', 404);
    // alice (htpasswd) gets a row, so that she can join a team.
    await admin.page('/ui/admin/users');
    await admin.submit('/ui/admin/users', { name: 'alice', source: 'htpasswd' }, '/ui/admin/users/alice');
  });

  it('creates a team, adds a member, grants the team a role that then allows pushes', async () => {
    await admin.page('/ui/admin/teams');
    let html = await admin.submit('/ui/admin/teams', { name: 'team-a', description: 'The A team' }, '/ui/admin/teams/team-a');
    assert.match(html, /Team team-a created/);
    html = await admin.submit('/ui/admin/teams/team-a/members', { user: 'alice' }, '/ui/admin/teams/team-a');
    assert.match(html, /alice added to team-a/);
    assert.match(html, /href="\/ui\/admin\/users\/alice"/);
    // An unknown user: the team page again, with the error.
    const unknown = await admin.post('/ui/admin/teams/team-a/members', { user: 'nobody' });
    assert.equal(unknown.status, 404);
    assert.match(await unknown.text(), /role="alert">There is no user with this name/);
    // Before the grant alice cannot push; after it she can, in team-a only.
    assert.equal((await pushBlob(r.url, 'team-a/app', as('alice'))).status, 403);
    await admin.page('/ui/admin/permissions');
    html = await admin.submit('/ui/admin/permissions', { subjectKind: 'team', subject: 'team-a', scopeKind: 'namespace', scope: 'team-a', role: 'write', back: '/ui/admin/permissions' }, '/ui/admin/permissions');
    assert.match(html, /team-a now has the Write role on team-a/);
    assert.equal((await pushBlob(r.url, 'team-a/app', as('alice'))).status, 201);
    assert.equal((await pushBlob(r.url, 'team-b/app', as('alice'))).status, 403);
    // The grant shows on the team's page and in the filtered list; a bad grant is refused.
    html = await admin.page('/ui/admin/teams/team-a');
    assert.match(html, /Roles granted to this team/);
    assert.match(html, /badge-muted">Write/);
    html = await admin.page('/ui/admin/permissions?scopeKind=namespace&scope=team-a&nested=on');
    assert.match(html, /Matching grants \(1\)/);
    const bad = await admin.post('/ui/admin/permissions', { subjectKind: 'team', subject: 'team-a', scopeKind: 'namespace', scope: 'Not/Valid', role: 'write' });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /id="g-scope"[^>]*aria-invalid="true"/);
    // The user page lists alice's team.
    html = await admin.page('/ui/admin/users/alice');
    assert.match(html, /href="\/ui\/admin\/teams\/team-a"/);
  });

  it('makes a namespace public (anonymous pulls) and private again', async () => {
    const tags = () => fetch(`${r.url}/v2/team-a/app/tags/list`);
    assert.equal((await tags()).status, 401);
    await admin.page('/ui/admin/namespaces');
    let html = await admin.submit('/ui/admin/namespaces', { name: 'team-a', visibility: 'public' }, '/ui/admin/namespaces');
    assert.match(html, /Namespace team-a is now public/);
    assert.match(html, /badge-public/);
    assert.notEqual((await tags()).status, 401);
    // Anonymous visitors may still only pull.
    assert.equal((await fetch(`${r.url}/v2/team-a/app/blobs/uploads/`, { method: 'POST' })).status, 401);
    html = await admin.submit('/ui/admin/namespaces', { name: 'team-a', visibility: 'private' });
    assert.match(html, /Namespace team-a is now private/);
    assert.equal((await tags()).status, 401);
    const bad = await admin.post('/ui/admin/namespaces', { name: '../x', visibility: 'public' });
    assert.equal(bad.status, 400);
  });

  it('creates a robot account whose secret is shown once and pushes, rotates it, and deletes it', async () => {
    await admin.page('/ui/admin/robots');
    const res = await admin.post('/ui/admin/robots', {
      name: 'ci',
      namespace: 'team-a',
      description: 'CI pushes',
      permKind: ['namespace', 'namespace', 'repository'],
      permName: ['', '', ''],
      permRole: ['write', '', ''],
    });
    const html = await res.text();
    assert.equal(res.status, 200, html.slice(0, 2000));
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const secret = secretIn(html, 'berth_rbt_');
    assert.match(html, /will not be shown again/);
    assert.match(html, /class="copy-row"/);
    assert.match(html, new RegExp(`data-copy="${secret}"`));
    const robot = { Authorization: basic('robot$ci', secret) };
    assert.equal((await pushBlob(r.url, 'team-a/robot-app', robot.Authorization)).status, 201);
    assert.equal((await pushBlob(r.url, 'team-b/robot-app', robot.Authorization)).status, 403);
    // Never shown again: not on the list, not on the robot's page.
    const list = await admin.page('/ui/admin/robots');
    assert.doesNotMatch(list, /berth_rbt_[A-Za-z0-9_-]{20,}/);
    assert.match(list, /robot\$ci/);
    const page = await admin.page('/ui/admin/robots/robot$ci');
    assert.doesNotMatch(page, new RegExp(secret));
    assert.match(page, /CI pushes/);
    // An admin role for a robot is refused.
    const bad = await admin.post('/ui/admin/permissions', { subjectKind: 'robot', subject: 'robot$ci', scopeKind: 'namespace', scope: 'team-a', role: 'admin' });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /Robot accounts cannot hold the admin role/);
    // Rotate: the confirmation page, then the new secret in the answer; the old one stops.
    await admin.page('/ui/admin/robots/robot$ci/rotate');
    const rotated = await admin.post('/ui/admin/robots/robot%24ci/rotate', {});
    const rotatedHtml = await rotated.text();
    assert.equal(rotated.status, 200);
    const fresh = secretIn(rotatedHtml, 'berth_rbt_');
    assert.notEqual(fresh, secret);
    assert.equal((await pushBlob(r.url, 'team-a/robot-app', robot.Authorization)).status, 401);
    assert.equal((await pushBlob(r.url, 'team-a/robot-app', basic('robot$ci', fresh))).status, 201);
    // Disable, then enable again, then delete.
    await admin.page('/ui/admin/robots/robot$ci');
    let after = await admin.submit('/ui/admin/robots/robot%24ci', { description: 'CI pushes', disabled: 'on' });
    assert.match(after, /badge-danger">Disabled/);
    assert.equal((await pushBlob(r.url, 'team-a/robot-app', basic('robot$ci', fresh))).status, 401);
    after = await admin.submit('/ui/admin/robots/robot%24ci', { description: 'CI pushes' });
    assert.equal((await pushBlob(r.url, 'team-a/robot-app', basic('robot$ci', fresh))).status, 201);
    assert.match(await admin.page('/ui/admin/robots/robot$ci/delete'), /Delete robot\$ci\?/);
    after = await admin.submit('/ui/admin/robots/robot%24ci/delete', {}, '/ui/admin/robots?namespace=team-a');
    assert.match(after, /Robot account robot\$ci deleted/);
    assert.equal((await pushBlob(r.url, 'team-a/robot-app', basic('robot$ci', fresh))).status, 401);
    // No secret ever reached a log line.
    assert.ok(!r.logs().includes(secret) && !r.logs().includes(fresh));
  });

  it('creates a personal access token shown once, lists it for admins, and revokes it', async () => {
    // A name nobody logged in with has no user row: a grant to it is refused, with a hint. (The
    // htpasswd admin got a row when signing in to the console.)
    await admin.page('/ui/admin/permissions');
    const noRow = await admin.post('/ui/admin/permissions', { subjectKind: 'user', subject: 'nobody-yet', scopeKind: 'namespace', scope: 'team-a', role: 'write' });
    assert.equal(noRow.status, 404);
    assert.match(await noRow.text(), /There is no user, team or robot with this name/);
    await admin.page('/ui/admin/tokens');
    const res = await admin.post('/ui/admin/tokens', { name: 'laptop', scopes: 'team-a/*', actions: ['pull', 'push'], expires: '' });
    const html = await res.text();
    assert.equal(res.status, 200, html.slice(0, 2000));
    const secret = secretIn(html, 'berth_pat_');
    assert.match(html, /will not be shown again/);
    const pat = basic('admin', secret);
    // A token acts with its owner's roles (never site-admin rights): creating it recorded the
    // htpasswd admin as a user, who can now be granted a role.
    await admin.page('/ui/admin/permissions');
    await admin.submit('/ui/admin/permissions', { subjectKind: 'user', subject: 'admin', scopeKind: 'namespace', scope: 'team-a', role: 'write' });
    assert.equal((await fetch(`${r.url}/v2/`, { headers: { Authorization: pat } })).status, 200);
    assert.equal((await pushBlob(r.url, 'team-a/pat-app', pat)).status, 201);
    assert.equal((await pushBlob(r.url, 'team-b/app', pat)).status, 403, 'outside its scopes');
    // Listed with its hint, never the secret.
    let list = await admin.page('/ui/admin/tokens');
    assert.doesNotMatch(list, /berth_pat_[A-Za-z0-9_-]{20,}/);
    assert.match(list, /laptop/);
    assert.match(list, /team-a\/\*:pull,push/);
    const id = /\/ui\/admin\/tokens\/(\d+)\/revoke/.exec(list)?.[1];
    assert.ok(id);
    // Validation: no actions, a past expiry.
    const bad = await admin.post('/ui/admin/tokens', { name: 'x', scopes: 'team-a/app', expires: '2001-01-01' });
    assert.equal(bad.status, 400);
    const badHtml = await bad.text();
    assert.match(badHtml, /Choose at least one action/);
    assert.match(badHtml, /id="nt-expires"[^>]*aria-invalid="true"/);
    // Revoke (confirmation page, then the POST), back to the user's list.
    assert.match(await admin.page(`/ui/admin/tokens/${id}/revoke?back=/ui/admin/tokens`), /Revoke token laptop of admin\?/);
    list = await admin.submit(`/ui/admin/tokens/${id}/revoke`, { back: '/ui/admin/tokens?user=admin' }, '/ui/admin/tokens?user=admin');
    assert.match(list, /Token laptop of admin revoked/);
    assert.match(list, /badge-danger">Revoked/);
    assert.equal((await fetch(`${r.url}/v2/`, { headers: { Authorization: pat } })).status, 401);
    // A `back` outside the administration pages is ignored.
    const again = await admin.post(`/ui/admin/tokens/${id}/revoke`, { back: 'https://evil.example/' });
    assert.equal(again.status, 303);
    assert.equal(again.headers.get('location'), '/ui/admin/tokens');
    assert.ok(!r.logs().includes(secret));
  });

  it('shows LDAP as not configured and tests a login without echoing the password', async () => {
    let html = await admin.page('/ui/admin/ldap');
    assert.match(html, /LDAP is not configured/);
    html = await (await admin.post('/ui/admin/ldap/test', { username: 'alice', password: USERS.alice })).text();
    assert.match(html, /Login succeeded: alice/);
    assert.match(html, /badge-muted">htpasswd</);
    assert.match(html, /href="\/ui\/admin\/teams\/team-a"/, 'the teams she belongs to');
    assert.ok(!html.includes(USERS.alice), 'the password is never echoed');
    const failed = await admin.post('/ui/admin/ldap/test', { username: 'alice', password: 'wrong-password' });
    html = await failed.text();
    assert.equal(failed.status, 200);
    assert.match(html, /role="alert">Login failed for alice: Wrong user name or password/);
    assert.ok(!html.includes('wrong-password'));
    assert.ok(!r.logs().includes(USERS.alice) && !r.logs().includes('wrong-password'));
  });

  it('filters the audit log by actor, action, repository, outcome and time, newest first, with pages', async () => {
    // 30 docker-login style requests: 30 login events by bob.
    for (let i = 0; i < 30; i++) assert.equal((await fetch(`${r.url}/v2/`, { headers: { Authorization: as('bob') } })).status, 200);
    let html = await admin.page('/ui/admin/audit?action=robot_created');
    assert.match(html, /robot\$ci/);
    assert.match(html, /&quot;via&quot;: &quot;console&quot;/);
    assert.doesNotMatch(html, />user_created<\/a>/);
    html = await admin.page('/ui/admin/audit?actor=admin&action=token_revoked');
    assert.match(html, /token_revoked/);
    // A grant on a repository is recorded with the repository: found by repository and by namespace.
    await admin.page('/ui/admin/permissions');
    await admin.submit('/ui/admin/permissions', { subjectKind: 'user', subject: 'alice', scopeKind: 'repository', scope: 'team-a/special', role: 'read' });
    html = await admin.page('/ui/admin/audit?repository=team-a/special');
    assert.equal((html.match(/<tr><th scope="row"/g) ?? []).length, 1);
    assert.match(html, />permission_change</);
    html = await admin.page('/ui/admin/audit?namespace=team-a&action=permission_change');
    assert.match(html, />team-a\/special</);
    html = await admin.page('/ui/admin/audit?namespace=team-b');
    assert.match(html, /No event matches this filter/);
    html = await admin.page('/ui/admin/audit?action=login_test&outcome=failure');
    assert.equal((html.match(/<tr><th scope="row"/g) ?? []).length, 1, 'one failed test login');
    assert.ok(!html.includes('wrong-password'));
    // Pages of 25 bob logins, newest first, without overlap.
    const times = (page: string) => [...page.matchAll(/<time datetime="([^"]+)"/g)].map((m) => m[1]);
    const first = await admin.page('/ui/admin/audit?actor=bob&action=login&limit=25');
    assert.equal(times(first).length, 25);
    assert.deepEqual(times(first), [...times(first)].sort().reverse());
    const next = /<a rel="next" href="([^"]+)"/.exec(first)?.[1].replaceAll('&amp;', '&');
    assert.ok(next, 'an older page');
    const second = await admin.page(next);
    assert.equal(times(second).length, 5);
    // The outcome filter (scanned in batches by the page) pages the same way.
    const successOnly = await admin.page('/ui/admin/audit?actor=bob&outcome=success&limit=25');
    assert.equal(times(successOnly).length, 25);
    assert.match(successOnly, /<a rel="next"/);
    // A time range in the future matches nothing; a malformed one is a 400 with an alert.
    html = await admin.page('/ui/admin/audit?from=2999-01-01T00:00');
    assert.match(html, /No event matches this filter/);
    const bad = await admin.get('/ui/admin/audit?from=yesterday');
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /id="af-from"[^>]*aria-invalid="true"/);
    assert.equal((await admin.get('/ui/admin/audit?cursor=bogus')).status, 400);
  });

  it('refuses every access page to a non-admin (403) and a POST without the CSRF token', async () => {
    const bob = new Browser(r.url);
    await bob.login('bob');
    for (const p of [...PAGES, '/ui/admin/users/alice', '/ui/admin/teams/team-a']) {
      assert.equal((await bob.get(p)).status, 403, `GET ${p} as bob`);
    }
    const res = await bob.post('/ui/admin/users', { name: 'mallory', source: 'local' });
    assert.equal(res.status, 403);
    const grant = await bob.post('/ui/admin/permissions', { subjectKind: 'user', subject: 'bob', scopeKind: 'namespace', scope: 'team-a', role: 'admin' });
    assert.equal(grant.status, 403);
    // An admin's POST without the token is refused before anything happens.
    const noCsrf = await admin.post('/ui/admin/users', { name: 'mallory', source: 'local' }, { csrf: false });
    assert.equal(noCsrf.status, 403);
    const wrong = new Browser(r.url);
    for (const [k, v] of admin.cookies) wrong.cookies.set(k, v);
    wrong.token = 'not-the-token';
    assert.equal((await wrong.post('/ui/admin/teams', { name: 'evil' })).status, 403);
    await admin.page('/ui/admin/users/mallory', 404);
    await admin.page('/ui/admin/teams/evil', 404);
    // Anonymous visitors are sent to the login form.
    const anon = await fetch(`${r.url}/ui/admin/users`, { redirect: 'manual' });
    assert.equal(anon.status, 303);
    assert.match(anon.headers.get('location') ?? '', /^\/ui\/login\?next=/);
  });

  it('renders every page in Simplified Chinese without English text', async () => {
    const zh = new Browser(r.url, 'zh-CN');
    await zh.login('admin');
    const english = ['Create user', 'New team', 'Grant a role', 'Namespace visibility', 'Robot accounts', 'Access tokens', 'Test login', 'Audit log', 'Apply filter', 'Danger zone', 'Never', 'Remove', 'Revoke', 'Save'];
    const pages = [...PAGES, '/ui/admin/', '/ui/admin/users/alice', '/ui/admin/teams/team-a', '/ui/admin/users/alice/delete', '/ui/admin/teams/team-a/delete', '/ui/admin/teams/team-a/members/alice/remove'];
    for (const p of pages) {
      const html = await zh.page(p);
      assert.match(html, /<html lang="zh-CN"/, p);
      for (const e of english) assert.ok(!new RegExp(`>\\s*${e}\\s*<`).test(html), `${p} shows "${e}" in English`);
    }
    let html = await zh.page('/ui/admin/users');
    assert.match(html, /创建用户/);
    html = await zh.page('/ui/admin/audit');
    assert.match(html, /审计日志/);
    // A refused form in Chinese.
    const bad = await zh.post('/ui/admin/teams', { name: 'Bad Name' });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /请使用小写字母/);
    // The secret page in Chinese.
    await zh.page('/ui/admin/robots');
    const robot = await zh.post('/ui/admin/robots', { name: 'zh-bot', namespace: 'team-a', permKind: ['namespace'], permName: [''], permRole: ['read'] });
    html = await robot.text();
    assert.equal(robot.status, 200);
    assert.match(html, /不会再次显示/);
    secretIn(html, 'berth_rbt_');
  });

  it('passes axe (WCAG A/AA) on every page, in both colour schemes, with no console errors', { skip: browserSkip }, async () => {
    const browser = await launchBrowser();
    try {
      const host = new URL(r.url).hostname;
      const cookies = [...admin.cookies].map(([name, value]) => ({ name, value, domain: host, path: '/', expires: -1, httpOnly: true, secure: false, sameSite: 'Strict' as const }));
      const pages = [...PAGES, '/ui/admin/users/alice', '/ui/admin/teams/team-a', '/ui/admin/robots/robot$zh-bot', '/ui/admin/permissions?scopeKind=namespace&scope=team-a&nested=on', '/ui/admin/audit?actor=bob&limit=25', '/ui/admin/users/alice/delete'];
      for (const colorScheme of ['light', 'dark'] as const) {
        const checked = await openPage(browser, { baseURL: r.url, colorScheme, storageState: { cookies, origins: [] } });
        try {
          for (const p of pages) {
            const res = await checked.page.goto(p);
            assert.equal(res?.status(), 200, p);
            const violations = await axeViolations(checked.page);
            assert.deepEqual(violations, [], `${p} (${colorScheme}):\n${formatViolations(violations)}`);
          }
          checked.assertClean();
          // A refused form is a page too (its 400 is the only problem the browser reports).
          await checked.page.goto('/ui/admin/teams');
          await checked.page.fill('#nt-name', 'Not Valid');
          await Promise.all([checked.page.waitForLoadState(), checked.page.click('form.stack button[type=submit]')]);
          assert.match(await checked.page.content(), /aria-invalid="true"/);
          assert.deepEqual(await axeViolations(checked.page), []);
          assert.deepEqual(checked.problems().filter((x) => !/status of 400/.test(x)), []);
        } finally {
          await checked.close();
        }
      }
    } finally {
      await browser.close();
    }
  });
});

describe('console administration without access control', () => {
  let r: AuthRegistry;
  before(async () => {
    r = await startHtpasswdRegistry({ admin: USERS.admin }, (c) => {
      c.log.level = 'warn';
    });
  });
  after(() => r?.stop());

  it('explains that access control is off and how to turn it on; LDAP and the test login still work', async () => {
    const b = new Browser(r.url);
    await b.login('admin');
    for (const p of ['/ui/admin/users', '/ui/admin/teams/x', '/ui/admin/permissions', '/ui/admin/robots', '/ui/admin/tokens', '/ui/admin/audit']) {
      const html = await b.page(p);
      assert.match(html, /Access control is off/, p);
      assert.match(html, /accesscontrol:\n\s+enabled: true\n\s+admins: \[admin\]/);
    }
    const post = await b.post('/ui/admin/users', { name: 'x' });
    assert.equal(post.status, 409);
    assert.match(await b.page('/ui/admin/ldap'), /LDAP is not configured/);
    const html = await (await b.post('/ui/admin/ldap/test', { username: 'admin', password: USERS.admin })).text();
    assert.match(html, /Login succeeded: admin/);
  });
});

describe('console administration: LDAP settings and test login against a directory', { skip: SKIP_LDAP && 'BERTH_SKIP_LDAP=1' }, () => {
  let slapd: Slapd;
  let r: AuthRegistry;
  before(async () => {
    slapd = await startSlapd();
    const ldap = loadConfig({ text: stringify({ version: 0.1, berth: { auth: { ldap: ldapSection(slapd) } } }), env: {} }).config.berth.auth.ldap!;
    r = await startAuthRegistry((c) => {
      c.berth.auth.ldap = ldap;
      // alice is in the directory's registry-admins group.
      c.berth.auth.accessControl = { enabled: true, admins: [] };
      c.log.level = 'warn';
    });
  });
  after(async () => {
    await r?.stop();
    await slapd?.stop();
  });

  it('shows the settings without the bind password, and tests logins through the directory', async () => {
    const b = new Browser(r.url);
    await b.page('/ui/login');
    assert.equal((await b.post('/ui/login', { username: 'alice', password: PASSWORDS.alice, next: '/ui/' })).status, 303);
    let html = await b.page('/ui/admin/ldap');
    assert.ok(html.includes(slapd.url));
    assert.ok(html.includes(SERVICE_DN));
    assert.match(html, /Bind password<\/dt><dd><span class="badge badge-ok">Set</);
    assert.ok(!html.includes(SERVICE_PW), 'never the bind password');
    assert.match(html, /registry-admins/);
    assert.match(html, /<th scope="row" class="mono">developers<\/th><td><a class="mono" href="\/ui\/admin\/teams\/dev">dev<\/a>/);
    // bob (group developers -> team dev) signs in through LDAP.
    html = await (await b.post('/ui/admin/ldap/test', { username: 'bob', password: PASSWORDS.bob })).text();
    assert.match(html, /Login succeeded: bob/);
    assert.match(html, /badge-muted">ldap</);
    assert.match(html, /the LDAP directory/);
    assert.match(html, />dev<\/a>/);
    assert.ok(!html.includes(PASSWORDS.bob));
    html = await (await b.post('/ui/admin/ldap/test', { username: 'bob', password: 'not-his-password' })).text();
    assert.match(html, /role="alert">Login failed for bob/);
    // The test is in the audit log, without the password.
    html = await b.page('/ui/admin/audit?action=login_test');
    assert.equal((html.match(/<tr><th scope="row"/g) ?? []).length, 2);
    assert.ok(!html.includes(PASSWORDS.bob) && !html.includes('not-his-password'));
    // And in Chinese.
    const zh = new Browser(r.url, 'zh-CN');
    await zh.page('/ui/login');
    assert.equal((await zh.post('/ui/login', { username: 'alice', password: PASSWORDS.alice, next: '/ui/' })).status, 303);
    html = await zh.page('/ui/admin/ldap');
    assert.match(html, /绑定密码<\/dt><dd><span class="badge badge-ok">已设置</);
    assert.ok(!/>\s*(Settings|Test login|Bind password|Servers)\s*</.test(html));
    assert.ok(!r.logs().includes(PASSWORDS.bob) && !r.logs().includes(SERVICE_PW));
  });
});
