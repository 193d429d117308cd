// Runs the seeds' walk-throughs as written: each step is a shell command in the document's own form
// (its host names, ports, paths and file names), run by bash after a per-scenario table maps the
// document's values to this run's (a free port for :5000/:443, a temp dir for /opt/data/registry).
// Clients and servers run in a private mount namespace where /etc/hosts, /etc/docker and
// /etc/containers are the scenario's own copies, so `docker.funet8.com` resolves as the document's
// hosts line says and `/etc/docker/certs.d/<host:port>/ca.crt` is where skopeo, podman, the docker
// CLI and berth look for the CA, without touching the machine's files.
// Every command a test runs is recorded in its document form; the cookbook test checks that every
// command on the pages is one of the commands the scenario modules (*.steps.ts) declare, and each
// test's last test case (itRanEveryStep) checks that it ran every command its module declares.
// A scenario may also get its own network namespace (`addresses`): only loopback, with the
// document's own IP addresses on it, so servers bind the document's addresses and ports (443
// included) without touching the machine's network or colliding with anything else running.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { it } from 'node:test';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { repoRoot, run, tempDir, type RunResult } from '../helpers/processes.ts';

export interface Steps {
  /** The seed document (file name under shared/seeds/) and the section the scenario follows. */
  seed: string;
  section: string;
  /** Commands the test runs, in the document's form. */
  run: Record<string, string>;
  /** Commands of the document that cannot run here, with why (the test reports each as skipped). */
  cannotRun: Record<string, string>;
}

const TSX = import.meta.resolve('tsx');
const MAIN = join(repoRoot, 'src', 'cli', 'main.ts');

/** Why the scenarios cannot run here, or false: they need `unshare --mount` (root or CAP_SYS_ADMIN). */
export const namespaceSkip: string | false = (() => {
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind /etc/hosts /etc/hosts'], { stdio: 'ignore' });
  return r.status === 0 ? false : 'needs a private mount namespace (unshare --mount, as root) to give the documents their /etc/hosts and /etc/docker/certs.d';
})();

/** bash prelude: `berth` is this checkout's CLI, `sudo` is a no-op (the tests run as root). */
const PRELUDE = `set -eo pipefail
berth() { node --import '${TSX}' '${MAIN}' "$@"; }
sudo() { "$@"; }
cd ~
`;

const NS = 'set -e; mount --bind "$1" /etc/hosts; mount --bind "$2" /etc/docker; mount --bind "$3" /etc/containers; exec bash -c "$4"';

