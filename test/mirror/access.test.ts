// Access control applies to mirrored names like any other: pull permission on the local name
// (the mirror's prefix included), whether the client names it or containerd's ?ns= maps to it.
// Also: quotas and garbage collection treat cached content as ordinary content, on SQLite and
// PostgreSQL, and an index is cached before its children (which come when asked for).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { basic, startHtpasswdRegistry, type AuthRegistry } from '../auth/harness.ts';
import { OCI_INDEX, OCI_MANIFEST, pushImage, putManifest, sha256, startTestRegistry, type TestRegistry } from '../http/harness.ts';
import { postgresSkip, startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { buildMirrors } from '../../src/config/mirrors.ts';
import type { GcScheduler } from '../../src/lifecycle/gc-scheduler.ts';

const USERS = { admin: 'admin-password-1', alice: 'alice-password-1', bob: 'bob-password-1' };
const NS = 'upstream.example';

describe('mirrored names under access control', () => {
  let upstream: TestRegistry;
  let mirror: AuthRegistry;
  let image: Awaited<ReturnType<typeof pushImage>>;
  const as = (user: keyof typeof USERS) => ({ Authorization: basic(user, USERS[user]) });
  const api = (path: string, json: unknown) =>
    fetch(`${mirror.url}/api/v1${path}`, { method: 'POST', headers: { ...as('admin'), 'Content-Type': 'application/json' }, body: JSON.stringify(json) });

  before(async () => {
    upstream = await startTestRegistry();
    image = await pushImage(upstream.url, 'team/app', 'v1');
    mirror = await startHtpasswdRegistry(USERS, (c) => {
      c.berth.auth.accessControl = { enabled: true, admins: ['admin'] };
      c.berth.mirrors = buildMirrors([{ prefix: 'dist/', remoteurl: upstream.url, ttl: 60_000, ns: NS }], []);
    });
    for (const name of ['alice', 'bob']) assert.equal((await api('/users', { name })).status, 201);
    // alice may pull the mirror's namespace; bob only the upstream's bare names (which are local names here).
    assert.equal((await api('/permissions', { subject: { kind: 'user', name: 'alice' }, scope: { kind: 'namespace', name: 'dist' }, role: 'write' })).status, 201);
    assert.equal((await api('/permissions', { subject: { kind: 'user', name: 'bob' }, scope: { kind: 'namespace', name: 'team' }, role: 'read' })).status, 201);
  });
  after(async () => {
    await mirror?.stop();
    await upstream?.stop();
  });

  it('pull permission on the prefixed name decides, by name and through ?ns=', async () => {
    const path = '/v2/dist/team/app/manifests/v1';
    assert.equal((await fetch(`${mirror.url}${path}`)).status, 401);
    const denied = await fetch(`${mirror.url}${path}`, { headers: as('bob') });
    assert.equal(denied.status, 403);
    const ok = await fetch(`${mirror.url}${path}`, { headers: as('alice') });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('docker-content-digest'), image.digest);

    // ?ns= maps team/app to dist/team/app before authorization: bob's role on team/ does not apply.
    const viaNs = `/v2/team/app/manifests/v1?ns=${NS}`;
    assert.equal((await fetch(`${mirror.url}${viaNs}`, { headers: as('bob') })).status, 403);
    const aliceNs = await fetch(`${mirror.url}${viaNs}`, { headers: as('alice') });
    assert.equal(aliceNs.status, 200);
    assert.equal(aliceNs.headers.get('oci-namespace'), NS);
    const blob = await fetch(`${mirror.url}/v2/team/app/blobs/${image.layer}?ns=${NS}`, { headers: as('alice') });
    assert.equal(blob.status, 200);
    await blob.arrayBuffer();
    assert.equal((await fetch(`${mirror.url}/v2/team/app/blobs/${image.layer}?ns=${NS}`, { headers: as('bob') })).status, 403);
  });

  it('a write role on the mirror still cannot push into it', async () => {
    const res = await fetch(`${mirror.url}/v2/dist/team/app/blobs/uploads/`, { method: 'POST', headers: as('alice') });
    assert.equal(res.status, 405);
    const anon = await fetch(`${mirror.url}/v2/dist/team/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(anon.status, 401, 'authentication comes first, as in registry:2');
  });
});

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`cached content is ordinary content (${backend}): quotas, garbage collection, sparse indexes`, { skip: backend === 'postgres' && postgresSkip() }, () => {
    let upstream: TestRegistry;
    let mirror: TestRegistry;
    let pgServer: PostgresServer | undefined;

    before(async () => {
      upstream = await startTestRegistry();
      const url = backend === 'postgres' ? await (pgServer = await startPostgres()).createDatabase('mirror') : undefined;
      mirror = await startTestRegistry((c) => {
        if (url) c.berth.metadata = { driver: 'postgres', sqlite: {}, postgres: { url } };
        c.berth.mirrors = buildMirrors([{ prefix: 'dist/', remoteurl: upstream.url, ttl: 60_000 }], []);
        c.berth.lifecycle.quotas = [{ repositories: ['dist/capped/**'], limitBytes: 64 * 1024 }];
      });
    });
    after(async () => {
      await mirror?.stop();
      await upstream?.stop();
      await pgServer?.stop();
    });

    it('a quota over mirrored repositories caps what is cached', async () => {
      const big = await pushImage(upstream.url, 'capped/big', 'v1', { layerBytes: 256 * 1024 });
      assert.equal((await fetch(`${mirror.url}/v2/dist/capped/big/manifests/v1`)).status, 200);
      const res = await fetch(`${mirror.url}/v2/dist/capped/big/blobs/${big.layer}`);
      assert.equal(res.status, 403, await res.text());
    });

    it('an index is cached before its children; a child comes when it is asked for', async () => {
      const a = await pushImage(upstream.url, 'team/multi', 'amd64');
      const b = await pushImage(upstream.url, 'team/multi', 'arm64');
      const index = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_INDEX,
          manifests: [
            { mediaType: OCI_MANIFEST, digest: a.digest, size: a.size, platform: { os: 'linux', architecture: 'amd64' } },
            { mediaType: OCI_MANIFEST, digest: b.digest, size: b.size, platform: { os: 'linux', architecture: 'arm64' } },
          ],
        }),
      );
      assert.equal((await putManifest(upstream.url, 'team/multi', 'v1', index, OCI_INDEX)).status, 201);
      const got = await fetch(`${mirror.url}/v2/dist/team/multi/manifests/v1`);
      assert.equal(got.status, 200);
      assert.ok(Buffer.from(await got.arrayBuffer()).equals(index));
      assert.equal(await mirror.services.metadata.manifest('dist/team/multi', a.digest), undefined, 'children are not fetched with the index');
      assert.equal((await fetch(`${mirror.url}/v2/dist/team/multi/manifests/${a.digest}`)).status, 200);
      assert.ok(await mirror.services.metadata.manifest('dist/team/multi', a.digest));
      // A collection keeps the tagged index and its cached child (and the child's blobs once cached).
      const report = await (mirror.lifecycleApi.jobs.gc as GcScheduler).run({ dryRun: false, deleteUntagged: true, delayMs: 0, trigger: 'api' });
      assert.equal(report.status, 'succeeded', JSON.stringify(report.errors));
      assert.ok(await mirror.services.metadata.manifest('dist/team/multi', a.digest));
      assert.equal((await fetch(`${mirror.url}/v2/dist/team/multi/manifests/v1`)).status, 200);
    });

    it('untagged by retention, cached manifests and blobs are collected like pushed ones, and fetched again on demand', async () => {
      const img = await pushImage(upstream.url, 'team/gone', 'v1');
      assert.equal((await fetch(`${mirror.url}/v2/dist/team/gone/manifests/v1`)).status, 200);
      const blob = await fetch(`${mirror.url}/v2/dist/team/gone/blobs/${img.layer}`);
      await blob.arrayBuffer();
      const file = join(mirror.services.config.storage.filesystem.rootdirectory, 'blobs', 'sha256', img.layer.slice(7, 9), img.layer.slice(7));
      for (let i = 0; i < 40 && !(await stat(file).catch(() => undefined)); i++) await new Promise((r) => setTimeout(r, 50));
      await stat(file);
      // What retention does to a tag: gone from the metadata (the API refuses deletes of mirrored names).
      assert.ok(await mirror.services.metadata.deleteTag('dist/team/gone', 'v1'));
      const report = await (mirror.lifecycleApi.jobs.gc as GcScheduler).run({ dryRun: false, deleteUntagged: true, delayMs: 0, trigger: 'api' });
      assert.equal(report.status, 'succeeded', JSON.stringify(report.errors));
      assert.ok(report.blobs.some((b) => b.digest === img.layer), 'the cached layer was collected');
      await assert.rejects(stat(file));
      // Pulled again: fetched again from the upstream.
      const again = await fetch(`${mirror.url}/v2/dist/team/gone/manifests/v1`);
      assert.equal(again.status, 200);
      const layer = await fetch(`${mirror.url}/v2/dist/team/gone/blobs/${img.layer}`);
      assert.equal(layer.status, 200);
      assert.equal(sha256(Buffer.from(await layer.arrayBuffer())), img.layer);
    });
  });
}
