// Garbage collection while clients push: skopeo pushes fresh images (sharing base layers) in a
// loop while `berth gc --delete-untagged --delay 0s` runs over and over as a separate process on
// the same store (SQLite shared between the two processes). A push may fail and be retried (the
// issue allows it at --delay 0s); afterwards every image that was pushed pulls byte-identical.
// Then a collection killed with SIGKILL at many points never leaves a manifest pointing at a
// missing blob, and the next run finishes the work.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { clientSandbox, hasCommand, repoRoot, run, tempDir, type ClientSandbox } from '../helpers/processes.ts';
import { makeLayerTar, MEDIA, sha256, writeBlob, type Descriptor } from '../helpers/images.ts';
import { pushBlob, pushImage } from '../http/harness.ts';
import { assertPullable, gcRegistry } from './gc-helpers.ts';
import { GcBusyError } from '../../src/lifecycle/gc.ts';

type Registry = Awaited<ReturnType<typeof gcRegistry>>;

const berth = (args: string[]) => run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), ...args], { allowFail: true, timeoutMs: 120_000 });

/** An OCI layout at `dir` with one image: the shared base layers, then one layer of its own. */
async function layoutWith(dir: string, base: { raw: Buffer; gz: Buffer }[], tag: string): Promise<string> {
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  const own = await makeLayerTar(2000 + Math.floor(Math.random() * 3000));
  for (const l of [...base, { raw: own, gz: gzipSync(own) }]) {
    diffIds.push(sha256(l.raw));
    layers.push(await writeBlob(dir, l.gz, MEDIA.ociLayerGzip));
  }
  const config = await writeBlob(dir, JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds }, n: randomBytes(6).toString('hex') }), MEDIA.ociConfig);
  const manifest = await writeBlob(dir, JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers }), MEDIA.ociManifest);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } }] }));
  return manifest.digest;
}

/** Every blob a manifest refers to has a live row, a link in its repository and bytes in storage. */
function assertConsistent(root: string): void {
  const db = new BetterSqlite3(join(root, 'berth.sqlite'), { readonly: true });
  try {
    const broken = db
      .prepare(
        `select r.name, mr.parent_digest, mr.child_digest, b.state, rb.digest as linked
           from manifest_references mr join repositories r on r.id = mr.repository_id
           left join blobs b on b.digest = mr.child_digest
           left join repository_blobs rb on rb.repository_id = mr.repository_id and rb.digest = mr.child_digest
          where mr.kind = 'blob' and (b.state is null or b.state != 'live' or rb.digest is null)`,
      )
      .all();
    assert.deepEqual(broken, [], 'every referenced blob is live and linked');
    const manifestBytes = db.prepare(`select m.digest from manifests m left join blobs b on b.digest = m.digest where b.state is null or b.state != 'live'`).all();
    assert.deepEqual(manifestBytes, [], "every manifest's own bytes are live");
  } finally {
    db.close();
  }
}

function expireLease(root: string): void {
  const db = new BetterSqlite3(join(root, 'berth.sqlite'));
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare(`update leases set expires_at = 0 where name = 'gc'`).run();
  } finally {
    db.close();
  }
}

