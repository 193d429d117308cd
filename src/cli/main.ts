#!/usr/bin/env node
// The `berth` command. Each subcommand lives in its own file; this only wires them to commander.
import { Command } from 'commander';
import { serve } from './serve.ts';

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

program.parseAsync(process.argv).catch((e: Error) => {
  process.stderr.write(`berth: ${e.message}\n`);
  process.exit(1);
});
