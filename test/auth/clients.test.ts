// Real clients against berth with authentication, as a user meets them: skopeo (--creds, and an
// authfile in ~/.docker/config.json format), podman login/push/pull, buildah push, and the docker
// CLI without a daemon (docker login + docker manifest inspect). Each runs against htpasswd
// (Basic) and against berth's token service (Bearer, with refresh tokens for docker). Afterwards
// the server's whole output is searched for every password, credential and token used. The
// last two runs repeat both over TLS, with the CA from `berth tls init`: --cert-dir for skopeo, podman
// and buildah, /etc/docker/certs.d/<host>/ca.crt for the docker CLI, as the seeds set it up.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { clientSandbox, hasCommand, run, startBerth, tempDir, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { makeOciLayout, sha256 } from '../helpers/images.ts';
import { htpasswdText } from './harness.ts';
import { listening, tlsInit } from '../tls/helpers.ts';

const missing = ['skopeo', 'podman', 'buildah', 'docker'].filter((c) => !hasCommand(c));
const USER = 'alice';
const PASSWORD = 'alice-Cl1ent-Pa55word';
const WRONG = 'not-Alice-Pa55word';

for (const variant of ['htpasswd', 'token', 'htpasswd-tls', 'token-tls'] as const) {
  const mode = variant.startsWith('token') ? 'token' : 'htpasswd';
  const tls = variant.endsWith('-tls');
  const title = `${mode === 'token' ? "berth's token service (Bearer)" : 'auth.htpasswd (Basic)'}${tls ? ' over TLS' : ''}`;
  describe(`real clients with ${title}`, { skip: missing.length > 0 && `not installed: ${missing.join(', ')}` }, () => {
    let server: RunningServer;
    let sb: ClientSandbox;
    let work: string;
    let cleanupWork: () => Promise<void>;
    /** Every credential and token a client held, to look for in the server's output at the end. */
    const secrets: string[] = [PASSWORD, WRONG, Buffer.from(`${USER}:${PASSWORD}`).toString('base64')];

    let trustDir = ''; // --cert-dir holding only our ca.crt (tls variant)
    let dockerCertsDir = ''; // /etc/docker/certs.d/<host> (tls variant), removed afterwards
    // Over TLS every "skip verification" flag becomes "trust this CA"; nothing else changes.
    const secure = (args: string[]) =>
      !tls
        ? args
        : args.flatMap((a) =>
            a === '--dest-tls-verify=false' ? [`--dest-cert-dir=${trustDir}`] : a === '--src-tls-verify=false' ? [`--src-cert-dir=${trustDir}`] : a === '--tls-verify=false' ? [`--cert-dir=${trustDir}`] : a === '--insecure' ? [] : [a],
          );
    const skopeo = (args: string[], allowFail = false) => run('skopeo', ['--insecure-policy', ...secure(args)], { env: sb.env, allowFail });
    const podman = (args: string[], opts: { input?: string; allowFail?: boolean } = {}) => run('podman', [...sb.podmanFlags, ...secure(args)], { env: sb.env, ...opts });
    const buildah = (...args: string[]) => run('buildah', [...sb.buildahFlags, ...secure(args)], { env: sb.env });
    const docker = (args: string[], opts: { input?: string; allowFail?: boolean } = {}) => run('docker', secure(args), { env: sb.env, ...opts });
    const creds = `${USER}:${PASSWORD}`;

    before(async () => {
      const t = await tempDir(`auth-clients-${mode}`);
      work = t.path;
      cleanupWork = t.cleanup;
      const htpasswd = join(work, 'htpasswd');
      await writeFile(htpasswd, await htpasswdText({ [USER]: PASSWORD, bob: 'bob-Cl1ent-Pa55word' }, 10));
      const auth = `auth:\n  htpasswd: {realm: berth-clients, path: ${htpasswd}}\n`;
      const token = mode === 'token' ? '  token: {service: berth-clients, issuer: berth-clients}\nberth:\n  auth:\n    tokenservice: {enabled: true}\n' : '';
      if (tls) {
        const certs = (await tlsInit(join(work, 'certs'), ['--host', 'localhost', '--ip', '127.0.0.1'])).files;
        trustDir = join(work, 'trust');
        await mkdir(trustDir);
        await copyFile(certs.ca, join(trustDir, 'ca.crt'));
        const tlsYaml = `http:\n  tls:\n    certificate: ${certs.cert}\n    key: ${certs.key}\n`;
        server = await startBerth({ configYaml: `log: {level: info}\n${auth}${token}${tlsYaml}`, scheme: 'https', ready: listening });
        // The docker CLI (like the daemon) trusts a registry's CA from /etc/docker/certs.d/<host:port>/.
        dockerCertsDir = join('/etc/docker/certs.d', server.host);
        await mkdir(dockerCertsDir, { recursive: true });
        await copyFile(certs.ca, join(dockerCertsDir, 'ca.crt'));
      } else {
        server = await startBerth({ configYaml: `log: {level: info}\n${auth}${token}` });
      }
      sb = await clientSandbox(`auth-clients-${variant}`, tls ? [] : [server.host]);
    });
    after(async () => {
      await server?.stop();
      await sb?.cleanup();
      await cleanupWork?.();
      if (dockerCertsDir) await rm(dockerCertsDir, { recursive: true, force: true });
    });

    it('skopeo: refused anonymously and with a wrong password; pushes with --dest-creds, reads with a docker-style authfile', async () => {
      const src = await makeOciLayout(join(work, 'skopeo-src'), { tag: 'v1', layers: 2, layerBytes: 32 * 1024 });
      const dest = `docker://${server.host}/sk/img:v1`;
      const copy = ['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `oci:${src.dir}:v1`, dest];

      const anon = await skopeo(copy, true);
      assert.notEqual(anon.code, 0);
      // with tokens, skopeo gets an anonymous token granting nothing and reports the 401 insufficient_scope as "denied"
      assert.match(anon.stderr, mode === 'token' ? /denied|unauthorized/i : /unauthorized|authentication required/i);
      const wrong = await skopeo(['copy', '--quiet', `--dest-creds=${USER}:${WRONG}`, ...copy.slice(2)], true);
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stderr, /unauthorized|invalid username or password/i);
      assert.doesNotMatch(wrong.stderr, new RegExp(WRONG), 'the server echoed the password');

      await skopeo(['copy', '--quiet', `--dest-creds=${creds}`, ...copy.slice(2)]);

      // the user's ~/.docker/config.json, as `docker login` writes it: auths.<host>.auth = base64(user:password)
      const authfile = join(work, 'docker-config.json');
      await writeFile(authfile, JSON.stringify({ auths: { [server.host]: { auth: Buffer.from(creds).toString('base64') } } }));
      const raw = (await skopeo(['inspect', '--raw', '--tls-verify=false', '--authfile', authfile, dest])).stdout;
      assert.equal(sha256(raw), src.digest);
      const tags = JSON.parse((await skopeo(['list-tags', '--tls-verify=false', '--creds', creds, `docker://${server.host}/sk/img`])).stdout);
      assert.deepEqual(tags.Tags, ['v1']);
      const back = join(work, 'skopeo-back');
      await skopeo(['copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', '--authfile', authfile, dest, `oci:${back}:v1`]);
      assert.equal(sha256(await readFile(join(back, 'blobs', 'sha256', src.digest.slice(7)))), src.digest);
      // without credentials the registry answers nothing
      const anonRead = await skopeo(['inspect', '--raw', '--tls-verify=false', '--no-creds', dest], true);
      assert.notEqual(anonRead.code, 0);
    });

    it('podman login, pull and push; buildah push with the same login; logout closes the door', async () => {
      const src = await makeOciLayout(join(work, 'podman-src'), { tag: 'v1', layers: 1, layerBytes: 16 * 1024 });
      await skopeo(['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `--dest-creds=${creds}`, `oci:${src.dir}:v1`, `docker://${server.host}/pod/src:v1`]);

      const bad = await podman(['login', '--tls-verify=false', '-u', USER, '--password-stdin', server.host], { input: WRONG, allowFail: true });
      assert.notEqual(bad.code, 0);
      const login = await podman(['login', '--tls-verify=false', '-u', USER, '--password-stdin', server.host], { input: PASSWORD });
      assert.match(login.stdout, /Login Succeeded/);

      await podman(['pull', '--quiet', '--tls-verify=false', `${server.host}/pod/src:v1`]);
      assert.equal((await podman(['image', 'inspect', '--format', '{{.Digest}}', `${server.host}/pod/src:v1`])).stdout.trim(), src.digest);
      await podman(['tag', `${server.host}/pod/src:v1`, `${server.host}/pod/copy:v2`]);
      const digestFile = join(work, 'podman.digest');
      await podman(['push', '--quiet', '--tls-verify=false', '--digestfile', digestFile, `${server.host}/pod/copy:v2`]);
      const pushed = (await readFile(digestFile, 'utf8')).trim();
      const raw = (await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', creds, `docker://${server.host}/pod/copy:v2`])).stdout;
      assert.equal(sha256(raw), pushed);

      const budDigest = join(work, 'buildah.digest');
      await buildah('push', '--quiet', '--tls-verify=false', '--digestfile', budDigest, `${server.host}/pod/src:v1`, `docker://${server.host}/bud/img:1`);
      const budRaw = (await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', creds, `docker://${server.host}/bud/img:1`])).stdout;
      assert.equal(sha256(budRaw), (await readFile(budDigest, 'utf8')).trim());

      await podman(['logout', server.host]);
      const after = await podman(['pull', '--quiet', '--tls-verify=false', `${server.host}/bud/img:1`], { allowFail: true });
      assert.notEqual(after.code, 0);
      assert.match(after.stderr, /unauthorized|authentication required/i);
    });

    it('docker login (no daemon) stores the login; docker manifest inspect uses it', async () => {
      const src = await makeOciLayout(join(work, 'docker-src'), { tag: 'v1', layers: 1, layerBytes: 8 * 1024 });
      await skopeo(['copy', '--quiet', '--format', 'v2s2', '--dest-tls-verify=false', `--dest-creds=${creds}`, `oci:${src.dir}:v1`, `docker://${server.host}/dock/img:v1`]);

      const bad = await docker(['login', '-u', USER, '--password-stdin', server.host], { input: WRONG, allowFail: true });
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /401|unauthorized/i);
      const login = await docker(['login', '-u', USER, '--password-stdin', server.host], { input: PASSWORD });
      assert.match(login.stdout, /Login Succeeded/);
      const config = JSON.parse(await readFile(join(sb.env.DOCKER_CONFIG, 'config.json'), 'utf8')) as { auths: Record<string, { auth?: string; identitytoken?: string }> };
      const entry = config.auths[server.host];
      assert.ok(entry, `config.json has an entry for ${server.host}`);
      if (mode === 'token') {
        // docker keeps the refresh token instead of the password (offline_token=true)
        assert.ok(entry.identitytoken && entry.identitytoken.length > 40, 'docker stored an identity token');
        secrets.push(entry.identitytoken);
        assert.ok(!JSON.stringify(config).includes(Buffer.from(creds).toString('base64')), 'the password is not stored');
      } else {
        assert.equal(entry.auth, Buffer.from(creds).toString('base64'));
      }

      const inspect = JSON.parse((await docker(['manifest', 'inspect', '--insecure', `${server.host}/dock/img:v1`])).stdout);
      assert.equal(inspect.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
      assert.equal(inspect.layers.length, 1);

      await docker(['logout', server.host]);
      const anon = await docker(['manifest', 'inspect', '--insecure', `${server.host}/dock/img:v1`], { allowFail: true });
      assert.notEqual(anon.code, 0);
    });

    it('logs no password, credential or token anywhere in the server output', async () => {
      const logs = server.logs();
      assert.match(logs, /"user":"alice"/, 'the access log names the user');
      // docker renewed its access tokens with the stored refresh token (OAuth2 POST), containers/image used GET
      if (mode === 'token') assert.match(logs, /"method":"POST","path":"\/auth\/token","status":200/);
      if (mode === 'token') assert.match(logs, /"method":"GET","path":"\/auth\/token","status":200/);
      for (const s of secrets) assert.ok(!logs.includes(s), `a secret (${s.slice(0, 4)}...) reached the server output`);
      // no Authorization header, bearer token or refresh token in any form
      assert.doesNotMatch(logs, /authorization|eyJ[A-Za-z0-9_-]{20,}/i);
    });
  });
}
