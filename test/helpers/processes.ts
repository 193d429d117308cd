// Process harness shared by interop, differential and benchmark code: free ports, temp dirs,
// and starting/stopping berth or Debian's docker-registry (CNCF Distribution 2.8) on loopback.
// Nothing here registers global hooks: callers own every server they start and must stop() it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

/** Repository root (/work/main), found from this file so tests may run from any cwd. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Asks the kernel for an unused loopback port. Racy by nature, but good enough for tests. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? res(port) : rej(new Error('no port assigned'))));
    });
  });
}

export async function tempDir(prefix: string): Promise<{ path: string; cleanup(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `${prefix.replace(/[^A-Za-z0-9_.-]/g, '_')}-`));
  return { path, cleanup: () => rm(path, { recursive: true, force: true, maxRetries: 3 }) };
}

const commandCache = new Map<string, boolean>();
/** True when `name` is an executable on PATH (used to skip interop tests when a client is absent). */
export function hasCommand(name: string): boolean {
  let found = commandCache.get(name);
  if (found === undefined) {
    found = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore' }).status === 0;
    commandCache.set(name, found);
  }
  return found;
}

/**
 * SIGSTOP, then waits until every thread of `pid` is stopped. The signal is only queued by
 * kill(): on a busy machine a thread of the target can still accept and answer a request for a
 * few milliseconds, which makes "the server stopped answering" tests flaky.
 */
