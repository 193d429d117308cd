// Retention against a real registry: pull times recorded in batches, preview listing exactly what
// a run then deletes through the registry's own delete path, the admin API, the background runner,
// immutable tags spared, and audit entries by actor 'retention' when access control is on.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { body, OCI_INDEX, OCI_MANIFEST, pushImage, putManifest, sha256, startTestRegistry, type TestRegistry } from '../http/harness.ts';
import { basic, startHtpasswdRegistry, type AuthRegistry } from '../auth/harness.ts';
import { pushIndex } from './gc-helpers.ts';
import type { BerthConfig } from '../../src/config/index.ts';
import type { RetentionPolicy } from '../../src/lifecycle/config-types.ts';
import type { RetentionReport } from '../../src/lifecycle/retention.ts';
import type { RetentionRunner } from '../../src/lifecycle/retention-runner.ts';
import { loadConfig } from '../../src/config/index.ts';
import { repoRoot, run as runProcess, tempDir } from '../helpers/processes.ts';
import { cosignKeyPair, cosignSign } from '../trust/policy-fixtures.ts';
import { signatureTag } from '../../src/trust/cosign/layout.ts';

const D = 24 * 3_600_000;

function policies(c: BerthConfig, list: RetentionPolicy[]): void {
  c.berth.lifecycle.gc.enabled = false;
  c.berth.lifecycle.gc.delayMs = 0; // no grace for untagged manifests: the tests push, then run
  c.berth.lifecycle.retention.policies = list;
}

async function status(url: string, init: RequestInit = {}): Promise<number> {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return res.status;
}

