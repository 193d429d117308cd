// `berth gc [config.yml] [--dry-run] [--delete-untagged] [--delay DURATION] [--json]`: the flags
// and meaning of `registry garbage-collect`, run against the storage and metadata a config names
// while the servers keep serving (no read-only mode). Prints each removal as it happens and a
// summary; --json prints the report instead. Exit codes: 0 done, 1 failed, 2 bad usage, 3 another
// collection is running.
import { loadConfig, parseDuration } from '../config/index.ts';
import { createLogger } from '../logging.ts';
import { openServices } from '../app.ts';
import { humanBytes } from '../util/human-bytes.ts';
import { createCollector } from '../lifecycle/wiring.ts';
import { GcBusyError, type GcItem } from '../lifecycle/gc.ts';

export interface GcCommandOptions {
  dryRun?: boolean;
  deleteUntagged?: boolean;
  delay?: string;
  pace?: string;
  json?: boolean;
  quiet?: boolean;
}

function line(item: GcItem, dryRun: boolean): string {
  const verb = dryRun ? 'would delete' : 'deleted';
  switch (item.kind) {
    case 'manifest':
      return `${verb} manifest ${item.repository}@${item.digest}`;
    case 'blob':
      return `${verb} blob ${item.digest} (${humanBytes(item.size)})${item.orphan ? ', stored without metadata' : ''}`;
    case 'link':
      return `${verb} link ${item.repository} -> ${item.digest}`;
    case 'upload':
      return `${verb} abandoned upload ${item.id}`;
  }
}

export async function gcCommand(configPath: string | undefined, opts: GcCommandOptions): Promise<number> {
  const path = configPath ?? process.env.REGISTRY_CONFIGURATION_PATH;
  const { config, warnings } = loadConfig({ path, env: process.env });
  let delayMs = config.berth.lifecycle.gc.delayMs;
  if (opts.delay !== undefined) {
    try {
      delayMs = parseDuration(opts.delay);
    } catch (e) {
      process.stderr.write(`berth gc: --delay: ${(e as Error).message}\n`);
      return 2;
    }
    if (delayMs < 0) {
      process.stderr.write('berth gc: --delay: must not be negative\n');
      return 2;
    }
  }
  const pace = opts.pace === undefined ? 1 : Number(opts.pace);
  if (!(pace > 0 && pace <= 1)) {
    process.stderr.write('berth gc: --pace: must be a number more than 0 and at most 1\n');
    return 2;
  }
  // Logs go to stderr and only above info unless the config asks for debug: stdout is the report.
  const log = createLogger({ ...config.log, level: config.log.level === 'debug' ? 'debug' : 'warn' });
  for (const w of warnings) log.warn(w);
  const services = await openServices(config, log);
  try {
    const dryRun = !!opts.dryRun;
    const print = !opts.json && !opts.quiet;
    const report = await createCollector(services, log).run({
      trigger: 'cli',
      dryRun,
      deleteUntagged: !!opts.deleteUntagged,
      delayMs,
      pace,
      onRemove: print ? (item) => process.stdout.write(`${line(item, dryRun)}\n`) : undefined,
    });
    if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else if (!opts.quiet) {
      const what = `${report.manifests.length} manifests, ${report.blobs.length} blobs (${humanBytes(report.bytesRemoved)}), ${report.linksRemoved} repository links, ${report.uploadsPurged} abandoned uploads`;
      process.stdout.write(`${dryRun ? 'would remove' : 'removed'} ${what}\n`);
    }
    for (const err of report.errors) process.stderr.write(`berth gc: ${err}\n`);
    return report.status === 'succeeded' ? 0 : 1;
  } catch (e) {
    if (e instanceof GcBusyError) {
      process.stderr.write(`berth gc: ${e.message}\n`);
      return 3;
    }
    throw e;
  } finally {
    await services.metadata.close();
    log.flush();
  }
}
