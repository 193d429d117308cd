import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteMetadata } from '../../src/metadata/sqlite.ts';
import { accessContract } from './access.contract.ts';

accessContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-access-'));
  const store = await openSqliteMetadata(join(dir, 'berth.sqlite'));
  return {
    access: store.access,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
