// Builds the registry's services from configuration: storage driver, metadata store, caches.
// Drivers are chosen by name here so adding a backend means adding a factory, not editing handlers.
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { BerthConfig } from './config/index.ts';
import { FilesystemBlobStore } from './storage/drivers/filesystem.ts';
import { openSqliteMetadata } from './metadata/sqlite.ts';
import { ManifestCache } from './registry/manifest-cache.ts';
import { UploadHashes } from './registry/upload-hashes.ts';
import type { RegistryServices } from './registry/services.ts';

export async function openServices(config: BerthConfig, log: Logger): Promise<RegistryServices> {
  const root = resolve(config.storage.filesystem.rootdirectory);
  const blobs = await FilesystemBlobStore.open(root);
  const metadataPath = config.berth.metadata.sqlite.path ?? join(root, 'berth.sqlite');
  const metadata = await openSqliteMetadata(metadataPath);
  return { config, blobs, metadata, manifestCache: new ManifestCache(), uploadHashes: new UploadHashes(), log };
}
