// Seed 000_9544d956e9b46c70.txt (DC/OS, 使用专用 Docker 注册表), section
// "配置代理以使用 Docker 注册表的自定义证书": berth serves TLS with a CA from `berth tls init`; until the
// CA is in /etc/docker/certs.d/registry.mycompany.com:5000/ca.crt clients refuse the registry
// (x509: certificate signed by unknown authority), afterwards skopeo, podman and berth work; the
// CA copied and hash-linked into /var/lib/dcos/pki/tls/certs is an OpenSSL CApath (curl, openssl).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freePort } from '../helpers/processes.ts';
import { makeDockerArchive } from '../helpers/images.ts';
import { listening } from '../tls/helpers.ts';
import { namespaceSkip, Scenario, itRanEveryStep } from './harness.ts';
import { steps } from './000-dcos-agent-certificates.steps.ts';

const S = steps.run;

describe(`seed ${steps.seed}: ${steps.section}`, { skip: namespaceSkip }, () => {
  let sc: Scenario;
  before(async () => {
    sc = await Scenario.open('000-agent-certs', ['127.0.0.1 registry.mycompany.com']);
    const port = await freePort();
    sc.map('registry.mycompany.com:5000', `registry.mycompany.com:${port}`)
      .map('addr: :5000', `addr: 127.0.0.1:${port}`)
      .map('/var/lib/registry', join(sc.work, 'registry'))
      .map('/var/lib/dcos/pki/tls/certs', join(sc.work, 'dcos-certs'));
    await sc.sh([S.tlsInit, S.config]);
    await sc.start(S.serve, () => listening(port));
    await makeDockerArchive(join(sc.home, 'app.tar'), { repoTag: 'team/app:1.0', layers: 1, layerBytes: 4096 });
  });
  after(async () => {
    await sc?.close();
  });

  it('before the CA is trusted: x509: certificate signed by unknown authority', async () => {
    const r = await sc.sh(S.inspect, { allowFail: true });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /certificate signed by unknown authority/);
    const push = await sc.sh(S.push, { allowFail: true });
    assert.notEqual(push.code, 0);
    // berth says where the CA goes.
    assert.match(push.stderr, /\/etc\/docker\/certs\.d\/registry\.mycompany\.com:5000\/ca\.crt/);
  });

  it('the CA in /etc/docker/certs.d/<host:port>/ca.crt: berth, skopeo and podman trust the registry', async () => {
    await sc.sh([S.mkdirCertsD, S.copyCa]);
    await sc.sh(S.push);
    const r = await sc.sh(S.inspect);
    assert.equal((JSON.parse(r.stdout) as { Name: string }).Name, 'registry.mycompany.com:5000/team/app');
    await sc.sh(S.pull);
  });

  it('the CA in /var/lib/dcos/pki/tls/certs with its <hash>.0 link: an OpenSSL CApath that curl and openssl use', async () => {
    await sc.sh([S.mkdirDcos, S.copyDcos]);
    const hash = (await sc.sh([S.cdDcos, S.hash])).stdout.trim();
    assert.match(hash, /^[0-9a-f]{8}$/);
    await sc.sh([S.cdDcos, S.link]);
    const tags = await sc.sh(S.curlCapath);
    assert.deepEqual(JSON.parse(tags.stdout), { name: 'team/app', tags: ['1.0'] });
    assert.match((await sc.sh(S.verify)).stdout, /server\.crt: OK/);
  });

  itRanEveryStep(() => sc, steps);
});
