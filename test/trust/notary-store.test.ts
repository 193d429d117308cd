// The Notary store contract (metadata.notary) on SQLite and on a real PostgreSQL: bytes kept
// exactly, current/by checksum/by version, atomic writes that refuse a version already taken
// (also by a concurrent writer), key activation and retirement, and deleting a GUN.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { tempSqliteStore } from '../helpers/metadata-stores.ts';
import { postgresSkip, startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { openPostgresMetadata } from '../../src/metadata/postgres.ts';
import type { MetadataStore } from '../../src/metadata/store.ts';
import { NotaryVersionConflict, type NotaryKeyRecord, type NotaryWrite } from '../../src/metadata/notary/notary-store.ts';

const GUN = 'localhost:5000/team/app';

function file(role: string, version: number, bytes = randomBytes(200)): NotaryWrite {
  // Bytes that are not valid UTF-8 must come back unchanged too.
  const data = Buffer.concat([Buffer.from(`{"${role}":${version}}`), bytes]);
  return { role, version, sha256: createHash('sha256').update(data).digest('hex'), data };
}

function key(role: string, id: string, pending = true): NotaryKeyRecord {
  return { gun: GUN, role, keyId: id.padEnd(64, '0'), algorithm: 'ecdsa', publicKey: 'AAAA', privateEncrypted: '{"v":1}', pending, createdAt: new Date() };
}

function notaryStoreContract(name: string, open: () => Promise<{ store: MetadataStore; cleanup(): Promise<void> }>, opts: { skip?: string | false } = {}) {
  describe(`Notary store contract: ${name}`, { skip: opts.skip }, () => {
    it('keeps every version byte for byte and finds them by name, checksum and version', async () => {
      const { store, cleanup } = await open();
      try {
        const s = store.notary;
        assert.equal(await s.current(GUN, 'root'), undefined);
        assert.deepEqual(await s.currentAll(GUN), []);
        const v1 = [file('root', 1), file('targets', 1), file('snapshot', 1), file('timestamp', 1)];
        await s.write(GUN, v1);
        const v2 = [file('targets', 2), file('targets/releases', 1), file('snapshot', 2), file('timestamp', 2)];
        await s.write(GUN, v2);
        assert.deepEqual((await s.current(GUN, 'targets'))!.data, v2[0]!.data);
        assert.equal((await s.current(GUN, 'targets'))!.version, 2);
        assert.deepEqual((await s.byVersion(GUN, 'targets', 1))!.data, v1[1]!.data);
        assert.deepEqual((await s.byChecksum(GUN, 'snapshot', v1[2]!.sha256))!.data, v1[2]!.data);
        assert.equal(await s.byChecksum(GUN, 'targets', v1[2]!.sha256), undefined);
        const all = await s.currentAll(GUN);
        assert.deepEqual(all.map((r) => `${r.role}@${r.version}`), ['root@1', 'snapshot@2', 'targets@2', 'targets/releases@1', 'timestamp@2']);
        assert.ok(all.every((r) => r.createdAt instanceof Date && r.gun === GUN));
        // Other GUNs are separate.
        assert.equal(await s.current(`${GUN}2`, 'root'), undefined);
      } finally {
        await cleanup();
      }
    });

    it('writes all or nothing, and refuses a version that is taken or older', async () => {
      const { store, cleanup } = await open();
      try {
        const s = store.notary;
        await s.write(GUN, [file('root', 1), file('timestamp', 1)]);
        await assert.rejects(s.write(GUN, [file('targets', 1), file('timestamp', 1)]), (e) => e instanceof NotaryVersionConflict && e.role === 'timestamp');
        assert.equal(await s.current(GUN, 'targets'), undefined, 'nothing of the refused update was stored');
        await assert.rejects(s.write(GUN, [file('root', 1)]), NotaryVersionConflict);
        // Two writers with the same next timestamp at once: exactly one wins.
        const results = await Promise.allSettled([s.write(GUN, [file('targets', 1), file('timestamp', 2)]), s.write(GUN, [file('targets', 1), file('timestamp', 2)])]);
        assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
        const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        assert.ok(rejected.reason instanceof NotaryVersionConflict, String(rejected.reason));
        assert.equal((await s.current(GUN, 'timestamp'))!.version, 2);
      } finally {
        await cleanup();
      }
    });

    it('keeps server keys, activates the ones a root lists, retires the others, and deletes a GUN', async () => {
      const { store, cleanup } = await open();
      try {
        const s = store.notary;
        await s.addKey(key('timestamp', 'a'));
        await new Promise((r) => setTimeout(r, 5));
        await s.addKey(key('timestamp', 'b'));
        await s.addKey(key('snapshot', 'c'));
        assert.deepEqual((await s.keys(GUN, 'timestamp')).map((k) => k.keyId[0]), ['b', 'a'], 'newest first');
        await s.write(GUN, [file('root', 1)], [{ role: 'timestamp', keyIds: [key('t', 'a').keyId] }]);
        let ts = await s.keys(GUN, 'timestamp');
        assert.deepEqual(ts.map((k) => [k.keyId[0], k.pending]), [['b', true], ['a', false]]);
        // A later root lists b: b becomes active, a (active, no longer listed) is retired.
        await s.write(GUN, [file('root', 2)], [{ role: 'timestamp', keyIds: [key('t', 'b').keyId] }]);
        ts = await s.keys(GUN, 'timestamp');
        assert.deepEqual(ts.map((k) => [k.keyId[0], k.pending]), [['b', false]]);
        assert.equal(ts[0]!.privateEncrypted, '{"v":1}');
        assert.equal((await s.keys(GUN, 'snapshot')).length, 1, 'other roles untouched');
        assert.equal(await s.deleteGun(GUN), true);
        assert.deepEqual(await s.currentAll(GUN), []);
        assert.deepEqual(await s.keys(GUN, 'snapshot'), []);
        assert.equal(await s.deleteGun(GUN), false);
      } finally {
        await cleanup();
      }
    });
  });
}

notaryStoreContract('sqlite', () => tempSqliteStore('notary-store'));

const skip = postgresSkip();
let server: PostgresServer | undefined;
let starting: Promise<PostgresServer> | undefined;
let databases = 0;
after(() => server?.stop());
notaryStoreContract(
  'postgres',
  async () => {
    const s = await (starting ??= startPostgres().then((x) => (server = x)));
    const store = await openPostgresMetadata({ url: await s.createDatabase(`notary_${++databases}`), poolSize: 4 });
    return { store, cleanup: () => store.close() };
  },
  { skip },
);