export async function stopProcess(pid: number, ms = 5000): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  const deadline = Date.now() + ms;
  for (;;) {
    const tasks = await readdir(`/proc/${pid}/task`);
    // The state letter follows the parenthesised command name: T (stopped) or t (traced).
    const states = await Promise.all(tasks.map((t) => readFile(`/proc/${pid}/task/${t}/stat`, 'utf8').then((s) => s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3), () => 'T')));
    if (states.every((s) => s === 'T' || s === 't')) return;
    if (Date.now() > deadline) throw new Error(`process ${pid} did not stop (thread states ${states.join('')})`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export interface RunningServer {
  url: string; // http://127.0.0.1:PORT
  host: string; // 127.0.0.1:PORT
  port: number;
  root: string;
  pid: number;
  logs(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartOptions {
  /** Extra YAML, deep-merged over the default config (maps merge, everything else replaces). */
  configYaml?: string;
  env?: Record<string, string>;
  /** Storage root; a temp dir (removed on stop) when omitted. */
  root?: string;
  /** storage.delete.enabled; default true. */
  deleteEnabled?: boolean;
  /**
   * berth only: run the build (bin/berth.js, after `npm run build`) instead of the TypeScript
   * through tsx. Default: what BERTH_TEST_SERVER says (scripts/run-tests.mjs sets it).
   */
  compiled?: boolean;
  /** With `compiled`: how it is started; default bin/berth.js (the bundle), as installed. */
  entry?: 'bin/berth.js' | 'node dist/cli/main.js';
  /** How long to wait for GET /v2/; default 30 s. */
  startTimeoutMs?: number;
  /** Scheme of `url` (https when the config serves TLS); default http. */
  scheme?: 'http' | 'https';
  /** Replaces the plain-HTTP GET /v2/ readiness probe (e.g. for a TLS listener); true once serving. */
  ready?: (port: number) => Promise<boolean>;
}

type Plain = Record<string, unknown>;
const isMap = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

function deepMerge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isMap(v) && isMap(out[k]) ? deepMerge(out[k] as Plain, v) : v;
  }
  return out;
}

function buildConfig(port: number, root: string, opts: StartOptions): string {
  const base: Plain = {
    version: 0.1,
    log: { level: 'warn' },
    storage: { filesystem: { rootdirectory: root }, delete: { enabled: opts.deleteEnabled ?? true } },
    http: { addr: `127.0.0.1:${port}` },
  };
  const extra = opts.configYaml ? parse(opts.configYaml) : undefined;
  // Distribution takes exactly one storage driver: a config naming s3 replaces the filesystem default.
  if (isMap(extra) && isMap(extra.storage) && 's3' in extra.storage) delete (base.storage as Plain).filesystem;
  return stringify(isMap(extra) ? deepMerge(base, extra) : base);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function launch(
  name: string,
  command: (configPath: string) => { cmd: string; args: string[]; cwd: string },
  opts: StartOptions,
): Promise<RunningServer> {
  const port = await freePort();
  const work = await tempDir(`${name}-run`);
  const root = opts.root ?? join(work.path, 'storage');
  const configPath = join(work.path, 'config.yml');
  await writeFile(configPath, buildConfig(port, root, opts));

  const { cmd, args, cwd } = command(configPath);
  // Own process group (detached) so stop() also reaches grandchildren (e.g. tsx's esbuild service).
  const child: ChildProcess = spawn(cmd, args, {
    cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const watchdog = child.pid ? startWatchdog(child.pid, work.path) : undefined;
  // A server a failed test forgot to stop must not keep the test process alive (CI would hang):
  // unreferenced, it dies with the watchdog when this process exits.
  child.unref();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  let log = '';
  const MAX_LOG = 1 << 20; // keep the tail only: a chatty server must not eat the test's memory
  const append = (b: Buffer) => {
    log += b.toString('utf8');
    if (log.length > MAX_LOG) log = log.slice(-MAX_LOG);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((r) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      r();
    });
    // A binary that cannot be spawned never emits 'exit'.
    child.once('error', (err) => {
      append(Buffer.from(`\n[spawn error] ${err.message}\n`));
      if (!child.pid) {
        exited = { code: null, signal: null };
        r();
      }
    });
  });

  const host = `127.0.0.1:${port}`;
  const url = `${opts.scheme ?? 'http'}://${host}`;
  let stopped = false;
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (!stopped) {
      stopped = true;
      // The watchdog goes first, so it can never signal a process group id reused later.
      watchdog?.kill('SIGKILL');
      if (!exited && child.pid) {
        killGroup(child.pid, signal);
        const timer = setTimeout(() => child.pid && killGroup(child.pid, 'SIGKILL'), 5000);
        await exitPromise;
        clearTimeout(timer);
      }
      child.stdout?.destroy();
      child.stderr?.destroy();
      await work.cleanup();
    }
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`${name} exited (${exited.code ?? exited.signal}) before answering GET /v2/\n--- logs ---\n${log}`);
    }
    try {
      if (opts.ready) {
        if (await opts.ready(port)) break;
      } else {
        const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.status === 200 || res.status === 401) break; // 401: auth configured via configYaml
      }
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not answer GET ${url}/v2/ within the timeout\n--- logs ---\n${log}`);
    }
    await sleep(100);
  }
  return { url, host, port, root, pid: child.pid!, logs: () => log, stop };
}

/**
 * If the test process dies without running its `after` hooks (killed by a CI timeout, SIGPIPE,
 * Ctrl-C), the server would outlive it. This detached helper reads its stdin, which only ends
 * when our side of the pipe closes, and then takes the server's process group down and removes
 * the run's temp dir (config and default storage; never a caller-given root).
 */
function startWatchdog(pgid: number, workDir: string): ChildProcess {
  // dash's kill wants `-s SIG --` before a negative (process group) id.
  const script = 'cat >/dev/null; kill -s TERM -- "-$1" 2>/dev/null; sleep 5; kill -s KILL -- "-$1" 2>/dev/null; rm -rf "$2"';
  const w = spawn('sh', ['-c', script, 'berth-test-watchdog', String(pgid), workDir], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  w.on('error', () => undefined);
  w.unref();
  (w.stdin as unknown as { unref?: () => void }).unref?.();
  return w;
}

/** Signals the server's whole process group (it was spawned detached, so it leads one). */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

export async function startBerth(opts: StartOptions = {}): Promise<RunningServer> {
  // scripts/run-tests.mjs asks for the server as installed (bin/berth.js and a fresh bundle).
  if (opts.compiled === undefined && process.env.BERTH_TEST_SERVER === 'bundle') opts = { ...opts, compiled: true };
  return launch(
    'berth',
    (config) =>
      opts.compiled && opts.entry === 'node dist/cli/main.js'
        ? { cmd: process.execPath, args: [join(repoRoot, 'dist', 'cli', 'main.js'), 'serve', config], cwd: repoRoot }
        : opts.compiled
        ? { cmd: join(repoRoot, 'bin', 'berth.js'), args: ['serve', config], cwd: repoRoot } // as installed
        : { cmd: process.execPath, args: ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'serve', config], cwd: repoRoot },
    opts,
  );
}

/** Debian's `docker-registry` (CNCF Distribution 2.8.2) with the same storage/http settings. */
export async function startDistribution(opts: StartOptions = {}): Promise<RunningServer> {
  return launch('distribution', (config) => ({ cmd: 'docker-registry', args: ['serve', config], cwd: repoRoot }), opts);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a client command to completion. Rejects (with both output streams in the message) on a
 * non-zero exit unless allowFail, and SIGKILLs it after timeoutMs so a hung client cannot hang CI.
 */
export async function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number; allowFail?: boolean; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? repoRoot,
      env: { ...process.env, ...opts.env },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const r = { code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
      if ((r.code !== 0 || timedOut) && !opts.allowFail) {
        const why = timedOut ? 'timed out' : `exited ${code ?? signal}`;
        reject(new Error(`${cmd} ${args.join(' ')} ${why}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`));
      } else resolvePromise(r);
    });
  });
}

export interface ClientSandbox {
  dir: string;
  /** Env isolating skopeo/podman/buildah/docker from the machine's auth, registries.conf and storage. */
  env: Record<string, string>;
  /** Global flags for podman (vfs storage inside the sandbox, no journald events, no systemd). */
  podmanFlags: string[];
  /** Global flags for buildah (same storage as podmanFlags, so images are shared between them). */
  buildahFlags: string[];
  cleanup(): Promise<void>;
}

/**
 * A throwaway home for container clients. skopeo's blob-info cache is the one thing that cannot
 * be moved when running as root (/var/lib/containers/cache); tests use fresh random content so it
 * never has stale answers for them.
 */
export async function clientSandbox(prefix: string, insecureHosts: string[] = []): Promise<ClientSandbox> {
  const t = await tempDir(prefix);
  const p = (s: string) => join(t.path, s);
  for (const d of ['home', 'tmp', 'docker', 'storage/root', 'storage/run', 'storage/tmp']) await mkdirp(p(d));
  await writeFile(p('auth.json'), '{"auths":{}}\n');
  const regs = insecureHosts.map((h) => `[[registry]]\nlocation = "${h}"\ninsecure = true\n`).join('\n');
  await writeFile(p('registries.conf'), `unqualified-search-registries = []\n\n${regs}`);
  await writeFile(
    p('storage.conf'),
    `[storage]\ndriver = "vfs"\ngraphroot = "${p('storage/root')}"\nrunroot = "${p('storage/run')}"\n`,
  );
  const storage = ['--storage-driver', 'vfs', '--root', p('storage/root'), '--runroot', p('storage/run')];
  return {
    dir: t.path,
    env: {
      HOME: p('home'),
      XDG_CONFIG_HOME: p('home/.config'),
      XDG_DATA_HOME: p('home/.local/share'),
      TMPDIR: p('tmp'),
      REGISTRY_AUTH_FILE: p('auth.json'),
      CONTAINERS_REGISTRIES_CONF: p('registries.conf'),
      CONTAINERS_STORAGE_CONF: p('storage.conf'),
      DOCKER_CONFIG: p('docker'),
    },
    podmanFlags: [...storage, '--tmpdir', p('storage/tmp'), '--events-backend', 'none', '--cgroup-manager', 'cgroupfs'],
    buildahFlags: storage,
    cleanup: t.cleanup,
  };
}

async function mkdirp(path: string): Promise<void> {
  await mkdir(path, { recursive: true });
}
