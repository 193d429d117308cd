// `berth push SOURCE HOST/REPO:TAG`: a docker save tarball, an OCI layout or plain files into any
// registry, without a Docker daemon. The work is in src/transfer/; this is flags and output.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { UsageError } from '../client/usage-error.ts';
import type { Compression } from '../transfer/compression.ts';
import { DEFAULT_PARALLEL } from '../transfer/pool.ts';
import { clientCommand, connect, printJson, runCommand, type ConnectionOptions } from './registry-common.ts';

export interface PushCommandOptions extends ConnectionOptions {
  image?: string;
  artifactType?: string;
  fileType?: string;
  annotation?: string[];
  subject?: string;
  compress?: Compression;
  compressionLevel?: string;
  format?: 'docker' | 'oci';
  parallel?: string;
  quiet?: boolean;
  cache?: boolean;
}

export const PUSH_EXAMPLES = `
SOURCE is detected from its content:
  a docker save tarball (plain or gzipped, docker save | gzip), one or many images (--image)
  an OCI image layout directory, or a tar of one (PATH:REF or --image REF picks an entry)
  with --artifact-type: a file or a directory of files, pushed as an OCI artifact

Layers the registry already has are skipped; ones it holds in another repository are mounted;
the rest are uploaded in parallel and streamed. Re-running an interrupted push continues it.

Examples:
  docker save app:1.0 | gzip > app.tar.gz            # on a machine with docker
  berth push app.tar.gz registry.example.com:5000/team/app:1.0
  berth push all.tar registry.example.com:5000/team/db:15 --image postgres:15
  berth push ./layout:1.0 localhost:5000/app:1.0 --insecure          # OCI layout (skopeo oci:)
  berth push app.tar localhost:5000/app:1.0 --compress zstd --insecure
  berth push ./charts localhost:5000/app/charts:1.0 --artifact-type application/vnd.example.charts --insecure
  berth push sbom.spdx.json localhost:5000/app:sbom --artifact-type application/spdx+json \\
      --subject sha256:... --insecure                                  # attach as a referrer
  berth push app.tar localhost:5000/app:1.0 --json --quiet             # for scripts
`;

export function registerPush(program: Command): void {
  clientCommand(
    program
      .command('push')
      .argument('<source>', 'docker save tarball, OCI layout (dir or tar, PATH[:REF]), or files with --artifact-type')
      .argument('<image>', 'destination HOST[:PORT]/REPO[:TAG]')
      .description('push an image tarball, OCI layout or artifact files to a registry (no Docker daemon needed)'),
  )
    .option('--image <name:tag>', "which image of a multi-image docker archive (or '#N'), or the ref of an OCI layout")
    .addOption(new Option('--compress <kind>', "layer compression (default: gzip for docker archives, as stored for OCI layouts)").choices(['gzip', 'zstd', 'none']))
    .option('--compression-level <n>', 'gzip 1-9 or zstd 1-19')
    .addOption(new Option('--format <format>', 'manifest format for a docker archive (default docker; zstd implies oci)').choices(['docker', 'oci']))
    .option('--artifact-type <type>', 'push SOURCE (a file or directory) as an OCI artifact of this type')
    .option('--file-type <mediaType>', 'media type of artifact files', 'application/octet-stream')
    .option('--annotation <key=value>', 'artifact manifest annotation (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--subject <digest>', 'make the pushed manifest a referrer of this manifest in the same repository')
    .option('--parallel <n>', 'blobs uploaded at once', String(DEFAULT_PARALLEL))
    .option('-q, --quiet', 'no progress output')
    .option('--no-cache', 'do not use or update the local blob-info cache (~/.cache/berth)')
    .addHelpText('after', PUSH_EXAMPLES)
    .action(async (source: string, image: string, opts: PushCommandOptions) => {
      process.exitCode = await pushCommand(source, image, opts);
    });
}

export function pushCommand(source: string, image: string, opts: PushCommandOptions): Promise<number> {
  return runCommand(async () => {
    // The reference parser loads node:crypto (digests): imported when the command runs, not at start-up.
    const { parseImageRef } = await import('../client/image-ref.ts');
    const ref = parseImageRef(image);
    const parallel = Number(opts.parallel ?? DEFAULT_PARALLEL);
    if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) throw new UsageError('--parallel must be 1..64');
    const level = opts.compressionLevel === undefined ? undefined : Number(opts.compressionLevel);
    if (level !== undefined && (!Number.isInteger(level) || level < 0 || level > 19)) throw new UsageError('--compression-level must be an integer (gzip 1-9, zstd 1-19)');
    if (opts.format === 'docker' && opts.compress === 'zstd') throw new UsageError('Docker schema 2 manifests cannot hold zstd layers: use --format oci or --compress gzip');
    const annotations: Record<string, string> = {};
    for (const a of opts.annotation ?? []) {
      const eq = a.indexOf('=');
      if (eq <= 0) throw new UsageError(`--annotation wants KEY=VALUE, got ${a}`);
      annotations[a.slice(0, eq)] = a.slice(eq + 1);
    }
    // Loaded here, not at the top: registerPush runs at every start of the CLI (program.ts).
    const { BlobInfoCache, UploadSessions } = await import('../transfer/blob-cache.ts');
    const { Progress, progressMode } = await import('../transfer/progress.ts');
    const { executePush } = await import('../transfer/push.ts');
    const { planPush } = await import('../transfer/push-sources.ts');
    const progress = new Progress(progressMode(opts));
    const tmp = await mkdtemp(join(tmpdir(), 'berth-push-'));
    try {
      const plan = await planPush(source, {
        image: opts.image,
        artifactType: opts.artifactType,
        compress: opts.compress,
        compressionLevel: level,
        format: opts.format,
        fileType: opts.fileType,
        annotations,
        tmpDir: tmp,
      });
      const client = await connect(ref.host, opts);
      const disabled = opts.cache === false;
      const target = { client, host: ref.host, repo: ref.repo, cache: BlobInfoCache.load(disabled), sessions: new UploadSessions(disabled), progress };
      progress.line(`Pushing ${plan.what} to ${ref.host}/${ref.repo}:${ref.tag ?? ref.digest}`);
      let result;
      try {
        result = await executePush(plan, target, { parallel, reference: ref.digest ?? ref.tag ?? 'latest', subject: opts.subject });
      } catch (e) {
        // Stop the bars on a terminal; no "nothing to move" summary next to the error otherwise.
        // A killed or failed push resumes: blobs already sent are skipped on the next run.
        if (progress.mode === 'tty') progress.finish('push failed; run the same command again to resume');
        throw e;
      }
      progress.finish('push');
      if (opts.json) {
        printJson({ source, destination: `${ref.host}/${ref.repo}:${ref.tag ?? ''}`.replace(/:$/, ''), ...result });
      } else if (progress.mode !== 'quiet') {
        process.stderr.write(`Pushed ${ref.host}/${ref.repo}:${ref.tag ?? ref.digest} (${result.digest})\n`);
      }
      if (!opts.json) process.stdout.write(`${result.digest}\n`);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
}
