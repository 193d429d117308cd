// `berth key generate` without COSIGN_PASSWORD, at a terminal: script(1) gives it a pseudo-terminal
// and the test types each answer only once the prompt is on the screen, as a person would. The
// prompt (src/util/hidden-prompt.ts) must show, the typed passphrase must not be echoed, a
// confirmation that differs must be refused with a clear message (and no key written), and a
// matching one must write an encrypted key that `berth sign` then opens with that passphrase.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hasCommand, repoRoot, startBerth, tempDir, type RunningServer } from '../helpers/processes.ts';
import { berthCli, client, pushRandomImage } from '../cli/helpers.ts';

const PASSPHRASE = 'Typed-at-the-Terminal-42';
const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

interface Session {
  /** Waits until the screen (everything written to the terminal so far) matches, then types `line` and Enter. */
  answer(prompt: RegExp, line: string): Promise<void>;
  /** The exit code and the whole screen. */
  done: Promise<{ code: number; screen: string }>;
}

/** `berth key generate --output-key-prefix PREFIX` on a pseudo-terminal, COSIGN_PASSWORD unset. */
function generateOnTerminal(prefix: string, home: string): Session {
  const cmd = ['env', '-u', 'COSIGN_PASSWORD', process.execPath, '--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'key', 'generate', '--output-key-prefix', prefix]
    .map(quote)
    .join(' ');
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: repoRoot, env: { ...process.env, HOME: home, TERM: 'dumb' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (b: Buffer) => {
    screen += b.toString('utf8');
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.on('data', (b: Buffer) => (screen += b.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<{ code: number; screen: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      for (const w of waiters.splice(0)) w();
      resolve({ code: code ?? -1, screen: stripAnsi(screen) });
    });
  });
  let seen = 0; // answer each prompt once: the next wait looks only at what came after
  return {
    async answer(prompt, line) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const m = prompt.exec(screen.slice(seen));
        if (m) {
          seen += m.index + m[0].length;
          break;
        }
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no prompt ${prompt} on the terminal:\n${screen}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
      // The prompt is written just before the terminal goes to raw mode (no echo); give it a moment.
      await new Promise((r) => setTimeout(r, 100));
      child.stdin.write(`${line}\r`);
    },
    done,
  };
}

describe('berth key generate asks for the passphrase on a terminal', { skip: !hasCommand('script') && 'script(1) missing' }, () => {
  let work: { path: string; cleanup(): Promise<void> };
  let server: RunningServer;

  before(async () => {
    work = await tempDir('key-prompt');
    server = await startBerth();
  });
  after(async () => {
    await server?.stop();
    await work?.cleanup();
  });

  it('refuses a confirmation that differs, and writes nothing', async () => {
    const prefix = join(work.path, 'mismatch');
    const s = generateOnTerminal(prefix, work.path);
    await s.answer(/Enter password for [^\n]*mismatch\.key: /, PASSPHRASE);
    await s.answer(/Enter password for [^\n]*mismatch\.key again: /, 'Something-Else-42');
    const { code, screen } = await s.done;
    assert.notEqual(code, 0, screen);
    assert.match(screen, /berth: the passwords do not match/);
    assert.ok(!screen.includes(PASSPHRASE), `the passphrase was echoed:\n${screen}`);
    assert.ok(!screen.includes('Something-Else-42'), `the confirmation was echoed:\n${screen}`);
    assert.ok(!existsSync(`${prefix}.key`) && !existsSync(`${prefix}.pub`), 'no key files after a mismatch');
  });

  it('asks twice without echo, writes an encrypted key, and berth sign opens it with that passphrase', async () => {
    const prefix = join(work.path, 'typed');
    const s = generateOnTerminal(prefix, work.path);
    await s.answer(/Enter password for [^\n]*typed\.key: /, PASSPHRASE);
    await s.answer(/Enter password for [^\n]*typed\.key again: /, PASSPHRASE);
    const { code, screen } = await s.done;
    assert.equal(code, 0, screen);
    assert.ok(!screen.includes(PASSPHRASE), `the passphrase was echoed:\n${screen}`);
    assert.match(screen, /Private key written to .*typed\.key/);
    assert.match(screen, /Public key written to .*typed\.pub/);
    const key = await readFile(`${prefix}.key`, 'utf8');
    assert.match(key, /^-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n/);
    assert.ok(!key.includes(PASSPHRASE));

    const c = await client(server.host);
    const img = await pushRandomImage(c, 'prompt/app', 'v1');
    const env = { HOME: work.path, DOCKER_CONFIG: join(work.path, 'docker') };
    const ref = `${server.host}/prompt/app:v1`;
    const wrong = await berthCli({ ...env, COSIGN_PASSWORD: 'not-the-passphrase' })(['sign', ref, '--key', `${prefix}.key`, '--insecure']);
    assert.notEqual(wrong.code, 0, 'a wrong passphrase does not open the key');
    const signed = await berthCli({ ...env, COSIGN_PASSWORD: PASSPHRASE })(['sign', ref, '--key', `${prefix}.key`, '--insecure', '--json']);
    assert.equal(signed.code, 0, signed.stderr);
    assert.equal((JSON.parse(signed.stdout) as { digest: string }).digest, img.digest);
    const verified = await berthCli(env)(['verify', ref, '--key', `${prefix}.pub`, '--insecure']);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  });
});
