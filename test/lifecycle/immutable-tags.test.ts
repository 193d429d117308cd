// Immutable tags (docs/immutable-tags-and-quotas.md): once a tag matching a rule exists, pushing it
// with another digest or deleting it (by tag, or its manifest by digest) is 403 DENIED naming the
// rule; the same digest again is a no-op success; a new matching tag may be pushed. Rules from
// config.yml and from the admin API; retention asks ImmutableTags.isImmutable.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errorCodes, OCI_MANIFEST, pushImage, putManifest, startTestRegistry, type TestRegistry } from '../http/harness.ts';
import { basic, startHtpasswdRegistry, type AuthRegistry } from '../auth/harness.ts';
import { ImmutableTags, isImmutableTag } from '../../src/lifecycle/immutable-tags.ts';

const RULE = { repositories: ['team-a/**'], tags: ['v[0-9]+(\\.[0-9]+)*'] };

async function denial(res: Response): Promise<string> {
  assert.equal(res.status, 403);
  const j = (await res.json()) as { errors: { code: string; message: string }[] };
  assert.equal(j.errors[0]!.code, 'DENIED');
  return j.errors[0]!.message;
}

async function digestOf(base: string, repo: string, tag: string): Promise<string | null> {
  const res = await fetch(`${base}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: OCI_MANIFEST } });
  return res.status === 200 ? res.headers.get('docker-content-digest') : null;
}

async function api(base: string, method: string, path: string, json?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    ...(json !== undefined && { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(json) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('immutable tags', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startTestRegistry((c) => {
      c.berth.lifecycle.immutableTags = [RULE];
      c.berth.lifecycle.gc.enabled = false;
    });
  });
  after(() => reg.stop());

  describe('manifest PUT', () => {
    it('allows pushing a new tag that matches a rule (immutability starts once it exists)', async () => {
      const img = await pushImage(reg.url, 'team-a/app', 'v1.0');
      assert.equal(await digestOf(reg.url, 'team-a/app', 'v1.0'), img.digest);
    });

    it('accepts the same digest again as a no-op success (CI retries pass)', async () => {
      const img = await pushImage(reg.url, 'team-a/retry', 'v2');
      for (let i = 0; i < 2; i++) {
        const again = await putManifest(reg.url, 'team-a/retry', 'v2', img.bytes, OCI_MANIFEST);
        assert.equal(again.status, 201);
        assert.equal(again.headers.get('docker-content-digest'), img.digest);
      }
    });

    it('refuses pushing an existing immutable tag with another digest: 403 DENIED naming the rule, tag unchanged', async () => {
      const first = await pushImage(reg.url, 'team-a/moving', 'v3');
      const res = await fetch(`${reg.url}/v2/team-a/moving/manifests/v3`, { method: 'HEAD' });
      assert.equal(res.status, 200);
      let message = '';
      await assert.rejects(pushImage(reg.url, 'team-a/moving', 'v3'), (e: Error) => {
        message = e.message;
        return /^pushImage: 403 /.test(e.message);
      });
      const body = JSON.parse(message.replace(/^pushImage: 403 /, '')) as { errors: { code: string; message: string; detail: Record<string, string> }[] };
      assert.equal(body.errors[0]!.code, 'DENIED');
      assert.match(body.errors[0]!.message, /^tag v3 of team-a\/moving is immutable by berth\.immutabletags\[0\] \(repositories team-a\/\*\*; tags v\[0-9\]\+\(\\\.\[0-9\]\+\)\*\): it points at sha256:[0-9a-f]{64} and cannot be pushed again with sha256:[0-9a-f]{64}$/);
      assert.equal(body.errors[0]!.detail.current, first.digest);
      assert.equal(await digestOf(reg.url, 'team-a/moving', 'v3'), first.digest);
    });

    it('matches the whole tag, and leaves other tags and other repositories mutable', async () => {
      for (const [repo, tag] of [
        ['team-a/app', 'latest'],
        ['team-a/app', 'v1-rc'],
        ['team-a/app', 'xv1'],
        ['team-b/app', 'v1'],
        ['team-ab', 'v1'],
      ] as const) {
        await pushImage(reg.url, repo, tag);
        const moved = await pushImage(reg.url, repo, tag);
        assert.equal(await digestOf(reg.url, repo, tag), moved.digest, `${repo}:${tag} should move`);
      }
    });

    it('applies to the namespace itself and any depth below it (team-a/**)', async () => {
      for (const repo of ['team-a', 'team-a/x/y/z']) {
        await pushImage(reg.url, repo, 'v9');
        await assert.rejects(pushImage(reg.url, repo, 'v9'), /^Error: pushImage: 403 /);
      }
    });

    it('leaves pushes by digest alone', async () => {
      const img = await pushImage(reg.url, 'team-a/bydigest', 'v1');
      const res = await putManifest(reg.url, 'team-a/bydigest', img.digest, img.bytes, OCI_MANIFEST);
      assert.equal(res.status, 201);
    });
  });

  describe('manifest DELETE', () => {
    it('refuses deleting an immutable tag', async () => {
      const img = await pushImage(reg.url, 'team-a/del', 'v1');
      const res = await fetch(`${reg.url}/v2/team-a/del/manifests/v1`, { method: 'DELETE' });
      assert.equal(await denial(res), 'tag v1 of team-a/del is immutable by berth.immutabletags[0] (repositories team-a/**; tags v[0-9]+(\\.[0-9]+)*): it cannot be deleted');
      assert.equal(await digestOf(reg.url, 'team-a/del', 'v1'), img.digest);
    });

    it('refuses deleting, by digest, a manifest that carries an immutable tag', async () => {
      const img = await pushImage(reg.url, 'team-a/del2', 'v1');
      assert.equal((await putManifest(reg.url, 'team-a/del2', 'latest', img.bytes, OCI_MANIFEST)).status, 201);
      const res = await fetch(`${reg.url}/v2/team-a/del2/manifests/${img.digest}`, { method: 'DELETE' });
      assert.match(await denial(res), new RegExp(`^manifest ${img.digest} of team-a/del2 carries the immutable tag v1 \\(berth\\.immutabletags\\[0\\]`));
      assert.equal(await digestOf(reg.url, 'team-a/del2', 'v1'), img.digest);
      assert.equal(await digestOf(reg.url, 'team-a/del2', 'latest'), img.digest);
    });

    it('deletes mutable tags and manifests without immutable tags as before', async () => {
      const img = await pushImage(reg.url, 'team-a/del3', 'latest');
      assert.equal((await fetch(`${reg.url}/v2/team-a/del3/manifests/latest`, { method: 'DELETE' })).status, 202);
      assert.equal((await fetch(`${reg.url}/v2/team-a/del3/manifests/${img.digest}`, { method: 'DELETE' })).status, 202);
      const gone = await fetch(`${reg.url}/v2/team-a/del3/manifests/${img.digest}`);
      assert.deepEqual(await errorCodes(gone), ['MANIFEST_UNKNOWN']);
    });
  });

  describe('namespace rules through the admin API', () => {
    it('PUT makes matching tags of the namespace immutable, GET shows config and API rules, DELETE lifts it', async () => {
      const put = await api(reg.url, 'PUT', '/immutabletags/team-b', { tags: ['release-.*'] });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.deepEqual([put.body.source, put.body.namespace, put.body.repositories, put.body.tags], ['api', 'team-b', ['team-b/**'], ['release-.*']]);

      await pushImage(reg.url, 'team-b/svc', 'release-1');
      const refused = await pushImage(reg.url, 'team-b/svc', 'release-1').then(
        () => '',
        (e: Error) => e.message,
      );
      assert.match(refused, /tag release-1 of team-b\/svc is immutable by namespace rule team-b \(tags release-\.\*\)/);

      const list = await api(reg.url, 'GET', '/immutabletags');
      assert.deepEqual(
        list.body.rules.map((r: { source: string; repositories: string[] }) => [r.source, r.repositories]),
        [
          ['config', ['team-a/**']],
          ['api', ['team-b/**']],
        ],
      );
      assert.equal((await api(reg.url, 'GET', '/immutabletags/team-b')).body.tags[0], 'release-.*');

      assert.equal((await api(reg.url, 'DELETE', '/immutabletags/team-b')).status, 204);
      assert.equal((await api(reg.url, 'GET', '/immutabletags/team-b')).status, 404);
      await pushImage(reg.url, 'team-b/svc', 'release-1');
    });

    it('rejects invalid patterns and names', async () => {
      assert.equal((await api(reg.url, 'PUT', '/immutabletags/team-b', { tags: ['('] })).status, 400);
      assert.equal((await api(reg.url, 'PUT', '/immutabletags/team-b', { tags: [] })).status, 400);
      assert.equal((await api(reg.url, 'PUT', '/immutabletags/Team_B', { tags: ['x'] })).status, 400);
      assert.equal((await api(reg.url, 'DELETE', '/immutabletags/nobody')).status, 404);
    });

    it('sees a rule written by another replica within the cache time', async () => {
      const lifecycle = reg.services.metadata.lifecycle;
      const rules = new ImmutableTags([], lifecycle, 50);
      assert.equal(await rules.isImmutable('team-c/app', 'stable'), false);
      await lifecycle.putRule('immutable', 'team-c', { tags: ['stable'] }, 'someone');
      assert.equal(await rules.isImmutable('team-c/app', 'stable'), false, 'cached');
      await new Promise((r) => setTimeout(r, 60));
      assert.equal(await rules.isImmutable('team-c/app', 'stable'), true);
      await lifecycle.deleteRule('immutable', 'team-c');
    });
  });

  describe('what retention asks', () => {
    it('ImmutableTags.isImmutable answers for config and namespace rules; isImmutableTag for config rules alone', async () => {
      const rules = reg.services.immutableTags!;
      assert.equal(await rules.isImmutable('team-a/app', 'v1.0'), true);
      assert.equal(await rules.isImmutable('team-a/app', 'latest'), false);
      assert.equal(await rules.isImmutable('team-b/app', 'v1.0'), false);
      assert.equal(isImmutableTag([RULE], 'team-a/x/y', 'v2.1'), true);
      assert.equal(isImmutableTag([RULE], 'team-a/x/y', 'v2.1-beta'), false);
    });
  });
});

describe('immutable tag rules with access control', () => {
  const USERS = { admin: 'admin-password-1', alice: 'alice-password-1', bob: 'bob-password-1' };
  let r: AuthRegistry;
  const call = (user: keyof typeof USERS | null, method: string, path: string, json?: unknown) =>
    fetch(`${r.url}/api/v1${path}`, {
      method,
      headers: { ...(user && { Authorization: basic(user, USERS[user]) }), ...(json !== undefined && { 'Content-Type': 'application/json' }) },
      ...(json !== undefined && { body: JSON.stringify(json) }),
    });

  before(async () => {
    r = await startHtpasswdRegistry(USERS, (c) => {
      c.berth.auth.accessControl = { enabled: true, admins: ['admin'] };
      c.berth.lifecycle.gc.enabled = false;
    });
    assert.equal((await call('admin', 'POST', '/users', { name: 'alice' })).status, 201);
    const grant = await call('admin', 'POST', '/permissions', { subject: { kind: 'user', name: 'alice' }, scope: { kind: 'namespace', name: 'team-a' }, role: 'admin' });
    assert.equal(grant.status, 201, await grant.text());
  });
  after(() => r.stop());

  it('lets a namespace admin manage its own rules and quota, nobody else', async () => {
    assert.equal((await call('alice', 'PUT', '/immutabletags/team-a', { tags: ['v.*'] })).status, 200);
    assert.equal((await call('alice', 'PUT', '/quotas/team-a', { limit: '1GiB' })).status, 200);
    assert.equal((await call('alice', 'GET', '/usage?namespace=team-a')).status, 200);
    assert.equal((await call('alice', 'PUT', '/immutabletags/team-b', { tags: ['v.*'] })).status, 403);
    assert.equal((await call('alice', 'GET', '/immutabletags')).status, 403, 'the full list is for site administrators');
    assert.equal((await call('alice', 'GET', '/usage')).status, 403);
    assert.equal((await call('bob', 'DELETE', '/immutabletags/team-a')).status, 403);
    assert.equal((await call('bob', 'DELETE', '/quotas/team-a')).status, 403);
    assert.equal((await call(null, 'GET', '/immutabletags/team-a')).status, 401);
    const list = await call('admin', 'GET', '/immutabletags');
    assert.equal(list.status, 200);
    const rule = ((await list.json()) as { rules: { namespace?: string; updatedBy?: string }[] }).rules.find((x) => x.namespace === 'team-a');
    assert.equal(rule?.updatedBy, 'alice');
  });
});
