#!/usr/bin/env node
// The `berth` command. Each subcommand lives in its own file; this only wires them to commander.
import { Command } from 'commander';
import { serve } from './serve.ts';
import { importCommand, IMPORT_EXAMPLES, type ImportCommandOptions } from './import.ts';

const program = new Command();
program.name('berth').description('A private container image registry (OCI Distribution / Docker Registry HTTP API V2)').version('0.1.0');

program
  .command('serve')
  .argument('[config]', 'a registry:2 style config.yml (env REGISTRY_CONFIGURATION_PATH also works)')
  .description('run the registry server')
  .addHelpText('after', '\nExamples:\n  berth serve\n  berth serve /etc/docker/registry/config.yml\n  REGISTRY_HTTP_ADDR=:5001 berth serve')
  .action(async (config?: string) => {
    await serve(config);
  });

program
  .command('import')
  .argument('<distribution-root>', "a registry:2 storage tree: its rootdirectory (e.g. /var/lib/registry) or the docker/registry/v2 directory in it")
  .option('--config <file>', "berth's config.yml naming the target storage (default: REGISTRY_CONFIGURATION_PATH, else ./data)")
  .option('--dry-run', 'verify and report what would be imported; write nothing')
  .option('--json', 'print the report as JSON on stdout')
  .option('--quiet', 'no progress and no summary; skipped items still go to stderr')
  .description('import the repositories, tags and blobs of a CNCF Distribution (registry:2) filesystem storage')
  .addHelpText('after', IMPORT_EXAMPLES)
  .action(async (root: string, opts: ImportCommandOptions) => {
    process.exitCode = await importCommand(root, opts);
  });

program.parseAsync(process.argv).catch((e: Error) => {
  process.stderr.write(`berth: ${e.message}\n`);
  process.exit(1);
});