export interface Service {
  logs(): string;
  stop(): Promise<void>;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class Scenario {
  readonly executed: string[] = [];
  readonly skipped: string[] = [];
  private pairs: [string, string][] = [];
  private services: Service[] = [];

  private constructor(
    readonly work: string,
    readonly home: string,
    private readonly cleanup: () => Promise<void>,
    /** The bind-mounted network namespace every command enters, if the scenario has its own. */
    private readonly netns?: string,
  ) {}

  /**
   * `addresses`: run every command in a network namespace of the scenario's own, with loopback up
   * and these addresses on it (the document's IPs, reachable only from the scenario's commands).
   */
  static async open(name: string, hostsLines: string[] = [], opts: { addresses?: string[] } = {}): Promise<Scenario> {
    const t = await tempDir(`scenario-${name}`);
    const p = (s: string) => join(t.path, s);
    for (const d of ['home', 'tmp', 'run', 'etc/docker/certs.d', 'etc/docker/registry', 'etc/containers/registries.conf.d', 'storage/root', 'storage/run']) await mkdir(p(d), { recursive: true });
    const hosts = await readFile('/etc/hosts', 'utf8');
    await writeFile(p('etc/hosts'), `${hosts.trimEnd()}\n${hostsLines.map((l) => `${l}\n`).join('')}`);
    await copyFile('/etc/containers/policy.json', p('etc/containers/policy.json')).catch(() =>
      writeFile(p('etc/containers/policy.json'), '{"default":[{"type":"insecureAcceptAnything"}]}\n'),
    );
    await writeFile(p('etc/containers/registries.conf'), 'unqualified-search-registries = []\n');
    // podman here: vfs storage inside the scenario, no journald, no systemd (see test-peers notes).
    await writeFile(p('etc/containers/storage.conf'), `[storage]\ndriver = "vfs"\ngraphroot = "${p('storage/root')}"\nrunroot = "${p('storage/run')}"\n`);
    await writeFile(p('etc/containers/containers.conf'), '[engine]\nevents_logger = "none"\ncgroup_manager = "cgroupfs"\n');
    if (!opts.addresses) return new Scenario(t.path, p('home'), t.cleanup);
    const netns = p('netns');
    await writeFile(netns, '');
    const setup = ['ip link set lo up', ...opts.addresses.map((a) => `ip addr add ${a}/32 dev lo`)].join(' && ');
    const made = await run('unshare', [`--net=${netns}`, 'true'], { allowFail: true, cwd: '/' });
    const up = made.code === 0 ? await run('nsenter', [`--net=${netns}`, 'sh', '-c', setup], { allowFail: true, cwd: '/' }) : made;
    const cleanup = async () => {
      await run('umount', [netns], { allowFail: true, cwd: '/' });
      await t.cleanup();
    };
    if (up.code !== 0) {
      await cleanup();
      assert.fail(`cannot give the scenario its own network namespace: ${up.stderr}`);
    }
    return new Scenario(t.path, p('home'), cleanup, netns);
  }

  /** From now on the document's `doc` stands for this run's `actual` (in commands; the reverse in output). */
  map(doc: string, actual: string): this {
    this.pairs.push([doc, actual]);
    return this;
  }

  private static sub(s: string, pairs: [string, string][]): string {
    const sorted = [...pairs].sort((a, b) => b[0].length - a[0].length);
    if (!sorted.length) return s;
    const re = new RegExp(`(?<![\\w.-])(?:${sorted.map(([k]) => escape(k)).join('|')})(?!\\d)`, 'g');
    const table = new Map(sorted);
    return s.replace(re, (m) => table.get(m) ?? m);
  }

  actual(doc: string): string {
    return Scenario.sub(doc, this.pairs);
  }

  doc(actual: string): string {
    return Scenario.sub(
      actual,
      this.pairs.map(([d, a]) => [a, d]),
    );
  }

  get env(): Record<string, string> {
    const p = (s: string) => join(this.work, s);
    return { HOME: this.home, TMPDIR: p('tmp'), XDG_RUNTIME_DIR: p('run'), XDG_CONFIG_HOME: join(this.home, '.config'), DOCKER_CONFIG: '', REGISTRY_AUTH_FILE: '', CONTAINERS_REGISTRIES_CONF: '', CONTAINERS_STORAGE_CONF: '' };
  }

  /** The command and arguments that run `script` in the scenario's namespaces. */
  private nsCommand(script: string): [string, string[]] {
    const p = (s: string) => join(this.work, s);
    const args = ['--mount', '--propagation', 'private', 'bash', '-c', NS, 'scenario-ns', p('etc/hosts'), p('etc/docker'), p('etc/containers'), `${PRELUDE}${script}`];
    return this.netns ? ['nsenter', [`--net=${this.netns}`, 'unshare', ...args]] : ['unshare', args];
  }

  /** True when something accepts TCP connections at host:port, as the scenario's commands see it. */
  async reachable(host: string, port: number): Promise<boolean> {
    const probe = ['bash', '-c', 'exec 3<>"/dev/tcp/$1/$2"', 'probe', host, String(port)];
    const r = this.netns ? await run('nsenter', [`--net=${this.netns}`, ...probe], { allowFail: true, cwd: '/', timeoutMs: 5000 }) : await run(probe[0]!, probe.slice(1), { allowFail: true, cwd: '/', timeoutMs: 5000 });
    return r.code === 0;
  }

  private cleanEnv(): Record<string, string> {
    // Empty means unset for the clients: the scenario's HOME and /etc copies decide.
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.env)) if (v !== '') env[k] = v;
    return env;
  }

  /**
   * Runs commands (document form) in one bash, in order, stopping at the first failure. Returns
   * the output with this run's values mapped back to the document's (`stdout`/`stderr`).
   */
  async sh(commands: string | string[], opts: { allowFail?: boolean; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    const list = Array.isArray(commands) ? commands : [commands];
    this.executed.push(...list);
    const script = list.map((c) => this.actual(c)).join('\n');
    const env = { ...process.env, ...this.cleanEnv() } as Record<string, string>;
    for (const k of ['DOCKER_CONFIG', 'REGISTRY_AUTH_FILE', 'CONTAINERS_REGISTRIES_CONF', 'CONTAINERS_STORAGE_CONF', 'CONTAINERS_CONF']) delete env[k];
    const [cmd, args] = this.nsCommand(script);
    const r = await runClean(cmd, args, { env, input: opts.input, timeoutMs: opts.timeoutMs ?? 120_000 });
    const out = { code: r.code, stdout: this.doc(r.stdout), stderr: this.doc(r.stderr) };
    if (r.code !== 0 && !opts.allowFail) {
      assert.fail(`step failed (exit ${r.code}):\n${list.join('\n')}\n--- stdout ---\n${out.stdout}\n--- stderr ---\n${out.stderr}${this.services.map((s) => `\n--- service ---\n${s.logs().slice(-4000)}`).join('')}`);
    }
    return out;
  }

  /** A command of the document that cannot run here: a skipped sub-test that says why. */
  async cannot(t: TestContext, command: string, why: string): Promise<void> {
    this.skipped.push(command);
    await t.test(`not here: ${command.split('\n')[0]}`, (st) => st.skip(why));
  }

  /** Starts a long-running command (a server) in the background; `ready` probes it from outside. */
  async start(command: string, ready: () => Promise<boolean>, timeoutMs = 30_000): Promise<Service> {
    this.executed.push(command);
    const env = { ...process.env, ...this.cleanEnv() } as Record<string, string>;
    for (const k of ['DOCKER_CONFIG', 'REGISTRY_AUTH_FILE', 'CONTAINERS_REGISTRIES_CONF', 'CONTAINERS_STORAGE_CONF']) delete env[k];
    const [cmd, args] = this.nsCommand(this.actual(command));
    const child: ChildProcess = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    // If this process dies first, the watchdog (which holds the other end of its stdin) takes the group down.
    const dog = spawn('sh', ['-c', 'cat >/dev/null; kill -s TERM -- "-$1" 2>/dev/null; sleep 3; kill -s KILL -- "-$1" 2>/dev/null', 'scenario-watchdog', String(child.pid)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    dog.unref();
    (dog.stdin as unknown as { unref?: () => void }).unref?.();
    child.unref();
    let log = '';
    const append = (b: Buffer) => {
      log = (log + b.toString()).slice(-200_000);
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    (child.stderr as unknown as { unref?: () => void }).unref?.();
    let exited = false;
    const exit = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
    let stopped = false;
    const service: Service = {
      logs: () => this.doc(log),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        dog.kill('SIGKILL');
        if (!exited) {
          try {
            process.kill(-child.pid!, 'SIGTERM');
          } catch {
            /* gone */
          }
          const timer = setTimeout(() => {
            try {
              process.kill(-child.pid!, 'SIGKILL');
            } catch {
              /* gone */
            }
          }, 5000);
          await exit;
          clearTimeout(timer);
        }
      },
    };
    this.services.push(service);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exited) assert.fail(`${command} exited before it was ready:\n${service.logs()}`);
      if (await ready().catch(() => false)) return service;
      if (Date.now() > deadline) {
        await service.stop();
        assert.fail(`${command} was not ready within ${timeoutMs} ms:\n${service.logs()}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  /** Every command of the module ran (or was reported as not runnable here). See itRanEveryStep. */
  assertCovered(steps: Steps): void {
    const ran = new Set(this.executed.map(normalizeCommand));
    const notRun = Object.entries(steps.run).filter(([, c]) => !ran.has(normalizeCommand(c))).map(([k]) => k);
    assert.deepEqual(notRun, [], `declared commands the test never ran: ${notRun.join(', ')}`);
    const skipped = new Set(this.skipped.map(normalizeCommand));
    const unreported = Object.keys(steps.cannotRun).filter((c) => !skipped.has(normalizeCommand(c)));
    assert.deepEqual(unreported, [], 'commands declared not runnable that the test never reported');
  }

  async close(): Promise<void> {
    for (const s of this.services.reverse()) await s.stop();
    await this.cleanup();
  }
}

/**
 * The last test case of a scenario's suite: every command its steps module declares ran, or was
 * reported as not runnable here. A test case, not an `after` hook, so that a miss is counted as a
 * failed test in the run's summary.
 */
export function itRanEveryStep(scenario: () => Scenario | undefined, steps: Steps): void {
  it('ran every command its steps module declares, or reported it as not runnable here', () => {
    const sc = scenario();
    assert.ok(sc, 'the scenario never opened');
    sc.assertCovered(steps);
  });
}

/** run() without the repo's cwd assumption (the scenario's commands `cd ~` themselves). */
function runClean(cmd: string, args: string[], opts: { env: Record<string, string>; input?: string; timeoutMs: number }): Promise<RunResult> {
  return run(cmd, args, { ...opts, allowFail: true, cwd: '/' });
}

// ---------- commands as the pages show them ----------

/**
 * Splits a shell block into commands: `\`-continued lines join into one, a heredoc's body stays
 * with the command that opens it (verbatim), blank lines and whole-line comments are dropped.
 */
export function splitCommands(block: string): string[] {
  const lines = block.replace(/\r\n/g, '\n').split('\n');
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    let line = lines[i++]!;
    if (!line.trim() || line.trim().startsWith('#')) continue;
    while (line.endsWith('\\') && i < lines.length) line = `${line.slice(0, -1).trimEnd()} ${lines[i++]!.trim()}`;
    let cmd = line.trim().replace(/\s+/g, ' ');
    const here = /<<-?\s*'?"?(\w+)'?"?/.exec(line);
    if (here) {
      const body: string[] = [];
      while (i < lines.length && lines[i]!.trim() !== here[1]) body.push(lines[i++]!);
      i++; // the terminator
      cmd = `${cmd}\n${body.join('\n')}\n${here[1]}`;
    }
    out.push(cmd);
  }
  return out;
}

export function normalizeCommand(c: string): string {
  const parts = splitCommands(c);
  return parts.length === 1 ? parts[0]! : parts.join('\n');
}

/** The steps module next to a page: docs/cookbook/NAME.md ↔ test/scenarios/NAME.steps.ts. */
export const scenariosDir = fileURLToPath(new URL('.', import.meta.url));

/** The regular files of a .tar.gz, by entry name. */
export async function readTgz(path: string): Promise<Map<string, Buffer>> {
  const { gunzipSync } = await import('node:zlib');
  const { default: tar } = await import('tar-stream');
  const extract = tar.extract();
  const files = new Map<string, Buffer>();
  extract.end(gunzipSync(await readFile(path)));
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    if (entry.header.type === 'file') files.set(entry.header.name, Buffer.concat(chunks));
  }
  return files;
}
