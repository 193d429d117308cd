// Seed 004_6812c7fe10beb796.txt (第五章), "Docker Trusted Registry (DTR)" and the DTR part of "Docker
// 通用控制平面": berth with LDAP users (a real slapd: alice in registry-admins, bob in developers)
// and access control; alice signs in to the console (/ui/), creates the repository dev/app as
// private ("新存储库"), maps the directory group to a team with write on dev/ (admin API); bob pushes,
// carol is refused, anonymous pulls are refused until alice makes the repository public in the
// console; the settings page shows the domain, storage and authentication (DTR's "设置"), in
// Chinese too.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freePort } from '../helpers/processes.ts';
import { makeDockerArchive } from '../helpers/images.ts';
import { SKIP_LDAP, startSlapd, type Slapd } from '../ldap/slapd.ts';
import { namespaceSkip, Scenario } from './harness.ts';
import { steps } from './004-dtr-console-ldap.steps.ts';

const S = steps.run;

/** A browser without JavaScript: cookies, the CSRF field, forms. */
class Browser {
  cookies = new Map<string, string>();
  constructor(
    readonly base: string,
    readonly lang = 'en',
  ) {}
  async get(path: string): Promise<Response> {
    return this.keep(await fetch(this.base + path, { headers: { cookie: this.jar(), 'accept-language': this.lang }, redirect: 'manual' }));
  }
  async submit(page: string, action: string, form: Record<string, string>): Promise<Response> {
    const html = await (await this.get(page)).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    assert.ok(csrf, `no form on ${page}`);
    return this.keep(
      await fetch(this.base + action, {
        method: 'POST',
        headers: { cookie: this.jar(), 'content-type': 'application/x-www-form-urlencoded', 'accept-language': this.lang },
        body: new URLSearchParams({ _csrf: csrf, ...form }),
        redirect: 'manual',
      }),
    );
  }
  private jar(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  private keep(res: Response): Response {
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';')[0]!;
      this.cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    return res;
  }
}

describe(`seed ${steps.seed}: ${steps.section}`, { skip: namespaceSkip || (SKIP_LDAP && 'BERTH_SKIP_LDAP=1') }, () => {
  let sc: Scenario;
  let slapd: Slapd;
  let base: string;
  before(async () => {
    slapd = await startSlapd();
    sc = await Scenario.open('004-dtr');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    sc.map('localhost:5000', `localhost:${port}`)
      .map('addr: :5000', `addr: 127.0.0.1:${port}`)
      .map('/var/lib/registry', join(sc.work, 'registry'))
      .map('ldap://ldap.example.org:389', slapd.url);
    await sc.sh(S.config);
    await sc.start(S.serve, async () => (await fetch(`${base}/v2/`)).status === 401);
    await makeDockerArchive(join(sc.home, 'app.tar'), { repoTag: 'dev/app:1.0', layers: 1, layerBytes: 8192 });
  });
  after(async () => {
    if (sc) sc.assertCovered(steps);
    await sc?.close();
    await slapd?.stop();
  });

  it('installing DTR on UCP', async (t) => {
    for (const [c, why] of Object.entries(steps.cannotRun)) await sc.cannot(t, c, why);
  });

  it('alice (LDAP, registry-admins) logs in with docker and to the console, and creates dev/app as private', async () => {
    assert.match((await sc.sh(S.adminLogin)).stdout, /Login Succeeded/);
    const alice = new Browser(base);
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
    const alice = new Browser(base);
    await alice.submit('/ui/login', '/ui/login', { username: 'alice', password: 'alice-pass-1', next: '/ui/' });
    const saved = await alice.submit('/ui/repo/dev/app', '/ui/repo/dev/app/-/settings', { visibility: 'public', description: 'The app, built by the dev team' });
    assert.equal(saved.status, 303, await saved.text());
    // skopeo with no login sends `Authorization: Basic Og==` (empty user and password): anonymous.
    const ok = await sc.sh(S.anonymous);
    assert.equal((JSON.parse(ok.stdout) as { Name: string }).Name, 'localhost:5000/dev/app');
    assert.equal((await fetch(`${base}/v2/dev/app/manifests/1.0`, { headers: { Authorization: 'Basic Og==' } })).status, 200);
  });

  it("the settings page (DTR's 设置): domain, storage and authentication, also in Chinese", async () => {
    for (const lang of ['en', 'zh-CN']) {
      const alice = new Browser(base, lang);
      await alice.submit('/ui/login', '/ui/login', { username: 'alice', password: 'alice-pass-1', next: '/ui/' });
      const res = await alice.get('/ui/settings');
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.match(html, new RegExp(join(sc.work, 'registry').replace(/[/.]/g, '\\$&')));
      assert.match(html, /LDAP|ldap/);
      if (lang === 'zh-CN') assert.match(html, /设置/);
    }
  });
});
