import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemBlobStore } from '../../src/storage/drivers/filesystem.ts';
import { blobStoreContract } from './blob-store.contract.ts';

blobStoreContract('filesystem', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-fs-'));
  return { store: await FilesystemBlobStore.open(root), cleanup: () => rm(root, { recursive: true, force: true }) };
});
