// Seed 003_1f570e1afeed732f.txt (7.搭建本地私有仓库), "私有仓库高级配置": the document's openssl CA and
// site certificate (docker.funet8.com, DNS and IP subjectAltName), its /etc/docker/registry/config.yml
// (htpasswd auth, TLS, http.host, http2, log.formatter text) run as is by berth, /etc/hosts
// mapping docker.funet8.com to this machine, the CA in certs.d, docker login, podman tag/push/
// image rm/pull, and after docker logout a push refused for want of credentials.
// The document's own slips, noted in the cookbook: its /etc/hosts line is reversed (the address
// comes first), it logs in to docker.domain.com, and it never tells the clients to trust root-ca.crt.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freePort } from '../helpers/processes.ts';
import { makeDockerArchive } from '../helpers/images.ts';
import { listening } from '../tls/helpers.ts';
import { namespaceSkip, Scenario, itRanEveryStep } from './harness.ts';
import { steps } from './003-tls-htpasswd.steps.ts';

const S = steps.run;

describe(`seed ${steps.seed}: ${steps.section}`, { skip: namespaceSkip }, () => {
  let sc: Scenario;
  before(async () => {
    sc = await Scenario.open('003-tls-htpasswd', ['127.0.0.1 docker.funet8.com']);
    const port = await freePort();
    const host = `docker.funet8.com:${port}`;
    sc.map('addr: :443', `addr: 127.0.0.1:${port}`)
      .map('host: https://docker.funet8.com', `host: https://${host}`)
      .map('/var/lib/registry', join(sc.work, 'registry'))
      .map('/etc/docker/certs.d/docker.funet8.com', `/etc/docker/certs.d/${host}`)
      .map('docker.funet8.com/', `${host}/`)
      .map('-p funet8-123456 docker.funet8.com', `-p funet8-123456 ${host}`)
      .map('logout docker.funet8.com', `logout ${host}`);
    await sc.sh([S.caKey, S.caCsr, S.caCnf, S.caCrt, S.siteKey, S.siteCsr, S.siteCnf, S.siteCrt, S.sslDir, S.sslCopy, S.config, S.authDir, S.htpasswd], { timeoutMs: 180_000 });
    await sc.start(S.serve, () => listening(port));
    await makeDockerArchive(join(sc.home, 'ubuntu-17.10.tar'), { repoTag: 'ubuntu:17.10', layers: 2, layerBytes: 16 * 1024 });
  });
  after(async () => {
    await sc?.close();
  });

  it('docker-compose and docker pull ubuntu:17.10', async (t) => {
    for (const [c, why] of Object.entries(steps.cannotRun)) await sc.cannot(t, c, why);
  });

  it('the CA in certs.d, docker login, then tag, push, image rm and pull through TLS with the login', async () => {
    await sc.sh([S.certsD, S.trust]);
    assert.match((await sc.sh(S.login)).stdout, /Login Succeeded/);
    await sc.sh([S.load, S.tag, S.push, S.rmi, S.pull]);
  });

  it('after docker logout a push is refused: no credentials', async () => {
    await sc.sh(S.logout);
    const podman = await sc.sh(S.push, { allowFail: true });
    assert.notEqual(podman.code, 0);
    assert.match(podman.stderr, /authentication required|unauthorized/i);
    const berth = await sc.sh(S.berthPush, { allowFail: true });
    assert.notEqual(berth.code, 0);
    assert.match(berth.stderr, /unauthorized|authentication required|no basic auth credentials|berth login/i);
  });

  itRanEveryStep(() => sc, steps);
});
