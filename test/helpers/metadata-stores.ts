// A throwaway SQLite metadata store in a temp dir, for the suites that run against SQLite and PostgreSQL.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteMetadata } from '../../src/metadata/sqlite.ts';
import type { KyselyMetadataStore } from '../../src/metadata/kysely-store.ts';

export async function tempSqliteStore(prefix: string): Promise<{ store: KyselyMetadataStore; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  const store = await openSqliteMetadata(join(dir, 'berth.sqlite'));
  return {
    store,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
