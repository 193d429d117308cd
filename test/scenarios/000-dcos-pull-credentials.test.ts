// Seed 000_9544d956e9b46c70.txt (DC/OS, 使用专用 Docker 注册表):
//   "将专用 Docker 注册表凭据以 URI 引用" (docker login, tar -czf docker.tar.gz .docker, fetch URI) and
//   "引用密钥存储库中的专用 Docker 注册表凭据" (config.json as a secret, docker.pullConfig).
// berth plays some.docker.host.com (TLS, htpasswd); `berth login --archive/--print-config` writes
// what the document builds by hand; skopeo and podman pull with it from a fresh HOME, as Mesos'
// fetcher + Docker containerizer and the Universal Container Runtime would.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../helpers/processes.ts';
import { makeDockerArchive } from '../helpers/images.ts';
import { listening } from '../tls/helpers.ts';
import { namespaceSkip, readTgz, Scenario } from './harness.ts';
import { steps } from './000-dcos-pull-credentials.steps.ts';

const S = steps.run;

describe(`seed ${steps.seed}: ${steps.section}`, { skip: namespaceSkip }, () => {
  let sc: Scenario;
  before(async () => {
    sc = await Scenario.open('000-credentials', ['127.0.0.1 some.docker.host.com']);
    const port = await freePort();
    sc.map('some.docker.host.com:5000', `some.docker.host.com:${port}`)
      .map('addr: :5000', `addr: 127.0.0.1:${port}`)
      .map('/var/lib/registry', join(sc.work, 'registry'))
      .map('/etc/docker.tar.gz', join(sc.work, 'etc', 'docker.tar.gz'))
      .map('/mnt/mesos/sandbox', join(sc.work, 'sandbox'));
    await sc.sh([S.tlsInit, S.certsDir, S.trustCa, S.addUser, S.config]);
    await sc.start(S.serve, () => listening(port));
    await makeDockerArchive(join(sc.home, 'repo.tar'), { repoTag: 'namespace/repo:latest', layers: 1, layerBytes: 4096 });
    await sc.sh(S.push);
  });
  after(async () => {
    if (sc) sc.assertCovered(steps);
    await sc?.close();
  });

  it('URI: docker login, then tar -czf docker.tar.gz .docker holds .docker/ (0700) and .docker/config.json (0600)', async () => {
    await sc.sh(S.dockerLogin);
    await sc.sh([S.cdHome, S.tarDocker]);
    const list = await sc.sh(S.listArchive);
    assert.match(list.stdout, /^drwx------ \S+ +0 .* \.docker\/$/m);
    assert.match(list.stdout, /^-rw------- \S+ +\d+ .* \.docker\/config\.json$/m);
  });

  it('URI: berth login --archive writes the same archive, root/root, base64 auths and no credential helper', async () => {
    // Even when the local config.json only names a keychain helper (a Mac's docker login).
    await sc.sh(S.keychainConfig);
    const r = await sc.sh(S.archive);
    assert.match(r.stderr, /Login Succeeded/);
    assert.equal(r.stdout, '');
    assert.equal((await stat(join(sc.home, 'docker.tar.gz'))).mode & 0o777, 0o600);
    const list = await sc.sh(S.listBerthArchive);
    const lines = list.stdout.trim().split('\n');
    assert.equal(lines.length, 2, list.stdout);
    assert.match(lines[0]!, /^drwx------ root\/root +0 \S+ \S+ \.docker\/$/);
    assert.match(lines[1]!, /^-rw------- root\/root +\d+ \S+ \S+ \.docker\/config\.json$/);
    const files = await readTgz(join(sc.home, 'docker.tar.gz'));
    const config = JSON.parse(files.get('.docker/config.json')!.toString()) as Record<string, unknown>;
    assert.deepEqual(config, { auths: { [sc.actual('some.docker.host.com:5000')]: { auth: Buffer.from('foo:hard-to-guess-password').toString('base64') } } });
    // The local login is left alone.
    assert.deepEqual(JSON.parse(await readFile(join(sc.home, '.docker', 'config.json'), 'utf8')), { credsStore: 'osxkeychain' });
  });

  it('URI: unpacked into a fresh HOME (the task sandbox), the archive pulls the private image', async () => {
    await sc.sh([S.copyToEtc, S.unpack]);
    const sandboxConfig = join(sc.work, 'sandbox', '.docker');
    assert.equal((await stat(sandboxConfig)).mode & 0o777, 0o700);
    assert.equal((await stat(join(sandboxConfig, 'config.json'))).mode & 0o777, 0o600);
    await sc.sh(S.pullWithHome);
    await sc.sh(S.pullWithAuthfile);
    const index = JSON.parse(await readFile(join(sc.work, 'sandbox', 'repo', 'index.json'), 'utf8')) as { manifests: unknown[] };
    assert.equal(index.manifests.length, 1);
    // Without the archive's login the registry refuses.
    const anon = await sc.sh(S.pullAnonymous, { allowFail: true });
    assert.notEqual(anon.code, 0);
    assert.match(anon.stderr, /unauthorized|authentication required/i);
  });

  it('URI: the Marathon app definition with "fetch"', async (t) => {
    await sc.cannot(t, 'dcos marathon app add mesos-docker.json', steps.cannotRun['dcos marathon app add mesos-docker.json']);
  });

  it('secret: berth login --print-config prints the config.json to store; its auth is base64 of user:password', async () => {
    const r = await sc.sh([S.printConfig, S.showConfig]);
    const config = JSON.parse(r.stdout) as { auths: Record<string, { auth: string }> };
    const b64 = (await sc.sh(S.base64)).stdout.trim();
    assert.deepEqual(config, { auths: { 'some.docker.host.com:5000': { auth: b64 } } });
    await sc.sh(S.pullWithSecret);
  });

  it('secret: dcos security secrets create', async (t) => {
    await sc.cannot(t, 'dcos security secrets create --file=config.json mesos-docker/pullConfig', steps.cannotRun['dcos security secrets create --file=config.json mesos-docker/pullConfig']);
  });
});
