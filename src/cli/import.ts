// `berth import <distribution-root>`: moves a registry:2 storage tree into the stores `berth serve`
// would open with the same configuration. Exit code 0: everything imported (or already there);
// 2: some items were skipped (listed with reasons); 1: fatal error (thrown to main.ts).
import { relative, resolve, isAbsolute } from 'node:path';
import { openServices } from '../app.ts';
import { loadConfig } from '../config/index.ts';
import { createLogger } from '../logging.ts';
import { FilesystemSource, locateDistributionTree } from '../import/fs-source.ts';
import { importDistribution } from '../import/importer.ts';
import { startProgress } from '../import/progress.ts';
import { formatSummary, newStats, skipLine } from '../import/report.ts';

export interface ImportCommandOptions {
  config?: string;
  dryRun?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export const IMPORT_EXAMPLES = `
Examples:
  berth import /var/lib/registry --config /etc/berth/config.yml
  berth import /var/lib/registry/docker/registry/v2 --dry-run
  REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/srv/berth berth import /var/lib/registry --json > report.json

Blobs are hard-linked when both trees are on one filesystem (copied otherwise) and every digest
is verified. Rerunning is safe and fast: what berth already has is left alone. Exit code 0 when
nothing was skipped, 2 when something was (each item listed with its reason), 1 on error.`;

function inside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

export async function importCommand(root: string, opts: ImportCommandOptions): Promise<number> {
  const tree = await locateDistributionTree(root);
  const configPath = opts.config ?? process.env.REGISTRY_CONFIGURATION_PATH;
  const { config, warnings } = loadConfig({ path: configPath, env: process.env });
  if (!opts.quiet) for (const w of warnings) process.stderr.write(`berth import: warning: ${w}\n`);
  const targetRoot = resolve(config.storage.filesystem.rootdirectory);
  // berth's blobs/ would collide with distribution's blobs/ there.
  if (inside(tree, targetRoot)) throw new Error(`berth's storage (${targetRoot}) must not be inside the registry:2 tree ${tree}`);

  // Quiet JSON-lines logging from the stores; the import talks to the user itself.
  const services = await openServices(config, createLogger({ ...config.log, level: 'error' }));
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
    report = await importDistribution(new FilesystemSource(tree), { blobs: services.blobs, metadata: services.metadata, location }, { dryRun: opts.dryRun, stats });
  } finally {
    process.off('SIGINT', interrupted);
    progress?.stop();
    await services.metadata.close();
  }

  if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (!opts.quiet) process.stdout.write(formatSummary(report));
  else for (const s of report.skipped) process.stderr.write(`berth import: skipped ${skipLine(s)}\n`);
  return report.skipped.length ? 2 : 0;
}
