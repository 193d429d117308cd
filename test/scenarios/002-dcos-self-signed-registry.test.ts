// Seed 002_0bc5fa207a63b3ba.txt (DC/OS 搭建私有容器仓库), "使用自签名证书搭建私有容器仓库": the
// document's openssl.cnf + sed + openssl req make a certificate for the VIP 192.168.0.1 (CN and
// IP subjectAltName); berth runs with the Marathon app's REGISTRY_HTTP_TLS_* env; agents refuse it
// (x509: certificate signed by unknown authority, the Jenkins slave error) until the certificate is
// in /etc/docker/certs.d/192.168.0.1/ca.crt. The VIP is played by 127.20.0.1 (any 127/8 address is
// this machine's), the document's port 443 by a free port.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freePort } from '../helpers/processes.ts';
import { makeDockerArchive } from '../helpers/images.ts';
import { namespaceSkip, Scenario } from './harness.ts';
import { steps } from './002-dcos-self-signed-registry.steps.ts';
import { connect } from 'node:net';

const S = steps.run;
const VIP = '127.20.0.1';
const open = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host, port }, () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

describe(`seed ${steps.seed}: ${steps.section}`, { skip: namespaceSkip }, () => {
  let sc: Scenario;
  before(async () => {
    sc = await Scenario.open('002-self-signed');
    const port = await freePort();
    sc.map('/opt/mesosphere/packages/openssl--8042860cf76ca9ef965af9ee6d59acace266356e/etc/ssl/openssl.cnf', '/usr/lib/ssl/openssl.cnf')
      .map('/etc/privateregistry/certs', join(sc.work, 'privateregistry', 'certs'))
      .map('/data/docker-registry', join(sc.work, 'docker-registry'))
      .map('/etc/docker/certs.d/192.168.0.1', `/etc/docker/certs.d/${VIP}:${port}`)
      .map('192.168.0.1:443', `${VIP}:${port}`)
      .map('192.168.0.1/', `${VIP}:${port}/`)
      .map('192.168.0.1', VIP);
    await makeDockerArchive(join(sc.home, 'slave.tar'), { repoTag: 'jenkins/slave:latest', layers: 1, layerBytes: 8192 });
    await sc.sh([S.cdHome, S.mkdirCerts, S.cdCerts, S.copyCnf, S.addSan, S.req]);
    await sc.sh([S.cdHome, S.cdCerts, S.hostCerts]);
    await sc.start(S.serve, () => open(VIP, port));
  });
  after(async () => {
    if (sc) sc.assertCovered(steps);
    await sc?.close();
  });

  it('the Marathon app and the cluster-wide sysctl', async (t) => {
    for (const [c, why] of Object.entries(steps.cannotRun)) await sc.cannot(t, c, why);
  });

  it("the certificate's CN and subjectAltName are the VIP", async () => {
    const r = await sc.sh([S.cdHome, S.cdCerts, S.showSan]);
    assert.match(r.stdout, /IP Address:192\.168\.0\.1/);
  });

  it('an agent without the certificate: x509: certificate signed by unknown authority', async () => {
    const r = await sc.sh(S.inspect, { allowFail: true });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /certificate signed by unknown authority/);
  });

  it('with the certificate in /etc/docker/certs.d/192.168.0.1/ca.crt: push, pull and the catalog over the IP address', async () => {
    await sc.sh([S.certsD, S.trust]);
    await sc.sh(S.push);
    assert.equal((JSON.parse((await sc.sh(S.inspect)).stdout) as { Name: string }).Name, '192.168.0.1/jenkins/slave');
    await sc.sh(S.pull);
    assert.deepEqual(JSON.parse((await sc.sh(S.catalog)).stdout), { repositories: ['jenkins/slave'] });
  });
});
