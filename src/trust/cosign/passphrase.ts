// Where a key's passphrase comes from, as cosign takes it: COSIGN_PASSWORD when set (even empty),
// else a prompt on a terminal (twice when creating a key), else all of standard input.
import { promptHidden } from '../../util/hidden-prompt.ts';

export class PassphraseError extends Error {}
/** Ctrl-C or Ctrl-D at a hidden prompt. */
const cancelled = () => new PassphraseError('cancelled');

export interface PassphraseOptions {
  /** Ask twice and require the same answer (a new key). */
  confirm?: boolean;
  env?: NodeJS.ProcessEnv;
  /** What the prompt names, e.g. "private key". */
  what?: string;
}

export async function readPassphrase(opts: PassphraseOptions = {}): Promise<Buffer> {
  const env = opts.env ?? process.env;
  if (env.COSIGN_PASSWORD !== undefined) return Buffer.from(env.COSIGN_PASSWORD);
  const what = opts.what ?? 'private key';
  if (process.stdin.isTTY) {
    const first = await promptHidden(`Enter password for ${what}: `, cancelled);
    if (opts.confirm && (await promptHidden(`Enter password for ${what} again: `, cancelled)) !== first) throw new PassphraseError('the passwords do not match');
    return Buffer.from(first);
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
