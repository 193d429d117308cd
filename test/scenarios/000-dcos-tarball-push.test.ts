// Seed 000_9544d956e9b46c70.txt (DC/OS, 使用专用 Docker 注册表), section
// "将自定义镜像推送到 tarball 的专用注册表": docker load -i marathon-dcos-ee.<version>.tar, docker tag,
// docker push. No Docker engine here: `berth push` reads the `docker save` tarball itself, and
// podman load/tag/push replays the document's three commands one for one.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freePort } from '../helpers/processes.ts';
import { makeDockerArchive } from '../helpers/images.ts';
import { namespaceSkip, Scenario, itRanEveryStep } from './harness.ts';
import { steps } from './000-dcos-tarball-push.steps.ts';

const S = steps.run;

describe(`seed ${steps.seed}: ${steps.section}`, { skip: namespaceSkip }, () => {
  let sc: Scenario;
  let port: number;
  before(async () => {
    sc = await Scenario.open('000-tarball');
    port = await freePort();
    sc.map('REGISTRY_HTTP_ADDR=:5000', `REGISTRY_HTTP_ADDR=127.0.0.1:${port}`).map('localhost:5000', `localhost:${port}`);
    await sc.start(S.serve, async () => (await fetch(`http://127.0.0.1:${port}/v2/`)).ok);
    await makeDockerArchive(join(sc.home, 'marathon-dcos-ee.1.4.0-RC4_1.9.4.tar'), { repoTag: 'mesosphere/marathon-dcos-ee:1.4.0-RC4_1.9.4', layers: 2, layerBytes: 8192 });
  });
  after(async () => {
    await sc?.close();
  });

  it('docker load / docker push', async (t) => {
    for (const [c, why] of Object.entries(steps.cannotRun)) await sc.cannot(t, c, why);
  });

  it('berth push takes the docker save tarball straight to the registry', async () => {
    await sc.sh(S.push);
    assert.equal((await sc.sh(S.tags)).stdout.trim(), '1.4.0-RC4_1.9.4');
  });

  it('the document\'s <your-repo>/Marathon-DCOS-EE：<your-tag>: repository names must be lower case', async () => {
    const r = await sc.sh(S.pushUppercase, { allowFail: true });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /lower.?case|invalid/i);
  });

  it('podman load, tag and push: the document\'s three docker commands one for one', async () => {
    await sc.sh(S.podmanLoad);
    assert.match((await sc.sh(S.podmanImages)).stdout, /mesosphere\/marathon-dcos-ee\s+1\.4\.0-RC4_1\.9\.4/);
    await sc.sh([S.podmanTag, S.podmanPush]);
    assert.deepEqual((await sc.sh(S.tags)).stdout.trim().split('\n').sort(), ['1.4.0-RC4_1.9.4', 'podman']);
  });

  itRanEveryStep(() => sc, steps);
});
