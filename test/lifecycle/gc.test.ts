// Online garbage collection against a real registry (filesystem + SQLite): what goes, what stays,
// the grace period, rescues by HEAD and mount, untagged manifests, a run killed midway, orphaned
// files, abandoned uploads, the lease and the admin API.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OCI_MANIFEST, pushBlob, pushImage, sha256 } from '../http/harness.ts';
import { GcBusyError } from '../../src/lifecycle/gc.ts';
import { ageEverything, assertPullable, gcRegistry, pushIndex, status } from './gc-helpers.ts';

type Registry = Awaited<ReturnType<typeof gcRegistry>>;

function blobPath(root: string, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(root, 'blobs', 'sha256', hex.slice(0, 2), hex);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe('gc: what goes and what stays', () => {
  let r: Registry;
  before(async () => {
    r = await gcRegistry();
  });
  after(() => r.stop());

  it('removes blobs no manifest references, keeps shared ones; the dry run lists exactly what the run removes', async () => {
    const base = r.url;
    const a = await pushImage(base, 'keep/a', 'v1');
    const b = await pushImage(base, 'drop/b', 'v1');
    // b also holds a's layer (mounted), which must survive b's deletion.
    assert.equal((await fetch(`${base}/v2/drop/b/blobs/uploads/?mount=${a.layer}&from=keep/a`, { method: 'POST' })).status, 201);
    const stray = await pushBlob(base, 'drop/stray', randomBytes(2048));
    assert.equal(await status(`${base}/v2/drop/b/manifests/${b.digest}`, 'DELETE'), 202);

    const dry = await r.gc({ dryRun: true });
    assert.equal(dry.status, 'succeeded');
    for (const d of [b.config, b.layer, b.digest, stray]) assert.ok(await exists(blobPath(r.root, d)), 'a dry run deletes nothing');
    const real = await r.gc();
    assert.equal(real.status, 'succeeded');
    const removed = real.blobs.map((x) => x.digest).sort();
    assert.deepEqual(removed, [b.config, b.layer, b.digest, stray].sort());
    assert.deepEqual(dry.blobs.map((x) => x.digest).sort(), removed);
    assert.equal(dry.bytesRemoved, real.bytesRemoved);
    assert.equal(dry.linksRemoved, real.linksRemoved);
    for (const d of removed) assert.equal(await exists(blobPath(r.root, d)), false, `${d} is gone from storage`);
    assert.equal(await status(`${base}/v2/drop/b/blobs/${b.layer}`, 'HEAD'), 404);
    // a's layer lost its link in drop/b (nothing there refers to it) but stays stored and pullable from keep/a.
    assert.equal(await status(`${base}/v2/drop/b/blobs/${a.layer}`, 'HEAD'), 404);
    await assertPullable(base, 'keep/a', 'v1');
    const again = await r.gc();
    assert.equal(again.blobs.length, 0, 'a second run finds nothing');
    assert.equal(again.linksRemoved, 0);
  });

  it('keeps anything touched within the grace period', async () => {
    const stray = await pushBlob(r.url, 'grace/x', randomBytes(512));
    assert.equal((await r.gc({ delayMs: 3_600_000 })).blobs.length, 0);
    ageEverything(r.root);
    const report = await r.gc({ delayMs: 3_600_000 });
    assert.deepEqual(
      report.blobs.map((b) => b.digest),
      [stray],
    );
  });

  it('records each run (GET /api/v1/gc/runs) and runs through POST /api/v1/gc', async () => {
    const res = await fetch(`${r.url}/api/v1/gc`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ dryRun: true, delay: '0s' }) });
    assert.equal(res.status, 200);
    const report = (await res.json()) as { id: string; dryRun: boolean; status: string };
    assert.equal(report.dryRun, true);
    const runs = (await (await fetch(`${r.url}/api/v1/gc/runs`)).json()) as { runs: { id: string; status: string; finishedAt: number }[] };
    const mine = runs.runs.find((x) => x.id === report.id);
    assert.ok(mine, 'the run is listed');
    assert.equal(mine.status, 'succeeded');
    assert.ok(mine.finishedAt > 0);
    const one = await fetch(`${r.url}/api/v1/gc/runs/${report.id}`);
    assert.equal(one.status, 200);
    const bad = await fetch(`${r.url}/api/v1/gc`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ delay: 'soon' }) });
    assert.equal(bad.status, 400);
    const quick = await fetch(`${r.url}/api/v1/gc?wait=false`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(quick.status, 202);
    assert.ok(((await quick.json()) as { id: string }).id);
  });

  it('runs one collection at a time: a held lease makes the next one wait its turn (409 from the API)', async () => {
    const lifecycle = r.services.metadata.lifecycle;
    // The run started with ?wait=false above may still be going.
    for (let i = 0; i < 100 && (await lifecycle.leaseHeld('gc')); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await lifecycle.acquireLease('gc', 'another-replica', 60_000), true);
    try {
      await assert.rejects(r.gc(), GcBusyError);
      const res = await fetch(`${r.url}/api/v1/gc`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      assert.equal(res.status, 409);
    } finally {
      await lifecycle.releaseLease('gc', 'another-replica');
    }
    assert.equal((await r.gc()).status, 'succeeded');
    // An expired lease is free to take.
    assert.equal(await lifecycle.acquireLease('gc', 'stale', -1), true);
    assert.equal((await r.gc()).status, 'succeeded');
  });
});

