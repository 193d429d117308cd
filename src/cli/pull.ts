// `berth pull IMAGE -o OUT`: an image from any registry to a `docker load` tarball or an OCI image
// layout (directory, or a tar when OUT ends in .tar). Resumable: re-run the same command after an
// interruption and the blobs already on disk are kept (src/transfer/pull.ts says where).
import { Option, type Command } from 'commander';
import { UsageError } from '../client/usage-error.ts';
import type { Platform } from '../transfer/platform.ts';
import type { PullFormat } from '../transfer/pull.ts';
import { DEFAULT_PARALLEL } from '../transfer/pool.ts';
import { clientCommand, connect, printJson, runCommand, type ConnectionOptions } from './registry-common.ts';

export interface PullCommandOptions extends ConnectionOptions {
  output: string;
  format: PullFormat;
  platform?: string;
  allPlatforms?: boolean;
  quiet?: boolean;
  parallel?: string;
}

export const PULL_EXAMPLES = `
Examples:
  berth pull registry.example.com:5000/library/alpine:3.19 -o alpine.tar && docker load -i alpine.tar
  berth pull localhost:5000/app:1.0 --insecure -o app.tar --platform linux/arm64
  berth pull localhost:5000/app:1.0 --insecure --format oci -o app-layout     # skopeo ... oci:app-layout:1.0
  berth pull localhost:5000/app:1.0 --insecure --format oci --all-platforms -o app-oci.tar
  berth pull localhost:5000/app@sha256:... --insecure -o app.tar --json

Formats:
  docker  (default) a tarball for \`docker load\` / skopeo docker-archive: (manifest.json, repositories,
          uncompressed layers); one platform: from an index, --platform or this machine's (linux/${process.arch === 'arm64' ? 'arm64' : 'amd64'})
  oci     an OCI image layout directory named OUT (a tar when OUT ends in .tar), the image under
          its tag in index.json; manifests and blobs byte for byte as the registry stores them
          (Docker schema 2 manifests and lists are converted to OCI media types, as skopeo does:
          same config and layers, a new manifest digest; --json reports both).
          --all-platforms keeps the index and every platform's image (OCI only: a docker archive
          holds one image per name, so --all-platforms with --format docker is a usage error).

Interrupted? Run the same command again: complete blobs are reused after a digest check and a
partial one resumes with an HTTP Range request (OUT.partial/ holds them until OUT is written;
for an OCI directory, OUT/blobs/ does).
`;

export function pullCommand(image: string, opts: PullCommandOptions): Promise<number> {
  return runCommand(async () => {
    // The reference parser loads node:crypto (digests): imported when the command runs, not at start-up.
    const { parseImageRef } = await import('../client/image-ref.ts');
    const { parsePlatform } = await import('../transfer/platform.ts');
    const ref = parseImageRef(image);
    if (!opts.output) throw new UsageError('an output path is required: -o, --output <path>');
    if (opts.allPlatforms && opts.format !== 'oci') {
      throw new UsageError('--all-platforms needs --format oci: a docker archive holds one image per name (pick one with --platform)');
    }
    if (opts.allPlatforms && opts.platform) throw new UsageError('--platform and --all-platforms exclude each other');
    let platform: Platform | undefined;
    if (opts.platform) platform = parsePlatform(opts.platform);
    const parallel = opts.parallel === undefined ? DEFAULT_PARALLEL : Number(opts.parallel);
    if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) throw new UsageError(`--parallel wants a whole number from 1 to 64, got ${opts.parallel}`);
    // Loaded here, not at the top: registerPull runs at every start of the CLI (program.ts).
    const { pull } = await import('../transfer/pull.ts');
    const { Progress, progressMode } = await import('../transfer/progress.ts');
    const client = await connect(ref.host, opts);
    const progress = new Progress(progressMode({ quiet: opts.quiet, json: opts.json }));
    let result;
    try {
      result = await pull({ client, ref, output: opts.output, format: opts.format, platform, allPlatforms: opts.allPlatforms, parallel, progress });
    } catch (e) {
      // Say how far it got (the blobs on disk are kept for a re-run); a failure before any blob
      // (a usage error, an unknown tag) only needs its message, except to stop the bars on a tty.
      const started = progress.counters.moved > 0 || Object.values(progress.counters.blobs).some((n) => n > 0);
      if (started) progress.finish('Pull failed; run the same command again to resume');
      else if (progress.mode === 'tty') progress.finish();
      throw e;
    }
    progress.finish(`Pulled ${result.reference} (${result.digest}) to ${result.output}`);
    // Also with --quiet and --json (where the result carries them too), as docker prints its WARNING.
    for (const w of result.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
    if (opts.json) printJson(result);
  });
}

export function registerPull(program: Command): void {
  clientCommand(
    program
      .command('pull')
      .argument('<image>', 'HOST[:PORT]/REPO[:TAG|@DIGEST]')
      .description('download an image to a docker archive (docker load) or an OCI image layout; resumable'),
  )
    .requiredOption('-o, --output <path>', 'where to write: a .tar for docker, a directory (or .tar) for oci')
    .addOption(new Option('--format <format>', 'docker: a docker-load tarball; oci: an OCI image layout').choices(['docker', 'oci']).default('docker'))
    .option('--platform <os/arch[/variant]>', "the image to take from a multi-platform index (default: this machine's)")
    .option('--all-platforms', 'keep the index and every platform (with --format oci)')
    .option('-q, --quiet', 'no progress output')
    .option('--parallel <n>', `blobs downloaded at a time (default ${DEFAULT_PARALLEL})`)
    .addHelpText('after', PULL_EXAMPLES)
    .action(async (image: string, opts: PullCommandOptions) => {
      process.exitCode = await pullCommand(image, opts);
    });
}
