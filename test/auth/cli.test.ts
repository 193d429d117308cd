// `berth user add|passwd|remove|list` as a user runs it: the htpasswd file of the config (or
// --file), bcrypt cost 10, atomic rewrites that keep what berth does not manage, passwords from
// stdin or generated (never from the command line), and a running server that follows along.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { repoRoot, run, startBerth, tempDir } from '../helpers/processes.ts';
import { basic } from './harness.ts';

const berth = (args: string[], opts: { input?: string; env?: Record<string, string> } = {}) =>
  run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'user', ...args], { ...opts, allowFail: true });

describe('berth user', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let file: string;
  before(async () => {
    ({ path: dir, cleanup } = await tempDir('berth-user-cli'));
    file = join(dir, 'auth', 'htpasswd');
  });
  after(async () => {
    await cleanup?.();
  });

  it('adds, lists, changes and removes users with bcrypt, keeping the lines it does not manage', async () => {
    const add = await berth(['add', 'alice', '--file', file, '--password-stdin'], { input: 'alice-Pa55word-1\n' });
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /added alice/);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const line = (await readFile(file, 'utf8')).trim();
    assert.match(line, /^alice:\$2y\$10\$[./A-Za-z0-9]{53}$/);
    assert.ok(await bcrypt.compare('alice-Pa55word-1', line.slice(6)), 'the trailing newline of stdin is not part of the password');

    // a file edited by hand: comments, an htpasswd -B entry, an entry berth refuses to use; mode 0640
    await writeFile(file, `# team registry users\n${line}\nbob:${(await bcrypt.hash('bob-Pa55word-22', 4)).replace('$2b$', '$2y$')}\nold:$apr1$x$y\n`);
    await chmod(file, 0o640);
    assert.equal((await berth(['add', 'carol', '--file', file, '--password-stdin', '--cost', '11'], { input: 'carol-Pa55word-3' })).code, 0);
    const text = await readFile(file, 'utf8');
    assert.match(text, /^# team registry users\nalice:.*\nbob:.*\nold:\$apr1\$x\$y\ncarol:\$2y\$11\$/);
    assert.equal((await stat(file)).mode & 0o777, 0o640, 'the mode an admin chose is kept');
    const list = await berth(['list', '--file', file]);
    assert.deepEqual(list.stdout.trim().split('\n'), ['alice', 'bob', 'old', 'carol']);
    assert.doesNotMatch(list.stdout, /\$2/);

    const passwd = await berth(['passwd', 'old', '--file', file, '--password-stdin'], { input: 'old-but-new-Pa55' });
    assert.equal(passwd.code, 0, passwd.stderr);
    assert.match(await readFile(file, 'utf8'), /\nold:\$2y\$10\$/);

    const remove = await berth(['remove', 'bob', '--file', file]);
    assert.equal(remove.code, 0);
    assert.ok(!(await readFile(file, 'utf8')).includes('bob:'), 'bob is gone');
  });

  it('refuses what would go wrong, with exit code 2 and a message that names no password', async () => {
    const cases: Array<[string[], string | undefined, RegExp]> = [
      [['add', 'alice', '--file', file, '--password-stdin'], 'another-Pa55word', /already exists.*berth user passwd alice/],
      [['passwd', 'nobody', '--file', file, '--password-stdin'], 'another-Pa55word', /no user "nobody".*berth user add nobody/],
      [['remove', 'nobody', '--file', file], undefined, /no user "nobody"/],
      [['add', 'dave', '--file', file, '--password-stdin'], 'short', /at least 8 characters/],
      [['add', 'dave', '--file', file, '--password-stdin'], 'x'.repeat(80), /not be longer than 72 bytes/],
      [['add', 'da:ve', '--file', file, '--password-stdin'], 'dave-Pa55word', /must not contain ":"/],
      [['add', 'da ve', '--file', file, '--password-stdin'], 'dave-Pa55word', /spaces or control characters/],
      [['add', 'dave', '--file', file, '--password-stdin', '--cost', '4'], 'dave-Pa55word', /--cost must be an integer from 10 to 16/],
      [['list'], undefined, /no htpasswd file: pass --config/],
    ];
    for (const [args, input, message] of cases) {
      const r = await berth(args, { ...(input !== undefined && { input }), env: { REGISTRY_CONFIGURATION_PATH: '' } });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      if (input) assert.ok(!r.stderr.includes(input) && !r.stdout.includes(input), 'the password was echoed');
    }
  });

  it('generates a password when none is given and there is no terminal, and shows it once', async () => {
    const r = await berth(['add', 'robot', '--file', file]);
    assert.equal(r.code, 0, r.stderr);
    const password = /generated password for robot \(shown once\): (\S+)/.exec(r.stdout)?.[1];
    assert.ok(password && password.length === 32, r.stdout);
    const line = (await readFile(file, 'utf8')).split('\n').find((l) => l.startsWith('robot:'))!;
    assert.ok(await bcrypt.compare(password, line.slice(6)), 'the printed password is the one stored');
  });

  it('edits the file of the config, under a lock: parallel commands lose nothing, and a running berth follows', async () => {
    const htpasswd = join(dir, 'served', 'htpasswd');
    const config = join(dir, 'config.yml');
    await writeFile(config, `version: 0.1\nauth:\n  htpasswd:\n    realm: cli-test\n    path: ${htpasswd}\n`);
    const adds = await Promise.all(['u1', 'u2', 'u3', 'u4'].map((u) => berth(['add', u, '--config', config, '--password-stdin'], { input: `${u}-Pa55word-xyz` })));
    for (const a of adds) assert.equal(a.code, 0, a.stderr);
    const viaEnv = await berth(['list'], { env: { REGISTRY_CONFIGURATION_PATH: config } });
    assert.deepEqual(viaEnv.stdout.trim().split('\n').sort(), ['u1', 'u2', 'u3', 'u4']);

    const server = await startBerth({ configYaml: `auth:\n  htpasswd: {realm: cli-test, path: ${htpasswd}}\n` });
    try {
      const ping = (u: string, p: string) => fetch(`${server.url}/v2/`, { headers: { Authorization: basic(u, p) } }).then((r) => r.status);
      assert.equal(await ping('u1', 'u1-Pa55word-xyz'), 200);
      assert.equal((await berth(['passwd', 'u1', '--config', config, '--password-stdin'], { input: 'u1-Changed-Pa55' })).code, 0);
      assert.equal(await ping('u1', 'u1-Pa55word-xyz'), 401);
      assert.equal(await ping('u1', 'u1-Changed-Pa55'), 200);
      assert.equal((await berth(['remove', 'u2', '--config', config])).code, 0);
      assert.equal(await ping('u2', 'u2-Pa55word-xyz'), 401);
      for (const secret of ['u1-Pa55word-xyz', 'u1-Changed-Pa55', 'u2-Pa55word-xyz']) assert.ok(!server.logs().includes(secret), 'a password reached the server output');
    } finally {
      await server.stop();
    }
  });
});
