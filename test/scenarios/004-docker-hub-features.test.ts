// Seed 004_6812c7fe10beb796.txt (第五章), "Docker 公共存储库（Docker Hub）" and "将图像推送到 Docker Hub":
// Docker Hub's features the document names, on berth: user management with an organisation (team)
// owning a namespace, docker login, the push of username/cowsay-dockerfile, a WebHook after the
// push (distribution's notifications endpoint, received here by a small HTTP server standing in for
// ci.example.com), search (podman search and /v1/search, Docker's search API), and a push refused
// after docker logout.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../helpers/processes.ts';
import { makeDockerArchive } from '../helpers/images.ts';
import { namespaceSkip, Scenario, itRanEveryStep } from './harness.ts';
import { steps } from './004-docker-hub-features.steps.ts';

const S = steps.run;

interface Envelope {
  events: { action: string; target: { repository: string; tag?: string; mediaType: string } }[];
}

describe(`seed ${steps.seed}: ${steps.section}`, { skip: namespaceSkip }, () => {
  let sc: Scenario;
  let hooks: Server;
  const received: Envelope[] = [];
  before(async () => {
    sc = await Scenario.open('004-hub');
    hooks = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/hooks/registry') received.push(JSON.parse(Buffer.concat(chunks).toString()) as Envelope);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    const port = await freePort();
    sc.map('localhost:5000', `localhost:${port}`)
      .map('addr: :5000', `addr: 127.0.0.1:${port}`)
      .map('/var/lib/registry', join(sc.work, 'registry'))
      .map('http://ci.example.com:8080', `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`);
    await sc.sh([S.admin, S.config]);
    await sc.start(S.serve, async () => (await fetch(`http://127.0.0.1:${port}/v2/`)).status === 401);
    await makeDockerArchive(join(sc.home, 'cowsay-dockerfile.tar'), { repoTag: 'test/cowsay-dockerfile:latest', layers: 1, layerBytes: 8192 });
  });
  after(async () => {
    await sc?.close();
    hooks?.close();
  });

  it('an account made by the administrator, docker login, and an organisation (team) owning the namespace', async () => {
    assert.doesNotMatch((await sc.sh(S.user)).stdout, /errors/);
    assert.match((await sc.sh(S.login)).stdout, /Login Succeeded/);
    assert.equal((JSON.parse((await sc.sh(S.team)).stdout) as { team: { name: string } }).team.name, 'cowsay-team');
    assert.doesNotMatch((await sc.sh(S.member)).stdout, /errors/);
    assert.equal((JSON.parse((await sc.sh(S.grant)).stdout) as { permission: { role: string } }).permission.role, 'write');
  });

  it('the push of username/cowsay-dockerfile with the docker login; a WebHook tells ci.example.com', async () => {
    await sc.sh(S.push);
    const deadline = Date.now() + 15_000;
    const pushed = () => received.flatMap((e) => e.events).find((e) => e.action === 'push' && e.target.repository === 'username/cowsay-dockerfile' && e.target.tag === 'latest');
    while (!pushed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(pushed(), `no push event for username/cowsay-dockerfile:latest in ${JSON.stringify(received)}`);
  });

  it('search: podman search and the /v1/search API (docker search needs an engine)', async (t) => {
    await sc.cannot(t, 'docker search centos', steps.cannotRun['docker search centos']);
    assert.match((await sc.sh(S.search)).stdout, /localhost:5000\/username\/cowsay-dockerfile/);
    const api = JSON.parse((await sc.sh(S.searchApi)).stdout) as { num_results: number; results: { name: string }[] };
    assert.deepEqual(api.results.map((r) => r.name), ['username/cowsay-dockerfile']);
  });

  it('after docker logout a push is refused', async () => {
    await sc.sh(S.logout);
    const r = await sc.sh(S.pushLoggedOut, { allowFail: true });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unauthorized|authentication required|berth login/i);
  });

  itRanEveryStep(() => sc, steps);
});
