// `berth key generate`: an ECDSA P-256 key pair in cosign's format (src/trust/cosign/keys.ts):
// PREFIX.key encrypted under a passphrase (COSIGN_PASSWORD, else a prompt, else stdin), PREFIX.pub.
import type { Command, CommanderError } from 'commander';
import { runCommand } from './registry-common.ts';

export const KEY_EXAMPLES = `
Examples:
  berth key generate                                   # cosign.key and cosign.pub, asks for a password
  COSIGN_PASSWORD=... berth key generate --output-key-prefix release

The files are cosign's: cosign, skopeo (--sign-by-sigstore-private-key) and podman's
sigstoreSigned policies read them. An existing file is never overwritten.
`;

export function registerKey(program: Command): void {
  const key = program.command('key').description('signing keys in cosign format');
  key
    .command('generate')
    .option('--output-key-prefix <prefix>', 'write PREFIX.key (encrypted) and PREFIX.pub', 'cosign')
    .description('create an ECDSA P-256 key pair: PREFIX.key (encrypted as cosign does) and PREFIX.pub')
    .addHelpText('after', KEY_EXAMPLES)
    .exitOverride((err: CommanderError) => process.exit(err.exitCode === 0 ? 0 : 2))
    .action(async (opts: { outputKeyPrefix: string }) => {
      process.exitCode = await runCommand(async () => {
        const { readPassphrase } = await import('../trust/cosign/passphrase.ts');
        const { writeCosignKeyFiles } = await import('../trust/cosign/keys.ts');
        const passphrase = await readPassphrase({ confirm: true, what: `${opts.outputKeyPrefix}.key` });
        const files = await writeCosignKeyFiles(opts.outputKeyPrefix, passphrase);
        process.stderr.write(`Private key written to ${files.privateKeyPath}\nPublic key written to ${files.publicKeyPath}\n`);
      });
    });
}
