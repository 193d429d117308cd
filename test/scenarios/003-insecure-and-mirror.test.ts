// Seed 003_1f570e1afeed732f.txt (7.搭建本地私有仓库), "注意事项" and daemon.json's "insecure-registries"
// and "registry-mirror": berth at 192.168.199.100:5000 over plain HTTP is refused by podman ("server
// gave HTTP response to HTTPS client") until registries.conf lists it as insecure; Docker Hub pulls
// go to a berth pull-through cache at 192.168.199.100:5001 listed as docker.io's mirror.
// 192.168.199.100 is played by 127.199.0.100 (this machine), Docker Hub by another berth (no
// network here): the mirror's proxy.remoteurl points at it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, startBerth, type RunningServer } from '../helpers/processes.ts';
import { makeDockerArchive } from '../helpers/images.ts';
import { berthCli } from '../cli/helpers.ts';
import { namespaceSkip, Scenario, itRanEveryStep } from './harness.ts';
import { steps } from './003-insecure-and-mirror.steps.ts';

const S = steps.run;
const LAN = '127.199.0.100';
const open = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: LAN, port }, () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

describe(`seed ${steps.seed}: ${steps.section}`, { skip: namespaceSkip }, () => {
  let sc: Scenario;
  let hub: RunningServer;
  before(async () => {
    sc = await Scenario.open('003-insecure-mirror');
    const [registryPort, mirrorPort] = [await freePort(), await freePort()];
    // Docker Hub's stand-in, holding library/centos:latest.
    hub = await startBerth();
    await makeDockerArchive(join(sc.home, 'centos.tar'), { repoTag: 'centos:latest', layers: 2, layerBytes: 16 * 1024 });
    const seed = await berthCli({ HOME: sc.home })(['push', join(sc.home, 'centos.tar'), `${hub.host}/library/centos:latest`]);
    assert.equal(seed.code, 0, seed.stderr);
    sc.map('192.168.199.100:5000', `${LAN}:${registryPort}`)
      .map('192.168.199.100:5001', `${LAN}:${mirrorPort}`)
      .map('/var/lib/registry-mirror', join(sc.work, 'registry-mirror'))
      .map('https://registry-1.docker.io', hub.url);
    await sc.start(S.serve, () => open(registryPort));
    await sc.sh(S.mirrorConfig);
    await sc.start(S.mirror, () => open(mirrorPort));
  });
  after(async () => {
    await sc?.close();
    await hub?.stop();
  });

  it('without insecure-registries the push is refused: the registry speaks plain HTTP', async () => {
    const r = await sc.sh([S.load, S.tag, S.push], { allowFail: true });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /server gave HTTP response to HTTPS client/);
  });

  it('insecure-registries and registry-mirrors, as a registries.conf drop-in; nothing to restart', async (t) => {
    await sc.sh(S.registriesConf);
    for (const [c, why] of Object.entries(steps.cannotRun)) await sc.cannot(t, c, why);
    await sc.sh(S.push);
    await sc.sh(S.berthPush);
    assert.deepEqual(JSON.parse((await sc.sh(S.catalog)).stdout), { repositories: ['centos'] });
  });

  it('docker.io pulls go through the berth mirror, which caches them; the mirror takes no pushes', async () => {
    await sc.sh(S.pullHub);
    assert.deepEqual(JSON.parse((await sc.sh(S.mirrorCatalog)).stdout), { repositories: ['library/centos'] });
    const r = await sc.sh(S.mirrorPush, { allowFail: true });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /UNSUPPORTED|mirror|read-only|405|denied/i);
  });

  itRanEveryStep(() => sc, steps);
});
