// Storage quotas (docs/immutable-tags-and-quotas.md): usage counts each blob once per scope, a blob
// upload commit, a mount or a manifest PUT that would exceed a quota is refused with 403 DENIED and
// the numbers, and deleting gives the space back. Real server on 127.0.0.1, real clients (fetch, skopeo).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { body, errorCodes, OCI_MANIFEST, pushBlob, pushImage, putManifest, sha256, startTestRegistry, type TestRegistry } from '../http/harness.ts';
import type { BerthConfig } from '../../src/config/index.ts';
import type { QuotaRule } from '../../src/lifecycle/config-types.ts';
import { clientSandbox, hasCommand, run, startDistribution, tempDir } from '../helpers/processes.ts';
import { makeOciLayout } from '../helpers/images.ts';
import { basic, startHtpasswdRegistry, type AuthRegistry } from '../auth/harness.ts';
import { berthCli } from '../cli/helpers.ts';
import { writeFile } from 'node:fs/promises';

const KiB = 1024;

function withQuotas(quotas: QuotaRule[]): (c: BerthConfig) => void {
  return (c) => {
    c.berth.lifecycle.quotas = quotas;
    c.berth.lifecycle.gc.enabled = false;
  };
}

async function tryPushBlob(base: string, name: string, data: Buffer): Promise<Response> {
  return fetch(`${base}/v2/${name}/blobs/uploads/?digest=${sha256(data)}`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: body(data) });
}

async function denial(res: Response): Promise<string> {
  assert.equal(res.status, 403);
  const j = (await res.json()) as { errors: { code: string; message: string }[] };
  assert.equal(j.errors[0]!.code, 'DENIED');
  return j.errors[0]!.message;
}

