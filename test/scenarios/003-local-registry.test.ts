// Seed 003_1f570e1afeed732f.txt (7.搭建本地私有仓库), "安装运行 docker-registry", "在私有仓库上传、搜索、
// 下载镜像" and "用 curl 查看仓库中的镜像": berth on :5000 with its data in /opt/data/registry, the
// centos image tagged and pushed to 127.0.0.1:5000 (podman, the docker commands one for one; berth
// push from the tarball), curl /v2/_catalog answering {"repositories":["centos"]} exactly, the local
// image removed and pulled back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../helpers/processes.ts';
import { makeDockerArchive, readTarFile } from '../helpers/images.ts';
import { namespaceSkip, Scenario, itRanEveryStep } from './harness.ts';
import { steps } from './003-local-registry.steps.ts';

const S = steps.run;

describe(`seed ${steps.seed}: ${steps.section}`, { skip: namespaceSkip }, () => {
  let sc: Scenario;
  before(async () => {
    sc = await Scenario.open('003-local');
    const port = await freePort();
    sc.map('REGISTRY_HTTP_ADDR=:5000', `REGISTRY_HTTP_ADDR=127.0.0.1:${port}`).map('127.0.0.1:5000', `127.0.0.1:${port}`).map('/opt/data/registry', join(sc.work, 'opt-data-registry'));
    await sc.start(S.serve, async () => (await fetch(`http://127.0.0.1:${port}/v2/`)).ok);
    await makeDockerArchive(join(sc.home, 'centos.tar'), { repoTag: 'centos:latest', layers: 2, layerBytes: 16 * 1024 });
  });
  after(async () => {
    await sc?.close();
  });

  it('docker run registry, docker pull centos, sysctl', async (t) => {
    for (const [c, why] of Object.entries(steps.cannotRun)) await sc.cannot(t, c, why);
  });

  it('tag and push centos to 127.0.0.1:5000; curl /v2/_catalog says {"repositories":["centos"]}', async () => {
    await sc.sh([S.load, S.tag, S.push]);
    // Byte for byte what the document shows registry:2 answering.
    assert.equal((await sc.sh(S.catalog)).stdout.trim(), '{"repositories":["centos"]}');
    // The data is where -v /opt/data/registry put it.
    assert.ok((await readdir(join(sc.work, 'opt-data-registry'))).length > 0);
    assert.notEqual((await sc.sh(S.data)).stdout.trim(), '');
  });

  it('docker image rm, then pull it back from the private registry', async () => {
    await sc.sh(S.rmi);
    await sc.sh(S.pull);
  });

  it('berth push and pull: the tarball in, a docker load tarball out', async () => {
    await sc.sh(S.berthPush);
    assert.deepEqual(JSON.parse((await sc.sh(S.tags)).stdout), { name: 'centos', tags: ['latest'] });
    await sc.sh(S.berthPull);
    const files = await readTarFile(join(sc.home, 'centos-copy.tar'));
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as { RepoTags: string[] }[];
    assert.deepEqual(manifest[0]!.RepoTags, ['127.0.0.1:5000/centos:latest'].map((r) => sc.actual(r)));
  });

  itRanEveryStep(() => sc, steps);
});