async function api(r: { url: string }, path: string, method = 'GET', json?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${r.url}/api/v1${path}`, {
    method,
    headers: { ...headers, ...(json !== undefined && { 'Content-Type': 'application/json' }) },
    ...(json !== undefined && { body: JSON.stringify(json) }),
  });
}

async function report(res: Response): Promise<RetentionReport> {
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as RetentionReport;
}

/** "repo:tag" and "repo@digest" for everything a report lists. */
function listed(r: RetentionReport): { tags: string[]; manifests: string[] } {
  return {
    tags: r.repositories.flatMap((p) => p.tags.map((t) => `${p.repository}:${t.tag}`)).sort(),
    manifests: r.repositories.flatMap((p) => p.manifests.map((m) => `${p.repository}@${m.digest}`)).sort(),
  };
}

/** Pushes an image and deletes its tag: an untagged manifest. */
async function pushUntagged(base: string, repo: string, opts: Parameters<typeof pushImage>[3] = {}): Promise<Awaited<ReturnType<typeof pushImage>>> {
  const tag = `tmp-${randomBytes(4).toString('hex')}`;
  const img = await pushImage(base, repo, tag, opts);
  assert.equal(await status(`${base}/v2/${repo}/manifests/${tag}`, { method: 'DELETE' }), 202);
  return img;
}

/** Sets push (and pull) times of tags directly, as if they had happened days ago. */
function setTagTimes(root: string, repository: string, times: Record<string, { pushedDaysAgo: number; pulledDaysAgo?: number }>): void {
  const db = new BetterSqlite3(join(root, 'berth.sqlite'));
  try {
    db.pragma('busy_timeout = 5000');
    const now = Date.now();
    const stmt = db.prepare('update tags set updated_at = ?, pulled_at = ? where name = ? and repository_id = (select id from repositories where name = ?)');
    for (const [tag, t] of Object.entries(times)) stmt.run(now - t.pushedDaysAgo * D, t.pulledDaysAgo === undefined ? null : now - t.pulledDaysAgo * D, tag, repository);
    db.prepare('update manifests set pushed_at = pushed_at - ?').run(D);
  } finally {
    db.close();
  }
}

describe('pull recording', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry((c) => policies(c, []));
  });
  after(() => r.stop());

  it('a manifest GET by tag or digest reaches the database after a flush; HEAD is not a pull', async () => {
    const a = await pushImage(r.url, 'pulls/app', 'a');
    const b = await pushImage(r.url, 'pulls/app', 'b');
    const before = Date.now();
    assert.equal(await status(`${r.url}/v2/pulls/app/manifests/a`, { headers: { Accept: OCI_MANIFEST } }), 200);
    assert.equal(await status(`${r.url}/v2/pulls/app/manifests/${b.digest}`, { headers: { Accept: OCI_MANIFEST } }), 200);
    assert.equal(await status(`${r.url}/v2/pulls/app/manifests/b`, { method: 'HEAD' }), 200);
    const graph = () => r.services.metadata.lifecycle.retention.graph('pulls/app');
    // Batched: nothing is written by the GET itself...
    assert.equal((await graph()).tags.find((t) => t.name === 'a')?.pulledAt, null);
    await r.services.pulls!.flush();
    const g = await graph();
    const tagA = g.tags.find((t) => t.name === 'a')!;
    assert.ok(tagA.pulledAt !== null && tagA.pulledAt >= before, 'tag a pulled');
    assert.ok(g.manifests.find((m) => m.digest === a.digest)!.pulledAt! >= before, 'manifest of a pulled');
    assert.ok(g.manifests.find((m) => m.digest === b.digest)!.pulledAt! >= before, 'manifest b pulled by digest');
    assert.equal(g.tags.find((t) => t.name === 'b')!.pulledAt, null, 'a pull by digest or a HEAD is no pull of the tag b');
  });

  it('many pulls between two flushes are one write with the latest time', async () => {
    await pushImage(r.url, 'pulls/many', 'x');
    for (let i = 0; i < 20; i++) assert.equal(await status(`${r.url}/v2/pulls/many/manifests/x`), 200);
    const last = Date.now();
    let batches = 0;
    const sink = r.services.metadata.lifecycle.retention;
    const original = sink.recordPulls.bind(sink);
    sink.recordPulls = async (records) => {
      batches++;
      assert.equal(records.filter((x) => x.repository === 'pulls/many').length, 1);
      return original(records);
    };
    try {
      await r.services.pulls!.flush();
    } finally {
      sink.recordPulls = original;
    }
    assert.equal(batches, 1);
    const tag = (await sink.graph('pulls/many')).tags[0]!;
    assert.ok(tag.pulledAt! <= last && tag.pulledAt! >= last - 5000);
  });
});

describe('retention runs', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry((c) => {
      policies(c, [
        {
          repositories: ['ci/**'],
          deleteUntagged: true,
          deleteReferrers: true,
          keepTags: [{ patterns: ['^v[0-9]'] }, { patterns: ['.*'], mostRecentlyPushedCount: 1, pulledWithinMs: 7 * D }],
        },
        { repositories: ['keep/**'], deleteUntagged: false, deleteReferrers: false },
      ]);
      c.berth.lifecycle.immutableTags = [{ repositories: ['ci/**'], tags: ['frozen-.*'] }];
    });
  });
  after(() => r.stop());

  it('preview lists exactly what a run then deletes, and the run deletes it through the registry (GET answers 404)', async () => {
    const v1 = await pushImage(r.url, 'ci/app', 'v1.0');
    const old = await pushImage(r.url, 'ci/app', 'old');
    const pulled = await pushImage(r.url, 'ci/app', 'pulled');
    const newest = await pushImage(r.url, 'ci/app', 'newest');
    const frozen = await pushImage(r.url, 'ci/app', 'frozen-1');
    const untagged = await pushUntagged(r.url, 'ci/app');
    // Something outside every policy, and something under a policy that keeps all tags.
    const other = await pushImage(r.url, 'prod/app', 'old');
    const kept = await pushImage(r.url, 'keep/app', 'old');
    await pushUntagged(r.url, 'keep/app');
    setTagTimes(r.root, 'ci/app', {
      'v1.0': { pushedDaysAgo: 400 },
      old: { pushedDaysAgo: 30 },
      pulled: { pushedDaysAgo: 30, pulledDaysAgo: 1 },
      newest: { pushedDaysAgo: 2 },
      'frozen-1': { pushedDaysAgo: 90 },
    });

    const preview = await report(await api(r, '/retention/preview', 'POST', {}));
    assert.equal(preview.dryRun, true);
    assert.deepEqual(listed(preview), {
      tags: ['ci/app:old'],
      manifests: [`ci/app@${old.digest}`, `ci/app@${untagged.digest}`].sort(),
    });
    const app = preview.repositories.find((p) => p.repository === 'ci/app')!;
    assert.equal(app.policy, 'berth.retention.policies[0]');
    assert.match(app.tags[0]!.reason, /not among the 1 most recently pushed/);
    assert.deepEqual(
      app.protectedTags.map((p) => p.tag),
      ['frozen-1'],
      'an immutable tag the policy would delete is listed as spared',
    );
    // A preview deletes nothing (HEAD: a GET would be a pull, and pulled within 7 days keeps `old`).
    assert.equal(await status(`${r.url}/v2/ci/app/manifests/old`, { method: 'HEAD' }), 200);

    const run = await report(await api(r, '/retention/run', 'POST', {}));
    assert.equal(run.status, 'succeeded', run.errors.join('; '));
    assert.equal(run.dryRun, false);
    assert.deepEqual(listed(run), listed(preview));
    assert.deepEqual(run.skipped, []);

    assert.equal(await status(`${r.url}/v2/ci/app/manifests/old`), 404);
    assert.equal(await status(`${r.url}/v2/ci/app/manifests/${old.digest}`), 404);
    assert.equal(await status(`${r.url}/v2/ci/app/manifests/${untagged.digest}`), 404);
    for (const [tag, img] of [
      ['v1.0', v1],
      ['pulled', pulled],
      ['newest', newest],
      ['frozen-1', frozen],
    ] as const) {
      assert.equal(await status(`${r.url}/v2/ci/app/manifests/${tag}`), 200, tag);
      assert.equal(await status(`${r.url}/v2/ci/app/manifests/${img.digest}`), 200, tag);
    }
    assert.equal(await status(`${r.url}/v2/prod/app/manifests/${other.digest}`), 200);
    assert.equal(await status(`${r.url}/v2/keep/app/manifests/${kept.digest}`), 200);
    const tags = (await (await fetch(`${r.url}/v2/ci/app/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(tags.tags.sort(), ['frozen-1', 'newest', 'pulled', 'v1.0']);

    // A second run finds nothing more.
    assert.deepEqual(listed(await report(await api(r, '/retention/run', 'POST', {}))), { tags: [], manifests: [] });
  });

  it('never deletes an immutable tag, even when the policy matches no pattern for it', async () => {
    const frozen = await pushImage(r.url, 'ci/frozen', 'frozen-2');
    const loose = await pushImage(r.url, 'ci/frozen', 'loose');
    setTagTimes(r.root, 'ci/frozen', { 'frozen-2': { pushedDaysAgo: 500 }, loose: { pushedDaysAgo: 500 } });
    await pushImage(r.url, 'ci/frozen', 'newer');
    const run = await report(await api(r, '/retention/run', 'POST', { namespace: 'ci/frozen' }));
    assert.deepEqual(listed(run).tags, ['ci/frozen:loose']);
    assert.equal(await status(`${r.url}/v2/ci/frozen/manifests/frozen-2`), 200);
    assert.equal(await status(`${r.url}/v2/ci/frozen/manifests/${frozen.digest}`), 200);
    assert.equal(await status(`${r.url}/v2/ci/frozen/manifests/${loose.digest}`), 404);
  });

  it('a deleted index takes its children and (deletereferrers) its referrers; a kept index keeps them', async () => {
    // Platform manifests are untagged: they live through the index that lists them.
    const amd = await pushUntagged(r.url, 'ci/multi');
    const arm = await pushUntagged(r.url, 'ci/multi');
    const oldIndex = await pushIndex(r.url, 'ci/multi', 'old-index', [amd, arm]);
    const sig = await pushUntagged(r.url, 'ci/multi', { subject: { mediaType: OCI_INDEX, digest: oldIndex.digest, size: oldIndex.bytes.length }, artifactType: 'application/vnd.example.sig' });
    const amd2 = await pushUntagged(r.url, 'ci/multi');
    await pushIndex(r.url, 'ci/multi', 'v2', [amd2]);
    setTagTimes(r.root, 'ci/multi', { 'old-index': { pushedDaysAgo: 60 } });
    await pushImage(r.url, 'ci/multi', 'latest'); // the most recently pushed non-v tag

    const preview = await report(await api(r, '/retention/preview', 'POST', { namespace: 'ci/multi' }));
    const run = await report(await api(r, '/retention/run', 'POST', { namespace: 'ci/multi' }));
    assert.deepEqual(listed(run), listed(preview));
    assert.deepEqual(listed(run), {
      tags: ['ci/multi:old-index'],
      manifests: [oldIndex.digest, amd.digest, arm.digest, sig.digest].map((d) => `ci/multi@${d}`).sort(),
    });
    const order = run.repositories[0]!.manifests.map((m) => m.digest);
    assert.ok(order.indexOf(oldIndex.digest) < order.indexOf(amd.digest), 'index before its children');
    assert.ok(order.indexOf(oldIndex.digest) < order.indexOf(sig.digest), 'subject before its referrer');
    for (const d of [oldIndex.digest, amd.digest, arm.digest, sig.digest]) assert.equal(await status(`${r.url}/v2/ci/multi/manifests/${d}`), 404, d);
    assert.equal(await status(`${r.url}/v2/ci/multi/manifests/v2`), 200);
    assert.equal(await status(`${r.url}/v2/ci/multi/manifests/${amd2.digest}`), 200, "a kept index's untagged child stays");
  });

  it('a run re-checks each tag: one pushed again after the plan is kept, and so is its manifest', async () => {
    const a = await pushImage(r.url, 'ci/race', 'a');
    setTagTimes(r.root, 'ci/race', { a: { pushedDaysAgo: 100 } });
    await pushImage(r.url, 'ci/race', 'b');
    const runner = r.lifecycleApi.jobs.retention as RetentionRunner;
    // Re-push `a` between the plan and the deletion: the tag lookup sees it pushed again.
    const queries = r.services.metadata.lifecycle.retention;
    const original = queries.tag.bind(queries);
    let repushed = false;
    queries.tag = async (repository, tag) => {
      if (repository === 'ci/race' && tag === 'a' && !repushed) {
        repushed = true; // a CI job pushes `a` again, same manifest
        assert.equal((await putManifest(r.url, 'ci/race', 'a', a.bytes, OCI_MANIFEST)).status, 201);
      }
      return original(repository, tag);
    };
    try {
      const run = await runner.run({ trigger: 'api', namespace: 'ci/race' });
      assert.deepEqual(listed(run), { tags: [], manifests: [] });
      assert.deepEqual(
        run.skipped.map((s) => s.tag ?? s.digest),
        ['a', a.digest],
      );
    } finally {
      queries.tag = original;
    }
    const head = await fetch(`${r.url}/v2/ci/race/manifests/a`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('docker-content-digest'), a.digest);
  });
});

