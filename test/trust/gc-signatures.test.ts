// Signatures and garbage collection, through real collections: `berth gc --delete-untagged
// --delay 0s` (a separate process on the server's store) over an image signed every way berth
// stores signatures: a cosign signature tag (sha256-<hex>.sig), a cosign OCI 1.1 referrer, a GPG
// simple signature (signatures extension) and Notary trust data for the image's tag.
//  - While the image lives, every signature survives the collection, with everything it needs
//    (payload blobs, configs), and each still verifies (`berth inspect --key --gpg-keyring`).
//  - Once the image is untagged, the collection removes it with its referrer, and its GPG
//    signatures go with the manifest row. The signature tag is a tag: it stays until it is deleted
//    itself, then the next collection takes it. Notary trust data belongs to the GUN, not to a
//    manifest: no collection touches it (`notary delete --remote` removes it).
// On the embedded store (SQLite) and on PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { repoRoot, run, startBerth, tempDir, type RunningServer } from '../helpers/processes.ts';
import { postgresSkip, startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { OCI_MANIFEST, pushImage } from '../http/harness.ts';
import { assertPullable, status } from '../lifecycle/gc-helpers.ts';
import { berthCli } from '../cli/helpers.ts';
import { signatureTag } from '../../src/trust/cosign/layout.ts';
import type { GcReport } from '../../src/lifecycle/gc.ts';
import { cosignKeyPair, cosignSign, notaryPublish, notaryRepo, pgpKey, putSimpleSignature, rootFile, serverTimestampKey, simpleSignature, snapshotFile, targetsFile } from './policy-fixtures.ts';

for (const variant of [{ name: 'embedded store', postgres: false }, { name: 'PostgreSQL', postgres: true }]) {
  describe(`gc --delete-untagged and signatures (${variant.name})`, { skip: variant.postgres ? postgresSkip() : false }, () => {
    let server: RunningServer;
    let pgServer: PostgresServer | undefined;
    let dbUrl: string | undefined;
    let work: { path: string; cleanup(): Promise<void> };
    let gcConfig: string;
    let root: string;

    const gc = async (): Promise<GcReport> => {
      const res = await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'gc', gcConfig, '--delete-untagged', '--delay', '0s', '--json'], { allowFail: true, timeoutMs: 120_000 });
      assert.equal(res.code, 0, res.stderr);
      const report = JSON.parse(res.stdout) as GcReport;
      assert.equal(report.status, 'succeeded', JSON.stringify(report.errors));
      return report;
    };
    /** GPG simple signature rows of a manifest, read from the metadata store itself. */
    const gpgRows = async (digest: string): Promise<number> => {
      if (dbUrl) {
        const client = new pg.Client({ connectionString: dbUrl });
        await client.connect();
        try {
          const r = await client.query<{ n: string }>('select count(*) as n from simple_signatures where manifest_digest = $1', [digest]);
          return Number(r.rows[0]!.n);
        } finally {
          await client.end();
        }
      }
      const db = new BetterSqlite3(join(root, 'berth.sqlite'), { readonly: true });
      try {
        return (db.prepare('select count(*) as n from simple_signatures where manifest_digest = ?').get(digest) as { n: number }).n;
      } finally {
        db.close();
      }
    };

    before(async () => {
      work = await tempDir(`gc-signatures${variant.postgres ? '-pg' : ''}`);
      root = join(work.path, 'storage');
      let shared = '';
      if (variant.postgres) {
        pgServer = await startPostgres();
        dbUrl = await pgServer.createDatabase('gc_signatures');
        shared = `berth:\n  metadata: {driver: postgres, postgres: {url: "${dbUrl}"}}\n`;
      }
      // The server collects nothing itself: the collections are the test's.
      server = await startBerth({ root, configYaml: `${shared || 'berth:\n'}  gc: {enabled: false}\n` });
      gcConfig = join(work.path, 'gc.yml');
      await writeFile(gcConfig, `version: 0.1\nlog: {level: warn}\nstorage:\n  filesystem: {rootdirectory: ${root}}\n  delete: {enabled: true}\n${shared}`);
    });
    after(async () => {
      await server?.stop();
      await pgServer?.stop();
      await work?.cleanup();
    });

    it('keeps every kind of signature while the image lives; then the referrer and GPG signatures go with it, the signature tag when it is deleted, and Notary trust data stays', async () => {
      const base = server.url;
      const repo = 'signed/app';
      const gun = `${server.host}/${repo}`;
      const cosign = cosignKeyPair();
      const gpg = await pgpKey('release');

      const img = await pushImage(base, repo, 'v1');
      const sigTag = signatureTag(img.digest);
      const tagged = await cosignSign(base, repo, img.digest, cosign.privateKey);
      const referrer = await cosignSign(base, repo, img.digest, cosign.privateKey, { referrer: { mediaType: OCI_MANIFEST, size: img.size } });
      assert.equal((await putSimpleSignature(base, repo, img.digest, await simpleSignature(gpg, `${gun}:v1`, img.digest))).status, 201);
      const n = await notaryRepo(gun, await serverTimestampKey(base, gun));
      const notaryRoot = rootFile(n);
      const targets = targetsFile(n, 'targets', { v1: img.bytes });
      await notaryPublish(base, gun, { root: notaryRoot, targets, snapshot: snapshotFile(n, { root: notaryRoot, targets }) });
      // Something the collection must take: an untagged image of no one's.
      const stray = await pushImage(base, repo, 'stray');
      assert.equal(await status(`${base}/v2/${repo}/manifests/stray`, 'DELETE'), 202);

      const keyFile = join(work.path, 'cosign.pub');
      await writeFile(keyFile, cosign.pem);
      const keyring = join(work.path, 'release.gpg');
      await writeFile(keyring, gpg.binary);
      const inspect = async () => {
        const res = await berthCli({ HOME: work.path, DOCKER_CONFIG: join(work.path, 'docker') })(['inspect', `${gun}:v1`, '--insecure', '--json', '--key', keyFile, '--gpg-keyring', keyring]);
        assert.equal(res.code, 0, res.stderr);
        const shown = JSON.parse(res.stdout) as { signatures: { kind: string; source: string; status: string }[] };
        return shown.signatures.map((s) => `${s.kind}/${s.source}:${s.status}`).sort();
      };
      const everyKindVerified = ['cosign/referrer:verified', 'cosign/tag:verified', 'gpg/extension:verified', 'notary/targets:verified'];
      assert.deepEqual(await inspect(), everyKindVerified);

      // 1. The image is tagged: only the stray image goes.
      const first = await gc();
      assert.deepEqual(first.manifests.map((m) => m.digest), [stray.digest]);
      assert.deepEqual(first.blobs.map((b) => b.digest).sort(), [stray.digest, stray.config, stray.layer].sort());
      assert.equal(await status(`${base}/v2/${repo}/manifests/${stray.digest}`), 404, 'the collection did run');
      await assertPullable(base, repo, 'v1');
      await assertPullable(base, repo, sigTag);
      await assertPullable(base, repo, referrer);
      const listed = (await (await fetch(`${base}/v2/${repo}/referrers/${img.digest}`)).json()) as { manifests: { digest: string }[] };
      assert.deepEqual(listed.manifests.map((m) => m.digest), [referrer]);
      const sigs = (await (await fetch(`${base}/extensions/v2/${repo}/signatures/${img.digest}`)).json()) as { signatures: unknown[] };
      assert.equal(sigs.signatures.length, 1);
      assert.equal(await gpgRows(img.digest), 1);
      assert.deepEqual(await inspect(), everyKindVerified, 'each signature still verifies: nothing it needs was collected');

      // 2. The image untagged: it goes, its referrer after it, its GPG signatures with its row.
      assert.equal(await status(`${base}/v2/${repo}/manifests/v1`, 'DELETE'), 202);
      const second = await gc();
      assert.deepEqual(second.manifests.map((m) => m.digest), [img.digest, referrer], 'the subject, then its referrer');
      for (const d of [img.digest, img.config, img.layer, referrer]) assert.ok(second.blobs.some((b) => b.digest === d), `blob ${d} collected`);
      for (const d of [img.digest, referrer]) assert.equal(await status(`${base}/v2/${repo}/manifests/${d}`), 404, `${d} is gone`);
      assert.equal(await gpgRows(img.digest), 0, 'the GPG signatures went with the manifest');
      assert.equal(await status(`${base}/extensions/v2/${repo}/signatures/${img.digest}`), 404);
      // The signature tag is a tag like any other: kept, whole, until someone deletes it.
      assert.equal(second.manifests.some((m) => m.digest === tagged), false);
      await assertPullable(base, repo, sigTag);
      // Notary trust data is the GUN's: the collection never touches it.
      for (const role of ['root', 'targets', 'snapshot', 'timestamp']) assert.equal(await status(`${base}/v2/${gun}/_trust/tuf/${role}.json`), 200, role);
      const served = (await (await fetch(`${base}/v2/${gun}/_trust/tuf/targets.json`)).json()) as { signed: { targets: Record<string, { length: number }> } };
      assert.equal(served.signed.targets.v1?.length, img.size);

      // 3. The signature tag deleted: the next collection takes the signature manifest and its blobs.
      assert.equal(await status(`${base}/v2/${repo}/manifests/${sigTag}`, 'DELETE'), 202);
      const third = await gc();
      assert.deepEqual(third.manifests.map((m) => m.digest), [tagged]);
      assert.ok(third.blobs.some((b) => b.digest === tagged));
      assert.equal(await status(`${base}/v2/${repo}/manifests/${tagged}`), 404);
      assert.equal(await status(`${base}/v2/${gun}/_trust/tuf/targets.json`), 200, 'the trust data still stays');
      assert.equal((await gc()).manifests.length, 0, 'nothing left to collect');
    });
  });
}
