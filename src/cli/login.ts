// `berth login HOST` / `berth logout HOST`: docker's login, verified against the registry before
// anything is stored (a wrong password must not end up in config.json).
import { createInterface } from 'node:readline';
import { eraseCredentials, storeCredentials, UsageError, configPath } from '../client/index.ts';
import { connect, readStdin, runCommand, type ConnectionOptions } from './registry-common.ts';
import { pullConfig, pullConfigText, writeConfigArchive } from './login-archive.ts';

export interface LoginOptions extends ConnectionOptions {
  username?: string;
  passwordStdin?: boolean;
  /** Write ~/.docker as a docker.tar.gz for DC/OS/Mesos (`fetch` URI) instead of storing the login. */
  archive?: string;
  /** Print the config.json (for a secret store) instead of storing the login. */
  printConfig?: boolean;
}

async function prompt(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Hide what is typed: readline echoes through _writeToOutput, which we silence after the question.
  const r = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WritableStream };
  let asked = false;
  r._writeToOutput = (s: string) => {
    if (!asked) r.output.write(s);
  };
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    asked = true;
  });
}

export function loginCommand(host: string, opts: LoginOptions): Promise<number> {
  return runCommand(async () => {
    if (host.includes('/')) throw new UsageError(`login takes a registry host (HOST[:PORT]), not ${host}`);
    let username = opts.username;
    let password: string;
    if (opts.passwordStdin) {
      if (!username) throw new UsageError('--password-stdin needs --username/-u');
      password = await readStdin();
    } else {
      if (!process.stdin.isTTY) throw new UsageError('no terminal to prompt on: use -u USER --password-stdin');
      username ??= (await prompt('Username: ')).trim();
      password = await prompt('Password: ');
    }
    if (!username || !password) throw new UsageError('username and password must not be empty');
    const client = await connect(host, { ...opts, creds: undefined }, { creds: { username, password }, noStoredCredentials: true });
    await client.ping(); // throws on 401: nothing stored
    if (opts.archive || opts.printConfig) {
      // For other machines: this machine's config.json (and its credential helper) stay untouched.
      const config = pullConfig(host, { username, password });
      if (opts.archive) await writeConfigArchive(opts.archive, config);
      if (opts.printConfig) process.stdout.write(pullConfigText(config));
      if (!client.challenged) process.stderr.write(`warning: ${host} does not require authentication\n`);
      process.stderr.write(`Login Succeeded${opts.archive ? ` (written to ${opts.archive}: .docker/config.json)` : ''}\n`);
      return;
    }
    const where = await storeCredentials(host, { username, password });
    if (!client.challenged) process.stderr.write(`warning: ${host} does not require authentication\n`);
    process.stdout.write(`Login Succeeded (stored in ${where})\n`);
  });
}

export function logoutCommand(host: string): Promise<number> {
  return runCommand(async () => {
    const removed = await eraseCredentials(host);
    process.stdout.write(removed ? `Removing login credentials for ${host}\n` : `Not logged in to ${host} (${configPath()})\n`);
  });
}
