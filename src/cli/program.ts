// The `berth` command. Each subcommand lives in its own file; this only wires them to commander.
// Run by main.ts (the tsc output's entry) and bundled as dist/bundle/berth.mjs (bin/berth.js).
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
// Start-up time matters (`berth --version`, `berth tags` in a script loop): only commander, the help
// texts and the flag definitions load here. Every action imports its command's code when it runs
// (type-only imports below cost nothing), so serve never loads for a client command nor the
// client for serve; the bundle (scripts/build-cli.mjs) splits at these dynamic imports.
import type { UserCommandOptions } from './user.ts';
import type { ImportCommandOptions } from './import.ts';
import type { GcCommandOptions } from './gc.ts';
import type { TlsInitOptions } from './tls.ts';
import type { LoginOptions } from './login.ts';
import type { ListOptions } from './tags.ts';
import type { InspectOptions } from './inspect.ts';
import {
  CATALOG_EXAMPLES,
  DIGEST_EXAMPLES,
  GC_EXAMPLES,
  IMPORT_EXAMPLES,
  INSPECT_EXAMPLES,
  LOGIN_EXAMPLES,
  RM_EXAMPLES,
  TAG_EXAMPLES,
  TAGS_EXAMPLES,
  TLS_INIT_EXAMPLES,
  USAGE_EXAMPLES,
  USER_EXAMPLES,
} from './help-texts.ts';
import { clientCommand, repeatable, type ConnectionOptions } from './registry-common.ts';
import { registerPush } from './push.ts';
import { registerPull } from './pull.ts';
import { registerCopy } from './copy.ts';
import { registerKey } from './key.ts';
import { registerSign } from './sign.ts';
import { registerVerify } from './verify.ts';

/**
 * The server: its bundle (scripts/build-server.mjs, dist/server/serve.mjs: about 10 MiB less
 * memory than ~640 separate modules) when built, else the tsc output or the TypeScript. Both the
 * tsc output (dist/cli/program.js) and the CLI bundle (dist/bundle/berth.mjs) sit one level below
 * dist/, so one relative URL finds it whichever way berth was started.
 */
async function loadServer(): Promise<typeof import('./serve.ts')> {
  // BERTH_SERVER_BUNDLE=0 runs the unbundled server (troubleshooting); a path runs that bundle (tests).
  const choice = process.env.BERTH_SERVER_BUNDLE;
  if (choice && choice !== '0') return (await import(pathToFileURL(choice).href)) as typeof import('./serve.ts');
  const bundle = new URL('../server/serve.mjs', import.meta.url);
  if (choice !== '0' && existsSync(bundle)) return (await import(bundle.href)) as typeof import('./serve.ts');
  return import('./serve.ts');
}

const program = new Command();
program.name('berth').description('A private container image registry (OCI Distribution / Docker Registry HTTP API V2)').version('0.1.0');

program
  .command('serve')
  .argument('[config]', 'a registry:2 style config.yml (env REGISTRY_CONFIGURATION_PATH also works)')
  .description('run the registry server')
  .addHelpText('after', '\nExamples:\n  berth serve\n  berth serve /etc/docker/registry/config.yml\n  REGISTRY_HTTP_ADDR=:5001 berth serve')
  .action(async (config?: string) => {
    // Before the server's modules load: heap settings that hold however berth was started.
    (await import('../http/server-heap.ts')).configureServerHeap();
    const { serve } = await loadServer();
    await serve(config);
  });

program
  .command('import')
  .argument(
    '[distribution-root]',
    'a registry:2 storage tree: its rootdirectory (e.g. /var/lib/registry) or the docker/registry/v2 directory in it, or s3://BUCKET/ROOTDIRECTORY; may be left out with --source-config',
  )
  .option('--source-config <file>', "the source registry's config.yml; its storage.s3 section says how to reach the bucket")
  .option('--config <file>', "berth's config.yml naming the target storage (default: REGISTRY_CONFIGURATION_PATH, else ./data)")
  .option('--dry-run', 'verify and report what would be imported; write nothing')
  .option('--json', 'print the report as JSON on stdout')
  .option('--quiet', 'no progress and no summary; skipped items still go to stderr')
  .description('import the repositories, tags and blobs of a CNCF Distribution (registry:2) filesystem or S3 storage')
  .addHelpText('after', IMPORT_EXAMPLES)
  .action(async (root: string | undefined, opts: ImportCommandOptions) => {
    const { importCommand } = await import('./import.ts');
    process.exitCode = await importCommand(root, opts);
  });

