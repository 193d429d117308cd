// The servers under test: berth and CNCF Distribution through the shared test harness, plus nginx
// as a raw disk-to-socket reference. Every server started here is tracked so that run.ts can stop
// all of them on exit, on error and on Ctrl-C.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  freePort,
  repoRoot,
  startBerth as harnessBerth,
  startDistribution as harnessDistribution,
  type RunningServer,
} from '../test/helpers/processes.ts';

export interface Server extends RunningServer {
  name: string;
}

const running = new Set<Server>();

function track(name: string, s: RunningServer): Server {
  const server: Server = {
    ...s,
    name,
    stop: async (signal?: NodeJS.Signals) => {
      running.delete(server);
      await s.stop(signal);
    },
  };
  running.add(server);
  return server;
}

// Same settings for both registries: filesystem storage under `root`, deletes on, no access log.
const QUIET = 'log: { level: warn, accesslog: { disabled: true } }\n';

export async function startDistribution(root: string): Promise<Server> {
  return track('distribution', await harnessDistribution({ root, configYaml: QUIET, env: { REGISTRY_HTTP_SECRET: 'bench' } }));
}

export type BerthMode = 'compiled' | 'tsx';

/** Compiled JS (after `npm run build`) when dist/ exists, else the TypeScript through tsx. */
export function defaultBerthMode(): BerthMode {
  return existsSync(join(repoRoot, 'dist', 'cli', 'main.js')) ? 'compiled' : 'tsx';
}

/** The newest file under src/ when it is newer than the build in dist/ (a stale `npm run build`). */
export function staleBuild(): string | undefined {
  const built = statSync(join(repoRoot, 'dist', 'cli', 'main.js')).mtimeMs;
  let newest = { path: '', mtime: 0 };
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        const m = statSync(p).mtimeMs;
        if (m > newest.mtime) newest = { path: p, mtime: m };
      }
    }
  };
  walk(join(repoRoot, 'src'));
  return newest.mtime > built ? newest.path.slice(repoRoot.length + 1) : undefined;
}

export async function startBerth(root: string, mode: BerthMode): Promise<Server> {
  return track(
    'berth',
    await harnessBerth({ root, configYaml: QUIET, compiled: mode === 'compiled', env: { NODE_ENV: 'production' }, startTimeoutMs: 60_000 }),
  );
}

/**
 * nginx (one worker, sendfile on) serving `file` at /blob, and discarding request bodies at /sink
 * (an upper bound for what the upload client can push).
 */
export async function startNginx(dir: string, file: string): Promise<Server> {
  const port = await freePort();
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${join(dir, t)};`)
    .join('\n');
  writeFileSync(
    conf,
    `user root;
worker_processes 1;
daemon off;
master_process on;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'logs', 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
${temp}
  server {
    listen 127.0.0.1:${port};
    location = /blob { default_type application/octet-stream; alias ${file}; }
    location = /sink { client_max_body_size 0; return 204; }
    location = / { return 200 "ok\\n"; }
  }
}
`,
  );
  const child = spawn('nginx', ['-p', dir, '-c', conf, '-e', join(dir, 'logs', 'error.log')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let log = '';
  child.stdout!.on('data', (b: Buffer) => (log += b));
  child.stderr!.on('data', (b: Buffer) => (log += b));
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  let done = false;
  child.once('exit', () => (done = true));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!done && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      const t = setTimeout(() => child.pid && tryKill(-child.pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
  };
  const server = track('nginx', { url, host: `127.0.0.1:${port}`, port, root: dir, pid: child.pid!, logs: () => log, stop });
  for (let i = 0; ; i++) {
    if (done) {
      await server.stop();
      throw new Error(`nginx exited early:\n${log}`);
    }
    try {
      const res = await fetch(url + '/', { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      /* not yet */
    }
    if (i > 100) {
      await server.stop();
      throw new Error(`nginx did not answer:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return server;
}

function tryKill(pid: number, sig: NodeJS.Signals) {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop().catch(() => {})));
}
