// A throwaway containerd (Debian's) for `ctr` pulls through hosts.toml mirrors: its own root,
// state and socket in a temp dir, the CRI plugin off, stopped with its process group.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hasCommand, run, type RunResult } from '../helpers/processes.ts';

export interface Containerd {
  address: string;
  /** Writes <hostsDir>/<registry>/hosts.toml sending pulls of `registry` to `mirrorUrl`. */
  mirror(registry: string, mirrorUrl: string): Promise<void>;
  /** `ctr images pull` with the hosts dir (plain HTTP as the hosts.toml says), native snapshotter. */
  pull(ref: string, opts?: { allowFail?: boolean }): Promise<RunResult>;
  logs(): string;
  stop(): Promise<void>;
}

export const hasContainerd = (): boolean => hasCommand('containerd') && hasCommand('ctr');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startContainerd(dir: string): Promise<Containerd> {
  const address = join(dir, 'containerd.sock');
  const hostsDir = join(dir, 'hosts');
  await mkdir(hostsDir, { recursive: true });
  const config = join(dir, 'config.toml');
  await writeFile(
    config,
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(dir, 'state')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${address}"`,
      '[ttrpc]',
      `  address = "${address}.ttrpc"`,
      '',
    ].join('\n'),
  );
  let log = '';
  const child: ChildProcess = spawn('containerd', ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.unref();
  for (const s of [child.stdout, child.stderr]) {
    s?.on('data', (b: Buffer) => {
      log = (log + b.toString('utf8')).slice(-200_000);
    });
    (s as unknown as { unref?: () => void } | null)?.unref?.();
  }
  let exited = false;
  child.once('exit', () => (exited = true));
  const ctr = (args: string[], opts: { allowFail?: boolean } = {}) => run('ctr', ['--address', address, '--namespace', 'berth-test', ...args], { timeoutMs: 120_000, ...opts });
  const stop = async () => {
    if (exited || !child.pid) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    for (let i = 0; i < 50 && !exited; i++) await sleep(100);
    if (!exited) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  for (let i = 0; ; i++) {
    if ((await ctr(['version'], { allowFail: true })).code === 0) break;
    if (exited || i > 100) {
      await stop();
      throw new Error(`containerd did not start\n${log}`);
    }
    await sleep(100);
  }
  return {
    address,
    mirror: async (registry, mirrorUrl) => {
      await mkdir(join(hostsDir, registry), { recursive: true });
      // The registry itself is never reached: the mirror answers (no fallback needed on this host).
      await writeFile(join(hostsDir, registry, 'hosts.toml'), `server = "https://${registry}"\n\n[host."${mirrorUrl}"]\n  capabilities = ["pull", "resolve"]\n`);
    },
    pull: (ref, opts = {}) => ctr(['images', 'pull', '--hosts-dir', hostsDir, '--snapshotter', 'native', '--platform', 'linux/amd64', ref], opts),
    logs: () => log,
    stop,
  };
}
