// Builds the registry's services from configuration: storage driver, metadata store, caches.
// Drivers are chosen by name here so adding a backend means adding a factory, not editing handlers.
// The S3, PostgreSQL and Redis clients are imported only when configured: together they cost ~40 MiB
// of memory that a single-node registry on the embedded default should not pay.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { BerthConfig } from './config/index.ts';
import type { MetadataStore } from './metadata/store.ts';
import type { AccessStore } from './metadata/access/store.ts';
import type { BlobStore } from './storage/blob-store.ts';
import { FilesystemBlobStore } from './storage/drivers/filesystem.ts';
import { instrumentBlobStore } from './storage/instrumented.ts';
import { openSqliteMetadata, sqlitePath } from './metadata/sqlite.ts';
import { ManifestCache } from './registry/manifest-cache.ts';
import { UploadHashes } from './registry/upload-hashes.ts';
import { UploadStateSigner } from './registry/upload-state.ts';
import type { RegistryServices } from './registry/services.ts';
import { ImmutableTags } from './lifecycle/immutable-tags.ts';
import { Quotas } from './lifecycle/quotas.ts';
import { PullRecorder } from './lifecycle/pull-recorder.ts';
import { TrustPolicy } from './trust/policy/policy.ts';
import { notarySource } from './trust/policy/notary-source.ts';
import { createRegistryEvents } from './events/wiring.ts';

export async function openBlobStore(config: BerthConfig): Promise<BlobStore> {
  if (config.storage.driver === 's3' && config.storage.s3) {
    const { S3BlobStore } = await import('./storage/drivers/s3.ts');
    return S3BlobStore.open(config.storage.s3);
  }
  return FilesystemBlobStore.open(resolve(config.storage.filesystem.rootdirectory));
}

export async function openMetadata(config: BerthConfig, log: Logger): Promise<MetadataStore> {
  const { metadata } = config.berth;
  if (metadata.driver === 'postgres' && metadata.postgres) {
    const { openPostgresMetadata } = await import('./metadata/postgres.ts');
    return openPostgresMetadata({ ...metadata.postgres, onPoolError: (err) => log.warn({ err }, 'PostgreSQL connection error') });
  }
  return openSqliteMetadata(sqlitePath(metadata.sqlite.path, config.storage.filesystem.rootdirectory));
}

/**
 * Without http.secret, distribution makes up a secret at every start, so uploads in progress
 * fail after a restart. berth keeps the one it made up in the data directory instead: a restart
 * (an upgrade, a crash) does not break the uploads clients are in the middle of.
 */
async function localHttpSecret(config: BerthConfig): Promise<string> {
  const file = join(resolve(config.storage.filesystem.rootdirectory), 'http.secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('hex');
  try {
    // 'wx': if another process won the race, use its secret.
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(file, 'utf8')).trim();
    throw e;
  }
}

export async function openServices(config: BerthConfig, log: Logger): Promise<RegistryServices> {
  // With metrics on, driver calls are timed (registry_storage_action_seconds); otherwise called directly.
  const blobs = config.http.debug?.prometheus.enabled ? instrumentBlobStore(await openBlobStore(config)) : await openBlobStore(config);
  let metadata = await openMetadata(config, log);
  // The access model lives in the same database; taken before a cache wraps the store.
  const accessStore = (metadata as { access?: AccessStore }).access;
  let contentCache: RegistryServices['contentCache'];
  if (config.storage.cache.blobdescriptor === 'redis' && config.redis) {
    // Shared cache for replicas (src/cache); its metadata.close() closes the Redis connection too.
    const { openRedisCache } = await import('./cache/open.ts');
    ({ metadata, contentCache } = await openRedisCache(config.redis, metadata, log));
  }
  const { lifecycle } = config.berth;
  const uploadState = new UploadStateSigner(config.http.secret ?? (await localHttpSecret(config)));
  if (!config.http.secret && config.berth.metadata.driver === 'postgres') {
    log.warn('http.secret is not set: with several replicas, an upload begun on one fails on another; give every replica the same http.secret');
  }
  const manifestCache = new ManifestCache();
  // The pull policy reads the key files now: a missing or unusable one stops the start.
  let trust: TrustPolicy;
  try {
    trust = await TrustPolicy.create({ config, log, metadata, blobs, manifestCache, ...(contentCache && { contentCache }), notary: notarySource(config, metadata.notary, log) });
  } catch (e) {
    await metadata.close();
    throw e;
  }
  return { config, blobs, metadata, manifestCache, ...(contentCache && { contentCache }), trust, uploadHashes: new UploadHashes(), uploadState, ...(accessStore && { accessStore }), immutableTags: new ImmutableTags(lifecycle.immutableTags, metadata.lifecycle), quotas: new Quotas(lifecycle.quotas, metadata.lifecycle), pulls: new PullRecorder(metadata.lifecycle.retention, log), events: createRegistryEvents(config, metadata, blobs, manifestCache, log), log };
}
