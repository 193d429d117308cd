// A throwaway one-node Ceph cluster with a RADOS Gateway on loopback, for testing the S3 driver
// against a real S3 implementation. Everything (config, monitor and OSD data, sockets, logs) lives
// in one temp dir; nothing touches /etc/ceph or /var/lib/ceph. The OSD keeps objects in memory
// (memstore), so a cluster starts in seconds and costs ~250 MB plus the data stored.
//
// Settings found by trying on Debian's Ceph 16 (pacific):
//   - auth none everywhere; the gateway additionally needs `auth client required = none` and
//     `ms mon client mode = crc` in its own section, or it retries cephx forever (error -13);
//   - one replica (`osd pool default size = 1`, `mon allow pool size one`) and
//     `osd crush chooseleaf type = 0`, so placement groups become active with a single OSD;
//   - small pg counts, so the gateway's seven pools stay under the per-OSD PG limit.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort, hasCommand, run, tempDir } from './processes.ts';

export interface CephCluster {
  /** http://127.0.0.1:PORT of the RADOS Gateway. */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  dir: string;
  /** Tail of the daemons' logs, for failure messages. */
  logs(): Promise<string>;
  /** Kills the daemons and removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * An S3 client for the gateway, as a test's own admin tool (buckets, object checks). Checksums
 * only when required: with the SDK's default, bodies go out aws-chunked, which the gateway refuses.
 */
export function cephS3Client(c: CephCluster): S3Client {
  return new S3Client({
    region: c.region,
    endpoint: c.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: c.accessKey, secretAccessKey: c.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export interface CephOptions {
  /** Capacity of the in-memory OSD. Default 2 GiB (only what is stored uses memory). */
  memstoreBytes?: number;
  /** Time allowed for the whole start. Default 120 s. */
  timeoutMs?: number;
}

const BINARIES = ['monmaptool', 'ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'ceph'];

/** Throws (never skips) when Ceph is absent: CI installs it, and a silently skipped suite proves nothing. */
export function assertCephInstalled(): void {
  const missing = BINARIES.filter((b) => !hasCommand(b));
  if (missing.length) {
    throw new Error(
      `Ceph is not installed (missing: ${missing.join(', ')}). The S3 driver tests run against a real RADOS Gateway: ` +
        'apt-get install ceph-mon ceph-osd radosgw ceph-common, or set BERTH_SKIP_CEPH=1 to skip them.',
    );
  }
}

function config(dir: string, fsid: string, monPort: number, rgwPort: number, memstoreBytes: number): string {
  return `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
ms mon client mode = crc
osd objectstore = memstore
memstore device bytes = ${memstoreBytes}
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
osd crush chooseleaf type = 0
run dir = ${dir}/run
admin socket = ${dir}/run/$cluster-$name.asok
log file = ${dir}/log/$cluster-$name.log
mon data = ${dir}/mon/$cluster-$id
osd data = ${dir}/osd/$cluster-$id
keyring = ${dir}/keyring

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw data = ${dir}/rgw
auth client required = none
ms mon client mode = crc
`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * If the test process dies without calling stop() (CI timeout, Ctrl-C), the daemons would keep
 * their memory forever. This detached shell waits for its stdin to close (our end of the pipe dies
 * with us), then kills every process group listed in <dir>/pids and removes the dir.
 */
function startWatchdog(dir: string): ChildProcess {
  const script = 'cat >/dev/null; for p in $(cat "$1/pids" 2>/dev/null); do kill -s KILL -- "-$p" 2>/dev/null; done; rm -rf "$1"';
  const w = spawn('sh', ['-c', script, 'berth-ceph-watchdog', dir], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  w.on('error', () => undefined);
  w.unref();
  (w.stdin as unknown as { unref?: () => void }).unref?.();
  return w;
}

interface Daemon {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
  isRunning(): boolean;
  output(): string;
}

async function startDaemon(dir: string, name: string, cmd: string, args: string[]): Promise<Daemon> {
  // Foreground (-f) so we own the pid; detached so it leads a process group we can kill as a whole.
  const child = spawn(cmd, [...args, '-f'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString('utf8')).slice(-8192);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let running = true;
  const exited = new Promise<void>((r) => {
    child.once('exit', () => {
      running = false;
      r();
    });
    child.once('error', (e) => {
      keep(Buffer.from(`[spawn error] ${e.message}\n`));
      if (!child.pid) {
        running = false;
        r();
      }
    });
  });
  if (child.pid) await appendFile(join(dir, 'pids'), `${child.pid}\n`);
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  return { name, child, exited, isRunning: () => running, output: () => out };
}

async function stopDaemon(d: Daemon): Promise<void> {
  if (!d.isRunning() || !d.child.pid) return;
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-d.child.pid!, signal);
    } catch {
      /* already gone */
    }
  };
  kill('SIGTERM');
  const timer = setTimeout(() => kill('SIGKILL'), 5000);
  await d.exited;
  clearTimeout(timer);
  d.child.stdout?.destroy();
  d.child.stderr?.destroy();
}

async function logTails(dir: string, daemons: Daemon[]): Promise<string> {
  const parts: string[] = [];
  for (const d of daemons) if (d.output().trim()) parts.push(`--- ${d.name} output ---\n${d.output()}`);
  const logDir = join(dir, 'log');
  for (const f of await readdir(logDir).catch(() => [] as string[])) {
    const text = await readFile(join(logDir, f), 'utf8').catch(() => '');
    parts.push(`--- ${f} (tail) ---\n${text.split('\n').slice(-25).join('\n')}`);
  }
  return parts.join('\n');
}

/** Polls the gateway with a signed request until it answers as the test user. */
async function waitForGateway(endpoint: string, accessKey: string, secretKey: string, deadline: number, alive: () => string | undefined): Promise<void> {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
    maxAttempts: 1,
    requestHandler: { requestTimeout: 2000, connectionTimeout: 1000 },
  });
  let last = '';
  try {
    for (;;) {
      const dead = alive();
      if (dead) throw new Error(`${dead} exited during start`);
      try {
        await client.send(new ListBucketsCommand({}));
        return;
      } catch (e) {
        last = (e as Error).name || String(e);
      }
      if (Date.now() > deadline) throw new Error(`the RADOS Gateway at ${endpoint} did not answer in time (last error: ${last})`);
      await sleep(250);
    }
  } finally {
    client.destroy();
  }
}

function keysFrom(userJson: string): { accessKey: string; secretKey: string } {
  const parsed = JSON.parse(userJson.slice(userJson.indexOf('{'))) as { keys?: { access_key?: string; secret_key?: string }[] };
  const key = parsed.keys?.[0];
  if (!key?.access_key || !key.secret_key) throw new Error('radosgw-admin user create printed no S3 keys');
  return { accessKey: key.access_key, secretKey: key.secret_key };
}

export async function startCeph(opts: CephOptions = {}): Promise<CephCluster> {
  assertCephInstalled();
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  const remaining = () => Math.max(1000, deadline - Date.now());
  const tmp = await tempDir('berth-ceph');
  const dir = tmp.path;
  const daemons: Daemon[] = [];
  const watchdog = startWatchdog(dir);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      watchdog.kill('SIGKILL'); // first, so it can never signal a process group id reused later
      for (const d of [...daemons].reverse()) await stopDaemon(d);
      await tmp.cleanup();
    })());

