// Access control applies to mirrored names like any other: pull permission on the local name
// (the mirror's prefix included), whether the client names it or containerd's ?ns= maps to it.
// Also: quotas, retention and garbage collection treat cached content as ordinary content, on SQLite
// and PostgreSQL (a berth.retention policy deletes a cached tag nobody pulled lately, through the
// admin API's retention run, and the collection then reclaims its manifest and blobs; the metrics
// endpoint counts the deletions and the proxy's misses and hits), and an index is cached before its
// children (which come when asked for).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { basic, startHtpasswdRegistry, type AuthRegistry } from '../auth/harness.ts';
import { OCI_INDEX, OCI_MANIFEST, pushBlob, pushImage, putManifest, sha256, startTestRegistry, type TestRegistry } from '../http/harness.ts';
import { postgresSkip, startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { buildMirrors } from '../../src/config/mirrors.ts';
import { loadConfig } from '../../src/config/index.ts';
import type { GcScheduler } from '../../src/lifecycle/gc-scheduler.ts';
import { freePort } from '../helpers/processes.ts';
import { parseExposition, value } from '../metrics/exposition.ts';

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
  describe(`cached content is ordinary content (${backend}): quotas, retention and garbage collection, sparse indexes`, { skip: backend === 'postgres' && postgresSkip() }, () => {
    let upstream: TestRegistry;
    let mirror: TestRegistry;
    let pgServer: PostgresServer | undefined;
    let debugUrl: string;

    /** One sample of the mirror's metrics endpoint (0 when absent; the counters are this process's, so tests compare differences). */
    const metric = async (name: string, labels: Record<string, string> = {}) => {
      const res = await fetch(`${debugUrl}/metrics`);
      assert.equal(res.status, 200);
      return value(parseExposition(await res.text()), name, labels) ?? 0;
    };

    before(async () => {
      upstream = await startTestRegistry();
      const url = backend === 'postgres' ? await (pgServer = await startPostgres()).createDatabase('mirror') : undefined;
      // Cached tags of dist/team/gone not pulled within the last second are deleted by a retention run.
      const retention = loadConfig({
        text: "version: 0.1\nberth:\n  retention:\n    policies: [{repositories: ['dist/team/gone'], keeptags: [{patterns: ['.*'], pulledwithin: 1s}]}]\n",
        env: {},
      }).config.berth.lifecycle.retention;
      const debugPort = await freePort();
      debugUrl = `http://127.0.0.1:${debugPort}`;
      mirror = await startTestRegistry((c) => {
        if (url) c.berth.metadata = { driver: 'postgres', sqlite: {}, postgres: { url } };
        c.berth.mirrors = buildMirrors([{ prefix: 'dist/', remoteurl: upstream.url, ttl: 60_000 }], []);
        c.berth.lifecycle.quotas = [{ repositories: ['dist/capped/**'], limitBytes: 64 * 1024 }];
        c.berth.lifecycle.retention = retention;
        c.http.debug = { addr: `127.0.0.1:${debugPort}`, prometheus: { enabled: true, path: '/metrics' } };
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

    it('a layer stored already for a repository outside the quota is charged when the mirror links it', async () => {
      // The same layer pushed to a local repository of the mirror: the mirror links it instead of
      // downloading it, once the upstream's manifest lists it or the upstream confirms it. A link adds
      // the layer to the quota's usage like a mount, so it is checked like one.
      const shared = await pushImage(upstream.url, 'capped/shared', 'v1', { layerBytes: 256 * 1024 });
      const layer = Buffer.from(await (await fetch(`${upstream.url}/v2/capped/shared/blobs/${shared.layer}`)).arrayBuffer());
      assert.equal(await pushBlob(mirror.url, 'local/copy', layer), shared.layer);
      assert.equal((await fetch(`${mirror.url}/v2/dist/capped/shared/manifests/v1`)).status, 200);
      // A HEAD is answered from the upstream, as for a layer not stored here, and links nothing.
      assert.equal((await fetch(`${mirror.url}/v2/dist/capped/shared/blobs/${shared.layer}`, { method: 'HEAD' })).status, 200);
      assert.equal(await mirror.services.metadata.repositoryBlob('dist/capped/shared', shared.layer), undefined);
      const res = await fetch(`${mirror.url}/v2/dist/capped/shared/blobs/${shared.layer}`);
      assert.equal(res.status, 403, 'the layer does not fit in the quota');
      assert.match(await res.text(), /quota exceeded for dist\/capped\/\*\*/);
      const [scope] = await mirror.services.quotas.scopesFor('dist/capped/shared');
      const used = await mirror.services.quotas.usage(scope!);
      assert.ok(used.bytes <= scope!.limitBytes, `usage ${used.bytes} stays within the limit ${scope!.limitBytes}`);
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

    it('a retention policy expires a cached tag, the collection reclaims its manifest and blobs, and the next pull fetches them again', async () => {
      const img = await pushImage(upstream.url, 'team/gone', 'v1');
      const misses = { manifest: await metric('registry_proxy_misses_total', { type: 'manifest' }), blob: await metric('registry_proxy_misses_total', { type: 'blob' }) };
      const hits = await metric('registry_proxy_hits_total', { type: 'blob' });
      assert.equal((await fetch(`${mirror.url}/v2/dist/team/gone/manifests/v1`)).status, 200);
      const blob = await fetch(`${mirror.url}/v2/dist/team/gone/blobs/${img.layer}`);
      await blob.arrayBuffer();
      const file = join(mirror.services.config.storage.filesystem.rootdirectory, 'blobs', 'sha256', img.layer.slice(7, 9), img.layer.slice(7));
      for (let i = 0; i < 40 && !(await stat(file).catch(() => undefined)); i++) await new Promise((r) => setTimeout(r, 50));
      await stat(file);
      // A cold pull: one manifest and one blob miss; the same blob again: a hit.
      assert.equal((await metric('registry_proxy_misses_total', { type: 'manifest' })) - misses.manifest, 1);
      assert.equal((await metric('registry_proxy_misses_total', { type: 'blob' })) - misses.blob, 1);
      const again0 = await fetch(`${mirror.url}/v2/dist/team/gone/blobs/${img.layer}`);
      assert.equal(sha256(Buffer.from(await again0.arrayBuffer())), img.layer);
      assert.equal((await metric('registry_proxy_hits_total', { type: 'blob' })) - hits, 1);

      // Within the policy's pulledwithin the tag is kept; past it, the admin API's retention run deletes it (and its manifest).
      const run = () => fetch(`${mirror.url}/api/v1/retention/run`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      const deletions = { tag: await metric('berth_retention_deletions_total', { kind: 'tag' }), manifest: await metric('berth_retention_deletions_total', { kind: 'manifest' }) };
      let res = await run();
      assert.equal(res.status, 200, await res.clone().text());
      assert.ok(await mirror.services.metadata.taggedManifest('dist/team/gone', 'v1'), 'pulled within 1s: kept');
      await new Promise((r) => setTimeout(r, 1500));
      res = await run();
      assert.equal(res.status, 200, await res.clone().text());
      const report = (await res.json()) as { status: string; repositories: { repository: string; tags: { tag: string }[]; manifests: { digest: string }[] }[] };
      assert.equal(report.status, 'succeeded', JSON.stringify(report));
      const gone = report.repositories.find((r) => r.repository === 'dist/team/gone');
      assert.deepEqual(gone?.tags.map((t) => t.tag), ['v1'], JSON.stringify(report));
      assert.deepEqual(gone?.manifests.map((m) => m.digest), [img.digest]);
      assert.equal(await mirror.services.metadata.taggedManifest('dist/team/gone', 'v1'), undefined);
      assert.equal((await metric('berth_retention_deletions_total', { kind: 'tag' })) - deletions.tag, 1);
      assert.equal((await metric('berth_retention_deletions_total', { kind: 'manifest' })) - deletions.manifest, 1);

      // The collection (admin API) removes the blobs nothing references any more.
      const gcBlobs = await metric('berth_gc_deleted_blobs_total');
      res = await fetch(`${mirror.url}/api/v1/gc`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ delay: '0s' }) });
      assert.equal(res.status, 200, await res.clone().text());
      const gc = (await res.json()) as { status: string; blobs: { digest: string }[]; errors: unknown[] };
      assert.equal(gc.status, 'succeeded', JSON.stringify(gc.errors));
      assert.ok(gc.blobs.some((b) => b.digest === img.layer), 'the cached layer was collected');
      await assert.rejects(stat(file));
      assert.ok((await metric('berth_gc_deleted_blobs_total')) - gcBlobs >= 2, 'the layer and the config');

      // Pulled again: fetched again from the upstream (misses again).
      const again = await fetch(`${mirror.url}/v2/dist/team/gone/manifests/v1`);
      assert.equal(again.status, 200);
      const layer = await fetch(`${mirror.url}/v2/dist/team/gone/blobs/${img.layer}`);
      assert.equal(layer.status, 200);
      assert.equal(sha256(Buffer.from(await layer.arrayBuffer())), img.layer);
      assert.equal((await metric('registry_proxy_misses_total', { type: 'manifest' })) - misses.manifest, 2);
      // A fetched blob counts as a miss once it is committed, just after the client has its bytes.
      let blobMisses = 0;
      for (let i = 0; i < 40 && (blobMisses = (await metric('registry_proxy_misses_total', { type: 'blob' })) - misses.blob) < 2; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(blobMisses, 2);
    });
  });
}