describe('gc: rescues', () => {
  let r: Registry;
  before(async () => {
    // The server's grace period is 10 minutes, so a HEAD touches blobs untouched for 5.
    r = await gcRegistry((c) => {
      c.berth.lifecycle.gc.delayMs = 600_000;
    });
  });
  after(() => r.stop());

  it('a HEAD or a mount of a deletion candidate rescues it (clients skip the upload after a 200)', async () => {
    const base = r.url;
    const headed = await pushBlob(base, 'rescue/r', randomBytes(300));
    const mounted = await pushBlob(base, 'rescue/r', randomBytes(300));
    const untouched = await pushBlob(base, 'rescue/r', randomBytes(300));
    ageEverything(r.root);
    assert.equal(await status(`${base}/v2/rescue/r/blobs/${headed}`, 'HEAD'), 200);
    assert.equal((await fetch(`${base}/v2/rescue/other/blobs/uploads/?mount=${mounted}&from=rescue/r`, { method: 'POST' })).status, 201);
    const report = await r.gc({ delayMs: 600_000 });
    assert.deepEqual(
      report.blobs.map((b) => b.digest),
      [untouched],
    );
    assert.equal(await status(`${base}/v2/rescue/r/blobs/${headed}`), 200);
    assert.equal(await status(`${base}/v2/rescue/other/blobs/${mounted}`), 200);
  });
});

describe('gc: --delete-untagged', () => {
  let r: Registry;
  before(async () => {
    r = await gcRegistry();
  });
  after(() => r.stop());

  it('removes untagged manifests but keeps the children of a tagged index and the referrers of kept manifests', async () => {
    const base = r.url;
    const repo = 'multi/app';
    const untag = async (tag: string) => assert.equal(await status(`${base}/v2/${repo}/manifests/${tag}`, 'DELETE'), 202);
    // A tagged multi-arch index whose children are untagged (distribution 2.8 deletes them: #3178).
    const c1 = await pushImage(base, repo, 'c1');
    const c2 = await pushImage(base, repo, 'c2');
    await untag('c1');
    await untag('c2');
    const index = await pushIndex(base, repo, 'v1', [c1, c2]);
    // An untagged signature of the index (kept: its subject stays).
    const sig = await pushImage(base, repo, 'sig', { subject: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: index.digest, size: index.bytes.length }, artifactType: 'application/vnd.example.sig' });
    await untag('sig');
    // An untagged image and its untagged signature (both go).
    const u = await pushImage(base, repo, 'u');
    const usig = await pushImage(base, repo, 'usig', { subject: { mediaType: OCI_MANIFEST, digest: u.digest, size: u.size }, artifactType: 'application/vnd.example.sig' });
    await untag('u');
    await untag('usig');
    // An untagged index with an untagged child (both go, the index first).
    const uc = await pushImage(base, repo, 'uc');
    await untag('uc');
    const ui = await pushIndex(base, repo, 'ui', [uc]);
    await untag('ui');

    // Pushed just now: the grace period protects them all.
    assert.equal((await r.gc({ deleteUntagged: true, delayMs: 3_600_000 })).manifests.length, 0);
    ageEverything(r.root);
    const dry = await r.gc({ deleteUntagged: true, dryRun: true });
    const report = await r.gc({ deleteUntagged: true });
    const gone = report.manifests.map((m) => m.digest).sort();
    assert.deepEqual(gone, [u.digest, usig.digest, uc.digest, ui.digest].sort());
    assert.deepEqual(dry.manifests.map((m) => m.digest).sort(), gone);
    assert.deepEqual(dry.blobs.map((b) => b.digest).sort(), report.blobs.map((b) => b.digest).sort());
    assert.ok(report.manifests.findIndex((m) => m.digest === ui.digest) < report.manifests.findIndex((m) => m.digest === uc.digest), 'an index goes before its child');
    for (const d of [c1.digest, c2.digest, sig.digest]) assert.equal(await status(`${base}/v2/${repo}/manifests/${d}`), 200, `${d} stays`);
    for (const d of gone) assert.equal(await status(`${base}/v2/${repo}/manifests/${d}`), 404, `${d} is gone`);
    await assertPullable(base, repo, 'v1');
    await assertPullable(base, repo, sig.digest);
    const referrers = (await (await fetch(`${base}/v2/${repo}/referrers/${index.digest}`)).json()) as { manifests: { digest: string }[] };
    assert.deepEqual(
      referrers.manifests.map((m) => m.digest),
      [sig.digest],
    );
    // u's layer and config are gone with it.
    assert.ok(report.blobs.some((b) => b.digest === u.layer));
    assert.equal(await status(`${base}/v2/${repo}/blobs/${u.layer}`), 404);
  });
});

