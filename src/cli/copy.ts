// `berth copy SRC DST`: an image from one registry (or repository) to another, digest preserved:
// the manifest bytes exactly, for an index every platform first; blobs skipped when present,
// mounted within one registry, else streamed source -> destination. `--with-referrers` brings the
// signatures and SBOMs along (the referrers tag schema on registries without the referrers API).
import type { Command } from 'commander';
import type { ImageRef } from '../client/image-ref.ts';
import { UsageError } from '../client/usage-error.ts';
import type { Platform } from '../transfer/platform.ts';
import { DEFAULT_PARALLEL } from '../transfer/pool.ts';
import { clientCommand, connect, printJson, runCommand, type ConnectionOptions } from './registry-common.ts';

export interface CopyCommandOptions extends ConnectionOptions {
  srcInsecure?: boolean;
  destInsecure?: boolean;
  srcCreds?: string;
  destCreds?: string;
  srcCaCert?: string;
  destCaCert?: string;
  quiet?: boolean;
  parallel?: string;
  platform?: string;
  withReferrers?: boolean;
}

export const COPY_EXAMPLES = `
Examples:
  berth copy old.example.com:5000/team/app:1.0 registry.example.com/team/app      # same tag, same digest
  berth copy localhost:5000/app@sha256:... localhost:5000/mirror/app:prod --insecure   # mounts, moves no bytes
  berth copy old:5000/app:1.0 new.example.com/app:1.0 --src-insecure --dest-creds ci:$TOKEN
  berth copy reg:5000/app:1.0 reg2:5000/app:1.0-amd64 --platform linux/amd64 --insecure
  berth copy reg:5000/app:1.0 reg2:5000/app:1.0 --with-referrers --json --insecure  # signatures and SBOMs too

Per side, --src-* and --dest-* override --insecure, --ca-cert and --creds.
`;

/** Whether the destination text names a tag itself (parseImageRef fills in "latest" otherwise). */
function explicitTag(text: string): boolean {
  const noDigest = text.split('@')[0]!;
  const path = noDigest.slice(noDigest.indexOf('/') + 1);
  return path.includes(':');
}

function refText(r: { host: string; repo: string; tag?: string; digest?: string }): string {
  return `${r.host}/${r.repo}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

export function copyCommand(source: string, destination: string, opts: CopyCommandOptions): Promise<number> {
  return runCommand(async () => {
    // The reference parser loads node:crypto (digests): imported when the command runs, not at start-up.
    const { manifestRef, parseImageRef } = await import('../client/image-ref.ts');
    const { parsePlatform } = await import('../transfer/platform.ts');
    const src = parseImageRef(source);
    const parsedDst = parseImageRef(destination);
    // A destination given by digest alone is pushed by digest, as skopeo does: no tag it did not name.
    const dst: ImageRef = { ...parsedDst, tag: explicitTag(destination) ? parsedDst.tag : parsedDst.digest ? undefined : src.tag };
    if (!dst.tag && !dst.digest && !src.digest) throw new UsageError(`no tag for the destination: ${destination}`);
    let parallel = DEFAULT_PARALLEL;
    if (opts.parallel !== undefined) {
      parallel = Number(opts.parallel);
      if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) throw new UsageError(`--parallel must be a whole number from 1 to 64, got ${opts.parallel}`);
    }
    let platform: Platform | undefined;
    if (opts.platform !== undefined) {
      platform = parsePlatform(opts.platform);
    }
    if (dst.digest && platform) throw new UsageError('--platform changes the digest: give the destination as a tag, not a digest');
    if (src.host === dst.host && src.repo === dst.repo && (dst.tag ?? dst.digest) === (src.tag ?? src.digest) && !platform && !opts.withReferrers) {
      throw new UsageError(`source and destination are the same: ${source}`);
    }

    // Loaded here, not at the top: registerCopy runs at every start of the CLI (program.ts).
    const { Copier } = await import('../transfer/copy.ts');
    const { Progress, progressMode } = await import('../transfer/progress.ts');
    const srcClient = await connect(src.host, {
      insecure: opts.srcInsecure || opts.insecure,
      caCert: opts.srcCaCert ?? opts.caCert,
      creds: opts.srcCreds ?? opts.creds,
    });
    const dstClient = await connect(dst.host, {
      insecure: opts.destInsecure || opts.insecure,
      caCert: opts.destCaCert ?? opts.caCert,
      creds: opts.destCreds ?? opts.creds,
    });
    const progress = new Progress(progressMode({ quiet: opts.quiet, json: opts.json }));
    const copier = new Copier({ client: srcClient, host: src.host, repo: src.repo }, { client: dstClient, host: dst.host, repo: dst.repo }, { parallel, progress, platform, withReferrers: opts.withReferrers });
    let result;
    try {
      result = await copier.copy(manifestRef(src), dst.tag, dst.digest);
    } catch (e) {
      // Stop the bars on a terminal; no "copied nothing" summary next to the error otherwise.
      if (progress.mode === 'tty') progress.finish('copy failed');
      throw e;
    }
    progress.finish('copy');
    const destination_ = `${dst.host}/${dst.repo}${dst.tag ? `:${dst.tag}` : `@${result.digest}`}`;
    if (opts.json) {
      return printJson({
        source: refText(src),
        destination: destination_,
        digest: result.digest,
        mediaType: result.mediaType,
        manifests: result.manifests,
        blobs: result.blobs,
        bytes: result.bytes,
        referrers: result.referrers,
        signatures: result.signatures,
      });
    }
    process.stdout.write(`Copied ${refText(src)} -> ${destination_} (${result.digest})\n`);
  });
}

export function registerCopy(program: Command): void {
  clientCommand(
    program
      .command('copy')
      .argument('<source>', 'HOST[:PORT]/REPO[:TAG|@DIGEST]')
      .argument('<destination>', "HOST[:PORT]/REPO[:TAG|@DIGEST] (the tag defaults to the source's; @DIGEST alone pushes by digest, untagged)")
      .description('copy an image between registries or repositories, digest preserved (an index with all its platforms)'),
  )
    .option('--src-insecure', 'plain HTTP for the source registry only')
    .option('--dest-insecure', 'plain HTTP for the destination registry only')
    .option('--src-ca-cert <file>', "the source registry's CA certificate")
    .option('--dest-ca-cert <file>', "the destination registry's CA certificate")
    .option('--src-creds <user:password>', 'credentials for the source registry')
    .option('--dest-creds <user:password>', 'credentials for the destination registry')
    .option('--platform <os/arch[/variant]>', "copy only this platform's manifest out of an index")
    .option('--with-referrers', 'also copy the referrers (signatures, SBOMs, attestations) of every copied manifest')
    .option('--parallel <n>', `blobs transferred at once (default ${DEFAULT_PARALLEL})`)
    .option('-q, --quiet', 'no progress output')
    .addHelpText('after', COPY_EXAMPLES)
    .action(async (source: string, destination: string, opts: CopyCommandOptions) => {
      const code = await copyCommand(source, destination, opts);
      process.exitCode = code;
      // A failed transfer may leave a half-open upload socket behind: do not wait for it.
      if (code !== 0) process.exit(code);
    });
}
