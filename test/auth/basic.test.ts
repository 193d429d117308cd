// auth.htpasswd as distribution does it: Basic credentials on every /v2 request, checked against
// a bcrypt htpasswd file that is re-read when it changes; plus what berth adds around it (brute
// force throttling, catalog filtering, DENIED from an access controller, a provisioned file).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { removeUser, setUser, updateFile } from '../../src/auth/htpasswd-edit.ts';
import { AuthBackendError, type AccessController, type Action, type PasswordVerifier, type Principal } from '../../src/auth/types.ts';
import { basic, errorBody, htpasswdText, pushBlob, pushImage, sha256, startAuthRegistry, startHtpasswdRegistry, type AuthRegistry } from './harness.ts';

/** A raw request: fetch() would normalise `..` away and refuse oversized headers itself. */
function raw(url: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

const ALICE = 'alice-Pa55word-1';
const BOB = 'bob-Pa55word-22';

describe('auth.htpasswd: Basic credentials on /v2', () => {
  let r: AuthRegistry;
  before(async () => {
    r = await startHtpasswdRegistry({ alice: ALICE, bob: BOB });
  });
  after(async () => {
    await r?.stop();
  });

  it('GET /v2/ answers 401 with a Basic challenge until valid credentials come (what docker login relies on)', async () => {
    const none = await fetch(`${r.url}/v2/`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Basic realm="berth-test"');
    assert.equal(none.headers.get('docker-distribution-api-version'), 'registry/2.0');
    assert.deepEqual((await errorBody(none)).map((e) => e.code), ['UNAUTHORIZED']);

    const wrong = await fetch(`${r.url}/v2/`, { headers: { Authorization: basic('alice', 'not-her-password') } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), 'Basic realm="berth-test"');
    assert.match((await errorBody(wrong))[0].message, /invalid username or password/);

    const unknown = await fetch(`${r.url}/v2/`, { headers: { Authorization: basic('mallory', ALICE) } });
    assert.equal(unknown.status, 401);
    for (const bad of ['Basic !!!', 'Basic', 'Digest x=1', `Basic ${Buffer.from('no-colon').toString('base64')}`, 'Bearer abc.def.ghi']) {
      const res = await fetch(`${r.url}/v2/`, { headers: { Authorization: bad } });
      assert.equal(res.status, 401, bad);
      assert.equal(res.headers.get('www-authenticate'), 'Basic realm="berth-test"', bad);
    }

    const ok = await fetch(`${r.url}/v2/`, { headers: { Authorization: basic('alice', ALICE) } });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), {});
    // health endpoints stay open for probes
    assert.equal((await fetch(`${r.url}/livez`)).status, 200);
  });

  it('refuses an anonymous push with 401 and the challenge; an authenticated push and pull work', async () => {
    const data = randomBytes(100);
    const anon = await fetch(`${r.url}/v2/team/app/blobs/uploads/?digest=${sha256(data)}`, { method: 'POST', body: new Uint8Array(data) });
    assert.equal(anon.status, 401);
    assert.equal(anon.headers.get('www-authenticate'), 'Basic realm="berth-test"');
    assert.deepEqual(await errorBody(anon), [
      { code: 'UNAUTHORIZED', message: 'authentication required', detail: [{ Type: 'repository', Name: 'team/app', Action: 'pull' }, { Type: 'repository', Name: 'team/app', Action: 'push' }] },
    ]);
    for (const [method, path] of [
      ['POST', '/v2/team/app/blobs/uploads/'],
      ['PUT', '/v2/team/app/manifests/v1'],
      ['DELETE', '/v2/team/app/manifests/v1'],
      ['HEAD', '/v2/team/app/manifests/v1'],
      ['GET', '/v2/team/app/tags/list'],
      ['GET', '/v2/_catalog'],
      ['GET', `/v2/team/app/blobs/${sha256(data)}`],
      ['GET', `/v2/team/app/referrers/${sha256(data)}`],
    ] as const) {
      const res = await fetch(`${r.url}${path}`, { method });
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.ok(res.headers.get('www-authenticate'), `${method} ${path}`);
    }

    const auth = basic('alice', ALICE);
    const digest = await pushImage(r.url, 'team/app', 'v1', auth);
    const got = await fetch(`${r.url}/v2/team/app/manifests/v1`, { headers: { Authorization: auth, Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('docker-content-digest'), digest);
    const tags = await fetch(`${r.url}/v2/team/app/tags/list`, { headers: { Authorization: basic('bob', BOB) } });
    assert.deepEqual(await tags.json(), { name: 'team/app', tags: ['v1'] });
    // the access log names the user and never carries the credentials
    const lines = r.logs().split('\n').filter((l) => l.includes('"msg":"request"'));
    assert.ok(lines.some((l) => JSON.parse(l).user === 'alice' && JSON.parse(l).status === 201), 'the access log names the user');
    for (const secret of [ALICE, BOB, Buffer.from(`alice:${ALICE}`).toString('base64'), 'not-her-password']) assert.ok(!r.logs().includes(secret), 'a credential reached the log');
  });

  it('refuses path traversal in repository names, before any storage is touched', async () => {
    const auth = { Authorization: basic('alice', ALICE) };
    for (const path of [
      '/v2/../../../etc/passwd/manifests/latest',
      '/v2/team/../../etc/manifests/latest',
      '/v2/team/%2e%2e/%2e%2e/etc/manifests/latest',
      '/v2/team%2f..%2f..%2fetc/tags/list',
      '/v2//team/app/tags/list',
      '/v2/Team/App/tags/list',
      '/v2/team/app%00/tags/list',
    ]) {
      const res = await raw(r.url, path, auth);
      assert.ok(res.status === 400 || res.status === 404, `${path}: ${res.status} ${res.body}`);
      if (res.status === 400) assert.match(res.body, /NAME_INVALID/, path);
    }
    // a mount source is a repository name too
    const mount = await fetch(`${r.url}/v2/team/app/blobs/uploads/?mount=${sha256('x')}&from=../../etc`, { method: 'POST', headers: auth });
    assert.equal(mount.status, 400);
    assert.deepEqual((await errorBody(mount)).map((e) => e.code), ['NAME_INVALID']);
  });

  it('refuses oversized headers: Node at 16 KiB (431), berth at 8 KiB of Authorization (401)', async () => {
    const huge = await raw(r.url, '/v2/', { Authorization: `Basic ${'A'.repeat(20_000)}` });
    assert.equal(huge.status, 431);
    const big = await fetch(`${r.url}/v2/`, { headers: { Authorization: `Basic ${'QUFB'.repeat(2500)}` } });
    assert.equal(big.status, 401);
    const longUser = await fetch(`${r.url}/v2/`, { headers: { Authorization: basic('u'.repeat(1000), 'x') } });
    assert.equal(longUser.status, 401);
  });

  it('picks up a changed htpasswd file without a restart: new users in, removed users out', async () => {
    const path = join(r.root, 'htpasswd');
    const carol = 'carol-Pa55word-333';
    assert.equal((await fetch(`${r.url}/v2/`, { headers: { Authorization: basic('carol', carol) } })).status, 401);
    const hash = (await bcrypt.hash(carol, 4)).replace('$2b$', '$2y$');
    await updateFile(path, (lines) => setUser(lines, 'carol', hash).lines);
    assert.equal((await fetch(`${r.url}/v2/`, { headers: { Authorization: basic('carol', carol) } })).status, 200);
    // bob's credentials were just used successfully (and remembered): removal must still win at once
    assert.equal((await fetch(`${r.url}/v2/`, { headers: { Authorization: basic('bob', BOB) } })).status, 200);
    await updateFile(path, (lines) => removeUser(lines, 'bob').lines);
    assert.equal((await fetch(`${r.url}/v2/`, { headers: { Authorization: basic('bob', BOB) } })).status, 401);

    // an MD5 entry added later: that user cannot log in, the error names them, the others keep working
    await writeFile(path, `${await readFile(path, 'utf8')}dave:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\n`);
    assert.equal((await fetch(`${r.url}/v2/`, { headers: { Authorization: basic('dave', 'dave') } })).status, 401);
    assert.equal((await fetch(`${r.url}/v2/`, { headers: { Authorization: basic('alice', ALICE) } })).status, 200);
    assert.match(r.logs(), /user \\"dave\\" has an unsupported password hash: Apache MD5/);
    assert.ok(!r.logs().includes('HqJZimcKQFAMYayBlzkrA'), 'the hash reached the log');
  });
});

describe('auth.htpasswd: loading the file', () => {
  it('refuses to start on an MD5, SHA or crypt entry, naming the user and never the hash', async () => {
    for (const [user, hash, kind] of [
      ['eve', '{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=', /SHA-1 \(\{SHA\}, htpasswd -s\)/],
      ['frank', '$apr1$Vw7u6xkq$3Vb7Ggx4yNtu2XbEnjhr41', /Apache MD5 \(\$apr1\$, htpasswd -m\)/],
      ['grace', 'rqXexS6ZhobKA', /crypt\(\) or plain text/],
    ] as const) {
      await assert.rejects(
        startAuthRegistry(async (c, root) => {
          const path = join(root, 'htpasswd');
          await writeFile(path, `${await htpasswdText({ alice: ALICE })}# a comment\n${user}:${hash}\n`);
          c.auth = { htpasswd: { realm: 'r', path } };
        }),
        (e: Error) => {
          assert.match(e.message, new RegExp(`line 3: user "${user}" has an unsupported password hash`));
          assert.match(e.message, kind);
          assert.match(e.message, new RegExp(`berth user passwd ${user}`));
          assert.ok(!e.message.includes(hash), 'the hash is in the message');
          return true;
        },
      );
    }
  });

  it('creates a missing htpasswd file with user admin, its password printed once on stderr and never logged', async () => {
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    (process.stderr as { write: unknown }).write = (chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    };
    let r: AuthRegistry | undefined;
    try {
      r = await startAuthRegistry((c, root) => {
        c.auth = { htpasswd: { realm: 'r', path: join(root, 'auth', 'htpasswd') } };
      });
    } finally {
      (process.stderr as { write: unknown }).write = original;
    }
    try {
      const shown = written.join('');
      const password = /password:\n\n {4}(\S+)\n/.exec(shown)?.[1];
      assert.ok(password && password.length >= 32, shown);
      assert.match(shown, /berth user passwd admin/);
      const path = join(r.root, 'auth', 'htpasswd');
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      assert.match(await readFile(path, 'utf8'), /^admin:\$2y\$10\$/);
      assert.ok(!r.logs().includes(password), 'the generated password reached the JSON log');
      assert.match(r.logs(), /created the missing file/);
      assert.equal((await fetch(`${r.url}/v2/`, { headers: { Authorization: basic('admin', password) } })).status, 200);
    } finally {
      await r.stop();
    }
  });
});

describe('brute-force protection', () => {
  let r: AuthRegistry;
  before(async () => {
    r = await startHtpasswdRegistry({ alice: ALICE, bob: BOB }, (c) => {
      c.berth.auth.bruteforce = { maxFailures: 3, lockoutMs: 1500, trustForwardedFor: false };
    });
  });
  after(async () => {
    await r?.stop();
  });

  it('slows repeated failures, refuses the user for the lockout (429 + Retry-After), then lets the right password in', async () => {
    const attempt = (user: string, password: string) => fetch(`${r.url}/v2/`, { headers: { Authorization: basic(user, password) } });
    assert.equal((await attempt('alice', 'guess-1')).status, 401);
    const t0 = Date.now();
    assert.equal((await attempt('alice', 'guess-2')).status, 401);
    assert.ok(Date.now() - t0 >= 240, 'the second failure is answered late');
    const locked = await attempt('ALICE', 'guess-3'); // case variants count for the same account
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) >= 1, 'Retry-After is set');
    assert.deepEqual((await errorBody(locked)).map((e) => e.code), ['TOOMANYREQUESTS']);
    // locked: even the right password is refused, without being checked
    const refused = await attempt('alice', ALICE);
    assert.equal(refused.status, 429);
    assert.match((await errorBody(refused))[0].message, /too many failed login attempts; try again in \d+ seconds/);
    // other users are not affected
    assert.equal((await attempt('bob', BOB)).status, 200);

    await new Promise((res) => setTimeout(res, 1600));
    assert.equal((await attempt('alice', ALICE)).status, 200);
    // the success reset the count: one failure is an ordinary 401 again
    assert.equal((await attempt('alice', 'guess-4')).status, 401);
    assert.equal((await attempt('alice', ALICE)).status, 200);

    // the token endpoint shares the counters (in htpasswd mode it does not exist: 404)
    assert.equal((await fetch(`${r.url}/auth/token`)).status, 404);
    for (const guess of ['guess-1', 'guess-2', 'guess-3', 'guess-4']) assert.ok(!r.logs().includes(guess), 'a tried password reached the log');
    assert.match(r.logs(), /"user":"alice".*"msg":"login failed"/);
  });

  it('counts per client address too: many names from one address lock that address', async () => {
    let last = 0;
    for (let i = 0; i < 12; i++) {
      last = (await fetch(`${r.url}/v2/`, { headers: { Authorization: basic(`nobody${i}`, `pw${i}`) } })).status;
    }
    assert.equal(last, 429);
    assert.equal((await fetch(`${r.url}/v2/`, { headers: { Authorization: basic('bob', BOB) } })).status, 429);
    // names nobody knows are not logged (people type passwords into the user field)
    assert.ok(!r.logs().includes('nobody3'), 'an unknown user name reached the log');
    await new Promise((res) => setTimeout(res, 1600));
    assert.equal((await fetch(`${r.url}/v2/`, { headers: { Authorization: basic('bob', BOB) } })).status, 200);
  });
});

