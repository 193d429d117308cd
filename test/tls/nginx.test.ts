// Seed 001: nginx terminates TLS (with the pair from `berth tls init`) and does basic auth; berth
// runs on plain HTTP behind it. skopeo must push and pull through nginx, every Location must be an
// https URL of the nginx host (from Host and X-Forwarded-Proto), and Docker-Distribution-Api-Version
// must appear exactly once: from berth on proxied answers, from nginx's map on its own 401.
// nginx is required: without it these tests fail (CI installs nginx-light), they do not skip.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { clientSandbox, hasCommand, run, startBerth, tempDir, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { layoutRef, makeOciLayout, readLayoutBlob } from '../helpers/images.ts';
import { tlsInit, type CertFiles } from './helpers.ts';
import { findNginx, startNginxProxy, type NginxProxy } from './nginx-proxy.ts';

describe('nginx in front (seed 001): TLS at the proxy, plain HTTP to berth', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let certs: CertFiles;
  let berth: RunningServer;
  let nginx: NginxProxy;
  let sb: ClientSandbox;
  let trustDir: string;
  const user = 'zkp';
  const password = randomBytes(12).toString('hex');

  before(async () => {
    const found = findNginx();
    if ('missing' in found) assert.fail(found.missing);
    for (const c of ['skopeo', 'curl']) if (!hasCommand(c)) assert.fail(`${c} is not installed (bash .ci/run installs it)`);
    ({ path: work, cleanup } = await tempDir('tls-nginx'));
    certs = (await tlsInit(join(work, 'certs'), ['--host', 'localhost', '--ip', '127.0.0.1'])).files;
    trustDir = join(work, 'trust');
    await mkdir(trustDir);
    await copyFile(certs.ca, join(trustDir, 'ca.crt'));
    // nginx reads {PLAIN} entries as they are: enough for a test, never for a real deployment.
    const htpasswd = join(work, 'nginx.htpasswd');
    await writeFile(htpasswd, `${user}:{PLAIN}${password}\n`);
    berth = await startBerth();
    nginx = await startNginxProxy({ nginx: found.path, dir: join(work, 'nginx'), upstream: berth.host, certificate: certs.cert, key: certs.key, htpasswd });
    sb = await clientSandbox('tls-nginx');
  });
  after(async () => {
    await nginx?.stop();
    await berth?.stop();
    await sb?.cleanup();
    await cleanup?.();
  });

  const origin = () => `https://localhost:${nginx.port}`;
  const curl = (args: string[]) => run('curl', ['-sS', '--max-time', '30', '--cacert', certs.ca, ...args], { allowFail: true });
  const headerValues = (raw: string, name: string) => raw.split(/\r?\n/).filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)).map((l) => l.slice(name.length + 1).trim());

  it('skopeo pushes and pulls through nginx with the CA from berth tls init and basic auth', async () => {
    const src = await makeOciLayout(join(work, 'src'), { tag: 'v1', layers: 3, layerBytes: 2 * 1024 * 1024 });
    const ref = `docker://localhost:${nginx.port}/alpine-linux:jdk-7`;
    const creds = `${user}:${password}`;
    const push = await run('skopeo', ['--insecure-policy', 'copy', '--quiet', '--preserve-digests', '--dest-cert-dir', trustDir, '--dest-creds', creds, `oci:${src.dir}:v1`, ref], { env: sb.env, allowFail: true });
    assert.equal(push.code, 0, `push failed:\n${push.stderr}\n--- nginx ---\n${nginx.logs()}\n--- berth ---\n${berth.logs()}`);
    const out = join(work, 'back');
    await run('skopeo', ['--insecure-policy', 'copy', '--quiet', '--preserve-digests', '--src-cert-dir', trustDir, '--src-creds', creds, ref, `oci:${out}:v1`], { env: sb.env });
    assert.equal((await layoutRef(out, 'v1'))?.digest, src.digest);
    for (const d of src.blobs) assert.deepEqual(await readLayoutBlob(out, d), await readLayoutBlob(src.dir, d), `blob ${d}`);
    // Without the credentials nginx answers 401 itself.
    const anon = await run('skopeo', ['--insecure-policy', 'inspect', '--raw', '--cert-dir', trustDir, ref], { env: sb.env, allowFail: true });
    assert.notEqual(anon.code, 0);
    assert.match(anon.stderr, /unauthorized|authentication required|401/i);
  });

  it('Location headers are https URLs of the nginx host', async () => {
    const r = await curl(['-i', '-u', `${user}:${password}`, '-X', 'POST', `${origin()}/v2/loc/test/blobs/uploads/`]);
    assert.match(r.stdout, /^HTTP\/[\d.]+ 202/);
    const [location] = headerValues(r.stdout, 'location');
    assert.ok(location?.startsWith(`${origin()}/v2/loc/test/blobs/uploads/`), `Location: ${location}`);

    // The whole upload through nginx, following the Locations it returns.
    const data = randomBytes(64 * 1024);
    const file = join(work, 'blob.bin');
    await writeFile(file, data);
    const patch = await curl(['-i', '-u', `${user}:${password}`, '-X', 'PATCH', '-H', 'Content-Type: application/octet-stream', '--data-binary', `@${file}`, location]);
    const [next] = headerValues(patch.stdout, 'location');
    assert.ok(next?.startsWith(`${origin()}/v2/loc/test/blobs/uploads/`), `Location after PATCH: ${next}`);
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const put = await curl(['-i', '-u', `${user}:${password}`, '-X', 'PUT', `${next}&digest=${digest}`]);
    assert.match(put.stdout, /^HTTP\/[\d.]+ 201/);
    assert.deepEqual(headerValues(put.stdout, 'location'), [`${origin()}/v2/loc/test/blobs/${digest}`]);
  });

  it('Docker-Distribution-Api-Version exactly once: from berth when proxied, from nginx on its own 401', async () => {
    const ok = await curl(['-i', '-u', `${user}:${password}`, `${origin()}/v2/`]);
    assert.match(ok.stdout, /^HTTP\/[\d.]+ 200/);
    assert.deepEqual(headerValues(ok.stdout, 'docker-distribution-api-version'), ['registry/2.0']);
    const denied = await curl(['-i', `${origin()}/v2/`]);
    assert.match(denied.stdout, /^HTTP\/[\d.]+ 401/);
    assert.deepEqual(headerValues(denied.stdout, 'docker-distribution-api-version'), ['registry/2.0']);
    assert.deepEqual(headerValues(denied.stdout, 'www-authenticate'), ['Basic realm="Registry realm"']);
  });
});
