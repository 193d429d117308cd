// GnuPG for the trust tests: a throwaway GNUPGHOME with passphrase-less Ed25519 signing keys made
// by the real `gpg`, each exported (binary, as `gpg --export` writes it) for `signedBy` policies
// and `berth verify --gpg-keyring`.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../helpers/processes.ts';

export interface GpgKey {
  fingerprint: string;
  /** `gpg --export FINGERPRINT` in a file. */
  exported: string;
}

export interface GpgHome {
  home: string;
  env: Record<string, string>;
  generate(name: string): Promise<GpgKey>;
  /** Stops the gpg-agent this home started. */
  close(): Promise<void>;
}

export async function gpgHome(dir: string): Promise<GpgHome> {
  const home = join(dir, 'gnupg');
  await mkdir(home, { recursive: true, mode: 0o700 });
  const env = { GNUPGHOME: home };
  const gpg = (...args: string[]) => run('gpg', ['--batch', '--no-tty', ...args], { env, timeoutMs: 60_000 });
  return {
    home,
    env,
    async generate(name: string): Promise<GpgKey> {
      const uid = `${name} <${name}@berth.test>`;
      await gpg('--passphrase', '', '--pinentry-mode', 'loopback', '--quick-gen-key', uid, 'ed25519', 'sign', 'never');
      const listed = (await gpg('--with-colons', '--list-secret-keys', uid)).stdout;
      const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(listed)?.[1];
      if (!fingerprint) throw new Error(`no fingerprint for ${uid} in:\n${listed}`);
      const exported = join(dir, `${name}.gpg`);
      await gpg('--yes', '--output', exported, '--export', fingerprint);
      return { fingerprint, exported };
    },
    async close() {
      await run('gpgconf', ['--kill', 'gpg-agent'], { env, allowFail: true });
    },
  };
}

/** A containers policy.json: `signedBy` a GPG key for `scope` (a registry or repository), everything else accepted. */
export async function signedByPolicy(path: string, scope: string, keyPath: string): Promise<string> {
  const policy = {
    default: [{ type: 'insecureAcceptAnything' }],
    transports: { docker: { [scope]: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath }] } },
  };
  await writeFile(path, JSON.stringify(policy, null, 2));
  return path;
}
