// The console's sign-in under the two token setups of docs/authentication.md:
//  - berth's own token service (auth.htpasswd + berth.auth.tokenservice) served over TLS with a
//    certificate from `berth tls init`: the sign-in form checks htpasswd users as `docker login`
//    does, and every cookie the console sets carries Secure (checked on the wire over TLS verified
//    against the CA, and in chromium's cookie jar after a real form sign-in);
//  - an external issuer only (auth.token with a JWKS, no password source): the sign-in page says
//    berth cannot check passwords and has no form, and a page request carrying the issuer's bearer
//    token is treated as that token allows.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { chromium, type Browser } from 'playwright-core';
import { basic, bearer, pushImage, startAuthRegistry, startTokenRegistry, type AuthRegistry } from '../auth/harness.ts';
import { axeViolations, browserSkip, chromiumPath, formatViolations, screenshot } from '../helpers/browser.ts';
import { ConsoleClient } from '../helpers/console-client.ts';
import { hasCommand, tempDir } from '../helpers/processes.ts';
import { tlsInit, type CertFiles } from '../tls/helpers.ts';

const ALICE = { user: 'alice', password: 'alice-pw-1' };
const ADMIN = { user: 'admin', password: 'admin-pw-1' };

interface TlsResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One HTTPS request that trusts only `ca` (so the certificate berth serves is really checked). */
function tlsFetch(url: string, ca: Buffer, o: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<TlsResponse> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: o.method ?? 'GET', headers: o.headers, ca, servername: 'localhost' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Set-Cookie lines by cookie name. */
function setCookies(res: TlsResponse): Map<string, string> {
  return new Map((res.headers['set-cookie'] ?? []).map((line) => [line.slice(0, line.indexOf('=')), line]));
}

/** A one-layer OCI image pushed with monolithic uploads over https. */
async function pushOverTls(base: string, ca: Buffer, name: string, tag: string, auth: string): Promise<void> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = randomBytes(512);
  const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  for (const blob of [config, layer]) {
    const res = await tlsFetch(`${base}/v2/${name}/blobs/uploads/?digest=${digest(blob)}`, ca, { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/octet-stream' }, body: blob });
    assert.equal(res.status, 201, res.text);
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest(layer), size: layer.length }],
  });
  const res = await tlsFetch(`${base}/v2/${name}/manifests/${tag}`, ca, { method: 'PUT', headers: { Authorization: auth, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest });
  assert.equal(res.status, 201, res.text);
}

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1];

