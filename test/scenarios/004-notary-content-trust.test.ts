// Seed 004_6812c7fe10beb796.txt (第五章), "确保图像的完整性-签名图像": berth (TLS from berth tls init)
// as the registry and the Notary server; the notary client configured as the document does
// (~/.notary/config.json and root-ca.crt), `notary -s ... -d ~/.docker/trust list` with no trust data
// first, then the pushed image's manifest signed with notary init/add/publish (what
// DOCKER_CONTENT_TRUST=1 docker push does) and listed with its digest; docker trust inspect sees it.
// The document lists `docker.io/vkohli/cowsay-dockerfile:latest`: a GUN has no tag, shown here.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freePort } from '../helpers/processes.ts';
import { makeDockerArchive } from '../helpers/images.ts';
import { listening } from '../tls/helpers.ts';
import { namespaceSkip, Scenario, itRanEveryStep } from './harness.ts';
import { steps } from './004-notary-content-trust.steps.ts';

const S = steps.run;

describe(`seed ${steps.seed}: ${steps.section}`, { skip: namespaceSkip }, () => {
  let sc: Scenario;
  before(async () => {
    sc = await Scenario.open('004-notary', ['127.0.0.1 registry.example.com']);
    const port = await freePort();
    sc.map('registry.example.com:5000', `registry.example.com:${port}`).map('addr: :5000', `addr: 127.0.0.1:${port}`).map('/var/lib/registry', join(sc.work, 'registry'));
    await sc.sh([S.tlsInit, S.config]);
    await sc.start(S.serve, () => listening(port));
    await makeDockerArchive(join(sc.home, 'cowsay-dockerfile.tar'), { repoTag: 'test/cowsay-dockerfile:latest', layers: 1, layerBytes: 8192 });
    await sc.sh([S.certsD, S.push, S.notaryDir, S.notaryConfig]);
  });
  after(async () => {
    await sc?.close();
  });

  it('DOCKER_CONTENT_TRUST=1 docker push, and a Notary server of its own', async (t) => {
    for (const [c, why] of Object.entries(steps.cannotRun)) await sc.cannot(t, c, why);
  });

  it('notary list before anything is signed: no trust data', async () => {
    const r = await sc.sh(S.listBefore, { allowFail: true });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /does not have trust data|no trust data/i);
  });

  it('notary init, add, publish: the tag is listed with the manifest digest berth serves', async () => {
    await sc.sh([S.passphrases, S.init, S.manifest, S.add, S.publish]);
    const list = await sc.sh(S.list);
    const digest = (await sc.sh(S.digest)).stdout.trim();
    assert.match(list.stdout, new RegExp(`^latest\\s+${digest.replace('sha256:', '')}\\s+\\d+\\s+targets$`, 'm'));
    // The document's GUN with :latest names another (unsigned) repository.
    const tagged = await sc.sh(S.listWithTag, { allowFail: true });
    assert.notEqual(tagged.code, 0);
  });

  it('docker trust inspect (no engine needed) shows the signed tag', async () => {
    await sc.sh(S.dockerTls);
    const r = await sc.sh(S.trustInspect);
    assert.match(r.stdout, /latest\s+[0-9a-f]{64}\s+\(Repo Admin\)/);
  });

  itRanEveryStep(() => sc, steps);
});