program
  .command('gc')
  .argument('[config]', 'the config.yml of the registry to collect (env REGISTRY_CONFIGURATION_PATH also works)')
  .option('--dry-run', 'print what would be removed; remove nothing')
  .option('-m, --delete-untagged', 'also remove manifests that no tag, index or kept subject refers to')
  .option('--delay <duration>', 'grace period: keep anything touched more recently (default berth.gc.delay, 1h)')
  .option('--pace <share>', 'share of wall time to spend working, 0-1 (default 1: as fast as the lowest CPU priority allows)')
  .option('--json', 'print the report as JSON on stdout')
  .option('--quiet', 'print nothing but errors')
  .description('remove blobs and manifests nothing references, while the registry keeps serving (registry garbage-collect)')
  .addHelpText('after', GC_EXAMPLES)
  .action(async (config: string | undefined, opts: GcCommandOptions) => {
    // Maintenance beside live registries: the lowest priority before the storage and database code
    // even loads (loading it is a third of a run's CPU on a small store).
    (await import('../util/background-priority.ts')).runAsBackgroundJob();
    const { gcCommand } = await import('./gc.ts');
    process.exitCode = await gcCommand(config, opts);
  });

const retention = program
  .command('retention')
  .description('retention policies (berth.retention and /api/v1/retention): preview or run them against a registry while it serves')
  .addHelpText(
    'after',
    `
Examples:
  berth retention preview /etc/docker/registry/config.yml        # what a run would delete now, nothing deleted
  berth retention preview config.yml --namespace team-a --json   # one namespace, the report as JSON
  berth retention run config.yml                                 # delete it (berth.retention.dryrun only reports)

Deleted manifests' blobs are freed by the next garbage collection (berth gc, or the server's).
Exit codes: 0 done, 1 failed, 3 another retention run is in progress.`,
  );
for (const action of ['preview', 'run'] as const) {
  const cmd = retention
    .command(action)
    .argument('[config]', 'the config.yml of the registry (env REGISTRY_CONFIGURATION_PATH also works)')
    .option('--namespace <namespace>', 'only the repositories of this namespace (it and everything below)')
    .option('--json', 'print the report as JSON on stdout')
    .description(action === 'preview' ? 'list what a retention run would delete now, with why; delete nothing' : 'run the retention policies now and print what was deleted');
  if (action === 'run') cmd.option('--dry-run', 'report what would be deleted; delete nothing');
  cmd.action(async (config: string | undefined, opts: { namespace?: string; json?: boolean; dryRun?: boolean }) => {
    // A run is maintenance beside live registries (as gc); a preview is someone waiting for an answer.
    if (action === 'run') (await import('../util/background-priority.ts')).runAsBackgroundJob();
    const { retentionCommand } = await import('./retention.ts');
    process.exitCode = await retentionCommand(action, config, opts);
  });
}

program
  .command('tls')
  .description('TLS certificates for the registry')
  .command('init')
  .description('create a private CA (or use yours) and a server certificate, and print what each client needs')
  .option('--host <name>', 'a DNS name clients use for the registry (repeatable)', repeatable, [])
  .option('--ip <address>', 'an IP address clients use for the registry (repeatable)', repeatable, [])
  .option('--port <port>', 'the port clients connect to (for the printed paths and config)', '5000')
  .option('--out <dir>', 'where to write ca.crt, ca.key, server.crt, server.key', 'certs')
  .option('--ca-cert <file>', 'sign with this existing CA certificate instead of creating one')
  .option('--ca-key <file>', 'the private key of --ca-cert')
  .option('--days <n>', 'validity of the server certificate in days', '825')
  .option('--ca-days <n>', 'validity of a newly created CA in days', '3650')
  .option('--force', 'replace an existing server.crt and server.key')
  .addHelpText('after', TLS_INIT_EXAMPLES)
  .action(async (opts: TlsInitOptions) => {
    process.exitCode = await (await import('./tls.ts')).tlsInit(opts);
  });

const user = program
  .command('user')
  .description('manage the users of the htpasswd file (auth.htpasswd.path of the config, or --file)')
  .addHelpText('after', USER_EXAMPLES);
const userOptions = (c: Command) =>
  c
    .option('--config <file>', 'config.yml whose auth.htpasswd.path to edit (default: REGISTRY_CONFIGURATION_PATH)')
    .option('--file <htpasswd>', 'the htpasswd file itself, instead of the one named by the config');
for (const [name, what] of [
  ['add', 'add a user (bcrypt; the password from --password-stdin, a prompt, or generated and printed once)'],
  ['passwd', "set a user's password (refresh tokens issued under the old one stop working)"],
] as const) {
  userOptions(user.command(name).argument('<name>').description(what))
    .option('--password-stdin', 'read the password from stdin (a trailing newline is dropped)')
    .option('--cost <n>', 'bcrypt cost, 10 to 16', '10')
    .action(async (n: string, opts: UserCommandOptions) => {
      process.exitCode = await (await import('./user.ts')).userCommand(name, n, opts);
    });
}
userOptions(user.command('remove').argument('<name>').description('remove a user')).action(async (n: string, opts: UserCommandOptions) => {
  process.exitCode = await (await import('./user.ts')).userCommand('remove', n, opts);
});
userOptions(user.command('list').description('list the user names (never the hashes)')).action(async (opts: UserCommandOptions) => {
  process.exitCode = await (await import('./user.ts')).userCommand('list', undefined, opts);
});