describe('console over TLS with berth\'s token service', { skip: !hasCommand('openssl') && 'openssl is not installed' }, () => {
  let work: { path: string; cleanup(): Promise<void> };
  let certs: CertFiles;
  let ca: Buffer;
  let registry: AuthRegistry;

  before(async () => {
    work = await tempDir('console-tls');
    const init = await tlsInit(join(work.path, 'certs'), ['--host', 'localhost', '--ip', '127.0.0.1']);
    assert.equal(init.code, 0, init.stderr);
    certs = init.files;
    ca = await readFile(certs.ca);
    registry = await startTokenRegistry({ [ALICE.user]: ALICE.password, [ADMIN.user]: ADMIN.password }, (c) => {
      c.http.tls = { certificate: certs.cert, key: certs.key };
      c.berth.auth.accessControl = { enabled: true, admins: [ADMIN.user] };
      c.log.level = 'warn';
    });
    assert.match(registry.url, /^https:\/\//);
    // The token service takes Basic on /v2 too (docs/authentication.md): admin pushes one image over https.
    await pushOverTls(registry.url, ca, 'team/tls-app', 'v1', basic(ADMIN.user, ADMIN.password));
  });

  after(async () => {
    await registry?.stop();
    await work?.cleanup();
  });

  it('sign-in checks the token service\'s users and every cookie it sets is Secure, HttpOnly and SameSite=Strict', async () => {
    const base = registry.url;
    const page = await tlsFetch(`${base}/ui/login`, ca);
    assert.equal(page.status, 200);
    const visitor = setCookies(page).get('berth_visitor');
    assert.ok(visitor, 'a visitor without a session gets a CSRF cookie');
    assert.match(visitor, /; Secure(;|$)/);
    assert.match(visitor, /; HttpOnly(;|$)/);
    assert.match(visitor, /SameSite=Strict/);
    const csrf = csrfOf(page.text);
    assert.ok(csrf, 'the form carries a CSRF token');
    const cookie = visitor.split(';')[0]!;
    const post = (password: string) =>
      tlsFetch(`${base}/ui/login`, ca, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, username: ALICE.user, password, next: '/ui/' }).toString(),
      });

    const wrong = await post('not-the-password');
    assert.equal(wrong.status, 401);
    assert.equal(setCookies(wrong).has('berth_session'), false, 'no session for a wrong password');

    const ok = await post(ALICE.password);
    assert.equal(ok.status, 303, ok.text.slice(0, 500));
    assert.equal(ok.headers.location, '/ui/');
    const session = setCookies(ok).get('berth_session');
    assert.ok(session, 'a session cookie');
    for (const attr of [/; Secure(;|$)/, /; HttpOnly(;|$)/, /SameSite=Strict/]) assert.match(session, attr);

    // The session works over TLS, and signing out clears it with the same attributes.
    const home = await tlsFetch(`${base}/ui/`, ca, { headers: { cookie: session.split(';')[0]! } });
    assert.equal(home.status, 200);
    assert.match(home.text, new RegExp(`<strong>${ALICE.user}</strong>`));
    const logoutToken = csrfOf(home.text);
    assert.ok(logoutToken);
    const out = await tlsFetch(`${base}/ui/logout`, ca, {
      method: 'POST',
      headers: { cookie: session.split(';')[0]!, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: logoutToken }).toString(),
    });
    assert.equal(out.status, 303);
    const cleared = setCookies(out).get('berth_session');
    assert.ok(cleared);
    assert.match(cleared, /Max-Age=0/);
    assert.match(cleared, /; Secure(;|$)/);
  });

  it('in chromium: the form signs in over https and the cookie jar holds a Secure, HttpOnly, Strict session', { skip: browserSkip }, async () => {
    // chromium is not given the CA (Debian ships no certutil to add it to an NSS database); it is
    // told to accept exactly the server certificate's public key, and nothing else.
    const cert = new X509Certificate(await readFile(certs.cert));
    const spki = createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: chromiumPath()!,
        headless: true,
        timeout: 60_000,
        args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', `--ignore-certificate-errors-spki-list=${spki}`],
      });
      const context = await browser.newContext({ baseURL: registry.url, colorScheme: 'light' });
      const problems: string[] = [];
      const origin = new URL(registry.url).origin;
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('data:') || new URL(url).origin === origin) return route.continue();
        problems.push(`request to another origin: ${url}`);
        return route.abort('blockedbyclient');
      });
      context.on('console', (m) => void (m.type() === 'error' && problems.push(`console error: ${m.text()}`)));
      context.on('weberror', (e) => problems.push(`page error: ${e.error().message}`));
      const page = await context.newPage();
      const res = await page.goto('/ui/login');
      assert.equal(res?.status(), 200);
      assert.equal(await page.evaluate(() => window.isSecureContext && location.protocol), 'https:');
      await page.getByLabel(/user name/i).fill(ADMIN.user);
      await page.getByLabel(/password/i).fill(ADMIN.password);
      await page.getByRole('button', { name: /sign in/i }).click();
      await page.waitForURL(/\/ui\/$/);
      assert.match(await page.locator('header .user').innerText(), new RegExp(ADMIN.user));
      assert.equal(await page.locator('#repositories tbody tr', { hasText: 'team/tls-app' }).count(), 1);
      // The pull commands name the https host the browser used.
      await page.getByRole('link', { name: 'team/tls-app' }).click();
      await page.waitForURL(/\/ui\/repo\/team\/tls-app$/);
      assert.match(await page.locator('main').innerText(), new RegExp(`docker pull ${new URL(registry.url).host}/team/tls-app:v1`));
      await page.goto('/ui/');
      const jar = await context.cookies();
      const session = jar.find((c) => c.name === 'berth_session');
      assert.ok(session, JSON.stringify(jar.map((c) => c.name)));
      assert.equal(session.secure, true);
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, 'Strict');
      for (const c of jar) assert.equal(c.secure, true, `${c.name} is Secure over TLS`);
      const violations = await axeViolations(page);
      await screenshot(page, 'repositories-tls-light');
      assert.deepEqual(violations, [], formatViolations(violations));
      assert.deepEqual(problems, []);
    } finally {
      await browser?.close();
    }
  });
});

