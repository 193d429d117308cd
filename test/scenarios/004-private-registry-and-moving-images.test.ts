// Seed 004_6812c7fe10beb796.txt (第五章), "安装私有本地 Docker 注册表" and "在主机之间移动镜像": berth on
// :5000 instead of `docker run -p 5000:5000 registry`; test/cowsay-dockerfile tagged and pushed as
// localhost:5000/cowsay-dockerfile (podman load/tag/push, the document's docker commands one for
// one); `docker save ubuntu | gzip > ubuntu-bundle.tar.gz` made by `berth pull` + gzip from one
// registry, pushed as is into another host's registry with `berth push`, and loaded by podman.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freePort } from '../helpers/processes.ts';
import { makeDockerArchive } from '../helpers/images.ts';
import { namespaceSkip, Scenario, itRanEveryStep } from './harness.ts';
import { steps } from './004-private-registry-and-moving-images.steps.ts';

const S = steps.run;
const up = (port: number) => async () => (await fetch(`http://127.0.0.1:${port}/v2/`)).ok;

describe(`seed ${steps.seed}: ${steps.section}`, { skip: namespaceSkip }, () => {
  let sc: Scenario;
  let other: number;
  before(async () => {
    sc = await Scenario.open('004-moving');
    const port = await freePort();
    other = await freePort();
    sc.map('REGISTRY_HTTP_ADDR=:5000', `REGISTRY_HTTP_ADDR=127.0.0.1:${port}`)
      .map('REGISTRY_HTTP_ADDR=:5001', `REGISTRY_HTTP_ADDR=127.0.0.1:${other}`)
      .map('localhost:5000', `localhost:${port}`)
      .map('localhost:5001', `localhost:${other}`)
      .map('/var/lib/registry-other', join(sc.work, 'registry-other'));
    await sc.start(S.serve, up(port));
    await makeDockerArchive(join(sc.home, 'cowsay-dockerfile.tar'), { repoTag: 'test/cowsay-dockerfile:latest', layers: 2, layerBytes: 16 * 1024 });
    await makeDockerArchive(join(sc.home, 'ubuntu.tar'), { repoTag: 'ubuntu:latest', layers: 2, layerBytes: 16 * 1024, fill: 'text' });
  });
  after(async () => {
    await sc?.close();
  });

  it('docker build, docker run registry, docker export/import', async (t) => {
    for (const [c, why] of Object.entries(steps.cannotRun)) await sc.cannot(t, c, why);
  });

  it('tag test/cowsay-dockerfile as localhost:5000/cowsay-dockerfile and push it', async () => {
    await sc.sh([S.load, S.tag, S.push]);
    assert.deepEqual(JSON.parse((await sc.sh(S.tags)).stdout), { name: 'cowsay-dockerfile', tags: ['latest'] });
  });

  it('a save | gzip bundle from one registry, pushed as is to another host and loaded by podman', async () => {
    await sc.sh([S.berthPush, S.save]);
    await sc.start(S.serveOther, up(other));
    await sc.sh(S.pushBundle);
    assert.deepEqual(JSON.parse((await sc.sh(S.otherTags)).stdout), { name: 'ubuntu', tags: ['latest'] });
    assert.match((await sc.sh(S.load2)).stdout, /Loaded image/);
  });

  itRanEveryStep(() => sc, steps);
});