// Registry client commands: they talk to any registry over the Distribution API (src/client/).
clientCommand(program.command('login').argument('<host>', 'registry HOST[:PORT]').description('log in to a registry and store the credentials as docker does (~/.docker/config.json or its credsStore)'), false)
  .option('-u, --username <user>', 'user name')
  .option('--password-stdin', 'read the password from stdin')
  .option('--archive <file>', 'write the login as a docker.tar.gz of .docker/config.json (DC/OS fetch URI) instead of storing it')
  .option('--print-config', 'print the config.json holding the login (for a secret store) instead of storing it')
  .addHelpText('after', LOGIN_EXAMPLES)
  .action(async (host: string, opts: LoginOptions) => {
    process.exitCode = await (await import('./login.ts')).loginCommand(host, opts);
  });

clientCommand(program.command('logout').argument('<host>', 'registry HOST[:PORT]').description('remove the stored login for a registry'), false)
  .addHelpText('after', LOGIN_EXAMPLES)
  .action(async (host: string) => {
    process.exitCode = await (await import('./login.ts')).logoutCommand(host);
  });

clientCommand(program.command('tags').argument('<repository>', 'HOST[:PORT]/REPO').description('list the tags of a repository'))
  .option('--page-size <n>', 'tags per request (the registry paginates beyond it)')
  .addHelpText('after', TAGS_EXAMPLES)
  .action(async (repo: string, opts: ListOptions) => {
    process.exitCode = await (await import('./tags.ts')).tagsCommand(repo, opts);
  });

clientCommand(program.command('catalog').argument('<host>', 'registry HOST[:PORT]').description('list the repositories of a registry'))
  .option('--page-size <n>', 'repositories per request (the registry paginates beyond it)')
  .addHelpText('after', CATALOG_EXAMPLES)
  .action(async (host: string, opts: ListOptions) => {
    process.exitCode = await (await import('./catalog.ts')).catalogCommand(host, opts);
  });

clientCommand(program.command('inspect').argument('<image>', 'HOST[:PORT]/REPO[:TAG|@DIGEST]').description('show an image: manifest, config, layers and sizes, or the platforms of an index'))
  .option('--raw', 'print the manifest bytes exactly as stored')
  .option('--config', 'print the image config (JSON)')
  .option('--key <file>', 'a cosign public key (cosign.pub): verify the cosign signatures listed')
  .option('--gpg-keyring <file>', 'GPG public keys (gpg --export): verify the simple signatures listed')
  .addHelpText('after', INSPECT_EXAMPLES)
  .action(async (image: string, opts: InspectOptions) => {
    process.exitCode = await (await import('./inspect.ts')).inspectCommand(image, opts);
  });

clientCommand(program.command('digest').argument('<image>', 'HOST[:PORT]/REPO[:TAG]').description('print the manifest digest of an image'))
  .addHelpText('after', DIGEST_EXAMPLES)
  .action(async (image: string, opts: ConnectionOptions) => {
    process.exitCode = await (await import('./digest.ts')).digestCommand(image, opts);
  });

clientCommand(program.command('rm').argument('<image>', 'HOST[:PORT]/REPO:TAG or HOST[:PORT]/REPO@DIGEST').description('delete a tag or a manifest from a registry'))
  .addHelpText('after', RM_EXAMPLES)
  .action(async (image: string, opts: ConnectionOptions) => {
    process.exitCode = await (await import('./rm.ts')).rmCommand(image, opts);
  });

clientCommand(program.command('tag').argument('<source>', 'HOST[:PORT]/REPO[:TAG|@DIGEST]').argument('<target>', 'HOST[:PORT]/REPO:TAG').description('tag an image again without moving bytes (same manifest, same digest)'))
  .addHelpText('after', TAG_EXAMPLES)
  .action(async (src: string, dst: string, opts: ConnectionOptions) => {
    process.exitCode = await (await import('./tag.ts')).tagCommand(src, dst, opts);
  });

clientCommand(program.command('usage').argument('<host>', 'registry HOST[:PORT] (berth)').argument('[namespace]', 'only this namespace and the repositories below it').description('show storage used per namespace and repository, and the quotas'))
  .addHelpText('after', USAGE_EXAMPLES)
  .action(async (host: string, namespace: string | undefined, opts: ConnectionOptions) => {
    process.exitCode = await (await import('./usage.ts')).usageCommand(host, namespace, opts);
  });

// Image transfer commands (src/transfer/): each file registers its own flags and help.
registerPush(program);
registerPull(program);
registerCopy(program);
// Signing (cosign format) and verification (cosign, GPG simple signatures): src/trust/.
registerKey(program);
registerSign(program);
registerVerify(program);

program.parseAsync(process.argv).catch((e: Error) => {
  process.stderr.write(`berth: ${e.message}\n`);
  process.exit(1);
});
