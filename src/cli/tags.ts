// `berth tags HOST/REPO`: every tag, following the registry's pagination.
import { parseRepoRef } from '../client/image-ref.ts';
import { connect, printJson, runCommand, type ConnectionOptions } from './registry-common.ts';

export interface ListOptions extends ConnectionOptions {
  pageSize?: string;
}

export function pageSize(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export function tagsCommand(repoText: string, opts: ListOptions): Promise<number> {
  return runCommand(async () => {
    const { host, repo } = parseRepoRef(repoText);
    const client = await connect(host, opts);
    const tags = await client.tags(repo, pageSize(opts.pageSize));
    if (opts.json) printJson({ name: repo, tags });
    else for (const t of tags) process.stdout.write(`${t}\n`);
  });
}
