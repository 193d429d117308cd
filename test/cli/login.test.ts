// berth login/logout and authenticated commands: htpasswd (Basic) and berth's token service
// (Bearer), config.json written the way docker writes it, credential helpers, and no secret in
// any output.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { headBlob, uploadBlobStream } from '../../src/client/index.ts';
import { digestOf } from '../../src/oci/digest.ts';
import { clientSandbox, startBerth, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { htpasswdText } from '../auth/harness.ts';
import { berthCli, client, pushRandomImage } from './helpers.ts';
import { makeDockerArchive } from '../helpers/images.ts';

const USER = 'alice';
const PASSWORD = 'alice-Cl1-Pa55word';

for (const mode of ['basic', 'token'] as const) {
  describe(`berth login against berth with ${mode === 'basic' ? 'htpasswd (Basic)' : 'its token service (Bearer)'}`, () => {
    let server: RunningServer;
    let sb: ClientSandbox;
    let berth: ReturnType<typeof berthCli>;
    let configJson: string;
    before(async () => {
      sb = await clientSandbox(`cli-login-${mode}`, []);
      const htpasswd = join(sb.dir, 'htpasswd');
      await writeFile(htpasswd, await htpasswdText({ [USER]: PASSWORD }));
      const token = mode === 'token' ? '  token: {service: berth-cli, issuer: berth-cli}\nberth:\n  auth:\n    tokenservice: {enabled: true}\n' : '';
      server = await startBerth({ configYaml: `log: {level: info}\nauth:\n  htpasswd: {realm: berth-cli, path: ${htpasswd}}\n${token}` });
      // Only the docker config: REGISTRY_AUTH_FILE would be searched first.
      const env = { ...sb.env };
      delete (env as Record<string, string | undefined>).REGISTRY_AUTH_FILE;
      berth = berthCli({ ...env, REGISTRY_AUTH_FILE: '' });
      configJson = join(sb.env.DOCKER_CONFIG!, 'config.json');
    });
    after(async () => {
      await server?.stop();
      await sb?.cleanup();
    });

    it('refuses a wrong password without storing anything', async () => {
      const r = await berth(['login', server.host, '-u', USER, '--password-stdin', '--insecure'], 'wrong-password\n');
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /unauthorized|refused/);
      await assert.rejects(stat(configJson));
    });

    it('logs in, stores auths.<host>.auth as docker does, and the stored login works for every command', async () => {
      const r = await berth(['login', server.host, '-u', USER, '--password-stdin', '--insecure'], `${PASSWORD}\n`);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Login Succeeded/);
      const config = JSON.parse(await readFile(configJson, 'utf8')) as { auths: Record<string, { auth: string }> };
      assert.equal(Buffer.from(config.auths[server.host]!.auth, 'base64').toString('utf8'), `${USER}:${PASSWORD}`);
      assert.equal((await stat(configJson)).mode & 0o777, 0o600);

      const c = await client(server.host, { insecure: true, creds: `${USER}:${PASSWORD}` });
      const img = await pushRandomImage(c, 'secure/app', 'v1');
      const tags = await berth(['tags', `${server.host}/secure/app`, '--insecure']);
      assert.equal(tags.code, 0, tags.stderr);
      assert.equal(tags.stdout.trim(), 'v1');
      assert.equal((await berth(['digest', `${server.host}/secure/app:v1`, '--insecure'])).stdout.trim(), img.digest);
      const tag = await berth(['tag', `${server.host}/secure/app:v1`, `${server.host}/secure/app:v2`, '--insecure']);
      assert.equal(tag.code, 0, tag.stderr);
      const cat = await berth(['catalog', server.host, '--insecure', '--json']);
      assert.equal(cat.code, 0, cat.stderr);
      assert.deepEqual((JSON.parse(cat.stdout) as { repositories: string[] }).repositories, ['secure/app']);
      assert.equal((await berth(['rm', `${server.host}/secure/app:v2`, '--insecure'])).code, 0);

      if (mode === 'token') {
        // The flow really was Bearer: berth challenged with its token realm, and tokens were issued.
        const ch = (await fetch(`${server.url}/v2/`)).headers.get('www-authenticate') ?? '';
        assert.match(ch, /^Bearer realm="[^"]*\/auth\/token"/);
        assert.match(server.logs(), /\/auth\/token/);
        // One token per scope, reused across the pages of a listing.
        await c.request(`/v2/secure/app/manifests/v3`, { method: 'PUT', headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: img.bytes, scope: 'repository:secure/app:pull,push' });
        const count = () => server.logs().split('\n').filter((l) => l.includes('/auth/token')).length;
        const fresh = await client(server.host, { insecure: true, creds: `${USER}:${PASSWORD}` });
        const before = count();
        assert.deepEqual((await fresh.tags('secure/app', 1)).sort(), ['v1', 'v3']); // v2 was removed above
        assert.equal(count() - before, 1, 'two pages, one token request');
        // A streamed upload cannot replay its body after a 401: the push token must be in hand first.
        const blob = randomBytes(200_000);
        await uploadBlobStream(fresh, 'secure/app', digestOf(blob), Readable.from([blob]));
        assert.equal(await headBlob(fresh, 'secure/app', digestOf(blob)), blob.length);
        await c.request('/v2/secure/app/manifests/v3', { method: 'DELETE', scope: 'repository:secure/app:delete', ok: [202] });
      }
      // push, pull and copy with the stored login (Bearer: tokens per scope, streamed PATCH bodies)
      const archive = join(sb.dir, 'small.tar');
      await makeDockerArchive(archive, { repoTag: 'small:1', layers: 2, layerBytes: 150_000 });
      const pushed = await berth(['push', archive, `${server.host}/secure/pushed:1`, '--insecure', '--quiet']);
      assert.equal(pushed.code, 0, pushed.stderr);
      const pulled = await berth(['pull', `${server.host}/secure/pushed:1`, '-o', join(sb.dir, 'pulled.tar'), '--insecure', '--quiet']);
      assert.equal(pulled.code, 0, pulled.stderr);
      const copied = await berth(['copy', `${server.host}/secure/pushed:1`, `${server.host}/secure/copied:1`, '--insecure', '--json']);
      assert.equal(copied.code, 0, copied.stderr);
      assert.equal(JSON.parse(copied.stdout).digest, pushed.stdout.trim());
      // --creds overrides the stored login (and a wrong one fails)
      const bad = await berth(['tags', `${server.host}/secure/app`, '--insecure', '--creds', `${USER}:nope`]);
      assert.equal(bad.code, 1);
      for (const out of [r.stdout, r.stderr, tags.stderr, bad.stderr, server.logs()]) assert.ok(!out.includes(PASSWORD), 'the password leaked');
    });

    it('sends the login to the registry however its host is written (LOCALHOST:PORT, HOST:443)', async () => {
      // URLs lower-case the name and drop a default port; the client compared them with the host
      // as written, took its own requests for redirects elsewhere and sent no credentials.
      const shouted = `LOCALHOST:${server.port}`;
      const c = await client(shouted, { insecure: true, creds: `${USER}:${PASSWORD}` });
      await pushRandomImage(c, 'secure/shouted', 'v1');
      assert.deepEqual(await c.tags('secure/shouted'), ['v1']);
      const tags = await berth(['tags', `${shouted}/secure/shouted`, '--insecure', '--creds', `${USER}:${PASSWORD}`]);
      assert.equal(tags.code, 0, tags.stderr);
      assert.equal(tags.stdout.trim(), 'v1');
    });

    it('logs out, and then the registry refuses', async () => {
      const r = await berth(['logout', server.host]);
      assert.equal(r.code, 0, r.stderr);
      const config = JSON.parse(await readFile(configJson, 'utf8')) as { auths: Record<string, unknown> };
      assert.equal(config.auths[server.host], undefined);
      const tags = await berth(['tags', `${server.host}/secure/app`, '--insecure']);
      assert.equal(tags.code, 1);
      assert.match(tags.stderr, /unauthorized|refused/);
    });

    it('uses an identitytoken (refresh token) from config.json with the token service', { skip: mode !== 'token' }, async () => {
      const res = await fetch(`${server.url}/auth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', username: USER, password: PASSWORD, access_type: 'offline', service: 'berth-cli', client_id: 'test' }).toString(),
      });
      const refresh = ((await res.json()) as { refresh_token?: string }).refresh_token;
      assert.ok(refresh, 'the token service issued a refresh token');
      await writeFile(configJson, JSON.stringify({ auths: { [server.host]: { auth: '', identitytoken: refresh } } }));
      const tags = await berth(['tags', `${server.host}/secure/app`, '--insecure']);
      assert.equal(tags.code, 0, tags.stderr);
      assert.ok(tags.stdout.split('\n').includes('v1'), tags.stdout);
      await writeFile(configJson, JSON.stringify({ auths: {} }));
    });

    it('uses a credsStore helper (docker-credential-<name> get/store/erase)', async () => {
      // A file-backed fake helper speaking docker's credential-helper protocol.
      const bin = join(sb.dir, 'bin');
      const store = join(sb.dir, 'helper-store.json');
      await import('node:fs/promises').then((fs) => fs.mkdir(bin, { recursive: true }));
      const script = `#!/usr/bin/env node
const fs = require('fs'); const file = ${JSON.stringify(store)};
const db = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
let input = ''; process.stdin.on('data', (d) => (input += d)); process.stdin.on('end', () => {
  const action = process.argv[2];
  if (action === 'store') { const j = JSON.parse(input); db[j.ServerURL] = j; fs.writeFileSync(file, JSON.stringify(db)); }
  else if (action === 'get') { const e = db[input.trim()]; if (!e) { process.stdout.write('credentials not found in native keychain'); process.exit(1); } process.stdout.write(JSON.stringify(e)); }
  else if (action === 'erase') { delete db[input.trim()]; fs.writeFileSync(file, JSON.stringify(db)); }
});
`;
      await writeFile(join(bin, 'docker-credential-fake'), script);
      await chmod(join(bin, 'docker-credential-fake'), 0o755);
      await writeFile(configJson, JSON.stringify({ auths: {}, credsStore: 'fake', unrelated: { keep: true } }));
      const env = { PATH: `${bin}:${process.env.PATH}` };
      const helperCli = berthCli({ ...sb.env, REGISTRY_AUTH_FILE: '', ...env });
      const r = await helperCli(['login', server.host, '-u', USER, '--password-stdin', '--insecure'], PASSWORD);
      assert.equal(r.code, 0, r.stderr);
      const config = JSON.parse(await readFile(configJson, 'utf8')) as { auths: Record<string, Record<string, string>>; unrelated: unknown };
      assert.deepEqual(config.auths[server.host], {}, 'no password in config.json with a credsStore');
      assert.deepEqual(config.unrelated, { keep: true });
      assert.equal((JSON.parse(await readFile(store, 'utf8')) as Record<string, { Secret: string }>)[server.host]!.Secret, PASSWORD);
      const tags = await helperCli(['tags', `${server.host}/secure/app`, '--insecure']);
      assert.equal(tags.code, 0, tags.stderr);
      assert.equal((await helperCli(['logout', server.host])).code, 0);
      assert.equal((JSON.parse(await readFile(store, 'utf8')) as Record<string, unknown>)[server.host], undefined);
    });
  });
}

describe('berth login against Debian docker-registry with htpasswd', () => {
  let server: RunningServer;
  let sb: ClientSandbox;
  before(async () => {
    sb = await clientSandbox('cli-login-distribution', []);
    const htpasswd = join(sb.dir, 'htpasswd');
    await writeFile(htpasswd, await htpasswdText({ [USER]: PASSWORD }));
    const { startDistribution } = await import('../helpers/processes.ts');
    server = await startDistribution({ configYaml: `auth:\n  htpasswd: {realm: dist, path: ${htpasswd}}\n` });
  });
  after(async () => {
    await server?.stop();
    await sb?.cleanup();
  });

  it('logs in, and the stored Basic login lists tags', async () => {
    const berth = berthCli({ ...sb.env, REGISTRY_AUTH_FILE: '' });
    assert.equal((await berth(['login', server.host, '-u', USER, '--password-stdin', '--insecure'], 'bad')).code, 1);
    const r = await berth(['login', server.host, '-u', USER, '--password-stdin', '--insecure'], PASSWORD);
    assert.equal(r.code, 0, r.stderr);
    await pushRandomImage(await client(server.host, { insecure: true, creds: `${USER}:${PASSWORD}` }), 'd/app', 'one');
    const tags = await berth(['tags', `${server.host}/d/app`, '--insecure', '--json']);
    assert.equal(tags.code, 0, tags.stderr);
    assert.deepEqual((JSON.parse(tags.stdout) as { tags: string[] }).tags, ['one']);
  });
});
