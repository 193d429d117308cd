// Seed 001_f296c11737f51901.txt (docker registry), "使用nginx验证代理", steps 1-7 and
// "其他docker程序如何访问到搭建的私服": the document's openssl certificate, htpasswd, config.yml (with
// storage.delete.enabled) and nginx.conf (basic auth, the Docker-Distribution-Api-Version map),
// berth behind Debian's nginx, /etc/hosts and certs.d on the client, docker login, then push, pull
// and delete through nginx with berth, podman and skopeo.
// What the document gets wrong today, and the test shows: a CN-only certificate is refused by every
// Go client since Go 1.15; `docker login -e` is gone; its config.yml's http.host sends every
// upload's Location to http://registry.com:5000, around nginx.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freePort } from '../helpers/processes.ts';
import { makeDockerArchive } from '../helpers/images.ts';
import { listening } from '../tls/helpers.ts';
import { namespaceSkip, Scenario, type Service, itRanEveryStep } from './harness.ts';
import { steps } from './001-nginx-auth-proxy.steps.ts';

const S = steps.run;
const header = (raw: string, name: string) =>
  raw.split(/\r?\n/).filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)).map((l) => l.slice(name.length + 1).trim());

describe(`seed ${steps.seed}: ${steps.section}`, { skip: namespaceSkip }, () => {
  let sc: Scenario;
  let registryPort: number;
  let nginxPort: number;
  let registry: Service;
  let nginx: Service;
  const startRegistry = async () => (registry = await sc.start(S.serve, async () => (await fetch(`http://127.0.0.1:${registryPort}/v2/`)).status === 200));
  const startNginx = async () => (nginx = await sc.start(S.nginx, () => listening(nginxPort)));

  before(async () => {
    sc = await Scenario.open('001-nginx', ['127.0.0.1 registry.com', '127.0.0.1 registry']);
    registryPort = await freePort();
    nginxPort = await freePort();
    sc.map('registry.com:5043', `registry.com:${nginxPort}`)
      .map('registry.com:5000', `registry.com:${registryPort}`)
      .map('registry:5000', `registry:${registryPort}`)
      .map('addr: :5000', `addr: 127.0.0.1:${registryPort}`)
      .map('listen 443 ssl', `listen 127.0.0.1:${nginxPort} ssl`)
      .map('/var/lib/registry', join(sc.work, 'registry'))
      .map('/etc/nginx/conf.d', join(sc.home, 'docker-registry'));
    await sc.sh([S.certCnOnly, S.htpasswd, S.config]);
    await startRegistry();
    await sc.sh(S.nginxConf);
    await startNginx();
    await sc.sh([S.certsD, S.copyCa]);
    await makeDockerArchive(join(sc.home, 'alpine-linux.tar'), { repoTag: 'alpine-linux:jdk-7', layers: 2, layerBytes: 64 * 1024 });
  });
  after(async () => {
    await sc?.close();
  });

  it('the registry side cannot run as docker run here', async (t) => {
    for (const c of Object.keys(steps.cannotRun).filter((c) => c.startsWith('docker run -d'))) await sc.cannot(t, c, steps.cannotRun[c as keyof typeof steps.cannotRun]);
  });

  it("the document's certificate (CN only) is refused by Go clients; with subjectAltName it is trusted through certs.d", async () => {
    // skopeo is the witness: the docker CLI skips verification for any registry whose name resolves
    // into 127.0.0.0/8 (dockerd's default insecure range), as registry.com does here.
    const refused = await sc.sh(S.inspect, { allowFail: true });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /legacy Common Name field/);
    await sc.sh([S.certWithSan, S.copyCa]);
    await nginx.stop();
    await startNginx();
    const ok = await sc.sh(S.login);
    assert.match(ok.stdout, /Login Succeeded/);
  });

  it('docker login -e (email) no longer exists; the operating-system trust store is not needed', async (t) => {
    const r = await sc.sh(S.loginWithEmail, { allowFail: true });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown shorthand flag: 'e'/);
    for (const c of Object.keys(steps.cannotRun).filter((c) => /ca-certificates|ca-trust/.test(c))) await sc.cannot(t, c, steps.cannotRun[c as keyof typeof steps.cannotRun]);
  });

  it('Docker-Distribution-Api-Version exactly once: from nginx on its own 401, from berth when proxied', async () => {
    const anon = await sc.sh(S.pingAnonymous);
    assert.match(anon.stdout, /^HTTP\/[\d.]+ 401/);
    assert.deepEqual(header(anon.stdout, 'docker-distribution-api-version'), ['registry/2.0']);
    assert.deepEqual(header(anon.stdout, 'www-authenticate'), ['Basic realm="Registry realm"']);
    const ok = await sc.sh(S.ping);
    assert.match(ok.stdout, /^HTTP\/[\d.]+ 200/);
    assert.deepEqual(header(ok.stdout, 'docker-distribution-api-version'), ['registry/2.0']);
    assert.deepEqual(header(ok.stdout, 'x-content-type-options'), ['nosniff']);
  });

  it("the document's http.host sends uploads around nginx; without it Location is nginx's https URL", async () => {
    const before = await sc.sh(S.startUpload);
    assert.match(header(before.stdout, 'location')[0] ?? '', /^http:\/\/registry\.com:5000\/v2\/alpine-linux\/blobs\/uploads\//);
    await sc.sh(S.dropHost);
    await registry.stop();
    await startRegistry();
    const after = await sc.sh(S.startUpload);
    assert.match(header(after.stdout, 'location')[0] ?? '', /^https:\/\/registry\.com:5043\/v2\/alpine-linux\/blobs\/uploads\//);
  });

  it('push (berth, with the docker login), pull (podman), inspect (skopeo) and delete (storage.delete.enabled) through nginx', async (t) => {
    await sc.sh(S.push);
    await sc.sh(S.pull);
    assert.equal((JSON.parse((await sc.sh(S.inspect)).stdout) as { Name: string }).Name, 'registry.com:5043/alpine-linux');
    await sc.sh(S.rm);
    assert.deepEqual((JSON.parse((await sc.sh(S.tags)).stdout) as { tags: string[] | null }).tags ?? [], []);
    await sc.cannot(t, 'docker pull registry.com:5043/alpine-linux:jdk-7', steps.cannotRun['docker pull registry.com:5043/alpine-linux:jdk-7']);
    await sc.cannot(t, 'docker run -it --name test registry.com:5043/alpine-linux:jdk-7 sh', steps.cannotRun['docker run -it --name test registry.com:5043/alpine-linux:jdk-7 sh']);
  });

  itRanEveryStep(() => sc, steps);
});
