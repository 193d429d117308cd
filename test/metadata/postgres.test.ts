// The metadata contract against a real PostgreSQL 15 (a throwaway server, a fresh database per
// file), plus what only PostgreSQL has: schemas, connection options, and password redaction.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { openPostgresMetadata } from '../../src/metadata/postgres.ts';
import { postgresSkip, startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { metadataContract } from './metadata.contract.ts';

const skip = postgresSkip();
let server: PostgresServer | undefined;
let starting: Promise<PostgresServer> | undefined;
/** One server for the file, started by whichever suite needs it first. */
const getServer = () => (starting ??= startPostgres().then((s) => (server = s)));
after(() => server?.stop());

metadataContract(
  'postgres',
  async () => {
    const url = await (await getServer()).createDatabase('contract');
    const store = await openPostgresMetadata({ url, poolSize: 4 });
    return { store, cleanup: () => store.close() };
  },
  { skip },
);

metadataContract(
  'postgres, own schema, discrete connection fields',
  async () => {
    const s = await getServer();
    await s.createDatabase('contract_schema');
    const store = await openPostgresMetadata({ host: '127.0.0.1', port: s.port, user: 'postgres', password: s.password, database: 'contract_schema', schema: 'berth_meta' });
    return { store, cleanup: () => store.close() };
  },
  { skip },
);

describe('PostgreSQL metadata store specifics', { skip }, () => {
  let s: PostgresServer;
  before(async () => {
    s = await getServer();
  });

  it('keeps its tables in the configured schema and its names in byte order (COLLATE "C")', async () => {
    const url = await s.createDatabase('layout');
    const store = await openPostgresMetadata({ url, schema: 'reg' });
    await store.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const tables = await client.query(`select table_schema, table_name from information_schema.tables where table_name in ('tags', 'repositories', 'berth_migrations') order by 2`);
      assert.deepEqual(tables.rows, [
        { table_schema: 'reg', table_name: 'berth_migrations' },
        { table_schema: 'reg', table_name: 'repositories' },
        { table_schema: 'reg', table_name: 'tags' },
      ]);
      const coll = await client.query(`select table_name, collation_name from information_schema.columns where table_schema = 'reg' and column_name = 'name' and table_name in ('tags', 'repositories') order by 1`);
      assert.deepEqual(coll.rows, [
        { table_name: 'repositories', collation_name: 'C' },
        { table_name: 'tags', collation_name: 'C' },
      ]);
    } finally {
      await client.end();
    }
  });

  it('opens an already migrated database again (migrations are versioned)', async () => {
    const url = await s.createDatabase('reopen');
    const first = await openPostgresMetadata({ url });
    await first.linkBlob('x/y', 'sha256:' + '0'.repeat(64), 3);
    await first.close();
    const second = await openPostgresMetadata({ url });
    assert.equal((await second.repositoryBlob('x/y', 'sha256:' + '0'.repeat(64)))?.size, 3);
    await second.close();
  });

  it('accepts a password beside a password-less url', async () => {
    const url = new URL(await s.createDatabase('split_secret'));
    url.password = '';
    const store = await openPostgresMetadata({ url: url.href, password: s.password });
    await store.check();
    await store.close();
  });

  it('never puts the password in a connection error', async () => {
    const secret = 'hunter2-Sup3r/secret';
    const bad = `postgres://postgres:${encodeURIComponent(secret)}@127.0.0.1:${s.port}/postgres`;
    await assert.rejects(openPostgresMetadata({ url: bad, connectTimeoutMs: 5000 }), (err: Error) => {
      assert.match(err.message, /password authentication failed/);
      assert.match(err.message, /postgres@127\.0\.0\.1/);
      assert.ok(!err.message.includes(secret) && !err.message.includes(encodeURIComponent(secret)), err.message);
      assert.ok(!String(err.stack).includes(secret), 'stack');
      return true;
    });
    // Nothing listening: the driver's message names host and port only.
    const closed = `postgres://postgres:${secret}@127.0.0.1:1/postgres`;
    await assert.rejects(openPostgresMetadata({ url: closed, connectTimeoutMs: 2000 }), (err: Error) => {
      assert.ok(!err.message.includes(secret), err.message);
      return true;
    });
    await assert.rejects(openPostgresMetadata({ url: `postgres://u:${secret}@[bad`, connectTimeoutMs: 2000 }), (err: Error) => {
      assert.ok(!err.message.includes(secret) && !JSON.stringify(err).includes(secret), err.message);
      return true;
    });
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await assert.rejects(openPostgresMetadata({ url: s.url, schema: 'a"; drop table x; --' }), /plain identifier/);
  });
});
