// `berth import <distribution-root | s3://bucket/root>`: moves a registry:2 storage tree (local, or
// in S3 as described by the source registry's config.yml) into the stores `berth serve` would open
// with the same configuration. Exit code 0: everything imported (or already there);
// 2: some items were skipped (listed with reasons); 1: fatal error (thrown to program.ts).
import { relative, resolve, isAbsolute } from 'node:path';
import { openServices } from '../app.ts';
import { loadConfig, type BerthConfig } from '../config/index.ts';
import { createLogger } from '../logging.ts';
import { FilesystemSource, locateDistributionTree } from '../import/fs-source.ts';
import { importDistribution } from '../import/importer.ts';
import { startProgress } from '../import/progress.ts';
import { formatSummary, newStats, skipLine } from '../import/report.ts';
import { openS3Source, type S3Source } from '../import/s3-source.ts';
import type { DistributionSource } from '../import/source.ts';
import { resolveSourceSpec, type SourceSpec } from '../import/source-spec.ts';
import { resolveS3Options, type S3StorageOptions } from '../storage/drivers/s3/options.ts';

export interface ImportCommandOptions {
  config?: string;
  sourceConfig?: string;
  dryRun?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export { IMPORT_EXAMPLES } from './help-texts.ts';

function inside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** True when berth's S3 storage would write into the source tree (same bucket and endpoint). */
function overlaps(source: S3Source, options: S3StorageOptions, config: BerthConfig): boolean {
  if (config.storage.driver !== 's3' || !config.storage.s3) return false;
  const target = resolveS3Options(config.storage.s3);
  const prefix = target.rootDirectory ? `${target.rootDirectory}/` : '';
  return target.bucket === source.bucket && target.endpoint === resolveS3Options(options).endpoint && prefix.startsWith(source.prefix);
}

async function openSource(spec: SourceSpec, config: BerthConfig): Promise<{ source: DistributionSource; close(): void }> {
  if (spec.kind === 'filesystem') {
    const tree = await locateDistributionTree(spec.path);
    const targetRoot = resolve(config.storage.filesystem.rootdirectory);
    // berth's blobs/ would collide with distribution's blobs/ there.
    if (inside(tree, targetRoot)) throw new Error(`berth's storage (${targetRoot}) must not be inside the registry:2 tree ${tree}`);
    return { source: new FilesystemSource(tree), close: () => undefined };
  }
  const source = await openS3Source(spec.options);
  if (overlaps(source, spec.options, config)) {
    source.close();
    throw new Error(`berth's S3 storage must not be inside the registry:2 tree ${source.location}`);
  }
  return { source, close: () => source.close() };
}

export async function importCommand(arg: string | undefined, opts: ImportCommandOptions): Promise<number> {
  const spec = resolveSourceSpec(arg, opts.sourceConfig);
  const configPath = opts.config ?? process.env.REGISTRY_CONFIGURATION_PATH;
  const { config, warnings } = loadConfig({ path: configPath, env: process.env });
  if (!opts.quiet) for (const w of [...warnings, ...(spec.kind === 's3' ? spec.warnings : [])]) process.stderr.write(`berth import: warning: ${w}\n`);
  const targetRoot = resolve(config.storage.filesystem.rootdirectory);
  const { source, close } = await openSource(spec, config);

  // Quiet JSON-lines logging from the stores; the import talks to the user itself.
  const services = await openServices(config, createLogger({ ...config.log, level: 'error' })).catch((e: unknown) => {
    close();
    throw e;
  });
  const stats = newStats();
  const progress = opts.quiet ? undefined : startProgress(stats, { stream: process.stderr, tty: process.stderr.isTTY === true });
  // Ctrl-C is safe at any point (every write is atomic); say so, and leave the terminal line clean.
  const interrupted = () => {
    progress?.stop();
    process.stderr.write('berth import: interrupted; run the same command again to finish\n');
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  let report;
  try {
    // Other drivers (object storage) get the blobs by streamed copy through their upload area.
    const location = services.blobs.driverName === 'filesystem' ? targetRoot : `${services.blobs.driverName} blob storage`;
    report = await importDistribution(source, { blobs: services.blobs, metadata: services.metadata, location }, { dryRun: opts.dryRun, stats });
  } finally {
    process.off('SIGINT', interrupted);
    progress?.stop();
    close();
    await services.metadata.close();
  }

  if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (!opts.quiet) process.stdout.write(formatSummary(report));
  else for (const s of report.skipped) process.stderr.write(`berth import: skipped ${skipLine(s)}\n`);
  return report.skipped.length ? 2 : 0;
}