describe('retention and cosign signatures', () => {
  // A "keep the releases" policy under a pull policy: the signature tags (sha256-<hex>.sig) match no
  // keeptags pattern, yet deleting them would make every release unpullable.
  let r: TestRegistry;
  let work: { path: string; cleanup(): Promise<void> };
  const key = cosignKeyPair();
  before(async () => {
    work = await tempDir('retention-signatures');
    const pub = join(work.path, 'cosign.pub');
    await writeFile(pub, key.pem);
    r = await startTestRegistry((c) => {
      policies(c, [{ repositories: ['signed/**'], deleteUntagged: false, deleteReferrers: true, keepTags: [{ patterns: ['^v[0-9]'] }] }]);
      c.berth.trust.policies = [{ repositories: ['signed/**'], require: 'cosign', keys: [pub], notaryRoles: ['targets'] }];
    });
  });
  after(async () => {
    await r?.stop();
    await work?.cleanup();
  });

  it('keeps the signatures of kept images, so they stay pullable; deletereferrers takes those of deleted ones', async () => {
    const release = await pushImage(r.url, 'signed/app', 'v1.0');
    const build = await pushImage(r.url, 'signed/app', 'build-7');
    const releaseSig = await cosignSign(r.url, 'signed/app', release.digest, key.privateKey);
    const buildSig = await cosignSign(r.url, 'signed/app', build.digest, key.privateKey);
    assert.equal(await status(`${r.url}/v2/signed/app/manifests/v1.0`), 200, 'signed: served');

    const run = await report(await api(r, '/retention/run', 'POST', {}));
    assert.equal(run.status, 'succeeded', run.errors.join('; '));
    assert.deepEqual(listed(run), {
      tags: ['signed/app:build-7', `signed/app:${signatureTag(build.digest)}`].sort(),
      manifests: [`signed/app@${build.digest}`, `signed/app@${buildSig}`].sort(),
    });
    assert.equal(await status(`${r.url}/v2/signed/app/manifests/${signatureTag(release.digest)}`), 200);
    assert.equal(await status(`${r.url}/v2/signed/app/manifests/${releaseSig}`), 200);
    assert.equal(await status(`${r.url}/v2/signed/app/manifests/v1.0`), 200, 'still signed: still served');
    assert.equal(await status(`${r.url}/v2/signed/app/manifests/${signatureTag(build.digest)}`), 404);
  });

  /**
   * A platform manifest listed by two indexes in `repo`: one signed (tagged `signedTag`) and one
   * not (tagged `plainTag`, listing another child too, so the two differ). It is served, through
   * the signed one, and that verdict is now cached.
   */
  async function childOfSignedIndex(repo: string, signedTag: string, plainTag: string) {
    const child = await pushUntagged(r.url, repo);
    const other = await pushUntagged(r.url, repo);
    const signedIndex = await pushIndex(r.url, repo, signedTag, [child]);
    await pushIndex(r.url, repo, plainTag, [child, other]);
    await cosignSign(r.url, repo, signedIndex.digest, key.privateKey);
    assert.equal(await status(`${r.url}/v2/${repo}/manifests/${child.digest}`), 200, 'a child of a signed index');
    return { child, signedIndex };
  }

  it('a deleted signed index no longer vouches for its children: the cached verdict goes with it', async () => {
    const { child, signedIndex } = await childOfSignedIndex('signed/multi', 'build-1', 'v2');
    const run = await report(await api(r, '/retention/run', 'POST', { namespace: 'signed/multi' }));
    assert.ok(listed(run).manifests.includes(`signed/multi@${signedIndex.digest}`));
    assert.equal(await status(`${r.url}/v2/signed/multi/manifests/${child.digest}`), 403, 'only an unsigned index lists it now');
  });

  it('so does a signed index the collector removes (deleteUntagged)', async () => {
    const { child, signedIndex } = await childOfSignedIndex('signed/gc', 'tmp', 'v1');
    assert.equal(await status(`${r.url}/v2/signed/gc/manifests/tmp`, { method: 'DELETE' }), 202);
    assert.equal(await status(`${r.url}/v2/signed/gc/manifests/${child.digest}`), 200, 'the signed index, untagged, still lists it');
    const gc = await fetch(`${r.url}/api/v1/gc`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ deleteUntagged: true, delay: '0s' }) });
    const removed = ((await gc.json()) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest);
    assert.ok(removed.includes(signedIndex.digest), JSON.stringify(removed));
    assert.equal(await status(`${r.url}/v2/signed/gc/manifests/${child.digest}`), 403, 'only an unsigned index lists it now');
  });
});

