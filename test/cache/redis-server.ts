// A throwaway redis-server for the cache tests, on a free loopback port, without persistence.
// It can be SIGKILLed, stopped (SIGSTOP) and restarted on the same port to play an outage.
// Without redis-server the tests fail with a clear message unless BERTH_SKIP_REDIS=1 is set.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import type { RedisConfig } from '../../src/config/types.ts';
import { freePort, stopProcess, tempDir } from '../helpers/processes.ts';

/** A reason to skip, only when the caller opted out explicitly. */
export function redisSkip(): string | false {
  return process.env.BERTH_SKIP_REDIS === '1' ? 'BERTH_SKIP_REDIS=1' : false;
}

function requireRedisServer(): void {
  if (spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('redis-server not found on PATH: install the Debian package `redis-server`, or set BERTH_SKIP_REDIS=1 to skip the Redis cache tests');
  }
}

export interface RedisServer {
  port: number;
  addr: string;
  /** A connection for the test itself (INFO, KEYS, GET), reconnecting after restarts. */
  admin: Redis;
  /** SIGKILL: the server is gone, with everything it held. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty). */
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: the connection stays open but nothing answers. */
  /** SIGSTOP; resolves once redis is stopped. */
  pause(): Promise<void>;
  resume(): void;
  /** A field of INFO stats, e.g. keyspace_hits. */
  stat(name: string): Promise<number>;
  stop(): Promise<void>;
}

export async function startRedis(opts: { port?: number; args?: string[] } = {}): Promise<RedisServer> {
  requireRedisServer();
  const port = opts.port ?? (await freePort());
  const dir = await tempDir('berth-redis');
  let child: ChildProcess | undefined;
  let watchdog: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = '';
  const password = opts.args?.includes('--requirepass') ? opts.args[opts.args.indexOf('--requirepass') + 1] : undefined;

  const start = async (): Promise<void> => {
    log = '';
    const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir.path, ...(opts.args ?? [])], { stdio: ['pipe', 'pipe', 'pipe'] });
    watchdog = c.pid ? startWatchdog(c.pid) : undefined;
    c.stdout!.on('data', (b: Buffer) => (log += b.toString()));
    c.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    child = c;
    exited = new Promise((r) => c.once('exit', () => r()));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, ...(password !== undefined && { password }) });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        /* not up yet */
      } finally {
        probe.disconnect();
      }
      if (c.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on ${port}:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await start();
  const admin = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => 50, ...(password !== undefined && { password }) });
  admin.on('error', () => undefined);

  const kill = async () => {
    // The watchdog goes first, so it can never signal a pid reused later.
    watchdog?.kill('SIGKILL');
    child?.kill('SIGKILL');
    await exited;
  };
  return {
    port,
    addr: `127.0.0.1:${port}`,
    admin,
    kill,
    start,
    pause: () => stopProcess(child!.pid!),
    resume: () => child?.kill('SIGCONT'),
    async stat(name) {
      const info = await admin.info('stats');
      const m = new RegExp(`^${name}:(\\d+)`, 'm').exec(info);
      return m ? Number(m[1]) : NaN;
    },
    async stop() {
      admin.disconnect();
      child?.kill('SIGCONT');
      await kill();
      await dir.cleanup();
    },
  };
}

/**
 * If the test process dies without its `after` hooks, redis-server would outlive it. This helper
 * waits for its stdin, which only ends when our side of the pipe closes, then kills the server.
 */
function startWatchdog(pid: number): ChildProcess {
  const w = spawn('sh', ['-c', 'cat >/dev/null; kill -s KILL "$1" 2>/dev/null', 'berth-redis-watchdog', String(pid)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  w.on('error', () => undefined);
  w.unref();
  (w.stdin as unknown as { unref?: () => void }).unref?.();
  return w;
}

/** The RedisConfig berth builds from `redis: { addr }`, with short timeouts for tests. */
export function redisConfig(addr: string, overrides: Partial<RedisConfig> = {}): RedisConfig {
  return {
    addr,
    db: 0,
    dialTimeoutMs: 2000,
    readTimeoutMs: 500,
    writeTimeoutMs: 500,
    pool: { maxIdle: 16, maxActive: 64, idleTimeoutMs: 300_000 },
    tls: { enabled: false },
    ...overrides,
  };
}

export interface CapturedLog {
  log: Logger;
  lines: Array<{ level: string; msg: string; [k: string]: unknown }>;
  /** Lines at `level` whose message contains `text`. */
  count(level: string, text: string): number;
}

/** A pino logger that keeps its lines in memory. */
export function capturedLog(level: pino.LevelWithSilent = 'info'): CapturedLog {
  const lines: CapturedLog['lines'] = [];
  const log = pino({ level, formatters: { level: (label) => ({ level: label }) } }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines, count: (lvl, text) => lines.filter((l) => l.level === lvl && l.msg.includes(text)).length };
}