describe('console with an external token issuer only (auth.token)', () => {
  let work: { path: string; cleanup(): Promise<void> };
  let registry: AuthRegistry;
  let privateKey: CryptoKey;
  let kid: string;
  const now = () => Math.floor(Date.now() / 1000);
  const token = (access: { type: string; name: string; actions: string[] }[], sub = 'ext-user') =>
    new SignJWT({ iss: 'ext-issuer', aud: 'ext-registry', sub, iat: now(), nbf: now(), exp: now() + 600, access }).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey);

  before(async () => {
    work = await tempDir('console-ext-token');
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    const jwk = await exportJWK(pair.publicKey);
    kid = await calculateJwkThumbprint(jwk);
    await writeFile(join(work.path, 'jwks.json'), JSON.stringify({ keys: [{ ...jwk, kid, alg: 'ES256', use: 'sig' }] }));
    registry = await startAuthRegistry((c) => {
      c.auth = { token: { realm: 'https://auth.example.com/token', service: 'ext-registry', issuer: 'ext-issuer', jwks: join(work.path, 'jwks.json'), autoredirect: false } };
      c.log.level = 'warn';
    });
    const writer = bearer(await token([{ type: 'repository', name: 'ext/app', actions: ['pull', 'push'] }, { type: 'repository', name: 'ext/other', actions: ['pull', 'push'] }]));
    await pushImage(registry.url, 'ext/app', 'v1', writer);
    await pushImage(registry.url, 'ext/other', 'v1', writer);
  });

  after(async () => {
    await registry?.stop();
    await work?.cleanup();
  });

  it('the sign-in page says to sign in through the issuer and has no password form; a posted password is refused', async () => {
    const c = new ConsoleClient(registry.url);
    const page = await c.page('/ui/login');
    assert.match(page, /external issuer, so it cannot check passwords itself/);
    assert.doesNotMatch(page, /type="password"/);
    assert.doesNotMatch(page, /action="\/ui\/login"/);
    // A password posted anyway (with the visitor's CSRF token from the page's language form) never signs in.
    const res = await c.post('/ui/login', { username: 'ext-user', password: 'anything' });
    assert.equal(res.status, 404, 'the form post is answered "cannot check passwords here"');
    assert.equal(res.headers.getSetCookie().some((x) => x.startsWith('berth_session=')), false);
  });

  it('anonymous visitors see no repository and are sent to sign in for administration', async () => {
    const c = new ConsoleClient(registry.url);
    const home = await c.page('/ui/');
    assert.doesNotMatch(home, /ext\/app|ext\/other/);
    assert.equal((await c.get('/ui/repo/ext/app')).status, 404);
    const admin = await c.get('/ui/admin/');
    assert.equal(admin.status, 303);
    assert.match(admin.headers.get('location') ?? '', /^\/ui\/login\?next=/);
  });

  it('the lifecycle API holds a bearer token to its access claim too: only repository:*:* administers the site', async () => {
    const api = (path: string, auth: string, init: RequestInit = {}) =>
      fetch(`${registry.url}${path}`, { ...init, headers: { Authorization: auth, 'content-type': 'application/json' } });
    const pullOnly = bearer(await token([{ type: 'repository', name: 'ext/app', actions: ['pull'] }], 'reader'));
    const nothing = bearer(await token([], 'nobody'));
    for (const t of [pullOnly, nothing]) {
      const gc = await api('/api/v1/gc', t, { method: 'POST', body: JSON.stringify({ dryRun: true }) });
      assert.equal(gc.status, 403, 'a scoped token may not start a collection');
      assert.equal((await api('/api/v1/gc/runs', t)).status, 403);
    }
    // A namespace's rules need '*' over the whole namespace.
    const appAll = bearer(await token([{ type: 'repository', name: 'ext/app', actions: ['*'] }], 'app-admin'));
    const nsRule = await api('/api/v1/immutabletags/ext', appAll, { method: 'PUT', body: JSON.stringify({ tags: ['^v'] }) });
    assert.equal(nsRule.status, 403, 'one repository\'s admin does not administer its namespace');
    const everything = bearer(await token([{ type: 'repository', name: '*', actions: ['*'] }], 'ext-admin'));
    const gc = await api('/api/v1/gc', everything, { method: 'POST', body: JSON.stringify({ dryRun: true }) });
    assert.ok(gc.status === 200 || gc.status === 202, `repository:*:* starts a dry run (${gc.status} ${await gc.text()})`);
    assert.equal((await api('/api/v1/gc/runs', everything)).status, 200);
  });

  it('a bearer token on page requests is held to its access claim, as /v2 holds it', async () => {
    const onlyApp = bearer(await token([{ type: 'repository', name: 'ext/app', actions: ['pull'] }], 'reader'));
    // /v2 refuses the token for ext/other: that is the grant the console must follow.
    assert.equal((await fetch(`${registry.url}/v2/ext/other/tags/list`, { headers: { Authorization: onlyApp } })).status, 401);
    const get = (path: string) => fetch(`${registry.url}${path}`, { headers: { Authorization: onlyApp }, redirect: 'manual' });
    const home = await (await get('/ui/')).text();
    assert.ok(home.includes('href="/ui/repo/ext/app"'), 'the repository the token may pull is listed');
    assert.ok(!home.includes('href="/ui/repo/ext/other"'), 'a repository the token may not pull is not listed');
    assert.equal((await get('/ui/repo/ext/other')).status, 404);
    assert.notEqual((await get('/ui/admin/')).status, 200, 'no administration for a pull token');
    // Deleting through the confirmation form, as a script holding the token could.
    const confirm = await get('/ui/repo/ext/app/-/delete-tags?tag=v1');
    const csrf = csrfOf(await confirm.text());
    const cookie = confirm.headers.getSetCookie().map((x) => x.split(';')[0]).join('; ');
    const del = await fetch(`${registry.url}/ui/repo/ext/app/-/delete-tags`, {
      method: 'POST',
      headers: { Authorization: onlyApp, cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf ?? '', tag: 'v1' }),
      redirect: 'manual',
    });
    assert.ok([403, 404].includes(del.status), `a pull-only token deleted through the console (${del.status})`);
    const admin = bearer(await token([{ type: 'repository', name: 'ext/app', actions: ['pull'] }]));
    const tags = (await (await fetch(`${registry.url}/v2/ext/app/tags/list`, { headers: { Authorization: admin } })).json()) as { tags: string[] };
    assert.deepEqual(tags.tags, ['v1']);
  });
});
