// `cli`: the berth CLI's image transfers against `skopeo copy` on the same images, same registry.
//   push docker save tarball  berth push FILE B/REPO:v1             skopeo copy docker-archive:FILE docker://B/REPO:v1
//   push OCI layout           berth push DIR:v1 B/REPO:v1           skopeo copy oci:DIR:v1 docker://B/REPO:v1
//   pull to docker tarball    berth pull B/SRC:v1 -o OUT.tar        skopeo copy docker://B/SRC:v1 docker-archive:OUT.tar:name:tag
//   pull to OCI layout        berth pull ... --format oci -o DIR    skopeo copy docker://B/SRC:v1 oci:DIR:v1
//   copy registry->registry   berth copy D/SRC:v1 B/REPO:v1         skopeo copy docker://D/SRC:v1 docker://B/REPO:v1
//   copy, large               the same with a blobBytes (1 GiB) image of random gzip layers
// B is the berth server, D distribution. The tarball has plain-tar, compressible ('text') layers,
// so both clients gzip them on push; the layout has gzip layers pushed as they are. The image that
// is pulled and copied is that tarball, pushed once beforehand (by skopeo) to B and to D.
//
// Fairness: every invocation gets a fresh home. skopeo runs as in skopeo-copy.ts (as nobody, fresh
// XDG dirs, so its blob-info cache cannot turn uploads into mounts); berth gets a fresh empty
// BERTH_CACHE_DIR, HOME and DOCKER_CONFIG for the same reason. Pushes and copies go to fresh
// repository names per run, `sync` runs before each timed transfer, the two clients alternate which
// goes first from one rep to the next, and the value is the median of ctx.sizes.reps runs.
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MEDIA, makeDockerArchive, makeOciLayout } from '../test/helpers/images.ts';
import { repoRoot } from '../test/helpers/processes.ts';
import { log, median, run } from './client.ts';
import { MiB, type Bench, type Ctx } from './context.ts';
import type { Row } from './report.ts';
import type { Server } from './servers.ts';
import { skopeoRunner } from './skopeo-copy.ts';

type Who = 'berth' | 'skopeo';
type Exec = (args: string[]) => Promise<string>;

const ACCEPT = [MEDIA.ociManifest, MEDIA.dockerManifest, MEDIA.ociIndex, MEDIA.dockerList].join(', ');

interface StoredImage {
  digest: string;
  /** manifest + config + layers, as the registry stores them. */
  bytes: number;
  layerBytes: number;
  config: string;
  layers: string[];
}

/** GET the manifest of REPO:TAG (also the existence check after a push or copy). */
async function stored(s: Server, repo: string, tag: string): Promise<StoredImage> {
  const res = await fetch(`${s.url}/v2/${repo}/manifests/${tag}`, { headers: { Accept: ACCEPT } });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`GET ${s.name} /v2/${repo}/manifests/${tag}: HTTP ${res.status}`);
  const m = JSON.parse(body.toString('utf8')) as { config?: { digest: string; size: number }; layers?: { digest: string; size: number }[] };
  if (!m.config || !m.layers) throw new Error(`${s.name} ${repo}:${tag} is not a single-image manifest`);
  const layerBytes = m.layers.reduce((n, l) => n + l.size, 0);
  return {
    digest: res.headers.get('docker-content-digest') ?? '',
    bytes: body.length + m.config.size + layerBytes,
    layerBytes,
    config: m.config.digest,
    layers: m.layers.map((l) => l.digest),
  };
}

