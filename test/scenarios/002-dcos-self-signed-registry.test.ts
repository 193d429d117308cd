// Seed 002_0bc5fa207a63b3ba.txt (DC/OS 搭建私有容器仓库), "使用自签名证书搭建私有容器仓库": the
// document's openssl.cnf + sed + openssl req make a certificate for the VIP 192.168.0.1 (CN and
// IP subjectAltName); berth runs with the Marathon app's REGISTRY_HTTP_TLS_* env on 192.168.0.1:443;
// agents refuse it (x509: certificate signed by unknown authority, the Jenkins slave error) until
// the certificate is in /etc/docker/certs.d/192.168.0.1/ca.crt, without a port since it is 443.
// "在集群外部访问容器仓库": Marathon-LB (HAPROXY_GROUP external) on a public agent, played by nginx
// with the registry's certificate at 203.0.113.10:5000 (the app's servicePort); a client outside
// is refused because the document's certificate names only the VIP, and works once it is reissued
// with the public agent's address too (berth reloads it without a restart).
// The scenario has its own network namespace with 192.168.0.1 and 203.0.113.10 on loopback, so the
// document's addresses and ports (443 included) are used as written.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeDockerArchive } from '../helpers/images.ts';
import { itRanEveryStep, namespaceSkip, Scenario, type Service } from './harness.ts';
import { steps } from './002-dcos-self-signed-registry.steps.ts';

const S = steps.run;

describe(`seed ${steps.seed}: ${steps.section}`, { skip: namespaceSkip }, () => {
  let sc: Scenario;
  let registry: Service;
  let lb: Service;
  const startLb = async () => (lb = await sc.start(S.lb, () => sc.reachable('203.0.113.10', 5000)));

  before(async () => {
    sc = await Scenario.open('002-self-signed', [], { addresses: ['192.168.0.1', '203.0.113.10'] });
    sc.map('/opt/mesosphere/packages/openssl--8042860cf76ca9ef965af9ee6d59acace266356e/etc/ssl/openssl.cnf', '/usr/lib/ssl/openssl.cnf')
      .map('/etc/privateregistry/certs', join(sc.work, 'privateregistry', 'certs'))
      .map('/data/docker-registry', join(sc.work, 'docker-registry'));
    await makeDockerArchive(join(sc.home, 'slave.tar'), { repoTag: 'jenkins/slave:latest', layers: 1, layerBytes: 8192 });
    await sc.sh([S.cdHome, S.mkdirCerts, S.cdCerts, S.copyCnf, S.addSan, S.req]);
    await sc.sh([S.cdHome, S.cdCerts, S.hostCerts]);
    registry = await sc.start(S.serve, () => sc.reachable('192.168.0.1', 443));
  });
  after(async () => {
    await sc?.close();
  });

  it('the Marathon app, Marathon-LB and the cluster-wide sysctl', async (t) => {
    for (const [c, why] of Object.entries(steps.cannotRun)) await sc.cannot(t, c, why);
  });

  it("the certificate's CN and subjectAltName are the VIP", async () => {
    const r = await sc.sh([S.cdHome, S.cdCerts, S.showSan]);
    assert.match(r.stdout, /IP Address:192\.168\.0\.1$/m);
  });

  it('an agent without the certificate: x509: certificate signed by unknown authority', async () => {
    const r = await sc.sh(S.inspect, { allowFail: true });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /certificate signed by unknown authority/);
  });

  it('with the certificate in /etc/docker/certs.d/192.168.0.1/ca.crt (port 443: no port in the name): push, pull and the catalog', async () => {
    await sc.sh([S.certsD, S.trust]);
    await sc.sh(S.push);
    assert.equal((JSON.parse((await sc.sh(S.inspect)).stdout) as { Name: string }).Name, '192.168.0.1/jenkins/slave');
    await sc.sh(S.pull);
    assert.deepEqual(JSON.parse((await sc.sh(S.catalog)).stdout), { repositories: ['jenkins/slave'] });
    // Only the port-less directory exists: that is the one berth, skopeo and podman used.
    assert.deepEqual(
      ['192.168.0.1', '192.168.0.1:443'].map((d) => existsSync(join(sc.work, 'etc', 'docker', 'certs.d', d))),
      [true, false],
    );
  });

  it('outside the cluster, through Marathon-LB (nginx) on the public agent: refused, the certificate names only the VIP', async () => {
    await sc.sh([S.lbDir, S.lbConf]);
    await startLb();
    await sc.sh([S.outsideCertsD, S.outsideTrust]);
    const r = await sc.sh(S.outsideInspect, { allowFail: true });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /certificate is valid for 192\.168\.0\.1, not 203\.0\.113\.10/);
  });

  it("reissued with the public agent's address too: berth reloads it, agents and the outside client trust it, pull and push through Marathon-LB", async () => {
    const reissued = await sc.sh([S.cdHome, S.cdCerts, S.addOutsideSan, S.req, S.showSan]);
    assert.match(reissued.stdout, /IP Address:192\.168\.0\.1, IP Address:203\.0\.113\.10/);
    const reloads = () => registry.logs().split('TLS certificate reloaded').length - 1;
    const before = reloads();
    await sc.sh([S.cdHome, S.cdCerts, S.hostCerts]);
    const deadline = Date.now() + 15_000;
    while (reloads() === before) {
      assert.ok(Date.now() < deadline, `berth did not reload the certificate:\n${registry.logs().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // nginx reads its certificate at start: Marathon-LB would pass TLS through and need nothing.
    await lb.stop();
    await startLb();
    // A self-signed certificate is its own CA: every agent and every outside client needs the new one.
    await sc.sh([S.trust, S.outsideTrust]);
    assert.equal((JSON.parse((await sc.sh(S.inspect)).stdout) as { Name: string }).Name, '192.168.0.1/jenkins/slave');
    assert.equal((JSON.parse((await sc.sh(S.outsideInspect)).stdout) as { Name: string }).Name, '203.0.113.10:5000/jenkins/slave');
    await sc.sh(S.outsidePull);
    await sc.sh(S.outsidePush);
    // The push through the proxy landed in the registry (its uploads' Location went through nginx too).
    assert.deepEqual((JSON.parse((await sc.sh(S.tags)).stdout) as { tags: string[] }).tags.sort(), ['latest', 'outside']);
  });

  itRanEveryStep(() => sc, steps);
});
