// Notary trust data shared by two berth replicas on one PostgreSQL database, both over TLS from
// `berth tls init`, each with its own storage root but the same berth.trust.keyfile (docs/trust.md:
// replicas need the same key file or passphrase). The real `notary` client publishes through
// replica A and a fresh client verifies through B; the snapshot key is handed to the server
// through B and the data verified through A. Then the timestamp (and, second round, the
// server-held snapshot too) is made to expire by storing expired versions signed with the
// server's own keys, and concurrent GETs through both replicas must agree on one re-signed chain.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import pino from 'pino';
import { hasCommand, run, startBerth, tempDir, type RunningServer } from '../helpers/processes.ts';
import { postgresSkip, startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { https1, listening, tlsInit, type CertFiles } from '../tls/helpers.ts';
import { openPostgresMetadata } from '../../src/metadata/postgres.ts';
import type { KyselyMetadataStore } from '../../src/metadata/kysely-store.ts';
import { canonicalBytes } from '../../src/trust/notary/canonical.ts';
import { signedFile, snapshotBody, timestampBody } from '../../src/trust/notary/generate.ts';
import { KeyVault } from '../../src/trust/notary/key-vault.ts';
import { ServerKeys } from '../../src/trust/notary/server-keys.ts';

const PASSPHRASES = {
  NOTARY_ROOT_PASSPHRASE: 'root-Pa55phrase',
  NOTARY_TARGETS_PASSPHRASE: 'targets-Pa55phrase',
  NOTARY_SNAPSHOT_PASSPHRASE: 'snapshot-Pa55phrase',
};
/** The name both replicas answer to (behind a load balancer); GUNs carry it, whichever replica a client talks to. */
const REGISTRY = 'registry.example.com:5000';
const GUN = `${REGISTRY}/team/app`;
const DAY = 86_400_000;

type Signed = { signed: { _type: string; version: number; expires: string; meta: Record<string, { length: number; hashes: { sha256: string } }> }; signatures: { keyid: string; method: string; sig: string }[] };
const parse = (b: Buffer) => JSON.parse(b.toString('utf8')) as Signed;
const b64sha256 = (b: Buffer) => createHash('sha256').update(b).digest('base64');
const hexsha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const skip = !hasCommand('notary') ? 'not installed: notary' : postgresSkip();

describe('Notary on two replicas sharing PostgreSQL (real notary client, TLS)', { skip, timeout: 240_000 }, () => {
  let pg: PostgresServer;
  let url: string;
  let work: { path: string; cleanup(): Promise<void> };
  let certs: CertFiles;
  let keyfile: string;
  let a: RunningServer;
  let b: RunningServer;
  let store: KyselyMetadataStore;
  let dirs = 0;
  const fresh = async (name: string) => {
    const d = join(work.path, `${name}-${++dirs}`);
    await mkdir(d, { recursive: true });
    return d;
  };
  const notary = (via: RunningServer, trustDir: string, args: string[], opts: { allowFail?: boolean; input?: string } = {}) =>
    run('notary', ['-s', `https://localhost:${via.port}`, '-d', trustDir, '--tlscacert', certs.ca, ...args], { env: PASSPHRASES, timeoutMs: 60_000, ...opts });
  const tuf = (via: RunningServer, file: string) => https1(via.port, { ca: certs.ca }, `/v2/${GUN}/_trust/tuf/${file}`);
  const tufOk = async (via: RunningServer, file: string) => {
    const r = await tuf(via, file);
    assert.equal(r.status, 200, `${file} through ${via === a ? 'A' : 'B'}: ${r.body.toString()}`);
    return r.body;
  };
  /** Every stored version of a role, oldest first. */
  const versions = async (role: string) => {
    const client = new PgClient({ connectionString: url });
    await client.connect();
    try {
      const r = await client.query<{ version: number }>('select version from notary_metadata where gun = $1 and role = $2 order by version', [GUN, role]);
      return r.rows.map((row) => Number(row.version));
    } finally {
      await client.end();
    }
  };

  before(async () => {
    work = await tempDir('notary-replicas');
    pg = await startPostgres();
    url = await pg.createDatabase('notary_replicas');
    certs = (await tlsInit(join(work.path, 'certs'), ['--host', 'localhost', '--ip', '127.0.0.1'])).files;
    keyfile = join(work.path, 'trust.key');
    await writeFile(keyfile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const configYaml = [
      'log: {level: info}',
      'http:',
      '  secret: replicas-share-this-secret',
      `  tls: {certificate: ${certs.cert}, key: ${certs.key}}`,
      'berth:',
      `  trust: {keyfile: ${keyfile}, hostnames: ["${REGISTRY}"]}`,
      `  metadata: {driver: postgres, postgres: {url: "${url}"}}`,
    ].join('\n');
    // Separate storage roots: the default key file (<root>/trust/server.key) would differ, so only
    // the configured berth.trust.keyfile lets one replica use the keys the other made.
    [a, b] = await Promise.all([0, 1].map(() => startBerth({ configYaml, scheme: 'https', ready: listening, startTimeoutMs: 60_000 })));
    store = await openPostgresMetadata({ url, poolSize: 2 });
  });
  after(async () => {
    await store?.close();
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await pg?.stop();
    await work?.cleanup();
  });

  let owner: string;
  let pinned: string;

  it('publishes through A and verifies through B with a fresh client; a server-held snapshot rotated through B verifies through A', async () => {
    owner = await fresh('owner');
    assert.match((await notary(a, owner, ['init', GUN, '-p'])).stdout, /Successfully published changes/);
    const file = join(work.path, 'v1.txt');
    await writeFile(file, 'version one\n');
    await notary(a, owner, ['add', GUN, 'v1', file]);
    const hash = hexsha256(Buffer.from('an image manifest'));
    await notary(a, owner, ['addhash', GUN, 'v2', '17', '--sha256', hash]);
    assert.match((await notary(a, owner, ['publish', GUN])).stdout, /Successfully published changes/);

    pinned = await fresh('reader');
    let list = await notary(b, pinned, ['list', GUN]);
    assert.match(list.stdout, /^v1\s+[0-9a-f]{64}\s+12\s+targets$/m);
    assert.match(list.stdout, new RegExp(`^v2\\s+${hash}\\s+17\\s+targets$`, 'm'));

    // Both replicas hand out the same server key, and both decrypt it with the shared key file
    // (neither made a key file of its own).
    assert.deepEqual(await tufOk(a, 'timestamp.key'), await tufOk(b, 'timestamp.key'));
    for (const s of [a, b]) assert.ok(!existsSync(join(s.root, 'trust', 'server.key')), 'no default key file in a replica root');

    // The server takes over the snapshot key, through B; B then makes a snapshot, and A another.
    assert.match((await notary(b, owner, ['key', 'rotate', GUN, 'snapshot', '-r'])).stdout, /Successfully rotated snapshot key/);
    await writeFile(file, 'version three\n');
    await notary(b, owner, ['add', GUN, 'v3', file, '-p']);
    await notary(a, owner, ['remove', GUN, 'v2', '-p']);
    assert.deepEqual(await tufOk(a, 'snapshot.key'), await tufOk(b, 'snapshot.key'));

    list = await notary(a, await fresh('after-rotation'), ['list', GUN]);
    assert.match(list.stdout, /^v1\s/m);
    assert.doesNotMatch(list.stdout, /^v2\s/m);
    assert.match(list.stdout, /^v3\s+[0-9a-f]{64}\s+14\s+targets$/m);
    // The client that pinned the first root and timestamp through B follows through A.
    assert.match((await notary(a, pinned, ['list', GUN])).stdout, /^v3\s/m);

    for (const s of [a, b]) assert.match(s.logs(), /notary: trust data updated/);
    assert.ok(!(a.logs() + b.logs()).includes('PRIVATE KEY'));
  });

  /** Keys as the servers hold them, opened with the same key file: what an expired file is signed with. */
  const serverKeys = () => new ServerKeys(store.notary, new KeyVault({ keyfile, log: pino({ level: 'silent' }) }));

  /** Concurrent GETs of timestamp.json through both replicas; all must serve the same, newest, verifiable timestamp. */
  async function concurrentTimestamps(expiredVersion: number): Promise<Buffer> {
    const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => tuf(i % 2 ? b : a, 'timestamp.json')));
    for (const r of replies) assert.equal(r.status, 200, r.body.toString());
    const bodies = new Set(replies.map((r) => r.body.toString('base64')));
    assert.equal(bodies.size, 1, 'every request, on either replica, got the same re-signed timestamp');
    const ts = replies[0]!.body;
    const doc = parse(ts);
    assert.equal(doc.signed.version, expiredVersion + 1, 'one re-signing, not one per replica or request');
    assert.ok(Date.parse(doc.signed.expires) > Date.now() + 13 * DAY);
    // Exactly what is stored as the newest version, and every version stored once (the primary key)
    // with no gaps: versions only grew.
    const stored = (await store.notary.current(GUN, 'timestamp'))!;
    assert.deepEqual(stored.data, ts);
    const all = await versions('timestamp');
    assert.deepEqual(all, Array.from({ length: all.length }, (_, i) => i + 1));
    assert.equal(all.at(-1), doc.signed.version);

    // Signed with the server's timestamp key (the one both replicas hand out) over the canonical JSON.
    const key = JSON.parse((await tufOk(b, 'timestamp.key')).toString()) as { keyval: { public: string } };
    const pub = createPublicKey({ key: Buffer.from(key.keyval.public, 'base64'), format: 'der', type: 'spki' });
    assert.equal(doc.signatures.length, 1);
    assert.ok(verify('sha256', canonicalBytes(doc.signed), { key: pub, dsaEncoding: 'ieee-p1363' }, Buffer.from(doc.signatures[0]!.sig, 'base64')));
    // It names the current snapshot, which both replicas serve by checksum, and which names the current targets.
    const snapMeta = doc.signed.meta.snapshot!;
    const snapHex = Buffer.from(snapMeta.hashes.sha256, 'base64').toString('hex');
    const snapA = await tufOk(a, `snapshot.${snapHex}.json`);
    assert.deepEqual(await tufOk(b, `snapshot.${snapHex}.json`), snapA);
    assert.deepEqual(await tufOk(b, 'snapshot.json'), snapA);
    assert.equal(snapA.length, snapMeta.length);
    const targets = await tufOk(a, 'targets.json');
    assert.equal(parse(snapA).signed.meta.targets!.hashes.sha256, b64sha256(targets));
    return ts;
  }

  it('an expired timestamp fetched through both replicas at once is re-signed once; clients still verify', async () => {
    const keys = serverKeys();
    const root = parse(await tufOk(a, 'root.json'));
    const tsKeyIds = (root.signed as unknown as { roles: { timestamp: { keyids: string[] } } }).roles.timestamp.keyids;
    const held = await keys.held(GUN, 'timestamp', tsKeyIds);
    assert.equal(held.length, 1, 'the test process opens the server key with the shared key file');
    const snap = (await store.notary.current(GUN, 'snapshot'))!;
    const ts = (await store.notary.current(GUN, 'timestamp'))!;
    // As if two weeks had passed since the last timestamp.
    const expired = await signedFile(timestampBody(ts.version + 1, snap.data, Date.now() - 15 * DAY), held, keys);
    await store.notary.write(GUN, [{ role: 'timestamp', version: ts.version + 1, sha256: hexsha256(expired), data: expired }]);

    await concurrentTimestamps(ts.version + 1);
    // The pinned client (it saw older timestamps) and a new one, through either replica.
    assert.match((await notary(b, pinned, ['list', GUN])).stdout, /^v3\s/m);
    assert.match((await notary(a, await fresh('after-expiry'), ['list', GUN])).stdout, /^v3\s/m);
  });

  it('an expired server-held snapshot and timestamp fetched through both replicas at once are re-signed once together', async () => {
    const keys = serverKeys();
    const root = parse(await tufOk(b, 'root.json')).signed as unknown as { roles: Record<'snapshot' | 'timestamp', { keyids: string[] }> };
    const snapKeys = await keys.held(GUN, 'snapshot', root.roles.snapshot.keyids);
    const tsKeys = await keys.held(GUN, 'timestamp', root.roles.timestamp.keyids);
    assert.equal(snapKeys.length, 1);
    const snap = (await store.notary.current(GUN, 'snapshot'))!;
    const ts = (await store.notary.current(GUN, 'timestamp'))!;
    const long = Date.now() - 4 * 365 * DAY; // three years ago and more: both expired
    const oldSnap = await signedFile(snapshotBody(snap.version + 1, parse(snap.data).signed.meta, long), snapKeys, keys);
    const oldTs = await signedFile(timestampBody(ts.version + 1, oldSnap, long), tsKeys, keys);
    await store.notary.write(GUN, [
      { role: 'snapshot', version: snap.version + 1, sha256: hexsha256(oldSnap), data: oldSnap },
      { role: 'timestamp', version: ts.version + 1, sha256: hexsha256(oldTs), data: oldTs },
    ]);

    const served = parse(await concurrentTimestamps(ts.version + 1));
    const snapshots = await versions('snapshot');
    // (notary's first published snapshot is version 2: its init bumps the version once more.)
    assert.deepEqual(snapshots, Array.from({ length: snapshots.length }, (_, i) => i + snapshots[0]!));
    assert.equal(snapshots.at(-1), snap.version + 2, 'the expired snapshot was re-signed once');
    const current = (await store.notary.current(GUN, 'snapshot'))!;
    assert.equal(served.signed.meta.snapshot!.hashes.sha256, b64sha256(current.data));
    assert.ok(Date.parse(parse(current.data).signed.expires) > Date.now() + 2 * 365 * DAY);

    assert.match((await notary(a, pinned, ['list', GUN])).stdout, /^v3\s/m);
    assert.match((await notary(b, await fresh('after-snapshot-expiry'), ['list', GUN])).stdout, /^v3\s/m);
    // Publishing still works after the re-signing, through either replica.
    const file = join(work.path, 'v4.txt');
    await writeFile(file, 'version four\n');
    await notary(b, owner, ['add', GUN, 'v4', file, '-p']);
    assert.match((await notary(a, pinned, ['list', GUN])).stdout, /^v4\s+[0-9a-f]{64}\s+13\s+targets$/m);
  });
});
