// Where a key's passphrase comes from, as cosign takes it: COSIGN_PASSWORD when set (even empty),
// else a prompt on a terminal (twice when creating a key), else all of standard input.

export class PassphraseError extends Error {}

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
    const first = await promptHidden(`Enter password for ${what}: `);
    if (opts.confirm && (await promptHidden(`Enter password for ${what} again: `)) !== first) throw new PassphraseError('the passwords do not match');
    return Buffer.from(first);
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new PassphraseError('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