/** How to run the berth CLI: as the server under test runs (compiled bin/berth.js, or src/ through tsx). */
function berthCli(serverPid: number): { cmd: string; pre: string[]; mode: 'compiled' | 'tsx' } {
  let tsx = !existsSync(join(repoRoot, 'dist', 'cli', 'main.js'));
  try {
    tsx = readFileSync(`/proc/${serverPid}/cmdline`, 'utf8').split('\0').some((a) => a.endsWith(join('src', 'cli', 'main.ts')));
  } catch {
    /* not Linux, or gone: keep the default */
  }
  return tsx
    ? { cmd: process.execPath, pre: ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts')], mode: 'tsx' }
    : { cmd: join(repoRoot, 'bin', 'berth.js'), pre: [], mode: 'compiled' };
}

interface Case {
  key: string;
  metric: string;
  /** Bytes the MB/s figure is computed over. */
  bytes: () => number;
  args(who: Who, home: string, rep: number): string[];
  verify(who: Who, home: string, rep: number): Promise<void>;
}

export const cliTransfer: Bench = async (ctx: Ctx) => {
  const B = ctx.servers.berth;
  const D = ctx.servers.distribution;
  if (!B) {
    ctx.error('cli: the berth server is not running, nothing to measure');
    return [];
  }
  const { imageBytes, imageLayers, reps } = ctx.sizes;
  const layerBytes = Math.floor(imageBytes / imageLayers);
  const base = join(ctx.work, 'cli');
  mkdirSync(base, { recursive: true });
  // skopeo runs as nobody: it must be able to read the sources.
  chmodSync(ctx.work, 0o755);
  chmodSync(base, 0o755);
  const cli = berthCli(B.pid);
  let homes = 0;

  const runner = (who: Who, home: string): Exec => {
    mkdirSync(home, { recursive: true });
    if (who === 'skopeo') return skopeoRunner(home);
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      DOCKER_CONFIG: join(home, 'docker'),
      BERTH_CACHE_DIR: join(home, 'cache'),
      TMPDIR: home,
    };
    mkdirSync(env.BERTH_CACHE_DIR);
    const flags = (args: string[]) => (args[0] === '--version' ? [] : ['--insecure', '--quiet']);
    return (args) => run(cli.cmd, [...cli.pre, ...args, ...flags(args)], { env, cwd: repoRoot });
  };

  // Inputs.
  const archive = join(base, 'image.tar');
  const layout = join(base, 'layout');
  log(`cli: writing a ${imageBytes / MiB} MiB ${imageLayers}-layer docker save tarball (text layers) and OCI layout (gzip layers)`);
  let tarLayerBytes = 0;
  {
    const a = await makeDockerArchive(archive, { repoTag: 'bench/cli:v1', layers: imageLayers, layerBytes, fill: 'text' });
    tarLayerBytes = a.layerTars.reduce((n, t) => n + t.length, 0);
  }
  const img = (await makeOciLayout(layout, { tag: 'v1', layers: imageLayers, layerBytes })).images[0];
  const layoutBytes = img.layers.reduce((n, l) => n + l.size, 0) + img.config.size + img.manifest.size;

  // The image that is pulled and copied: the tarball, pushed once by skopeo to berth and distribution.
  const SRC = 'bench/cli-src';
  let onBerth: StoredImage | undefined;
  let onDist: StoredImage | undefined;
  for (const s of [B, D]) {
    if (!s) continue;
    const home = join(base, `setup-${homes++}`);
    try {
      await runner('skopeo', home)(['copy', '-q', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${s.host}/${SRC}:v1`]);
      if (s === B) onBerth = await stored(s, SRC, 'v1');
      else onDist = await stored(s, SRC, 'v1');
    } catch (e) {
      ctx.error(`cli: pushing the source image to ${s.name}: ${(e as Error).message}`);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }
  if (!D) ctx.error('cli: distribution is not running: no copy row');

  // A second, larger copy: at 256 MiB a copy takes under a second on loopback, so process start-up
  // (Node ~0.1 s more than Go) weighs in; at blobBytes (1 GiB) the transfer itself dominates.
  // Random layers (fast to make), gzipped by berth push (level 1, every core): gzip layers are
  // copied as they are by both clients (skopeo would gzip plain-tar layers on the way).
  const BIG = 'bench/cli-big';
  let bigOnDist: StoredImage | undefined;
  if (D) {
    const bigArchive = join(base, 'big.tar');
    const home = join(base, `setup-${homes++}`);
    try {
      log(`cli: writing a ${ctx.sizes.blobBytes / MiB} MiB ${imageLayers}-layer image for the large copy`);
      await makeDockerArchive(bigArchive, { repoTag: 'bench/big:v1', layers: imageLayers, layerBytes: Math.floor(ctx.sizes.blobBytes / imageLayers) });
      await runner('berth', home)(['push', bigArchive, `${D.host}/${BIG}:v1`]);
      bigOnDist = await stored(D, BIG, 'v1');
    } catch (e) {
      ctx.error(`cli: pushing the large image to distribution: ${(e as Error).message}`);
    } finally {
      rmSync(home, { recursive: true, force: true });
      rmSync(bigArchive, { force: true });
    }
  }

  const label = `${imageBytes / MiB} MiB ${imageLayers}-layer`;
  const repo = (key: string, who: Who, rep: number) => `bench/cli-${key}-${who}-${rep}`;
  const pushed: Partial<Record<string, Record<Who, number>>> = {};
  const checkPushed = async (key: string, who: Who, rep: number) => {
    const got = await stored(B, repo(key, who, rep), 'v1');
    ((pushed[key] ??= { berth: NaN, skopeo: NaN })[who] = got.layerBytes);
  };
  const pulledTar = (home: string) => join(home, 'out.tar');
  const pulledDir = (home: string) => join(home, 'out');

  const cases: Case[] = [
    {
      key: 'push-tar',
      metric: `push docker save tarball ${label}`,
      bytes: () => tarLayerBytes,
      args: (who, _h, i) =>
        who === 'berth'
          ? ['push', archive, `${B.host}/${repo('push-tar', who, i)}:v1`]
          : ['copy', '-q', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${B.host}/${repo('push-tar', who, i)}:v1`],
      verify: (who, _h, i) => checkPushed('push-tar', who, i),
    },
    {
      key: 'push-oci',
      metric: `push OCI layout ${label}`,
      bytes: () => layoutBytes,
      args: (who, _h, i) =>
        who === 'berth'
          ? ['push', `${layout}:v1`, `${B.host}/${repo('push-oci', who, i)}:v1`]
          : ['copy', '-q', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${B.host}/${repo('push-oci', who, i)}:v1`],
      verify: (who, _h, i) => checkPushed('push-oci', who, i),
    },
    {
      key: 'pull-tar',
      metric: `pull to docker tarball ${label}`,
      bytes: () => onBerth?.bytes ?? NaN,
      args: (who, home) =>
        who === 'berth'
          ? ['pull', `${B.host}/${SRC}:v1`, '-o', pulledTar(home)]
          : ['copy', '-q', '--src-tls-verify=false', `docker://${B.host}/${SRC}:v1`, `docker-archive:${pulledTar(home)}:${SRC}:v1`],
      verify: async (_who, home) => {
        // A docker archive holds the layers uncompressed: at least the tarball's layer bytes.
        const size = statSync(pulledTar(home)).size;
        if (size < tarLayerBytes) throw new Error(`the pulled tarball has ${size} bytes, less than the ${tarLayerBytes} bytes of its layers`);
      },
    },
    {
      key: 'pull-oci',
      metric: `pull to OCI layout ${label}`,
      bytes: () => onBerth?.bytes ?? NaN,
      args: (who, home) =>
        who === 'berth'
          ? ['pull', `${B.host}/${SRC}:v1`, '--format', 'oci', '-o', pulledDir(home)]
          : ['copy', '-q', '--src-tls-verify=false', `docker://${B.host}/${SRC}:v1`, `oci:${pulledDir(home)}:v1`],
      verify: async (_who, home) => {
        // Converting a Docker manifest to OCI changes the manifest digest, never the config's or layers'.
        const got = new Set(readdirSync(join(pulledDir(home), 'blobs', 'sha256')).map((h) => `sha256:${h}`));
        const missing = [onBerth!.config, ...onBerth!.layers].filter((d) => !got.has(d));
        if (missing.length) throw new Error(`the pulled layout lacks ${missing.join(', ')}`);
      },
    },
  ];
  // distribution -> berth, the source image as `src` says (its bytes give MB/s).
  const copyCase = (dist: Server, key: string, metric: string, srcRepo: string, src: () => StoredImage | undefined): Case => ({
    key,
    metric,
    bytes: () => src()?.bytes ?? NaN,
    args: (who, _h, i) =>
      who === 'berth'
        ? ['copy', `${dist.host}/${srcRepo}:v1`, `${B.host}/${repo(key, who, i)}:v1`]
        : ['copy', '-q', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${dist.host}/${srcRepo}:v1`, `docker://${B.host}/${repo(key, who, i)}:v1`],
    verify: async (who, _h, i) => {
      const got = await stored(B, repo(key, who, i), 'v1');
      const want = src()?.digest;
      if (want && got.digest !== want) throw new Error(`copied manifest ${got.digest} differs from the source's ${want}`);
    },
  });
  if (D) {
    cases.push(copyCase(D, 'copy', `copy distribution -> berth ${label}`, SRC, () => onDist));
    cases.push(copyCase(D, 'copy-large', `copy distribution -> berth ${ctx.sizes.blobBytes / MiB} MiB ${imageLayers}-layer`, BIG, () => bigOnDist));
  }
  const needsSource = (c: Case) =>
    c.key === 'copy' ? !onDist : c.key === 'copy-large' ? !bigOnDist : c.key.startsWith('pull') ? !onBerth : false;

  // Start-up alone (`--version`), to read the short runs by: it is part of every number below.
  const startup: Record<Who, number[]> = { berth: [], skopeo: [] };
  for (let i = 0; i < 3; i++) {
    for (const who of ['berth', 'skopeo'] as const) {
      const home = join(base, `${who}-${homes++}`);
      const exec = runner(who, home);
      try {
        const t0 = performance.now();
        await exec(['--version']);
        startup[who].push((performance.now() - t0) / 1000);
      } catch (e) {
        ctx.error(`cli: ${who} --version: ${(e as Error).message}`);
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    }
  }
  log(`cli: start-up (--version) berth ${median(startup.berth).toFixed(2)} s, skopeo ${median(startup.skopeo).toFixed(2)} s`);

  const values: Record<string, Record<Who, number[]>> = {};
  const failed = new Set<string>();
  for (let i = 0; i < reps; i++) {
    const order: Who[] = i % 2 ? ['skopeo', 'berth'] : ['berth', 'skopeo'];
    for (const c of cases) {
      if (needsSource(c)) continue;
      for (const who of order) {
        const id = `${c.key}/${who}`;
        if (failed.has(id)) continue; // failed before: do not spend the time again
        const home = join(base, `${who}-${homes++}`);
        const exec = runner(who, home);
        try {
          ctx.phase(`cli-${c.key}`);
          await run('sync', []);
          const t0 = performance.now();
          await exec(c.args(who, home, i));
          const sec = (performance.now() - t0) / 1000;
          await c.verify(who, home, i);
          const mbs = c.bytes() / 1e6 / sec;
          ((values[c.key] ??= { berth: [], skopeo: [] })[who]).push(mbs);
          log(`cli ${c.key} ${who} #${i + 1}: ${sec.toFixed(2)} s, ${mbs.toFixed(0)} MB/s`);
        } catch (e) {
          failed.add(id);
          ctx.error(`cli ${c.metric}, ${who === 'berth' ? 'berth CLI' : 'skopeo'}: ${(e as Error).message}`);
        } finally {
          rmSync(home, { recursive: true, force: true });
        }
      }
    }
  }
  rmSync(archive, { force: true });
  rmSync(layout, { recursive: true, force: true });

  const m = (xs?: number[]) => (xs?.length === reps ? median(xs) : undefined);
  const rows = cases.map((c): Row => {
    const row: Row = {
      bench: 'cli',
      metric: c.metric,
      unit: 'MB/s',
      better: 'higher',
      berth: m(values[c.key]?.berth),
      reference: m(values[c.key]?.skopeo),
      referenceName: 'skopeo',
      target: 'berth >= skopeo',
    };
    row.verdict = row.berth === undefined || row.reference === undefined ? 'n/a' : row.berth >= row.reference ? 'PASS' : 'FAIL';
    return row;
  });
  const mb = (n?: number) => (n === undefined || Number.isNaN(n) ? '?' : (n / 1e6).toFixed(0));
  const pt = pushed['push-tar'];
  rows[0].note =
    `berth column: the berth CLI (${cli.mode}); reference: skopeo copy. Both clients target the same berth server ` +
    `(copy: distribution -> berth), each run with a fresh blob-info cache and home, into fresh repositories, median of ${reps}. ` +
    `MB/s over: the tarball's plain layer bytes (${mb(tarLayerBytes)} MB; both gzip them: berth's layers came to ${mb(pt?.berth)} MB, skopeo's ${mb(pt?.skopeo)} MB), ` +
    `the layout's bytes (${mb(layoutBytes)} MB), and for pull and copy the source image as stored (${mb(onBerth?.bytes)} MB, the same tarball pushed once by skopeo). ` +
    `Times include process start-up: \`--version\` alone takes ${median(startup.berth).toFixed(2)} s for berth, ${median(startup.skopeo).toFixed(2)} s for skopeo (median of 3)` +
    (cli.mode === 'tsx' ? '; berth runs through tsx here, so each run includes compiling the CLI: `npm run build` for representative numbers' : '');
  return rows;
};
