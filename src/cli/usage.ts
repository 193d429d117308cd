// `berth usage HOST [NAMESPACE]`: storage used per namespace and repository, and the quotas with
// their limits, from a berth registry's admin API (GET /api/v1/usage). Site administrators see
// every namespace; a namespace admin asks for their namespace.
import { RegistryHttpError, UsageError } from '../client/index.ts';
import type { UsageReport } from '../lifecycle/usage-report.ts';
import { formatBytes } from '../lifecycle/quotas.ts';
import { connect, printJson, runCommand, type ConnectionOptions } from './registry-common.ts';

function table(rows: string[][], rightAligned: Set<number>): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

function percent(used: number, limit: number): string {
  if (limit === 0) return used === 0 ? '0%' : 'over';
  return `${((used / limit) * 100).toFixed(1)}%`;
}

export function renderUsage(report: UsageReport): string {
  const rows = [['NAMESPACE / REPOSITORY', 'USED', 'BLOBS']];
  for (const ns of report.namespaces) {
    rows.push([ns.name, formatBytes(ns.usedBytes), String(ns.blobs)]);
    for (const r of ns.repositories) rows.push([`  ${r.name}`, formatBytes(r.usedBytes), String(r.blobs)]);
  }
  let out = report.namespaces.length ? table(rows, new Set([1, 2])) : report.namespace ? `nothing stored under ${report.namespace}` : 'nothing stored';
  if (report.quotas.length) {
    const q = [['QUOTA', 'SET BY', 'USED', 'LIMIT', 'USE']];
    for (const quota of report.quotas) {
      const setBy = quota.source === 'api' ? `api (${quota.namespace})` : `config [${quota.index ?? 0}]`;
      q.push([quota.scope, setBy, formatBytes(quota.usedBytes), formatBytes(quota.limitBytes), percent(quota.usedBytes, quota.limitBytes)]);
    }
    out += `\n\n${table(q, new Set([2, 3, 4]))}`;
  } else out += '\n\nno quotas';
  return `${out}\n`;
}

export function usageCommand(host: string, namespace: string | undefined, opts: ConnectionOptions): Promise<number> {
  return runCommand(async () => {
    if (host.includes('/')) throw new UsageError(`usage takes a registry host (HOST[:PORT]) and optionally a namespace, not ${host}`);
    const client = await connect(host, opts);
    const path = `/api/v1/usage${namespace ? `?namespace=${encodeURIComponent(namespace)}` : ''}`;
    let report: UsageReport;
    try {
      const res = await client.request(path, { headers: { Accept: 'application/json' } });
      report = JSON.parse(res.body.toString('utf8')) as UsageReport;
    } catch (e) {
      if (e instanceof RegistryHttpError && e.status === 404) throw new Error(`${host} has no usage API (GET /api/v1/usage): it is not berth, or an older berth`);
      throw e;
    }
    if (opts.json) printJson(report);
    else process.stdout.write(renderUsage(report));
  });
}
