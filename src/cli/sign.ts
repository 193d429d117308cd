// `berth sign IMAGE --key cosign.key`: a cosign signature of the image, stored where cosign stores
// it (the sha256-<hex>.sig tag, and with --referrer an OCI 1.1 referrer), on any registry.
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../client/usage-error.ts';
import { clientCommand, connect, printJson, repeatable, runCommand, type ConnectionOptions } from './registry-common.ts';

export interface SignCommandOptions extends ConnectionOptions {
  key: string;
  referrer?: boolean;
  tag: boolean;
  annotation: string[];
}

export const SIGN_EXAMPLES = `
Examples:
  berth sign registry.example.com/team/app:1.0 --key cosign.key
  COSIGN_PASSWORD=... berth sign localhost:5000/app@sha256:... --key cosign.key --referrer
  berth sign localhost:5000/app:1.0 --key cosign.key -a build=1234 --json

The payload and the layout are cosign's ("cosign verify --key cosign.pub" accepts them); the
password comes from COSIGN_PASSWORD, else a prompt, else standard input.
`;

export function signCommand(image: string, opts: SignCommandOptions): Promise<number> {
  return runCommand(async () => {
    // The reference parser loads node:crypto (digests): imported when the command runs, not at start-up.
    const { parseImageRef } = await import('../client/image-ref.ts');
    const ref = parseImageRef(image);
    const annotations: Record<string, string> = {};
    for (const a of opts.annotation ?? []) {
      const i = a.indexOf('=');
      if (i <= 0) throw new UsageError(`--annotation needs KEY=VALUE, got ${a}`);
      annotations[a.slice(0, i)] = a.slice(i + 1);
    }
    if (opts.tag === false && !opts.referrer) throw new UsageError('--no-tag leaves nowhere to store the signature: add --referrer');
    const { decryptPrivateKey } = await import('../trust/cosign/keys.ts');
    const { readPassphrase } = await import('../trust/cosign/passphrase.ts');
    const { signImage } = await import('../trust/cosign/sign.ts');
    const keyText = await readFile(opts.key, 'utf8');
    const privateKey = await decryptPrivateKey(keyText, await readPassphrase({ what: opts.key }));
    const client = await connect(ref.host, opts);
    const result = await signImage(client, ref, privateKey, { tag: opts.tag, referrer: opts.referrer, annotations });
    if (opts.json) return printJson({ image: `${ref.host}/${ref.repo}@${result.digest}`, ...result });
    const at = `${ref.host}/${ref.repo}`;
    process.stdout.write(`Signed ${at}@${result.digest}\n`);
    if (result.tag) {
      const what = result.tag.alreadySigned ? 'already held this signature' : `now holds ${result.tag.layers} signature${result.tag.layers === 1 ? '' : 's'}`;
      process.stdout.write(`  ${at}:${result.tag.name} ${what}\n`);
    }
    if (result.referrer) process.stdout.write(`  referrer ${at}@${result.referrer.digest} (listed through the ${result.referrer.listing === 'api' ? 'referrers API' : 'referrers tag'})\n`);
  });
}

export function registerSign(program: Command): void {
  clientCommand(program.command('sign').argument('<image>', 'HOST[:PORT]/REPO[:TAG|@DIGEST]').description('sign an image with a cosign key (cosign format, any registry)'))
    .requiredOption('--key <file>', 'the encrypted private key (cosign.key, from berth key generate or cosign generate-key-pair)')
    .option('--referrer', 'also store the signature as an OCI 1.1 referrer of the image')
    .option('--no-tag', 'do not write the sha256-<hex>.sig tag (with --referrer)')
    .option('-a, --annotation <key=value>', 'a signed claim in the payload (repeatable)', repeatable, [])
    .addHelpText('after', SIGN_EXAMPLES)
    .action(async (image: string, opts: SignCommandOptions) => {
      process.exitCode = await signCommand(image, opts);
    });
}