async function api(base: string, method: string, path: string, json?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    ...(json !== undefined && { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(json) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function usedBytes(base: string, namespace: string): Promise<number> {
  const r = await api(base, 'GET', `/usage?namespace=${encodeURIComponent(namespace)}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.namespaces[0].usedBytes;
}

describe('quotas', () => {
  describe('blob upload commit', () => {
    let reg: TestRegistry;
    const shared = randomBytes(3 * KiB);
    before(async () => {
      reg = await startTestRegistry(withQuotas([{ repositories: ['team-a/**'], limitBytes: 10 * KiB }]));
    });
    after(() => reg.stop());

    it('refuses a commit that would exceed the quota with 403 DENIED and the numbers, storing nothing', async () => {
      await pushBlob(reg.url, 'team-a/app', randomBytes(6 * KiB));
      const extra = randomBytes(6 * KiB);
      const res = await tryPushBlob(reg.url, 'team-a/app', extra);
      assert.equal(await denial(res), 'quota exceeded for team-a/**: 6 KiB of 10 KiB used, this upload needs 6 KiB');
      const head = await fetch(`${reg.url}/v2/team-a/app/blobs/${sha256(extra)}`, { method: 'HEAD' });
      assert.equal(head.status, 404);
      assert.equal(await usedBytes(reg.url, 'team-a'), 6 * KiB);
    });

    it('lets parallel uploads (the layers of one push) through only as far as the limit', async () => {
      const fresh = await startTestRegistry(withQuotas([{ repositories: ['team-p/**'], limitBytes: 20 * KiB }]));
      try {
        const results = await Promise.all(Array.from({ length: 6 }, (_, i) => tryPushBlob(fresh.url, `team-p/app${i % 2}`, randomBytes(6 * KiB))));
        const statuses = results.map((r) => r.status).sort();
        assert.deepEqual(statuses, [201, 201, 201, 403, 403, 403]);
        assert.equal(await usedBytes(fresh.url, 'team-p'), 18 * KiB);
        // The same layer committed to two repositories at once counts once.
        const layer = randomBytes(2 * KiB);
        const same = await Promise.all(['team-p/app0', 'team-p/app1'].map((repo) => tryPushBlob(fresh.url, repo, layer)));
        assert.deepEqual(same.map((r) => r.status), [201, 201]);
        assert.equal(await usedBytes(fresh.url, 'team-p'), 20 * KiB);
      } finally {
        await fresh.stop();
      }
    });

    it('counts a blob once per scope, however many repositories in it link it', async () => {
      await pushBlob(reg.url, 'team-a/one', shared);
      await pushBlob(reg.url, 'team-a/two/deep', shared);
      assert.equal(await usedBytes(reg.url, 'team-a'), 9 * KiB);
      const r = await api(reg.url, 'GET', '/usage?namespace=team-a');
      const repos = Object.fromEntries(r.body.namespaces[0].repositories.map((x: { name: string; usedBytes: number }) => [x.name, x.usedBytes]));
      assert.deepEqual(repos, { 'team-a/app': 6 * KiB, 'team-a/one': 3 * KiB, 'team-a/two/deep': 3 * KiB });
      const quota = r.body.quotas.find((q: { scope: string }) => q.scope === 'team-a/**');
      assert.deepEqual([quota.limitBytes, quota.usedBytes, quota.source], [10 * KiB, 9 * KiB, 'config']);
    });

    it('lets a blob already counted in the scope through whatever the usage', async () => {
      // 9 KiB used of 10: a new 3 KiB blob would not fit, the shared one costs nothing.
      await pushBlob(reg.url, 'team-a/three', shared);
      assert.equal(await usedBytes(reg.url, 'team-a'), 9 * KiB);
    });

    it('leaves repositories outside the scope alone', async () => {
      await pushBlob(reg.url, 'team-b/app', randomBytes(20 * KiB));
      await pushBlob(reg.url, 'team-ab', randomBytes(20 * KiB));
    });

    it('gives the space back when a blob is deleted (unlinked) from the repositories', async () => {
      const d = sha256(shared);
      for (const repo of ['team-a/one', 'team-a/two/deep', 'team-a/three']) {
        const res = await fetch(`${reg.url}/v2/${repo}/blobs/${d}`, { method: 'DELETE' });
        assert.equal(res.status, 202);
      }
      assert.equal(await usedBytes(reg.url, 'team-a'), 6 * KiB);
      await pushBlob(reg.url, 'team-a/app', randomBytes(4 * KiB));
      assert.equal(await usedBytes(reg.url, 'team-a'), 10 * KiB);
    });
  });

  describe('deleting and collecting', () => {
    it('a deleted manifest keeps its blobs counted until garbage collection takes them, then the space is back', async () => {
      const reg = await startTestRegistry(withQuotas([{ repositories: ['team-a/**'], limitBytes: 10 * KiB }]));
      try {
        const img = await pushImage(reg.url, 'team-a/app', 'v1', { layerBytes: 6 * KiB });
        const full = await usedBytes(reg.url, 'team-a');
        assert.ok(full > 6 * KiB);
        assert.equal(await denial(await tryPushBlob(reg.url, 'team-a/app', randomBytes(5 * KiB))), `quota exceeded for team-a/**: ${(full / KiB).toFixed(1)} KiB of 10 KiB used, this upload needs 5 KiB`);
        assert.equal((await fetch(`${reg.url}/v2/team-a/app/manifests/${img.digest}`, { method: 'DELETE' })).status, 202);
        // The repository still links the blobs (a push may be about to reference them again).
        assert.equal(await usedBytes(reg.url, 'team-a'), full);
        const gc = await api(reg.url, 'POST', '/gc', { delay: '0s' });
        assert.equal(gc.status, 200, JSON.stringify(gc.body));
        assert.equal(await usedBytes(reg.url, 'team-a'), 0);
        await pushBlob(reg.url, 'team-a/app', randomBytes(5 * KiB));
      } finally {
        await reg.stop();
      }
    });
  });

  describe('chunked uploads', () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startTestRegistry(withQuotas([{ repositories: ['team-a/**'], limitBytes: 10 * KiB }]));
    });
    after(() => reg.stop());

    async function start(name: string): Promise<string> {
      const res = await fetch(`${reg.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
      assert.equal(res.status, 202);
      return new URL(res.headers.get('location')!, reg.url).toString();
    }

    it('refuses a PATCH whose declared bytes exceed the whole quota, and drops the session', async () => {
      const loc = await start('team-a/app');
      const res = await fetch(loc, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream' }, body: body(randomBytes(12 * KiB)) });
      assert.equal(await denial(res), 'quota exceeded for team-a/**: this upload is 12 KiB already, more than the quota of 10 KiB');
      const status = await fetch(loc);
      assert.equal(status.status, 404);
      assert.deepEqual(await errorCodes(status), ['BLOB_UPLOAD_UNKNOWN']);
    });

    it('refuses a streamed PATCH (no Content-Length) once its bytes exceed the quota', async () => {
      const loc = await start('team-a/app');
      const data = randomBytes(11 * KiB);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new Uint8Array(data));
          controller.close();
        },
      });
      const res = await fetch(loc, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream' }, body: stream, duplex: 'half' } as RequestInit);
      assert.match(await denial(res), /^quota exceeded for team-a\/\*\*: this upload is 11 KiB already/);
    });

    it('checks the final size at PUT: chunks that fit alone but not with what is stored are refused', async () => {
      await pushBlob(reg.url, 'team-a/base', randomBytes(7 * KiB));
      const loc = await start('team-a/app');
      const data = randomBytes(4 * KiB);
      const patch = await fetch(loc, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream' }, body: body(data) });
      assert.equal(patch.status, 202);
      const next = new URL(patch.headers.get('location')!, reg.url);
      next.searchParams.set('digest', sha256(data));
      const put = await fetch(next, { method: 'PUT' });
      assert.equal(await denial(put), 'quota exceeded for team-a/**: 7 KiB of 10 KiB used, this upload needs 4 KiB');
      assert.equal((await fetch(loc)).status, 404);
    });
  });

  describe('mounts and manifests', () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startTestRegistry(withQuotas([{ repositories: ['team-a/**'], limitBytes: 10 * KiB }]));
    });
    after(() => reg.stop());

    it('refuses a mount from outside the scope that would exceed it; a mount inside the scope is free', async () => {
      const outside = await pushBlob(reg.url, 'other/app', randomBytes(6 * KiB));
      const inside = await pushBlob(reg.url, 'team-a/app', randomBytes(6 * KiB));
      const refused = await fetch(`${reg.url}/v2/team-a/new/blobs/uploads/?mount=${outside}&from=other/app`, { method: 'POST' });
      assert.equal(await denial(refused), 'quota exceeded for team-a/**: 6 KiB of 10 KiB used, this mount needs 6 KiB');
      const free = await fetch(`${reg.url}/v2/team-a/new/blobs/uploads/?mount=${inside}&from=team-a/app`, { method: 'POST' });
      assert.equal(free.status, 201);
      // Mount without `from` (automatic content discovery) is checked the same way.
      const discovered = await fetch(`${reg.url}/v2/team-a/new/blobs/uploads/?mount=${outside}`, { method: 'POST' });
      assert.equal(discovered.status, 403);
    });

    it('refuses a manifest PUT whose bytes would exceed the quota; the same manifest again costs nothing', async () => {
      const fresh = await startTestRegistry(withQuotas([{ repositories: ['team-a/**'], limitBytes: 2 * KiB }]));
      try {
        const first = await pushImage(fresh.url, 'team-a/app', 'v1', { layerBytes: 600 });
        const used = await usedBytes(fresh.url, 'team-a');
        // Another tag of the same manifest: nothing new to count.
        const again = await putManifest(fresh.url, 'team-a/app', 'v1-again', first.bytes, OCI_MANIFEST);
        assert.equal(again.status, 201);
        // A new manifest over the same blobs needs its own bytes, which do not fit any more.
        const manifest = JSON.parse(first.bytes.toString('utf8'));
        manifest.annotations = { padding: 'x'.repeat(2 * KiB - used + 10) };
        const bigger = Buffer.from(JSON.stringify(manifest));
        const refused = await putManifest(fresh.url, 'team-a/app', 'v2', bigger, OCI_MANIFEST);
        const message = await denial(refused);
        assert.match(message, /^quota exceeded for team-a\/\*\*: [\d.]+ (KiB|B) of 2 KiB used, this manifest needs [\d.]+ (KiB|B)$/);
        assert.equal((await fetch(`${fresh.url}/v2/team-a/app/manifests/v2`)).status, 404);
      } finally {
        await fresh.stop();
      }
    });
  });

  describe('namespace quotas through the admin API', () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startTestRegistry(withQuotas([]));
    });
    after(() => reg.stop());

    it('PUT sets a quota on the namespace and everything below it, including a repository named like it', async () => {
      const put = await api(reg.url, 'PUT', '/quotas/team-c', { limit: '8KiB' });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.deepEqual([put.body.scope, put.body.limitBytes, put.body.usedBytes, put.body.source, put.body.namespace], ['team-c/**', 8 * KiB, 0, 'api', 'team-c']);
      await pushBlob(reg.url, 'team-c', randomBytes(5 * KiB));
      assert.equal(await denial(await tryPushBlob(reg.url, 'team-c/x/y', randomBytes(5 * KiB))), 'quota exceeded for team-c/**: 5 KiB of 8 KiB used, this upload needs 5 KiB');
      const got = await api(reg.url, 'GET', '/quotas/team-c');
      assert.deepEqual([got.status, got.body.usedBytes, got.body.limit, got.body.used], [200, 5 * KiB, '8 KiB', '5 KiB']);
    });

    it('GET /quotas lists config and API quotas; a byte count works as the limit too', async () => {
      assert.equal((await api(reg.url, 'PUT', '/quotas/team-d', { limit: 4096 })).status, 200);
      const list = await api(reg.url, 'GET', '/quotas');
      assert.deepEqual(
        list.body.quotas.map((q: { scope: string; limitBytes: number }) => [q.scope, q.limitBytes]),
        [
          ['team-c/**', 8 * KiB],
          ['team-d/**', 4 * KiB],
        ],
      );
    });

    it('rejects bad limits and names', async () => {
      assert.equal((await api(reg.url, 'PUT', '/quotas/team-c', { limit: 'lots' })).status, 400);
      assert.equal((await api(reg.url, 'PUT', '/quotas/team-c', { limit: '1GiB', extra: 1 })).status, 400);
      assert.equal((await api(reg.url, 'PUT', '/quotas/Team_C', { limit: '1GiB' })).status, 400);
      assert.equal((await api(reg.url, 'GET', '/quotas/nobody')).status, 404);
    });

    it('DELETE removes the quota at once (this replica does not wait for its rules cache)', async () => {
      assert.equal((await api(reg.url, 'DELETE', '/quotas/team-c')).status, 204);
      assert.equal((await api(reg.url, 'DELETE', '/quotas/team-c')).status, 404);
      await pushBlob(reg.url, 'team-c/x/y', randomBytes(5 * KiB));
    });

    it('GET /usage shows every namespace (first path segment) and repository, counting shared blobs once', async () => {
      const shared = randomBytes(KiB);
      await pushBlob(reg.url, 'team-e/a', shared);
      await pushBlob(reg.url, 'team-e/b', shared);
      const all = await api(reg.url, 'GET', '/usage');
      assert.equal(all.status, 200);
      const ns = Object.fromEntries(all.body.namespaces.map((n: { name: string; usedBytes: number }) => [n.name, n.usedBytes]));
      assert.deepEqual(ns, { 'team-c': 10 * KiB, 'team-e': KiB });
      const teamE = all.body.namespaces.find((n: { name: string }) => n.name === 'team-e');
      assert.deepEqual(
        teamE.repositories.map((r: { name: string; usedBytes: number }) => [r.name, r.usedBytes]),
        [
          ['team-e/a', KiB],
          ['team-e/b', KiB],
        ],
      );
      assert.deepEqual(all.body.quotas.map((q: { scope: string }) => q.scope), ['team-d/**']);
    });
  });

  describe('skopeo', { skip: !hasCommand('skopeo') && 'skopeo is not installed' }, () => {
    it('a push over the quota fails and skopeo prints the quota message', async () => {
      const reg = await startTestRegistry(withQuotas([{ repositories: ['team-a/**'], limitBytes: 100 * KiB }]));
      const host = new URL(reg.url).host;
      const sb = await clientSandbox('quota-skopeo', [host]);
      const work = await tempDir('quota-skopeo-work');
      try {
        const layout = await makeOciLayout(join(work.path, 'img'), { tag: 'v1', layers: 3, layerBytes: 64 * KiB });
        const r = await run('skopeo', ['--insecure-policy', 'copy', '--dest-tls-verify=false', `oci:${layout.dir}:v1`, `docker://${host}/team-a/app:v1`], { env: sb.env, allowFail: true });
        assert.notEqual(r.code, 0, r.stdout);
        assert.match(r.stderr, /quota exceeded for team-a\/\*\*: [\d.]+ KiB of 100 KiB used, this upload needs [\d.]+ KiB/, r.stderr);
        assert.ok((await usedBytes(reg.url, 'team-a')) <= 100 * KiB);
      } finally {
        await reg.stop();
        await sb.cleanup();
        await work.cleanup();
      }
    });
  });

  describe('podman', { skip: !hasCommand('podman') && 'podman is not installed' }, () => {
    it('podman push over the quota fails and prints the quota message', async () => {
      const reg = await startTestRegistry(withQuotas([{ repositories: ['team-a/**'], limitBytes: 100 * KiB }]));
      const host = new URL(reg.url).host;
      const sb = await clientSandbox('quota-podman', [host]);
      const work = await tempDir('quota-podman-work');
      const podman = (...args: string[]) => run('podman', [...sb.podmanFlags, ...args], { env: sb.env, allowFail: true });
      try {
        const layout = await makeOciLayout(join(work.path, 'img'), { tag: 'v1', layers: 3, layerBytes: 64 * KiB });
        // Into podman's (sandboxed) storage; `podman pull oci:` would name the image after the upper-case temp path.
        await run('skopeo', ['--insecure-policy', 'copy', `oci:${layout.dir}:v1`, 'containers-storage:localhost/quota-img:v1'], { env: sb.env });
        const r = await podman('push', '--tls-verify=false', 'localhost/quota-img:v1', `docker://${host}/team-a/app:v1`);
        assert.notEqual(r.code, 0, r.stdout);
        assert.match(r.stderr, /denied: quota exceeded for team-a\/\*\*: [\d.]+ KiB of 100 KiB used, this upload needs [\d.]+ KiB/, r.stderr);
      } finally {
        await reg.stop();
        await sb.cleanup();
        await work.cleanup();
      }
    });
  });

  describe('berth usage HOST [NAMESPACE]', () => {
    const USERS = { admin: 'admin-password-1', alice: 'alice-password-1' };
    let r: AuthRegistry;
    let host: string;
    let sb: Awaited<ReturnType<typeof clientSandbox>>;
    let berth: ReturnType<typeof berthCli>;
    const as = (user: keyof typeof USERS) => ({ Authorization: basic(user, USERS[user]) });

    before(async () => {
      r = await startHtpasswdRegistry(USERS, (c) => {
        c.berth.auth.accessControl = { enabled: true, admins: ['admin'] };
        withQuotas([{ repositories: ['team-a/**'], limitBytes: 50 * KiB }])(c);
      });
      host = new URL(r.url).host;
      sb = await clientSandbox('quota-cli', [host]);
      berth = berthCli(sb.env);
      const call = (method: string, path: string, json: unknown) =>
        fetch(`${r.url}/api/v1${path}`, { method, headers: { ...as('admin'), 'Content-Type': 'application/json' }, body: JSON.stringify(json) });
      assert.equal((await call('POST', '/users', { name: 'alice' })).status, 201);
      assert.equal((await call('POST', '/permissions', { subject: { kind: 'user', name: 'alice' }, scope: { kind: 'namespace', name: 'team-a' }, role: 'admin' })).status, 201);
      assert.equal((await call('PUT', '/quotas/team-a/sub', { limit: '20KiB' })).status, 200);
      const shared = randomBytes(10 * KiB);
      for (const repo of ['team-a/app', 'team-a/sub/tool']) {
        const res = await fetch(`${r.url}/v2/${repo}/blobs/uploads/?digest=${sha256(shared)}`, { method: 'POST', headers: as('admin'), body: body(shared) });
        assert.equal(res.status, 201);
      }
      const own = randomBytes(5 * KiB);
      assert.equal((await fetch(`${r.url}/v2/team-b/x/blobs/uploads/?digest=${sha256(own)}`, { method: 'POST', headers: as('admin'), body: body(own) })).status, 201);
    });
    after(async () => {
      await r?.stop();
      await sb?.cleanup();
    });

    it('prints namespaces, repositories and quotas for a site administrator (--creds)', async () => {
      const out = await berth(['usage', host, '--insecure', '--creds', `admin:${USERS.admin}`]);
      assert.equal(out.code, 0, out.stderr);
      const lines = out.stdout.split('\n').map((l) => l.replace(/\s+/g, ' ').trim());
      assert.deepEqual(lines.slice(0, 6), ['NAMESPACE / REPOSITORY USED BLOBS', 'team-a 10 KiB 1', 'team-a/app 10 KiB 1', 'team-a/sub/tool 10 KiB 1', 'team-b 5 KiB 1', 'team-b/x 5 KiB 1']);
      assert.ok(lines.includes('team-a/** config [0] 10 KiB 50 KiB 20.0%'), out.stdout);
      assert.ok(lines.includes('team-a/sub/** api (team-a/sub) 10 KiB 20 KiB 50.0%'), out.stdout);
    });

    it('uses the stored login and shows one namespace to its admin, as JSON too', async () => {
      const auth = Buffer.from(`alice:${USERS.alice}`).toString('base64');
      await writeFile(sb.env.REGISTRY_AUTH_FILE!, JSON.stringify({ auths: { [host]: { auth } } }));
      const json = await berth(['usage', host, 'team-a', '--insecure', '--json']);
      assert.equal(json.code, 0, json.stderr);
      const report = JSON.parse(json.stdout);
      assert.equal(report.namespace, 'team-a');
      assert.deepEqual(report.namespaces.map((n: { name: string; usedBytes: number }) => [n.name, n.usedBytes]), [['team-a', 10 * KiB]]);
      assert.deepEqual(report.quotas.map((q: { scope: string }) => q.scope), ['team-a/**', 'team-a/sub/**']);
      const refused = await berth(['usage', host, 'team-b', '--insecure']);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /denied/);
      const all = await berth(['usage', host, '--insecure']);
      assert.equal(all.code, 1, 'the whole registry is for site administrators');
    });

    it('says so when the registry has no usage API (docker-registry)', { skip: !hasCommand('docker-registry') && 'docker-registry is not installed' }, async () => {
      const other = await startDistribution();
      try {
        const res = await berth(['usage', other.host, '--insecure']);
        assert.equal(res.code, 1);
        assert.match(res.stderr, new RegExp(`${other.host} has no usage API \\(GET /api/v1/usage\\): it is not berth`));
      } finally {
        await other.stop();
      }
    });
  });
});