describe('gc while skopeo pushes', { skip: !hasCommand('skopeo') && 'skopeo is not installed' }, () => {
  let r: Registry;
  let sb: ClientSandbox;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let configPath: string;
  before(async () => {
    r = await gcRegistry();
    sb = await clientSandbox('gc-online', [new URL(r.url).host]);
    work = await tempDir('gc-online');
    configPath = join(work.path, 'config.yml');
    await writeFile(configPath, `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${r.root}\n  delete:\n    enabled: true\nlog:\n  level: warn\n`);
  });
  after(async () => {
    await r.stop();
    await sb.cleanup();
    await work.cleanup();
  });

  it('every image pushed during repeated `berth gc --delete-untagged --delay 0s` runs pulls byte-identical', { timeout: 300_000 }, async () => {
    const host = new URL(r.url).host;
    const base = await Promise.all([1500, 2500].map(async (n) => {
      const raw = await makeLayerTar(n);
      return { raw, gz: gzipSync(raw) };
    }));
    let collecting = true;
    let runs = 0;
    const gcLoop = (async () => {
      while (collecting) {
        const res = await berth(['gc', configPath, '--delete-untagged', '--delay', '0s', '--quiet']);
        // 3: a scheduled or API run held the lease; anything else must be a clean run.
        assert.ok(res.code === 0 || res.code === 3, `berth gc exited ${res.code}: ${res.stderr}`);
        runs++;
      }
    })();
    // The same collector in this process, back to back: many more runs than process starts allow.
    // Its grace period is short but not zero, so that a push can finish between two runs (at 0s
    // back-to-back runs would take every fresh layer before its manifest arrives, every time; on
    // a loaded CI machine a push can take over a second).
    let inProcess = 0;
    const fastLoop = (async () => {
      while (collecting) {
        try {
          await r.gc({ deleteUntagged: true, delayMs: 1500 });
          inProcess++;
        } catch (e) {
          if (!(e instanceof GcBusyError)) throw e;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const pushed: { repo: string; digest: string }[] = [];
    let retries = 0;
    try {
      // At least 20 pushes, and more until two `berth gc` processes have finished meanwhile: they
      // run at the lowest CPU priority, so on a loaded machine one can take longer than 20 pushes.
      for (let i = 0; i < 20 || (runs < 2 && i < 300); i++) {
        const dir = join(work.path, `img${i}`);
        const digest = await layoutWith(dir, base, 'v1');
        const repo = `online/app${i % 3}`;
        let ok = false;
        let lastError = '';
        for (let attempt = 0; attempt < 10 && !ok; attempt++) {
          if (attempt) await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
          const res = await run('skopeo', ['--insecure-policy', 'copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `oci:${dir}:v1`, `docker://${host}/${repo}:t${i}`], { env: sb.env, allowFail: true, timeoutMs: 60_000 });
          ok = res.code === 0;
          if (!ok) {
            retries++;
            lastError = res.stderr.slice(-500);
          }
        }
        assert.ok(ok, `push ${i} kept failing: ${lastError}`);
        pushed.push({ repo, digest });
      }
    } finally {
      collecting = false;
      await gcLoop;
      await fastLoop;
    }
    assert.ok(runs >= 2, `the collector ran during the pushes (${runs} runs)`);
    assert.ok(inProcess >= 20, `the in-process collector ran during the pushes (${inProcess} runs)`);
    assertConsistent(r.root);
    for (const [i, p] of pushed.entries()) {
      const res = await fetch(`${r.url}/v2/${p.repo}/manifests/t${i}`, { headers: { Accept: MEDIA.ociManifest } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-content-digest'), p.digest, 'the tag points at what was pushed');
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), p.digest);
      await assertPullable(r.url, p.repo, `t${i}`);
    }
    // And once more with the default grace period: nothing that is referenced goes.
    assert.equal((await berth(['gc', configPath, '--delete-untagged'])).code, 0);
    for (const [i, p] of pushed.entries()) await assertPullable(r.url, p.repo, `t${i}`);
    process.stderr.write(`# gc-online: ${runs} CLI and ${inProcess} in-process collections during ${pushed.length} pushes, ${retries} retried pushes\n`);
  });

  it('a collection killed with SIGKILL at any point leaves no manifest pointing at a missing blob; the next run finishes', { timeout: 300_000 }, async () => {
    // Plenty of garbage so that kills land in the middle of the work, and images that must stay.
    const keep = [];
    for (let i = 0; i < 4; i++) keep.push({ repo: `crash/keep${i}`, img: await pushImage(r.url, `crash/keep${i}`, 'v1') });
    const garbage = async () => {
      for (let i = 0; i < 600; i++) await pushBlob(r.url, `crash/junk${i % 7}`, randomBytes(64));
    };
    await garbage();
    for (const killAfterMs of [150, 300, 450, 600, 800, 1000, 1300, 1600, 2000, 2500]) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'gc', configPath, '--delay', '0s', '--quiet'], { cwd: repoRoot, stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      const code = await exited;
      clearTimeout(timer);
      assert.notEqual(code, 3, 'no other collection held the lease');
      assertConsistent(r.root);
      // The killed run's lease would expire after its TTL (a minute); expire it now.
      expireLease(r.root);
      for (const k of keep) await assertPullable(r.url, k.repo, 'v1');
      if (killAfterMs === 800) await garbage(); // more work for the later kills
    }
    const final = await berth(['gc', configPath, '--delay', '0s', '--json']);
    assert.equal(final.code, 0, final.stderr);
    const dry = JSON.parse((await berth(['gc', configPath, '--delay', '0s', '--dry-run', '--json'])).stdout) as { blobs: unknown[]; linksRemoved: number };
    assert.equal(dry.blobs.length, 0, 'nothing is left to collect');
    assert.equal(dry.linksRemoved, 0);
    const db = new BetterSqlite3(join(r.root, 'berth.sqlite'), { readonly: true });
    try {
      assert.deepEqual(db.prepare(`select digest from blobs where state = 'deleting'`).all(), [], 'no claim is left behind');
    } finally {
      db.close();
    }
    for (const k of keep) await assertPullable(r.url, k.repo, 'v1');
    void readFile;
  });
});
