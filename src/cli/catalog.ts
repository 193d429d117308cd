// `berth catalog HOST`: every repository, following the registry's pagination.
import { UsageError } from '../client/index.ts';
import { connect, printJson, runCommand } from './registry-common.ts';
import { pageSize, type ListOptions } from './tags.ts';

export function catalogCommand(host: string, opts: ListOptions): Promise<number> {
  return runCommand(async () => {
    if (host.includes('/')) throw new UsageError(`catalog takes a registry host (HOST[:PORT]), not ${host}`);
    const client = await connect(host, opts);
    const repositories = await client.catalog(pageSize(opts.pageSize));
    if (opts.json) printJson({ repositories });
    else for (const r of repositories) process.stdout.write(`${r}\n`);
  });
}
