// Seed 000_9544d956e9b46c70.txt (DC/OS, 使用专用 Docker 注册表):
//   "将专用 Docker 注册表凭据以 URI 引用" (docker login, tar -czf docker.tar.gz .docker, fetch URI) and
//   "引用密钥存储库中的专用 Docker 注册表凭据" (config.json as a secret, docker.pullConfig for a service,
//   containers[].image.pullConfig for a pod).
// berth plays some.docker.host.com (TLS, htpasswd); `berth login --archive/--print-config` writes
// what the document builds by hand; skopeo and podman pull with it from a fresh HOME, as Mesos'
// fetcher + Docker containerizer and the Universal Container Runtime would.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../helpers/processes.ts';
import { makeDockerArchive } from '../helpers/images.ts';
import { listening } from '../tls/helpers.ts';
import { namespaceSkip, readTgz, Scenario, itRanEveryStep } from './harness.ts';
import { steps } from './000-dcos-pull-credentials.steps.ts';

const S = steps.run;
const IMAGE = 'some.docker.host.com:5000/namespace/repo';

interface Secrets {
  secrets: Record<string, { source: string }>;
}

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

  it('URI: the Marathon app definition fetches the archive the pull above used, for the image it pulled', async (t) => {
    await sc.sh(S.uriApp);
    const app = JSON.parse(await readFile(join(sc.home, 'some-name-or-id.json'), 'utf8')) as { container: { type: string; docker: { image: string } }; fetch: { uri: string }[] };
    assert.equal(app.container.type, 'DOCKER');
    assert.equal(app.container.docker.image, sc.actual(IMAGE));
    assert.deepEqual(app.fetch, [{ uri: `file://${sc.actual('/etc/docker.tar.gz')}` }]);
    assert.ok(existsSync(sc.actual('/etc/docker.tar.gz')));
    await sc.cannot(t, 'dcos marathon app add some-name-or-id.json', steps.cannotRun['dcos marathon app add some-name-or-id.json']);
  });

  it('secret: berth login --print-config prints the config.json to store; its auth is base64 of user:password', async () => {
    const r = await sc.sh([S.printConfig, S.showConfig]);
    const config = JSON.parse(r.stdout) as { auths: Record<string, { auth: string }> };
    const b64 = (await sc.sh(S.base64)).stdout.trim();
    assert.deepEqual(config, { auths: { 'some.docker.host.com:5000': { auth: b64 } } });
    await sc.sh(S.pullWithSecret);
  });

  it('secret, for a service: the app (container.type MESOS) names the secret mesos-docker/pullConfig in docker.pullConfig', async (t) => {
    await sc.cannot(t, 'dcos security secrets create --file=config.json mesos-docker/pullConfig', steps.cannotRun['dcos security secrets create --file=config.json mesos-docker/pullConfig']);
    await sc.sh(S.serviceApp);
    const app = JSON.parse(await readFile(join(sc.home, 'mesos-docker.json'), 'utf8')) as Secrets & { id: string; container: { type: string; docker: { image: string; pullConfig: { secret: string } } } };
    assert.equal(app.container.type, 'MESOS');
    assert.equal(app.container.docker.image, sc.actual(IMAGE));
    // The secret it names is the one created from config.json, which podman pulled with above.
    assert.equal(app.secrets[app.container.docker.pullConfig.secret]?.source, '/mesos-docker/pullConfig');
    assert.equal(app.id, '/mesos-docker');
    await sc.cannot(t, 'dcos marathon app add mesos-docker.json', steps.cannotRun['dcos marathon app add mesos-docker.json']);
  });

  it("secret, for a pod: the pod's image.pullConfig (kind DOCKER) names /pod/pullConfig, and config.json pulls the pod's image", async (t) => {
    await sc.cannot(t, 'dcos security secrets create --file=config.json pod/pullConfig', steps.cannotRun['dcos security secrets create --file=config.json pod/pullConfig']);
    await sc.sh(S.podDefinition);
    const pod = JSON.parse(await readFile(join(sc.home, 'simple-pod.json'), 'utf8')) as Secrets & { id: string; containers: { image: { kind: string; id: string; pullConfig: { secret: string } } }[] };
    assert.equal(pod.id, '/simple-pod');
    assert.equal(pod.containers.length, 1);
    const image = pod.containers[0]!.image;
    assert.equal(image.kind, 'DOCKER');
    assert.equal(image.id, sc.actual(IMAGE));
    assert.equal(pod.secrets[image.pullConfig.secret]?.source, '/pod/pullConfig');
    // The secret's content is config.json from berth login --print-config: the UCR pulls with it.
    const config = JSON.parse(await readFile(join(sc.home, 'config.json'), 'utf8')) as { auths: Record<string, unknown> };
    assert.deepEqual(Object.keys(config.auths), [sc.actual('some.docker.host.com:5000')]);
    await sc.sh(S.pullForPod);
    const index = JSON.parse(await readFile(join(sc.home, 'simple-pod', 'index.json'), 'utf8')) as { manifests: unknown[] };
    assert.equal(index.manifests.length, 1);
    await sc.cannot(t, 'dcos marathon pod add simple-pod.json', steps.cannotRun['dcos marathon pod add simple-pod.json']);
  });

  itRanEveryStep(() => sc, steps);
});
