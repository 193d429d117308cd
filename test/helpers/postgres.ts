// A throwaway PostgreSQL 15 server for tests: initdb into a temp dir, pg_ctl start on a free
// loopback port, and an immediate stop that removes everything. initdb refuses to run as root, so
// as root the data dir belongs to the `postgres` user and the binaries run through runuser.
// The default collation is ICU en-US on purpose: it sorts 'a' before 'B' and ignores punctuation,
// so a query that forgets COLLATE "C" fails the byte-order tests instead of passing by luck.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, tempDir } from './processes.ts';

export interface PostgresServer {
  /** postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres (password auth over TCP). */
  url: string;
  password: string;
  port: number;
  /** Creates a fresh database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

const BIN = process.env.BERTH_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** A reason to skip PostgreSQL tests, only when the caller opted out with BERTH_SKIP_POSTGRES=1. */
export function postgresSkip(): string | false {
  return process.env.BERTH_SKIP_POSTGRES === '1' ? 'BERTH_SKIP_POSTGRES=1' : false;
}

function missingBinaries(): string | undefined {
  for (const b of ['initdb', 'pg_ctl']) {
    if (!existsSync(join(BIN, b))) {
      return `PostgreSQL binaries not found (${join(BIN, b)}): install the Debian package \`postgresql\` (15), point BERTH_PG_BIN at its bin directory, or set BERTH_SKIP_POSTGRES=1 to skip these tests`;
    }
  }
  return undefined;
}

const asRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL binary as the `postgres` user when we are root (initdb refuses root). */
function pgCommand(bin: string, args: string[]): { cmd: string; args: string[] } {
  const path = join(BIN, bin);
  return asRoot ? { cmd: 'runuser', args: ['-u', 'postgres', '--', path, ...args] } : { cmd: path, args };
}

function runPg(bin: string, args: string[]): void {
  const { cmd, args: full } = pgCommand(bin, args);
  const r = spawnSync(cmd, full, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${bin} failed (${r.status ?? r.signal ?? r.error?.message}):\n${r.stdout}\n${r.stderr}`);
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0) throw new Error('running as root but there is no `postgres` user to run initdb as');
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function startPostgres(): Promise<PostgresServer> {
  const missing = missingBinaries();
  if (missing) throw new Error(missing);
  const work = await tempDir('berth-pg');
  const data = join(work.path, 'data');
  const sock = join(work.path, 'sock');
  await mkdir(sock);
  const password = randomBytes(12).toString('hex');
  const pwfile = join(work.path, 'pwfile');
  await writeFile(pwfile, `${password}\n`);
  if (asRoot) {
    const { uid, gid } = await postgresIds();
    for (const p of [work.path, sock, pwfile]) await chown(p, uid, gid);
  }
  await chmod(work.path, 0o700);

  const port = await freePort();
  const common = ['-D', data, '-U', 'postgres', '-E', 'UTF8', '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`];
  try {
    runPg('initdb', [...common, '--locale=C.UTF-8', '--locale-provider=icu', '--icu-locale=en-US']);
  } catch {
    // A server built without ICU: byte-order tests then pass with or without COLLATE "C".
    await rm(data, { recursive: true, force: true });
    runPg('initdb', common);
  }
  const opts = `-p ${port} -k ${sock} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  runPg('pg_ctl', ['-D', data, '-l', join(work.path, 'log'), '-w', '-t', '60', '-o', opts, 'start']);
  const watchdog = startWatchdog(data, work.path);

  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    url,
    password,
    port,
    async createDatabase(name: string): Promise<string> {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`create database ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres:${password}@127.0.0.1:${port}/${name}`;
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      watchdog.kill('SIGKILL');
      try {
        runPg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        await work.cleanup();
      }
    },
  };
}

/**
 * pg_ctl daemonizes the server, so a test process killed before its `after` hook would leak it.
 * This detached shell waits for our end of its stdin to close, then stops the server and removes
 * the temp dir.
 */
function startWatchdog(data: string, dir: string): ChildProcess {
  const { cmd, args } = pgCommand('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
  const quoted = [cmd, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = `cat >/dev/null; ${quoted} >/dev/null 2>&1; rm -rf "$1"`;
  const w = spawn('sh', ['-c', script, 'berth-pg-watchdog', dir], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  w.on('error', () => undefined);
  w.unref();
  (w.stdin as unknown as { unref?: () => void }).unref?.();
  return w;
}