describe('gc: interrupted runs, orphans and uploads', () => {
  let r: Registry;
  before(async () => {
    r = await gcRegistry((c) => {
      c.storage.maintenance.uploadpurging.ageMs = 500;
    });
  });
  after(() => r.stop());

  it('finishes the deletions of a run killed after its claim; a push of a claimed blob takes it back', async () => {
    const base = r.url;
    const lifecycle = r.services.metadata.lifecycle;
    const pushedAgain = randomBytes(700);
    const again = await pushBlob(base, 'claim/r', pushedAgain);
    const left = await pushBlob(base, 'claim/r', randomBytes(700));
    ageEverything(r.root);
    // What a run does before it deletes bytes; then it "dies".
    const { claimed } = await lifecycle.claimBlobs([again, left], Date.now());
    assert.equal(claimed.length, 2);
    assert.equal(await status(`${base}/v2/claim/r/blobs/${again}`, 'HEAD'), 404, 'a claimed blob is not served');
    assert.ok(await exists(blobPath(r.root, again)), 'its bytes are still there');
    // No collection holds the lease, so the push takes the claim back at once.
    const t = Date.now();
    assert.equal(await pushBlob(base, 'claim/r', pushedAgain), again);
    assert.ok(Date.now() - t < 5_000);
    const layer = await pushImage(base, 'claim/r', 'v1'); // keeps nothing of ours; just a live image
    const report = await r.gc();
    assert.ok(report.blobs.some((b) => b.digest === left), 'the next run finishes the claimed deletion');
    assert.equal(await exists(blobPath(r.root, left)), false);
    assert.equal((await r.services.metadata.lifecycle.blobState(left))?.state, 'deleted');
    await assertPullable(base, 'claim/r', 'v1');
    assert.ok(layer);
  });

  it('removes stored files that never got metadata once they are older than the grace period', async () => {
    const bytes = randomBytes(1000);
    const digest = sha256(bytes);
    const path = blobPath(r.root, digest);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, bytes);
    assert.equal((await r.gc({ delayMs: 3_600_000 })).orphansRemoved, 0, 'a fresh file stays');
    const old = new Date(Date.now() - 2 * 3_600_000);
    await utimes(path, old, old);
    assert.equal((await r.gc({ delayMs: 3_600_000, orphans: false })).orphansRemoved, 0, 'a run told to skip the sweep leaves it (the scheduler sweeps once a day)');
    assert.ok(await exists(path));
    const report = await r.gc({ delayMs: 3_600_000 });
    assert.equal(report.orphansRemoved, 1);
    assert.deepEqual(
      report.blobs.map((b) => b.digest),
      [digest],
    );
    assert.equal(await exists(path), false);
  });

  it('purges upload sessions abandoned longer than uploadpurging.age, with their bytes', async () => {
    const res = await fetch(`${r.url}/v2/up/r/blobs/uploads/`, { method: 'POST' });
    assert.equal(res.status, 202);
    const location = res.headers.get('location')!;
    const patch = await fetch(location.startsWith('http') ? location : `${r.url}${location}`, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream' }, body: new Uint8Array(randomBytes(4096)) });
    assert.equal(patch.status, 202);
    const id = patch.headers.get('docker-upload-uuid')!;
    assert.ok(await exists(join(r.root, 'uploads', id)));
    await new Promise((resolve) => setTimeout(resolve, 700));
    const report = await r.gc();
    assert.equal(report.uploadsPurged, 1);
    assert.equal(await exists(join(r.root, 'uploads', id)), false);
    const probe = patch.headers.get('location')!;
    assert.equal(await status(probe.startsWith('http') ? probe : `${r.url}${probe}`), 404);
  });
});

