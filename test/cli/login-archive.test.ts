// `berth login HOST --archive docker.tar.gz` and `--print-config` (seed 000, DC/OS pull credentials),
// without the scenario harness: the archive's entries, modes and owners, the config.json with base64
// auths and no credential helper, nothing written for a wrong password, the local login untouched,
// and skopeo pulling with the unpacked file as REGISTRY_AUTH_FILE.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { clientSandbox, hasCommand, run, startBerth, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { htpasswdText } from '../auth/harness.ts';
import { makeDockerArchive } from '../helpers/images.ts';
import { berthCli } from './helpers.ts';

const USER = 'foo';
const PASSWORD = 'hard-to-guess-password';

interface Entry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  body: Buffer;
}

async function entries(path: string): Promise<Entry[]> {
  const extract = tar.extract();
  extract.end(gunzipSync(await readFile(path)));
  const out: Entry[] = [];
  for await (const e of extract) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    const h = e.header;
    out.push({ name: h.name, type: h.type ?? '', mode: h.mode ?? 0, uid: h.uid ?? -1, gid: h.gid ?? -1, uname: h.uname ?? '', gname: h.gname ?? '', body: Buffer.concat(chunks) });
  }
  return out;
}

describe('berth login --archive / --print-config', () => {
  let server: RunningServer;
  let sb: ClientSandbox;
  let berth: ReturnType<typeof berthCli>;
  let localConfig: string;
  before(async () => {
    sb = await clientSandbox('cli-login-archive', []);
    const htpasswd = join(sb.dir, 'htpasswd');
    await writeFile(htpasswd, await htpasswdText({ [USER]: PASSWORD }));
    server = await startBerth({ configYaml: `auth:\n  htpasswd: {realm: berth-archive, path: ${htpasswd}}\n` });
    const env = { ...sb.env, REGISTRY_AUTH_FILE: '' };
    berth = berthCli(env);
    localConfig = join(sb.env.DOCKER_CONFIG!, 'config.json');
    // The local docker config only names a keychain helper, as docker login on a Mac leaves it.
    await mkdir(sb.env.DOCKER_CONFIG!, { recursive: true });
    await writeFile(localConfig, '{"credsStore": "osxkeychain"}\n');
  });
  after(async () => {
    await server?.stop();
    await sb?.cleanup();
  });

  const expectedAuths = () => ({ auths: { [server.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } });

  it('refuses a wrong password and writes no archive', async () => {
    const out = join(sb.dir, 'wrong.tar.gz');
    const r = await berth(['login', server.host, '-u', USER, '--password-stdin', '--archive', out], 'not-the-password\n');
    assert.equal(r.code, 1, r.stderr);
    await assert.rejects(stat(out));
  });

  it('writes .docker/ (0700) and .docker/config.json (0600), root/root, base64 auths only; the file is 0600', async () => {
    const out = join(sb.dir, 'docker.tar.gz');
    const r = await berth(['login', server.host, '-u', USER, '--password-stdin', '--archive', out], `${PASSWORD}\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /Login Succeeded/);
    assert.doesNotMatch(r.stderr + r.stdout, new RegExp(PASSWORD));
    assert.equal((await stat(out)).mode & 0o777, 0o600);
    const list = await entries(out);
    assert.deepEqual(
      list.map(({ name, type, mode, uid, gid, uname, gname }) => ({ name, type, mode, uid, gid, uname, gname })),
      [
        { name: '.docker/', type: 'directory', mode: 0o700, uid: 0, gid: 0, uname: 'root', gname: 'root' },
        { name: '.docker/config.json', type: 'file', mode: 0o600, uid: 0, gid: 0, uname: 'root', gname: 'root' },
      ],
    );
    assert.deepEqual(JSON.parse(list[1]!.body.toString()), expectedAuths());
    // The local login is left as it was.
    assert.deepEqual(JSON.parse(await readFile(localConfig, 'utf8')), { credsStore: 'osxkeychain' });
  });

  it('--print-config prints the same config.json on stdout', async () => {
    const r = await berth(['login', server.host, '-u', USER, '--password-stdin', '--print-config'], `${PASSWORD}\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), expectedAuths());
    assert.match(r.stdout, /^\{\n\t"auths"/);
  });

  it('skopeo pulls with the unpacked config.json as REGISTRY_AUTH_FILE', { skip: !hasCommand('skopeo') && 'skopeo is not installed' }, async () => {
    const tarball = join(sb.dir, 'app.tar');
    await makeDockerArchive(tarball, { repoTag: 'app:1', layers: 1, layerBytes: 2048 });
    const push = await berth(['push', tarball, `${server.host}/private/app:1`, '--creds', `${USER}:${PASSWORD}`]);
    assert.equal(push.code, 0, push.stderr);
    const home = join(sb.dir, 'sandbox');
    await mkdir(home);
    await run('tar', ['-xzf', join(sb.dir, 'docker.tar.gz'), '-C', home]);
    const authfile = join(home, '.docker', 'config.json');
    const ok = await run('skopeo', ['--insecure-policy', 'inspect', '--tls-verify=false', `docker://${server.host}/private/app:1`], { env: { ...sb.env, REGISTRY_AUTH_FILE: authfile }, allowFail: true });
    assert.equal(ok.code, 0, ok.stderr);
    const anon = await run('skopeo', ['--insecure-policy', 'inspect', '--tls-verify=false', `docker://${server.host}/private/app:1`], { env: sb.env, allowFail: true });
    assert.notEqual(anon.code, 0);
  });
});
