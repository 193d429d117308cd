// Which registry:2 storage `berth import` reads: a local directory, or an S3 bucket described by the
// source registry's own config.yml (`--source-config`), whose `storage.s3` section berth parses with
// the same loader as its own config, so every distribution key means what it means for `berth serve`.
import { loadConfig } from '../config/index.ts';
import type { S3StorageOptions } from '../storage/drivers/s3/options.ts';

export type SourceSpec = { kind: 'filesystem'; path: string } | { kind: 's3'; options: S3StorageOptions; warnings: string[] };

/** `s3://bucket/root/directory` -> bucket and rootdirectory ('' when only the bucket is given). */
export function parseS3Url(url: string): { bucket: string; rootDirectory: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  // Bucket names have no '@' or ':'; refusing them keeps a pasted user:secret@ out of any message.
  if (!m || /[@:]/.test(m[1]!)) throw new Error('expected s3://BUCKET or s3://BUCKET/ROOTDIRECTORY');
  return { bucket: m[1]!, rootDirectory: m[2]!.replace(/\/+$/, '') };
}

// How objects are written (encryption, storage class, ACL, part sizes): reading is unaffected.
const WRITE_ONLY = /^storage\.s3\.(encrypt|keyid|storageclass|objectacl|chunksize|multipartcopy\w*) /;

function sourceS3Options(path: string): { options?: S3StorageOptions; warnings: string[] } {
  // REGISTRY_* variables configure berth (the target) here, so they do not apply to the source.
  let loaded;
  try {
    loaded = loadConfig({ path, env: {} });
  } catch (e) {
    // Said to be the source's config, or "config: ..." would read as berth's own.
    throw new Error(`--source-config ${path}: ${(e as Error).message.replace(/^config: /, '')}`);
  }
  const { config, warnings } = loaded;
  // Only storage.s3 is used: warnings about the source's other settings do not concern the import.
  const relevant = warnings.filter((w) => /^(unknown configuration key )?storage\.s3\b/.test(w) && !WRITE_ONLY.test(w));
  return { options: config.storage.s3, warnings: relevant.map((w) => `${path}: ${w}`) };
}

/**
 * `arg` is the positional argument (a directory or s3:// URL, or absent); `sourceConfig` the path of
 * the source registry's config.yml. The URL's bucket and rootdirectory override the config's.
 */
export function resolveSourceSpec(arg: string | undefined, sourceConfig: string | undefined): SourceSpec {
  const url = arg?.startsWith('s3://') ? parseS3Url(arg) : undefined;
  if (arg !== undefined && !url) {
    if (sourceConfig) throw new Error('--source-config applies to S3 sources only: give s3://BUCKET/ROOTDIRECTORY, or leave out the directory argument');
    return { kind: 'filesystem', path: arg };
  }
  if (!sourceConfig) {
    if (!url) throw new Error('give the registry:2 storage to import: a directory, s3://BUCKET/ROOTDIRECTORY, or --source-config');
    // Without the source's config, AWS itself with the SDK's standard credential chain.
    const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (!region) throw new Error(`${arg} needs --source-config (the registry's config.yml with storage.s3) or AWS_REGION`);
    return { kind: 's3', options: { region, bucket: url.bucket, rootDirectory: url.rootDirectory }, warnings: [] };
  }
  const { options, warnings } = sourceS3Options(sourceConfig);
  if (!options) {
    throw new Error(`${sourceConfig} has no storage.s3 section: for a filesystem registry, give its rootdirectory as the argument instead of --source-config`);
  }
  return { kind: 's3', options: url ? { ...options, bucket: url.bucket, rootDirectory: url.rootDirectory } : options, warnings };
}