describe('retention admin API', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry((c) => policies(c, [{ repositories: ['**'], deleteUntagged: false, deleteReferrers: false, keepTags: [{ patterns: ['.*'], pushedWithinMs: 30 * D }] }]));
  });
  after(() => r.stop());

  it('sets, shows and removes a namespace policy, which takes precedence over config policies', async () => {
    const put = await api(r, '/retention/team-a', 'PUT', { deleteUntagged: true, keeptags: [{ patterns: ['^v'], mostRecentlyPushedCount: 2, pulledWithin: '168h' }] });
    assert.equal(put.status, 200, await put.clone().text());
    const expected = { deleteUntagged: true, deleteReferrers: false, keepTags: [{ patterns: ['^v'], mostRecentlyPushedCount: 2, pulledWithin: '168h' }] };
    assert.deepEqual(((await put.json()) as { policy: unknown }).policy, expected);

    const one = await api(r, '/retention/team-a');
    assert.equal(one.status, 200);
    assert.deepEqual(((await one.json()) as { policy: unknown }).policy, expected);

    const all = (await (await api(r, '/retention')).json()) as { dryrun: boolean; interval: string; policies: unknown[]; namespaces: { namespace: string; policy: unknown }[] };
    assert.equal(all.dryrun, false);
    assert.equal(all.interval, '24h');
    assert.deepEqual(all.policies, [{ repositories: ['**'], deleteUntagged: false, deleteReferrers: false, keepTags: [{ patterns: ['.*'], pushedWithin: '720h' }] }]);
    assert.deepEqual(all.namespaces.map((n) => [n.namespace, n.policy]), [['team-a', expected]]);

    // team-a/app follows the namespace policy (no v tag: `latest` goes); other/app the config one (pushed within 30 days: kept).
    await pushImage(r.url, 'team-a/app', 'latest');
    await pushImage(r.url, 'other/app', 'latest');
    const preview = await report(await api(r, '/retention/preview', 'POST', {}));
    assert.deepEqual(listed(preview).tags, ['team-a/app:latest']);
    assert.equal(preview.repositories[0]!.policy, 'namespace team-a');
    const scoped = await report(await api(r, '/retention/preview', 'POST', { namespace: 'other' }));
    assert.deepEqual(listed(scoped).tags, []);
    assert.equal(scoped.repositoriesEvaluated, 1);

    assert.equal((await api(r, '/retention/team-a', 'DELETE')).status, 204);
    assert.equal((await api(r, '/retention/team-a')).status, 404);
    assert.equal((await api(r, '/retention/team-a', 'DELETE')).status, 404);
    assert.deepEqual(listed(await report(await api(r, '/retention/preview', 'POST', {}))).tags, []);
  });

  it('refuses invalid policies with 400 naming the field', async () => {
    for (const [bad, field] of [
      [{ keepTags: [{ patterns: ['('] }] }, /patterns/],
      [{ keepTags: [{ pushedWithin: 'soon' }] }, /pushedwithin/],
      [{ keepTags: [{ mostRecentlyPushedCount: -1 }] }, /mostrecentlypushedcount/],
      [{ deleteUntagged: 'yes' }, /deleteuntagged/],
      [{ repositories: ['x/**'] }, /repositories/],
    ] as const) {
      const res = await api(r, '/retention/team-b', 'PUT', bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.match(await res.text(), field);
    }
    assert.equal((await api(r, '/retention/Not_Valid', 'PUT', {})).status, 400);
    assert.equal((await api(r, '/retention/preview', 'POST', { namespace: 'x', extra: 1 })).status, 400);
  });

  it('a config dryrun makes runs report without deleting; the body can override it', async () => {
    const dry = await startTestRegistry((c) => {
      policies(c, [{ repositories: ['**'], deleteUntagged: true, deleteReferrers: false, keepTags: [{ patterns: ['^v'] }] }]);
      c.berth.lifecycle.retention.dryrun = true;
    });
    try {
      await pushImage(dry.url, 'a/b', 'dev');
      const run = await report(await api(dry, '/retention/run', 'POST', {}));
      assert.equal(run.dryRun, true);
      assert.deepEqual(listed(run).tags, ['a/b:dev']);
      assert.equal(await status(`${dry.url}/v2/a/b/manifests/dev`), 200);
      const real = await report(await api(dry, '/retention/run', 'POST', { dryRun: false }));
      assert.deepEqual(listed(real).tags, ['a/b:dev']);
      assert.equal(await status(`${dry.url}/v2/a/b/manifests/dev`), 404);
    } finally {
      await dry.stop();
    }
  });

  it('the background runner runs on its interval when policies exist', async () => {
    const bg = await startTestRegistry((c) => {
      policies(c, [{ repositories: ['**'], deleteUntagged: false, deleteReferrers: false, keepTags: [{ patterns: ['^v'] }] }]);
      c.berth.lifecycle.retention.intervalMs = 1000;
    });
    try {
      await pushImage(bg.url, 'a/b', 'dev');
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && (await status(`${bg.url}/v2/a/b/manifests/dev`)) === 200) await new Promise((d) => setTimeout(d, 200));
      assert.equal(await status(`${bg.url}/v2/a/b/manifests/dev`), 404);
      const runner = bg.lifecycleApi.jobs.retention as RetentionRunner;
      assert.equal(runner.lastRun?.trigger, 'schedule');
    } finally {
      await bg.stop();
    }
  });
});