/** alice may do anything; bob may only pull, and only under pub/. */
class TestAccess implements AccessController {
  async allowedActions(p: Principal, repository: string, wanted: Action[]): Promise<Action[]> {
    if (p.name === 'alice') return wanted;
    if (p.name === 'bob' && repository.startsWith('pub/')) return wanted.filter((a) => a === 'pull');
    return [];
  }
  async canList(p: Principal, repository: string): Promise<boolean> {
    return (await this.allowedActions(p, repository, ['pull'])).length > 0;
  }
}

describe('authorization through an AccessController', () => {
  let r: AuthRegistry;
  before(async () => {
    r = await startHtpasswdRegistry({ alice: ALICE, bob: BOB }, () => {}, { accessController: new TestAccess() });
  });
  after(async () => {
    await r?.stop();
  });

  it('answers DENIED (403) to an authenticated caller the controller refuses, and filters _catalog', async () => {
    const alice = basic('alice', ALICE);
    const bob = basic('bob', BOB);
    for (const name of ['pub/a', 'pub/b', 'priv/x', 'pub/c', 'zzz']) await pushImage(r.url, name, 'v1', alice);

    const push = await pushBlob(r.url, 'pub/a', bob);
    assert.equal(push.status, 403);
    assert.equal(push.headers.get('www-authenticate'), null);
    assert.deepEqual(await errorBody(push), [
      { code: 'DENIED', message: 'requested access to the resource is denied', detail: [{ Type: 'repository', Name: 'pub/a', Action: 'pull' }, { Type: 'repository', Name: 'pub/a', Action: 'push' }] },
    ]);
    assert.equal((await fetch(`${r.url}/v2/priv/x/manifests/v1`, { headers: { Authorization: bob } })).status, 403);
    assert.equal((await fetch(`${r.url}/v2/pub/a/manifests/v1`, { method: 'DELETE', headers: { Authorization: bob } })).status, 403);
    assert.equal((await fetch(`${r.url}/v2/pub/a/manifests/v1`, { headers: { Authorization: bob, Accept: 'application/vnd.oci.image.manifest.v1+json' } })).status, 200);

    const all = (await (await fetch(`${r.url}/v2/_catalog`, { headers: { Authorization: alice } })).json()) as { repositories: string[] };
    assert.deepEqual(all.repositories, ['priv/x', 'pub/a', 'pub/b', 'pub/c', 'zzz']);
    const mine = (await (await fetch(`${r.url}/v2/_catalog`, { headers: { Authorization: bob } })).json()) as { repositories: string[] };
    assert.deepEqual(mine.repositories, ['pub/a', 'pub/b', 'pub/c']);
    // pages hold visible names only, and the Link never points at a hidden one
    const first = await fetch(`${r.url}/v2/_catalog?n=2`, { headers: { Authorization: bob } });
    assert.deepEqual(((await first.json()) as { repositories: string[] }).repositories, ['pub/a', 'pub/b']);
    assert.equal(first.headers.get('link'), '</v2/_catalog?last=pub%2Fb&n=2>; rel="next"');
    const second = await fetch(`${r.url}/v2/_catalog?n=2&last=pub/b`, { headers: { Authorization: bob } });
    assert.deepEqual(((await second.json()) as { repositories: string[] }).repositories, ['pub/c']);
    assert.equal(second.headers.get('link'), null);
  });

  it('mounts across repositories only with pull on the source; otherwise falls back to a plain upload', async () => {
    const alice = basic('alice', ALICE);
    const data = randomBytes(500);
    assert.equal((await pushBlob(r.url, 'priv/src', alice, data)).status, 201);
    // carol may push to her own repository, but not read priv/src
    const access: AccessController = {
      allowedActions: async (p, repo, wanted) => (p.name === 'alice' ? wanted : repo === 'pub/a' && p.name === 'bob' ? wanted : []),
      canList: async () => true,
    };
    const r2 = await startHtpasswdRegistry({ alice: ALICE, bob: BOB }, () => {}, { accessController: access });
    try {
      assert.equal((await pushBlob(r2.url, 'priv/src', alice, data)).status, 201);
      const bobMount = await fetch(`${r2.url}/v2/pub/a/blobs/uploads/?mount=${sha256(data)}&from=priv/src`, { method: 'POST', headers: { Authorization: basic('bob', BOB) } });
      assert.equal(bobMount.status, 202, 'no pull on the source: an upload session, not a mount');
      assert.ok(bobMount.headers.get('docker-upload-uuid'), 'an upload session');
      assert.equal((await fetch(`${r2.url}/v2/pub/a/blobs/${sha256(data)}`, { method: 'HEAD', headers: { Authorization: basic('bob', BOB) } })).status, 404);
      const aliceMount = await fetch(`${r2.url}/v2/pub/a/blobs/uploads/?mount=${sha256(data)}&from=priv/src`, { method: 'POST', headers: { Authorization: alice } });
      assert.equal(aliceMount.status, 201);
      assert.equal((await fetch(`${r2.url}/v2/pub/a/blobs/${sha256(data)}`, { method: 'HEAD', headers: { Authorization: basic('bob', BOB) } })).status, 200);
    } finally {
      await r2.stop();
    }
  });
});

