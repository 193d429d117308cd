// The console over plain HTTP: security headers (CSP without unsafe-inline, no framing), CSRF on
// every POST, a new session id at each login (no fixation), sessions that survive a restart and
// end at logout, user text shown as text (XSS), every page in English and Chinese with no missing
// message, the JSON twins, http.prefix, and berth.ui.enabled: false.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { htpasswdText, startHtpasswdRegistry, type AuthRegistry } from '../auth/harness.ts';
import { defaultConfig } from '../../src/config/index.ts';
import { startRegistry } from '../../src/http/server.ts';
import { pushBlob, putManifest, sha256, startTestRegistry, OCI_MANIFEST, type TestRegistry } from '../http/harness.ts';
import { en } from '../../src/console/i18n/en/index.ts';
import { zhCN } from '../../src/console/i18n/zh-CN/index.ts';
import { ConsoleFormClient } from '../helpers/console-client.ts';

/** The shared console client (the CSRF token goes into each form by hand), with a login through the form. */
class Browser extends ConsoleFormClient {
  async login(user: string, password: string): Promise<Response> {
    const csrf = await this.csrf('/ui/login');
    return this.post('/ui/login', { _csrf: csrf, username: user, password, next: '/ui/' });
  }
}

describe('console over HTTP, with htpasswd and access control', () => {
  let registry: AuthRegistry;
  before(async () => {
    registry = await startHtpasswdRegistry({ admin: 'admin-pw', bob: 'bob-pw' }, (c) => {
      c.berth.auth.accessControl = { enabled: true, admins: ['admin'] };
      c.log.level = 'warn';
    });
  });
  after(() => registry?.stop());

  it('sends a strict CSP, refuses framing, and redirects / to the console', async () => {
    const root = await fetch(`${registry.url}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/ui/');
    const res = await fetch(`${registry.url}/ui/`);
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    const html = await res.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(html, /\sstyle="/, 'no inline style');
    // /v2/ is unchanged.
    assert.equal((await fetch(`${registry.url}/v2/`)).status, 401);
  });

  it('refuses a POST without the CSRF token, or with another browser token', async () => {
    const b = new Browser(registry.url);
    assert.equal((await b.post('/ui/login', { username: 'admin', password: 'admin-pw' })).status, 403);
    const other = new Browser(registry.url);
    const foreign = await other.csrf('/ui/login');
    assert.equal((await b.post('/ui/login', { _csrf: foreign, username: 'admin', password: 'admin-pw' })).status, 403);
    assert.equal((await b.login('admin', 'admin-pw')).status, 303);
    // Signed in, a form still needs the session's token.
    const r = await b.post('/ui/new', { name: 'csrf/test' });
    assert.equal(r.status, 403);
  });

  it('gives a new session id at login and ends it at logout', async () => {
    const b = new Browser(registry.url);
    await b.csrf('/ui/login');
    b.cookies.set('berth_session', 'attacker-chosen-id');
    const res = await b.login('admin', 'admin-pw');
    assert.equal(res.status, 303);
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('berth_session='))!;
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    const id = b.cookies.get('berth_session')!;
    assert.notEqual(id, 'attacker-chosen-id');
    assert.match(await (await b.get('/ui/')).text(), /Signed in as/);
    // The store keeps only a hash of the id.
    const again = new Browser(registry.url);
    await again.login('admin', 'admin-pw');
    assert.notEqual(again.cookies.get('berth_session'), id, 'each login makes a new id');
    const csrf = await b.csrf('/ui/');
    assert.equal((await b.post('/ui/logout', { _csrf: csrf })).status, 303);
    b.cookies.set('berth_session', id);
    assert.doesNotMatch(await (await b.get('/ui/')).text(), /Signed in as/, 'the old id is dead after logout');
    assert.equal((await again.get('/ui/settings')).status, 200);
    assert.match(await (await again.get('/ui/settings')).text(), /Signed in as/);
  });

  it('refuses every admin page to a non-admin, and redirects anonymous visitors to the login', async () => {
    const bob = new Browser(registry.url);
    await bob.login('bob', 'bob-pw');
    for (const path of ['/ui/admin/', '/ui/admin/users', '/ui/admin/gc']) assert.equal((await bob.get(path)).status, 403, path);
    const anon = new Browser(registry.url);
    const r = await anon.get('/ui/admin/');
    assert.equal(r.status, 303);
    assert.match(r.headers.get('location') ?? '', /^\/ui\/login\?next=/);
  });

  it('a repository made public in the console is pullable anonymously, and private again is not', async () => {
    const b = new Browser(registry.url);
    await b.login('admin', 'admin-pw');
    let csrf = await b.csrf('/ui/new');
    assert.equal((await b.post('/ui/new', { _csrf: csrf, name: 'vis/app', visibility: 'private' })).status, 303);
    // Anonymous: refused (401) while private.
    assert.equal((await fetch(`${registry.url}/v2/vis/app/tags/list`)).status, 401);
    csrf = await b.csrf('/ui/repo/vis/app');
    assert.equal((await b.post('/ui/repo/vis/app/-/settings', { _csrf: csrf, visibility: 'public', description: '' })).status, 303);
    // Public: anonymous pull is allowed (an empty repository answers as /v2 does for one).
    assert.notEqual((await fetch(`${registry.url}/v2/vis/app/tags/list`)).status, 401);
    // A sibling in the same namespace stays private: the setting is the repository's own.
    assert.equal((await fetch(`${registry.url}/v2/vis/other/tags/list`)).status, 401);
    csrf = await b.csrf('/ui/repo/vis/app');
    await b.post('/ui/repo/vis/app/-/settings', { _csrf: csrf, visibility: 'private', description: '' });
    assert.equal((await fetch(`${registry.url}/v2/vis/app/tags/list`)).status, 401);
  });

  it('an anonymous visitor sees the public namespace and nothing else', async () => {
    const b = new Browser(registry.url);
    await b.login('admin', 'admin-pw');
    for (const name of ['open/one', 'open/two', 'closed/three']) {
      const csrf = await b.csrf('/ui/new');
      assert.equal((await b.post('/ui/new', { _csrf: csrf, name })).status, 303, name);
    }
    const put = await fetch(`${registry.url}/api/v1/namespaces/open`, {
      method: 'PUT',
      headers: { authorization: `Basic ${Buffer.from('admin:admin-pw').toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ visibility: 'public' }),
    });
    assert.equal(put.status, 200, await put.text());
    const anon = await (await new Browser(registry.url).get('/ui/')).text();
    const listed = [...anon.matchAll(/<a href="\/ui\/repo\/([^"]+)" class="mono">/g)].map((m) => m[1]);
    assert.deepEqual(listed.sort(), ['open/one', 'open/two']);
    assert.equal((await new Browser(registry.url).get('/ui/repo/closed/three')).status, 404);
    assert.equal((await new Browser(registry.url).get('/ui/repo/open/one')).status, 200);
  });

  it('signs in with a personal access token, limited to the token\'s scopes', async () => {
    // bob needs a user record to own a token; an admin adds it as an htpasswd user.
    const admin = `Basic ${Buffer.from('admin:admin-pw').toString('base64')}`;
    const made = await fetch(`${registry.url}/api/v1/users`, { method: 'POST', headers: { authorization: admin, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bob', source: 'htpasswd' }) });
    assert.ok(made.status === 201 || made.status === 409, await made.text());
    const created = await fetch(`${registry.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('bob:bob-pw').toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'console', scopes: [{ type: 'repository', name: 'pat/*', actions: ['pull'] }] }),
    });
    const text = await created.text();
    assert.equal(created.status, 201, text);
    const { secret } = JSON.parse(text) as { secret: string };
    const b = new Browser(registry.url);
    const res = await b.login('bob', secret);
    assert.equal(res.status, 303);
    assert.match(await (await b.get('/ui/')).text(), /Signed in as/);
    // The token carries no site-admin rights, whoever owns it.
    assert.equal((await b.get('/ui/admin/')).status, 403);
  });

  it('rejects a wrong password with 401 and says nothing about which part was wrong', async () => {
    const b = new Browser(registry.url);
    const r = await b.login('admin', 'nope');
    assert.equal(r.status, 401);
    const html = await r.text();
    assert.match(html, /Wrong user name or password/);
    assert.doesNotMatch(html, /nope/, 'the password is never echoed');
  });
});

describe('console over HTTP, no authentication (open, as /v2 is)', () => {
  let registry: TestRegistry;
  let digest: string;
  const evil = '<script>alert(1)</script><img src=x onerror=alert(2)>';
  before(async () => {
    registry = await startTestRegistry((c) => {
      c.storage.delete.enabled = true;
    });
    const base = registry.url;
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { 'org.evil': evil }, Env: [`X=${evil}`] }, rootfs: { type: 'layers', diff_ids: [] }, n: randomBytes(4).toString('hex') }));
    const layer = randomBytes(300);
    const cd = await pushBlob(base, 'xss/app', config);
    const ld = await pushBlob(base, 'xss/app', layer);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cd, size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: ld, size: layer.length }],
        annotations: { 'org.opencontainers.image.description': evil },
      }),
    );
    assert.equal((await putManifest(base, 'xss/app', 'v1', manifest, OCI_MANIFEST)).status, 201);
    digest = sha256(manifest);
  });
  after(() => registry?.stop());

  it('shows labels, annotations, env and descriptions as text', async () => {
    const b = new Browser(registry.url);
    const csrf = await b.csrf('/ui/');
    const r = await b.post('/ui/repo/xss/app/-/settings', { _csrf: csrf, description: `# Title\n\n${evil}\n\n[x](javascript:alert(3))` });
    assert.equal(r.status, 303);
    for (const path of ['/ui/repo/xss/app', `/ui/repo/xss/app/-/manifest/${digest}`, '/ui/']) {
      const html = await (await b.get(path)).text();
      assert.doesNotMatch(html, /<script>alert|<img src=x|href="javascript:/i, path);
    }
    const page = await (await b.get(`/ui/repo/xss/app/-/manifest/${digest}`)).text();
    assert.match(page, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(await (await b.get('/ui/repo/xss/app')).text(), /<h1>Title<\/h1>/, 'Markdown still renders');
  });

  it('renders every page in English and Chinese with no missing message', async () => {
    const keys = Object.keys(en);
    assert.deepEqual(Object.keys(zhCN).sort(), [...keys].sort(), 'zh-CN has exactly the English keys');
    for (const k of keys) assert.ok((zhCN as Record<string, string>)[k].trim(), `zh-CN ${k} is empty`);
    const paths = ['/ui/', '/ui/?q=xss', '/ui/namespaces', '/ui/?namespace=xss', '/ui/?namespace=xss&q=app', '/ui/repo/xss/app', `/ui/repo/xss/app/-/manifest/${digest}`, '/ui/settings', '/ui/new', '/ui/admin/', '/ui/repo/xss/app/-/delete-tags?tag=v1', '/ui/login'];
    for (const lang of ['en', 'zh-CN']) {
      const b = new Browser(registry.url, lang);
      for (const path of paths) {
        const res = await b.get(path);
        assert.equal(res.status, 200, `${lang} ${path}`);
        const html = await res.text();
        assert.match(html, new RegExp(`<html lang="${lang}"`));
        // A message key left in the page (repo.tags, action.copy...) means a missing string.
        const leaked = html.match(/>\s*(?:nav|repo|repos|image|settings|action|admin|adminAccess|adminLifecycle|login|error|new)\.[a-zA-Z.]+\s*</);
        assert.equal(leaked, null, `${lang} ${path}: ${leaked?.[0]}`);
      }
    }
    const zh = await (await new Browser(registry.url, 'zh-CN,zh;q=0.9,en;q=0.5').get('/ui/repo/xss/app')).text();
    assert.match(zh, /标签/);
  });

  it('has JSON twins under /api/v1 with the same data', async () => {
    const list = (await (await fetch(`${registry.url}/api/v1/repositories?q=xss`)).json()) as { items: { name: string; tagCount: number }[] };
    assert.deepEqual(list.items.map((r) => [r.name, r.tagCount]), [['xss/app', 1]]);
    const repo = (await (await fetch(`${registry.url}/api/v1/repositories/xss/app`)).json()) as { tags: { items: { name: string; digest: string }[] } };
    assert.deepEqual(repo.tags.items.map((t) => [t.name, t.digest]), [['v1', digest]]);
    const image = (await (await fetch(`${registry.url}/api/v1/repositories/xss/app/-/manifests/${digest}`)).json()) as { config: { labels: [string, string][] } };
    assert.deepEqual(image.config.labels, [['org.evil', evil]]);
    assert.equal((await fetch(`${registry.url}/api/v1/repositories/nope/none`)).status, 404);
  });

  it('shows the embedded database where it really is', async () => {
    const html = await (await fetch(`${registry.url}/ui/settings`)).text();
    assert.match(html, /berth\.sqlite</);
  });

  it('serves the manifest bytes exactly for download', async () => {
    const res = await fetch(`${registry.url}/ui/repo/xss/app/-/manifest/${digest}/raw`);
    assert.equal(res.status, 200);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), digest);
    assert.match(res.headers.get('content-disposition') ?? '', /attachment/);
  });
});

describe('console sessions across a restart', () => {
  it('a session made before a restart still signs the browser in afterwards', async () => {
    const root = await mkdtemp(join(tmpdir(), 'berth-console-restart-'));
    try {
      const path = join(root, 'htpasswd');
      await writeFile(path, await htpasswdText({ admin: 'admin-pw' }));
      const config = defaultConfig();
      config.http.addr = '127.0.0.1:0';
      config.storage.filesystem.rootdirectory = root;
      config.auth = { htpasswd: { realm: 'berth-test', path } };
      const first = await startRegistry(config, pino({ level: 'silent' }));
      const b = new Browser(first.url);
      await b.login('admin', 'admin-pw');
      assert.match(await (await b.get('/ui/')).text(), /Signed in as/);
      await first.close();
      const second = await startRegistry(config, pino({ level: 'silent' }));
      try {
        const again = new Browser(second.url);
        for (const [k, v] of b.cookies) again.cookies.set(k, v);
        assert.match(await (await again.get('/ui/')).text(), /Signed in as/);
      } finally {
        await second.close();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('console settings', () => {
  it('berth.ui.enabled: false leaves / and /ui/ to the registry (404)', async () => {
    const registry = await startTestRegistry((c) => {
      c.berth.ui.enabled = false;
    });
    try {
      assert.equal((await fetch(`${registry.url}/`)).status, 404);
      assert.equal((await fetch(`${registry.url}/ui/`)).status, 404);
      assert.equal((await fetch(`${registry.url}/v2/`)).status, 200);
    } finally {
      await registry.stop();
    }
  });

  it('honours http.prefix in redirects, links and assets', async () => {
    const registry = await startTestRegistry((c) => {
      c.http.prefix = '/registry/';
    });
    try {
      const root = await fetch(`${registry.url}/registry/`, { redirect: 'manual' });
      assert.equal(root.headers.get('location'), '/registry/ui/');
      const html = await (await fetch(`${registry.url}/registry/ui/`)).text();
      const css = /href="(\/registry\/ui\/static\/[^"]+\.css)"/.exec(html);
      assert.ok(css, 'stylesheet under the prefix');
      assert.equal((await fetch(`${registry.url}${css[1]}`)).status, 200);
      assert.match(html, /action="\/registry\/ui\/prefs"/);
    } finally {
      await registry.stop();
    }
  });
});