describe('retention with access control', () => {
  const USERS = { admin: 'admin-password-1', alice: 'alice-password-1' };
  let r: AuthRegistry;
  const as = (user: keyof typeof USERS) => ({ Authorization: basic(user, USERS[user]) });

  async function pushAs(user: keyof typeof USERS, repo: string, tag: string): Promise<string> {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', nonce: randomBytes(8).toString('hex') }));
    const layer = randomBytes(64);
    for (const b of [config, layer]) {
      const res = await fetch(`${r.url}/v2/${repo}/blobs/uploads/?digest=${sha256(b)}`, { method: 'POST', headers: as(user), body: body(b) });
      assert.equal(res.status, 201);
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
      }),
    );
    const res = await fetch(`${r.url}/v2/${repo}/manifests/${tag}`, { method: 'PUT', headers: { ...as(user), 'Content-Type': OCI_MANIFEST }, body: body(manifest) });
    assert.equal(res.status, 201);
    return sha256(manifest);
  }

  before(async () => {
    r = await startHtpasswdRegistry(USERS, (c) => {
      c.berth.auth.accessControl = { enabled: true, admins: ['admin'] };
      policies(c, [{ repositories: ['**'], deleteUntagged: false, deleteReferrers: false, keepTags: [{ patterns: ['^v'] }] }]);
    });
  });
  after(() => r.stop());

  it('only administrators may see, change, preview or run retention', async () => {
    assert.equal((await api(r, '/retention')).status, 401);
    assert.equal((await api(r, '/retention', 'GET', undefined, as('alice'))).status, 403);
    assert.equal((await api(r, '/retention/team-a', 'PUT', {}, as('alice'))).status, 403);
    assert.equal((await api(r, '/retention/preview', 'POST', {}, as('alice'))).status, 403);
    assert.equal((await api(r, '/retention/run', 'POST', { namespace: 'team-a' }, as('alice'))).status, 403);
    assert.equal((await api(r, '/retention', 'GET', undefined, as('admin'))).status, 200);
  });

  it("a namespace's admins manage, preview and run their namespace's policy, and only theirs", async () => {
    // alice has a row already if her logins above were recorded (htpasswd users are, at login).
    assert.ok([201, 409].includes((await api(r, '/users', 'POST', { name: 'alice' }, as('admin'))).status));
    const grant = await api(r, '/permissions', 'POST', { subject: { kind: 'user', name: 'alice' }, scope: { kind: 'namespace', name: 'team-a' }, role: 'admin' }, as('admin'));
    assert.equal(grant.status, 201, await grant.text());
    const put = await api(r, '/retention/team-a', 'PUT', { keepTags: [{ patterns: ['^v'] }] }, as('alice'));
    assert.equal(put.status, 200, await put.clone().text());
    assert.equal((await api(r, '/retention/team-a', 'GET', undefined, as('alice'))).status, 200);
    assert.equal((await api(r, '/retention/preview', 'POST', { namespace: 'team-a' }, as('alice'))).status, 200);
    assert.equal((await api(r, '/retention/run', 'POST', { namespace: 'team-a', dryRun: true }, as('alice'))).status, 200);
    assert.equal((await api(r, '/retention/team-b', 'PUT', {}, as('alice'))).status, 403);
    assert.equal((await api(r, '/retention/preview', 'POST', { namespace: 'team-b' }, as('alice'))).status, 403);
    assert.equal((await api(r, '/retention/team-a', 'DELETE', undefined, as('alice'))).status, 204);
  });

  it("records each deletion in the audit log under actor 'retention'", async () => {
    const digest = await pushAs('admin', 'audited/app', 'dev');
    const run = await report(await api(r, '/retention/run', 'POST', { namespace: 'audited' }, as('admin')));
    assert.deepEqual(listed(run), { tags: ['audited/app:dev'], manifests: [`audited/app@${digest}`] });
    const res = await api(r, '/audit?actor=retention', 'GET', undefined, as('admin'));
    assert.equal(res.status, 200);
    const events = ((await res.json()) as { events: { actor: string; action: string; repository: string; reference: string; details: { reason: string } }[] }).events;
    assert.deepEqual(events.map((e) => [e.actor, e.action, e.repository, e.reference]).sort(), [
      ['retention', 'delete', 'audited/app', 'dev'],
      ['retention', 'delete', 'audited/app', digest],
    ].sort());
    assert.ok(events.every((e) => e.details.reason));
  });
});

