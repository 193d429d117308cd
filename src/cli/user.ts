// `berth user add|remove|passwd|list`: manages the htpasswd file of the configuration
// (auth.htpasswd.path, or --file). Hashes are bcrypt ($2y$, cost 10 unless --cost), written with
// an atomic rewrite; a running berth notices the change on the next login. Passwords come from
// --password-stdin, a hidden prompt on a terminal, or are generated and printed once; they are
// never taken from the command line (it ends up in shell history and `ps`).
import { loadConfig } from '../config/index.ts';
import { DEFAULT_COST, generatePassword, hashPassword, listUsers, readLines, removeUser, setUser, updateFile } from '../auth/htpasswd-edit.ts';
import { checkUserName } from '../auth/htpasswd-format.ts';
import { promptHidden } from '../util/hidden-prompt.ts';

export interface UserCommandOptions {
  config?: string;
  file?: string;
  passwordStdin?: boolean;
  cost?: string;
}

export { USER_EXAMPLES } from './help-texts.ts';

const MIN_PASSWORD = 8;
/** bcrypt ignores everything after 72 bytes: a longer password would only seem stronger. */
const MAX_PASSWORD_BYTES = 72;

class UsageError extends Error {}
/** Ctrl-C or Ctrl-D at a hidden prompt. */
const cancelled = () => new UsageError('cancelled');

export async function userCommand(action: 'add' | 'remove' | 'passwd' | 'list', name: string | undefined, opts: UserCommandOptions): Promise<number> {
  try {
    const path = htpasswdPath(opts);
    if (action === 'list') {
      for (const u of listUsers(await readLines(path))) process.stdout.write(`${u}\n`);
      return 0;
    }
    const user = name ?? '';
    const bad = checkUserName(user);
    if (bad) throw new UsageError(bad);
    if (action === 'remove') {
      let existed = false;
      await updateFile(path, (lines) => {
        const r = removeUser(lines, user);
        existed = r.existed;
        return r.lines;
      });
      if (!existed) throw new UsageError(`no user ${JSON.stringify(user)} in ${path}`);
      process.stdout.write(`removed ${user} from ${path}\n`);
      return 0;
    }
    const exists = listUsers(await readLines(path)).includes(user);
    if (action === 'add' && exists) throw new UsageError(`user ${JSON.stringify(user)} already exists in ${path}; use "berth user passwd ${user}"`);
    if (action === 'passwd' && !exists) throw new UsageError(`no user ${JSON.stringify(user)} in ${path}; use "berth user add ${user}"`);
    const { password, generated } = await obtainPassword(opts);
    const hash = await hashPassword(password, cost(opts.cost));
    await updateFile(path, (lines) => setUser(lines, user, hash).lines);
    if (generated) process.stdout.write(`generated password for ${user} (shown once): ${password}\n`);
    process.stdout.write(`${action === 'add' ? 'added' : 'changed the password of'} ${user} in ${path}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`berth user ${action}: ${(e as Error).message}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

function htpasswdPath(opts: UserCommandOptions): string {
  if (opts.file) return opts.file;
  const configPath = opts.config ?? process.env.REGISTRY_CONFIGURATION_PATH;
  const { config } = loadConfig({ ...(configPath && { path: configPath }), env: process.env });
  const path = config.auth?.htpasswd?.path;
  if (!path) throw new UsageError(`no htpasswd file: ${configPath ? `${configPath} has no auth.htpasswd.path` : 'pass --config <config.yml> (or set REGISTRY_CONFIGURATION_PATH)'}, or --file <htpasswd>`);
  return path;
}

function cost(value: string | undefined): number {
  if (value === undefined) return DEFAULT_COST;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 10 || n > 16) throw new UsageError('--cost must be an integer from 10 to 16');
  return n;
}

async function obtainPassword(opts: UserCommandOptions): Promise<{ password: string; generated: boolean }> {
  let password: string;
  if (opts.passwordStdin) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    // Like docker login --password-stdin: the trailing newline of `echo` is not part of it.
    password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  } else if (process.stdin.isTTY) {
    password = await promptHidden('Password: ', cancelled);
    if ((await promptHidden('Repeat password: ', cancelled)) !== password) throw new UsageError('the passwords do not match');
  } else {
    return { password: generatePassword(), generated: true };
  }
  if (password.length < MIN_PASSWORD) throw new UsageError(`the password must have at least ${MIN_PASSWORD} characters`);
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) throw new UsageError(`the password must not be longer than ${MAX_PASSWORD_BYTES} bytes (bcrypt ignores the rest)`);
  return { password, generated: false };
}
