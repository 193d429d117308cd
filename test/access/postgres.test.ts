// The access model against a real PostgreSQL 15 (a throwaway server, a fresh database), in the
// default schema and in a schema of its own; plus the collation the namespace ranges rely on.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { openPostgresMetadata } from '../../src/metadata/postgres.ts';
import { postgresSkip, startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { accessContract } from './access.contract.ts';

const skip = postgresSkip();
let server: PostgresServer | undefined;
let starting: Promise<PostgresServer> | undefined;
const getServer = () => (starting ??= startPostgres().then((s) => (server = s)));
after(() => server?.stop());

accessContract(
  'postgres',
  async () => {
    const store = await openPostgresMetadata({ url: await (await getServer()).createDatabase('access'), poolSize: 4 });
    return { access: store.access, cleanup: () => store.close() };
  },
  { skip },
);

accessContract(
  'postgres, own schema',
  async () => {
    const store = await openPostgresMetadata({ url: await (await getServer()).createDatabase('access_schema'), schema: 'berth_acl', poolSize: 4 });
    return { access: store.access, cleanup: () => store.close() };
  },
  { skip },
);

describe('access tables on PostgreSQL', { skip }, () => {
  it('sorts and ranges names in byte order (COLLATE "C")', async () => {
    const url = await (await getServer()).createDatabase('access_layout');
    const store = await openPostgresMetadata({ url });
    await store.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const res = await client.query(
        `select table_name, column_name, collation_name from information_schema.columns
         where (table_name, column_name) in (('users','name'), ('permissions','scope'), ('audit_events','repository'), ('namespaces','name'))
         order by 1, 2`,
      );
      assert.deepEqual(
        res.rows.map((r) => `${r.table_name}.${r.column_name}:${r.collation_name}`),
        ['audit_events.repository:C', 'namespaces.name:C', 'permissions.scope:C', 'users.name:C'],
      );
    } finally {
      await client.end();
    }
  });
});