describe('berth retention preview|run', () => {
  let r: TestRegistry;
  let configPath: string;
  const berth = (args: string[]) => runProcess(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'retention', ...args], { allowFail: true, timeoutMs: 60_000 });

  before(async () => {
    r = await startTestRegistry((c) => policies(c, []));
    configPath = join(r.root, 'config.yml');
    // The CLI reads its own config.yml naming the same storage, as `berth serve` would.
    await writeFile(
      configPath,
      `version: 0.1
storage:
  filesystem:
    rootdirectory: ${r.root}
log:
  level: warn
berth:
  gc:
    delay: 0s
  retention:
    policies:
      - repositories: ["cli/**"]
        deleteuntagged: true
        keeptags:
          - patterns: ["^v"]
`,
    );
  });
  after(() => r.stop());

  it('preview prints what run then deletes; the server answers 404 afterwards', async () => {
    const v1 = await pushImage(r.url, 'cli/app', 'v1');
    const dev = await pushImage(r.url, 'cli/app', 'dev');
    const text = await berth(['preview', configPath]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^cli\/app \(berth\.retention\.policies\[0\]\)$/m);
    assert.match(text.stdout, /would delete tag dev -> sha256:.*matches no keeptags pattern/);
    assert.match(text.stdout, /would delete 1 tag and 1 manifest/);
    const preview = await berth(['preview', configPath, '--json']);
    const run = await berth(['run', configPath, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const planned = JSON.parse(preview.stdout) as RetentionReport;
    const done = JSON.parse(run.stdout) as RetentionReport;
    assert.equal(done.trigger, 'cli');
    assert.deepEqual(listed(done), listed(planned));
    assert.deepEqual(listed(done), { tags: ['cli/app:dev'], manifests: [`cli/app@${dev.digest}`] });
    assert.equal(await status(`${r.url}/v2/cli/app/manifests/dev`), 404);
    assert.equal(await status(`${r.url}/v2/cli/app/manifests/${dev.digest}`), 404);
    assert.equal(await status(`${r.url}/v2/cli/app/manifests/v1`), 200);
    assert.equal(await status(`${r.url}/v2/cli/app/manifests/${v1.digest}`), 200);
  });

  it('examples/retention.yml loads with its policies', () => {
    const { config } = loadConfig({ path: join(repoRoot, 'examples', 'retention.yml'), env: {} });
    const { retention } = config.berth.lifecycle;
    assert.equal(retention.intervalMs, 24 * 3_600_000);
    assert.deepEqual(
      retention.policies.map((p) => p.repositories),
      [['ci/**', 'tmp/*'], ['**']],
    );
    assert.deepEqual(retention.policies[0]!.keepTags?.[1], { patterns: ['.*'], mostRecentlyPushedCount: 10, pushedWithinMs: 30 * D, mostRecentlyPulledCount: 5, pulledWithinMs: 7 * D });
  });
});
