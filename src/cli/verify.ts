// `berth verify IMAGE --key cosign.pub [--gpg-keyring FILE]`: exit 0 when a signature of the
// image verifies with a given key (cosign signatures from the .sig tag and OCI referrers; GPG
// simple signatures from the registry's signatures extension), 1 with the reasons otherwise.
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../client/usage-error.ts';
import { clientCommand, connect, printJson, runCommand, type ConnectionOptions } from './registry-common.ts';

export interface VerifyCommandOptions extends ConnectionOptions {
  key?: string;
  gpgKeyring?: string;
}

export const VERIFY_EXAMPLES = `
Examples:
  berth verify registry.example.com/team/app:1.0 --key cosign.pub
  berth verify localhost:5000/app:1.0 --gpg-keyring release.gpg          # signatures skopeo --sign-by stored
  berth verify localhost:5000/app@sha256:... --key cosign.pub --json

--gpg-keyring takes public keys as "gpg --export KEY > FILE" writes them (binary or --armor).
A GPG signature must name the image as it is given here (containers/image's default identity rule:
the same repository, and the same tag when verifying by tag).
Exit codes: 0 a signature verified, 1 none did (or an error), 2 usage.
`;

export function verifyCommand(image: string, opts: VerifyCommandOptions): Promise<number> {
  return runCommand(async () => {
    if (!opts.key && !opts.gpgKeyring) throw new UsageError('give --key (a cosign public key) and/or --gpg-keyring (GPG public keys)');
    // The reference parser loads node:crypto (digests): imported when the command runs, not at start-up.
    const { manifestRef, parseImageRef } = await import('../client/image-ref.ts');
    const ref = parseImageRef(image);
    const publicKey = opts.key ? (await import('../trust/cosign/keys.ts')).readPublicKey(await readFile(opts.key, 'utf8')) : undefined;
    const gpg = opts.gpgKeyring ? await import('../trust/signatures/find.ts') : undefined;
    const gpgKeys = opts.gpgKeyring ? await (await import('../trust/signatures/gpg.ts')).readGpgKeys(await readFile(opts.gpgKeyring), opts.gpgKeyring) : undefined;
    const client = await connect(ref.host, opts);
    const { headManifest } = await import('../client/manifests.ts');
    const head = await headManifest(client, ref.repo, manifestRef(ref));
    if (!head) throw new Error(`${image}: manifest not found`);
    const digest = head.digest;
    const at = `${ref.host}/${ref.repo}@${digest}`;

    const cosign = publicKey ? await (await import('../trust/cosign/verify.ts')).findCosignSignatures(client, ref.repo, digest, publicKey) : undefined;
    const identity = { repository: `${ref.host}/${ref.repo}`, ...(ref.digest ? { digest: ref.digest } : { tag: ref.tag }) };
    const simple = gpg && gpgKeys ? await gpg.findSimpleSignatures(client, ref.repo, gpgKeys, { digest, identity }) : undefined;
    const signatures = [...(cosign?.signatures ?? []), ...(simple?.signatures ?? [])];
    const verified = signatures.some((s) => s.ok);

    if (opts.json) {
      printJson({
        image: at,
        verified,
        ...(cosign && { cosign: { tag: cosign.tag, referrers: cosign.referrers } }),
        ...(simple && { gpg: { extension: simple.extension } }),
        signatures,
      });
      return verified ? 0 : 1;
    }
    const describe = (s: (typeof signatures)[number]) =>
      s.kind === 'cosign'
        ? `cosign signature (${s.source === 'tag' ? `tag ${cosign!.tag.name}` : `referrer ${s.manifest}`})`
        : `GPG signature ${s.name}${s.fingerprint ? ` by ${s.fingerprint}` : s.keyId ? ` by key ${s.keyId}` : ''}`;
    if (verified) {
      process.stdout.write(`Verified ${at}\n`);
      for (const s of signatures.filter((x) => x.ok)) process.stdout.write(`  ${describe(s)}: ok${s.dockerReference ? `, signed as ${s.dockerReference}` : ''}\n`);
      return 0;
    }
    if (!signatures.length) {
      const looked = [
        ...(cosign ? [`cosign tag ${cosign.tag.name}`, `OCI referrers (${cosign.referrers.listing === 'api' ? 'referrers API' : 'referrers tag'})`] : []),
        ...(simple ? [simple.extension ? 'the signatures extension' : 'no signatures extension on this registry'] : []),
      ];
      process.stderr.write(`berth: no signatures found for ${at} (looked at: ${looked.join(', ')})\n`);
      return 1;
    }
    process.stderr.write(`berth: no signature of ${at} verifies:\n`);
    for (const s of signatures) process.stderr.write(`  ${describe(s)}: ${s.reason}\n`);
    return 1;
  });
}

export function registerVerify(program: Command): void {
  clientCommand(program.command('verify').argument('<image>', 'HOST[:PORT]/REPO[:TAG|@DIGEST]').description('check that a signature of an image verifies with a cosign key or GPG keys'))
    .option('--key <file>', 'a cosign public key (cosign.pub): cosign signatures (the .sig tag and OCI referrers)')
    .option('--gpg-keyring <file>', 'GPG public keys (gpg --export): simple signatures stored in the registry (skopeo --sign-by)')
    .addHelpText('after', VERIFY_EXAMPLES)
    .action(async (image: string, opts: VerifyCommandOptions) => {
      process.exitCode = await verifyCommand(image, opts);
    });
}