describe('gc: the background collector and who may run one', () => {
  it('runs on its interval in the server and records the run as scheduled', async () => {
    const r = await gcRegistry((c) => {
      c.berth.lifecycle.gc.enabled = true;
      c.berth.lifecycle.gc.intervalMs = 1000;
      c.berth.lifecycle.gc.delayMs = 3_600_000;
    });
    try {
      const stray = await pushBlob(r.url, 'sched/r', randomBytes(400));
      ageEverything(r.root);
      let runs: { trigger: string; blobsRemoved: number; status: string }[] = [];
      for (let i = 0; i < 60 && !runs.some((x) => x.trigger === 'schedule' && x.status === 'succeeded'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        runs = ((await (await fetch(`${r.url}/api/v1/gc/runs`)).json()) as { runs: typeof runs }).runs;
      }
      const scheduled = runs.find((x) => x.trigger === 'schedule' && x.status === 'succeeded');
      assert.ok(scheduled, 'a scheduled run happened');
      assert.equal(scheduled.blobsRemoved, 1);
      assert.equal(await status(`${r.url}/v2/sched/r/blobs/${stray}`, 'HEAD'), 404);
    } finally {
      await r.stop();
    }
  });

  it('with htpasswd, the API wants a login (registry:2 model: any signed-in user may run it)', async () => {
    const { startHtpasswdRegistry, basic } = await import('../auth/harness.ts');
    const r = await startHtpasswdRegistry({ alice: 'wonderland' }, (c) => {
      c.berth.lifecycle.gc.enabled = false;
    });
    try {
      const anonymous = await fetch(`${r.url}/api/v1/gc/runs`);
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic /);
      const wrong = await fetch(`${r.url}/api/v1/gc`, { method: 'POST', headers: { Authorization: basic('alice', 'nope') } });
      assert.equal(wrong.status, 401);
      const ok = await fetch(`${r.url}/api/v1/gc`, { method: 'POST', headers: { Authorization: basic('alice', 'wonderland'), 'Content-Type': 'application/json' }, body: '{"dryRun":true}' });
      assert.equal(ok.status, 200);
      assert.equal(((await ok.json()) as { dryRun: boolean }).dryRun, true);
    } finally {
      await r.stop();
    }
  });
});

describe('gc: with access control', () => {
  it('only site administrators may run or list collections', async () => {
    const { startHtpasswdRegistry, basic } = await import('../auth/harness.ts');
    const r = await startHtpasswdRegistry({ admin: 'root-pass', bob: 'bob-pass' }, (c) => {
      c.berth.lifecycle.gc.enabled = false;
      c.berth.auth.accessControl = { enabled: true, admins: ['admin'] };
    });
    try {
      const post = (auth: string) => fetch(`${r.url}/api/v1/gc`, { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/json' }, body: '{"dryRun":true}' });
      const bob = await post(basic('bob', 'bob-pass'));
      assert.equal(bob.status, 403);
      assert.equal(((await bob.json()) as { errors: { code: string }[] }).errors[0]!.code, 'DENIED');
      assert.equal((await fetch(`${r.url}/api/v1/gc/runs`, { headers: { Authorization: basic('bob', 'bob-pass') } })).status, 403);
      assert.equal((await post(basic('admin', 'root-pass'))).status, 200);
      assert.equal((await fetch(`${r.url}/api/v1/gc/runs`, { headers: { Authorization: basic('admin', 'root-pass') } })).status, 200);
    } finally {
      await r.stop();
    }
  });
});
