// Seed 004_6812c7fe10beb796.txt (第五章), "Docker Trusted Registry (DTR)" and the DTR part of "Docker
// 通用控制平面": berth with LDAP users (a real slapd: alice in registry-admins, bob in developers)
// and access control; alice signs in to the console (/ui/), creates the repository dev/app as
// private ("新存储库"), maps the directory group to a team with write on dev/ (admin API); bob pushes,
// carol is refused, anonymous pulls are refused until alice makes the repository public in the
// console; the settings page shows the domain, the TLS certificate (berth tls init's), storage and
// authentication (DTR's "设置"), in Chinese too. The registry speaks TLS with its CA in certs.d,
// the berth counterpart of UCP's CA; the UCP steps themselves are reported as not runnable here.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { freePort } from '../helpers/processes.ts';
import { makeDockerArchive } from '../helpers/images.ts';
import { SKIP_LDAP, startSlapd, type Slapd } from '../ldap/slapd.ts';
import { namespaceSkip, Scenario, itRanEveryStep } from './harness.ts';
import { steps } from './004-dtr-console-ldap.steps.ts';

const S = steps.run;

interface Reply {
  status: number;
  setCookies: string[];
  text(): Promise<string>;
}

/** An HTTPS request to 127.0.0.1:port as a client of `localhost:port` that trusts `ca`. */
function https(target: { port: number; ca: Buffer }, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: target.port, servername: 'localhost', ca: target.ca, method, path, headers: { host: `localhost:${target.port}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, setCookies: res.headers['set-cookie'] ?? [], text: async () => text });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A browser without JavaScript: cookies, the CSRF field, forms; over TLS, trusting the registry's CA. */
class Browser {
  cookies = new Map<string, string>();
  constructor(
    readonly target: { port: number; ca: Buffer },
    readonly lang = 'en',
  ) {}
  async get(path: string): Promise<Reply> {
    return this.keep(await https(this.target, 'GET', path, { cookie: this.jar(), 'accept-language': this.lang }));
  }
  async submit(page: string, action: string, form: Record<string, string>): Promise<Reply> {
    const html = await (await this.get(page)).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    assert.ok(csrf, `no form on ${page}`);
    const body = new URLSearchParams({ _csrf: csrf, ...form }).toString();
    return this.keep(await https(this.target, 'POST', action, { cookie: this.jar(), 'content-type': 'application/x-www-form-urlencoded', 'accept-language': this.lang }, body));
  }
  private jar(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  private keep(res: Reply): Reply {
    for (const c of res.setCookies) {
      const pair = c.split(';')[0]!;
      this.cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    return res;
  }
}

describe(`seed ${steps.seed}: ${steps.section}`, { skip: namespaceSkip || (SKIP_LDAP && 'BERTH_SKIP_LDAP=1') }, () => {
  let sc: Scenario;
  let slapd: Slapd;
  let target: { port: number; ca: Buffer };
  before(async () => {
    slapd = await startSlapd();
    sc = await Scenario.open('004-dtr');
    const port = await freePort();
    sc.map('localhost:5000', `localhost:${port}`)
      .map('addr: :5000', `addr: 127.0.0.1:${port}`)
      .map('/var/lib/registry', join(sc.work, 'registry'))
      .map('ldap://ldap.example.org:389', slapd.url);
    await sc.sh([S.tlsInit, S.certsDir, S.trustCa, S.config]);
    target = { port, ca: readFileSync(join(sc.home, 'certs', 'ca.crt')) };
    await sc.start(S.serve, async () => (await https(target, 'GET', '/v2/', {})).status === 401);
    await makeDockerArchive(join(sc.home, 'app.tar'), { repoTag: 'dev/app:1.0', layers: 1, layerBytes: 8192 });
  });
  after(async () => {
    await sc?.close();
    await slapd?.stop();
  });

  it('UCP on docker-machine VMs, its CA, and DTR installed on it', async (t) => {
    for (const [c, why] of Object.entries(steps.cannotRun)) await sc.cannot(t, c, why);
  });

  it('alice (LDAP, registry-admins) logs in with docker and to the console, and creates dev/app as private', async () => {
    assert.match((await sc.sh(S.adminLogin)).stdout, /Login Succeeded/);
    const alice = new Browser(target);
    const login = await alice.submit('/ui/login', '/ui/login', { username: 'alice', password: 'alice-pass-1', next: '/ui/' });
    assert.equal(login.status, 303, await login.text());
    const created = await alice.submit('/ui/new', '/ui/new', { name: 'dev/app', visibility: 'private', description: 'The app, built by the dev team' });
    assert.equal(created.status, 303, await created.text());
    assert.match(await (await alice.get('/ui/repo/dev/app')).text(), /The app, built by the dev team/);
  });

  it('the directory group developers is team dev, with write on dev/: bob pushes, carol is refused', async () => {
    assert.equal((JSON.parse((await sc.sh(S.team)).stdout) as { team?: { name: string } }).team?.name, 'dev');
    assert.equal((JSON.parse((await sc.sh(S.grant)).stdout) as { permission: { role: string } }).permission.role, 'write');
    await sc.sh(S.pushBob);
    const carol = await sc.sh(S.pushCarol, { allowFail: true });
    assert.notEqual(carol.code, 0);
    assert.match(carol.stderr, /denied/);
  });

  it('private: anonymous pulls are refused until alice makes the repository public in the console', async () => {
    const refused = await sc.sh(S.anonymous, { allowFail: true });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /unauthorized|authentication required/i);
    const alice = new Browser(target);
    await alice.submit('/ui/login', '/ui/login', { username: 'alice', password: 'alice-pass-1', next: '/ui/' });
    const saved = await alice.submit('/ui/repo/dev/app', '/ui/repo/dev/app/-/settings', { visibility: 'public', description: 'The app, built by the dev team' });
    assert.equal(saved.status, 303, await saved.text());
    // skopeo with no login sends `Authorization: Basic Og==` (empty user and password): anonymous.
    const ok = await sc.sh(S.anonymous);
    assert.equal((JSON.parse(ok.stdout) as { Name: string }).Name, 'localhost:5000/dev/app');
    assert.equal((await https(target, 'GET', '/v2/dev/app/manifests/1.0', { authorization: 'Basic Og==', accept: 'application/vnd.docker.distribution.manifest.v2+json' })).status, 200);
  });

  it("the settings page (DTR's 设置): domain, TLS certificate, storage and authentication, also in Chinese", async () => {
    const cert = new X509Certificate(readFileSync(join(sc.home, 'certs', 'server.crt')));
    const ca = new X509Certificate(target.ca);
    assert.ok(cert.checkIssued(ca), 'server.crt is issued by the ca.crt the clients trust');
    const dd = (label: string, value: string) => new RegExp(`<dt>${label}</dt><dd class="mono">${value.replace(/[/.*+?^${}()|[\]\\]/g, '\\$&')}</dd>`);
    const labels = {
      en: { domain: 'Domain', clientsUse: 'Clients use', tls: 'TLS certificate', subject: 'Subject', issuer: 'Issuer', title: 'Settings' },
      'zh-CN': { domain: '域名', clientsUse: '客户端使用', tls: 'TLS 证书', subject: '主题', issuer: '签发者', title: '设置' },
    };
    for (const [lang, l] of Object.entries(labels)) {
      const alice = new Browser(target, lang);
      await alice.submit('/ui/login', '/ui/login', { username: 'alice', password: 'alice-pass-1', next: '/ui/' });
      const res = await alice.get('/ui/settings');
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.match(html, new RegExp(`<h1>${l.title}</h1>`));
      // The domain: the name clients use (http.host), whatever address the browser came by.
      assert.match(html, new RegExp(`<h2>${l.domain}</h2>`));
      assert.match(html, dd(l.clientsUse, sc.actual('localhost:5000')));
      assert.match(html, dd('http.host', sc.actual('https://localhost:5000')));
      // The TLS certificate berth tls init issued: subject, issuer (the CA), names, expiry.
      assert.match(html, new RegExp(`<h2>${l.tls}</h2>`));
      assert.match(html, dd(l.subject, cert.subject.replace(/\n/g, ', ')));
      assert.match(html, dd(l.issuer, cert.issuer.replace(/\n/g, ', ')));
      assert.equal(cert.subject, 'CN=localhost');
      assert.match(html, /<li>DNS:localhost<\/li>/);
      assert.match(html, new RegExp(`<time datetime="${new Date(cert.validTo).toISOString()}">`));
      // Storage and authentication.
      assert.match(html, new RegExp(join(sc.work, 'registry').replace(/[/.]/g, '\\$&')));
      assert.match(html, /LDAP \(ldap:\/\//);
    }
  });

  itRanEveryStep(() => sc, steps);
});