  try {
    for (const d of ['mon', 'osd', 'run', 'log', 'rgw']) await mkdir(join(dir, d), { recursive: true });
    const [monPort, rgwPort] = [await freePort(), await freePort()];
    const fsid = randomUUID();
    const conf = join(dir, 'ceph.conf');
    await writeFile(conf, config(dir, fsid, monPort, rgwPort, opts.memstoreBytes ?? 2 * 1024 ** 3));
    const c = ['-c', conf, '--cluster', 'ceph'];

    const monmap = join(dir, 'monmap');
    await run('monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, monmap], { timeoutMs: remaining() });
    await run('ceph-mon', [...c, '--id', 'a', '--mkfs', '--monmap', monmap], { timeoutMs: remaining() });
    daemons.push(await startDaemon(dir, 'ceph-mon', 'ceph-mon', [...c, '--id', 'a']));

    const osdUuid = randomUUID();
    const osdId = (await run('ceph', [...c, '--id', 'admin', '--connect-timeout', '30', 'osd', 'new', osdUuid], { timeoutMs: remaining() })).stdout.trim();
    if (!/^\d+$/.test(osdId)) throw new Error(`ceph osd new answered ${JSON.stringify(osdId)}`);
    await mkdir(join(dir, 'osd', `ceph-${osdId}`), { recursive: true });
    await run('ceph-osd', [...c, '--id', osdId, '--mkfs', '--osd-uuid', osdUuid], { timeoutMs: remaining() });
    daemons.push(await startDaemon(dir, 'ceph-osd', 'ceph-osd', [...c, '--id', osdId]));
    daemons.push(await startDaemon(dir, 'radosgw', 'radosgw', [...c, '--id', 'rgw.a']));

    // The gateway generates the keys (random per cluster, so a test can prove the secret never shows
    // up in errors); taking them from its output keeps them out of command lines and their errors.
    // This blocks until the OSD is up and the gateway's pools exist.
    const created = await run('radosgw-admin', [...c, '--id', 'rgw.a', 'user', 'create', '--uid', 'berth', '--display-name', 'berth tests'], { timeoutMs: remaining() });
    const { accessKey, secretKey } = keysFrom(created.stdout);
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    await waitForGateway(endpoint, accessKey, secretKey, deadline, () => daemons.find((d) => !d.isRunning())?.name);
    return { endpoint, accessKey, secretKey, region: 'us-east-1', dir, logs: () => logTails(dir, daemons), stop };
  } catch (e) {
    const logs = await logTails(dir, daemons);
    await stop();
    throw new Error(`could not start a Ceph test cluster: ${(e as Error).message}\n${logs}`);
  }
}