describe('password verifiers plugged in (LDAP, access tokens...)', () => {
  it('turns authentication on by themselves, come before htpasswd, and a backend outage is a 503, not a failed login', async () => {
    let down = false;
    const directory: PasswordVerifier = {
      name: 'directory',
      async verify(user, password) {
        if (down) throw new AuthBackendError('directory unreachable');
        return user === 'dora' && password === 'dora-Pa55word-4' ? { name: 'dora', kind: 'user', via: 'directory', teams: ['devs'], admin: false } : undefined;
      },
    };
    const r = await startAuthRegistry((c) => {
      c.berth.auth.bruteforce = { maxFailures: 2, lockoutMs: 60_000, trustForwardedFor: false };
    }, { verifiers: [directory] });
    try {
      const ping = (p: string) => fetch(`${r.url}/v2/`, { headers: { Authorization: basic('dora', p) } });
      assert.equal((await fetch(`${r.url}/v2/`)).headers.get('www-authenticate'), 'Basic realm="berth"');
      assert.equal((await ping('dora-Pa55word-4')).status, 200);
      down = true;
      for (let i = 0; i < 3; i++) {
        const res = await ping('dora-Pa55word-4');
        assert.equal(res.status, 503);
        assert.match((await errorBody(res))[0].message, /authentication backend unavailable/);
      }
      down = false;
      // three outages counted nothing against dora (the limit is 2)
      assert.equal((await ping('dora-Pa55word-4')).status, 200);
    } finally {
      await r.stop();
    }
  });
});
