// `berth retention preview|run [config.yml] [--namespace NS] [--json]`: the retention policies of a
// registry's config (berth.retention) and those set per namespace through the admin API, run
// against the storage and metadata the config names while the servers keep serving. `preview`
// prints what a run would delete now and deletes nothing; `run` deletes it (unless
// berth.retention.dryrun or --dry-run), through the same calls as the registry's DELETE.
// Exit codes: 0 done, 1 failed, 3 another retention run is in progress.
import { loadConfig } from '../config/index.ts';
import { createLogger } from '../logging.ts';
import { openServices } from '../app.ts';
import { humanBytes } from '../util/human-bytes.ts';
import { createRetention } from '../lifecycle/retention-runner.ts';
import { RetentionBusyError, type RetentionReport } from '../lifecycle/retention.ts';

export interface RetentionCommandOptions {
  namespace?: string;
  dryRun?: boolean;
  json?: boolean;
}

function shortDigest(digest: string): string {
  return digest.length > 19 ? `${digest.slice(0, 19)}…` : digest;
}

/** The report as text: one block per repository, each deletion with its reason. */
export function formatRetentionReport(report: RetentionReport): string {
  const lines: string[] = [];
  const would = report.dryRun ? 'would delete' : 'deleted';
  for (const repo of report.repositories) {
    lines.push(`${repo.repository} (${repo.policy})`);
    for (const t of repo.tags) lines.push(`  ${would} tag ${t.tag} -> ${shortDigest(t.digest)}: ${t.reason}`);
    for (const m of repo.manifests) lines.push(`  ${would} manifest ${m.digest} (${humanBytes(m.size)}): ${m.reason}`);
    for (const p of repo.protectedTags) lines.push(`  kept tag ${p.tag}: ${p.reason}`);
  }
  for (const s of report.skipped) lines.push(`skipped ${s.repository}${s.tag ? `:${s.tag}` : `@${s.digest}`}: ${s.reason}`);
  lines.push(
    `${would} ${report.tagsDeleted} tag${report.tagsDeleted === 1 ? '' : 's'} and ${report.manifestsDeleted} manifest${report.manifestsDeleted === 1 ? '' : 's'}` +
      ` (${report.repositoriesEvaluated} repositor${report.repositoriesEvaluated === 1 ? 'y' : 'ies'} under a policy)` +
      (report.manifestsDeleted && !report.dryRun ? '; their blobs go with the next garbage collection' : ''),
  );
  return `${lines.join('\n')}\n`;
}

export async function retentionCommand(action: 'preview' | 'run', configPath: string | undefined, opts: RetentionCommandOptions): Promise<number> {
  const path = configPath ?? process.env.REGISTRY_CONFIGURATION_PATH;
  const { config, warnings } = loadConfig({ path, env: process.env });
  // stdout is the report; logs go to stderr, warnings and errors only unless the config asks for debug.
  const log = createLogger({ ...config.log, level: config.log.level === 'debug' ? 'debug' : 'warn' });
  for (const w of warnings) log.warn(w);
  const services = await openServices(config, log);
  try {
    const retention = createRetention(services, log);
    const namespace = opts.namespace === undefined ? {} : { namespace: opts.namespace };
    const report =
      action === 'preview' ? await retention.preview(namespace) : await retention.run({ trigger: 'cli', ...namespace, ...(opts.dryRun && { dryRun: true }) });
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatRetentionReport(report));
    for (const err of report.errors) process.stderr.write(`berth retention: ${err}\n`);
    if (!opts.json && !(await retention.hasPolicies())) process.stderr.write('berth retention: no retention policy in berth.retention.policies or set through /api/v1/retention\n');
    return report.status === 'succeeded' ? 0 : 1;
  } catch (e) {
    if (e instanceof RetentionBusyError) {
      process.stderr.write(`berth retention: ${e.message}\n`);
      return 3;
    }
    throw e;
  } finally {
    await services.pulls.close();
    await services.metadata.close();
    log.flush();
  }
}
