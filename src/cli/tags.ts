// `berth tags HOST/REPO`: every tag, following the registry's pagination.
import { parseRepoRef } from '../client/index.ts';
import { connect, printJson, runCommand, type ConnectionOptions } from './registry-common.ts';

export interface ListOptions extends ConnectionOptions {
  pageSize?: string;
}

export const TAGS_EXAMPLES = `
Examples:
  berth tags registry.example.com:5000/library/alpine
  berth tags localhost:5000/team/app --insecure --json | jq -r '.tags[]'
`;

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
