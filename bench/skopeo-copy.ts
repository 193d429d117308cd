// skopeo push (oci: layout -> docker://) and pull (docker:// -> a fresh oci: dir) of a multi-layer
// image of incompressible gzip layers, and the push of a one-layer image of the blob bench's size.
//
// The push row's reference is skopeo pushing the same layout to a registry that discards every
// byte (null-registry.ts): what skopeo costs by itself. No registry can take a push from skopeo
// faster than that, so it bounds the achievable push ratio: null_speed / dist_speed.
//
// skopeo 1.9 remembers where it pushed each blob (blob-info cache) and, on the next push to the same
// registry, mounts from there instead of uploading, even into a new repository. As root that cache
// lives in /var/lib/containers/cache whatever HOME says, so each run executes skopeo as `nobody`
// (setpriv), where the cache follows XDG_DATA_HOME: a fresh one per run. Each push also goes to a
// fresh repository name, so the registry's own "blob already in this repo" HEAD check never hits.
import { chmodSync, chownSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeOciLayout } from '../test/helpers/images.ts';
import { log, median, prewarmPageCache, run } from './client.ts';
import { startNullRegistry, type NullRegistry } from './null-registry.ts';
import { MiB, TARGETS, type Bench, type Ctx } from './context.ts';
import { fmt, type Row } from './report.ts';

const NOBODY = 65534;

export function skopeoRunner(home: string) {
  mkdirSync(join(home, 'run'), { recursive: true, mode: 0o700 });
  const asNobody = process.getuid?.() === 0;
  if (asNobody) chownTree(home, NOBODY);
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_RUNTIME_DIR: join(home, 'run'),
    TMPDIR: home,
    REGISTRY_AUTH_FILE: join(home, 'auth.json'),
  };
  return (args: string[]) =>
    asNobody
      ? run('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'skopeo', ...args], { env })
      : run('skopeo', args, { env });
}

function chownTree(p: string, uid: number): void {
  chownSync(p, uid, uid);
  for (const e of readdirSync(p, { withFileTypes: true })) {
    if (e.isDirectory()) chownTree(join(p, e.name), uid);
    else chownSync(join(p, e.name), uid, uid);
  }
}

export const skopeoCopy: Bench = async (ctx) => {
  const { imageBytes, imageLayers } = ctx.sizes;
  const base = join(ctx.work, 'skopeo');
  mkdirSync(base, { recursive: true });
  // skopeo runs as nobody: it must be able to read the layout and reach its own dirs.
  chmodSync(ctx.work, 0o755);
  chmodSync(base, 0o755);
  const sink = await startNullRegistry();
  try {
    // The 5-layer image (layers pushed in parallel) and one big layer (one stream end to end).
    const rows = await imageRows(ctx, base, sink, imageBytes, imageLayers, 'multi', true);
    rows.push(...(await imageRows(ctx, base, sink, ctx.sizes.blobBytes, 1, 'single', false)));
    return rows;
  } finally {
    await sink.close();
  }
};

async function imageRows(ctx: Ctx, base: string, sink: NullRegistry, imageBytes: number, imageLayers: number, tag: string, withPull: boolean): Promise<Row[]> {
  const { reps } = ctx.sizes;
  log(`skopeo: writing a ${imageBytes / MiB} MiB ${imageLayers}-layer OCI layout`);
  const layout = join(base, `image-${tag}`);
  const img = await makeOciLayout(layout, { tag: 'v1', layers: imageLayers, layerBytes: Math.floor(imageBytes / imageLayers) });
  const image = img.images[0];
  const total = image.layers.reduce((n, l) => n + l.size, 0) + image.config.size + image.manifest.size;
  const push: Record<string, number[]> = {};
  const floor: number[] = [];
  const pull: Record<string, number[]> = {};
  let k = 0;
  for (let i = 0; i < reps; i++) {
    {
      const home = join(base, `home-${tag}-${k++}`);
      const skopeo = skopeoRunner(home);
      try {
        ctx.phase('skopeo-floor');
        await prewarmPageCache(base, total);
        const t0 = performance.now();
        await skopeo(['copy', '-q', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${sink.host}/${`bench/null-${tag}-${i}`}:v1`]);
        floor.push(total / 1e6 / ((performance.now() - t0) / 1000));
        log(`skopeo ${tag} to a null registry #${i + 1}: ${floor.at(-1)!.toFixed(0)} MB/s`);
      } catch (e) {
        ctx.error(`skopeo to a null registry: ${(e as Error).message}`);
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    }
    for (const t of TARGETS) {
      const s = ctx.servers[t];
      if (!s || (push[t]?.length ?? 0) < i) continue; // skip after a failure
      const repo = `bench/skopeo-${tag}-${i}`;
      const home = join(base, `home-${tag}-${k++}`);
      const skopeo = skopeoRunner(home);
      try {
        ctx.phase('skopeo-push');
        await prewarmPageCache(base, total);
        let t0 = performance.now();
        await skopeo(['copy', '-q', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${s.host}/${repo}:v1`]);
        (push[t] ??= []).push(total / 1e6 / ((performance.now() - t0) / 1000));
        if (withPull) {
          ctx.phase('skopeo-pull');
          const dest = join(home, 'pulled');
          await run('sync', []);
          t0 = performance.now();
          await skopeo(['copy', '-q', '--src-tls-verify=false', `docker://${s.host}/${repo}:v1`, `oci:${dest}:v1`]);
          (pull[t] ??= []).push(total / 1e6 / ((performance.now() - t0) / 1000));
          const got = new Set(readdirSync(join(dest, 'blobs', 'sha256')).map((h) => `sha256:${h}`));
          const missing = [image.manifest.digest, image.config.digest, ...image.layers.map((l) => l.digest)].filter((d) => !got.has(d));
          if (missing.length) throw new Error(`pulled layout lacks ${missing.join(', ')}`);
          log(`skopeo ${tag} ${t} #${i + 1}: push ${push[t].at(-1)!.toFixed(0)} MB/s, pull ${pull[t].at(-1)!.toFixed(0)} MB/s`);
        } else {
          log(`skopeo ${tag} ${t} #${i + 1}: push ${push[t].at(-1)!.toFixed(0)} MB/s`);
        }
      } catch (e) {
        ctx.error(`skopeo ${t}: ${(e as Error).message}`);
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    }
  }
  rmSync(layout, { recursive: true, force: true });
  const m = (xs?: number[]) => (xs?.length === reps ? median(xs) : undefined);
  const label = `${imageBytes / MiB} MiB ${imageLayers}-layer image`;
  const pushRow: Row = {
    bench: 'skopeo',
    metric: `push ${label}`,
    unit: 'MB/s',
    better: 'higher',
    distribution: m(push.distribution),
    berth: m(push.berth),
    reference: floor.length ? median(floor) : undefined,
    referenceName: 'null registry',
    target: '>= 90% of null registry',
  };
  pushRow.verdict = pushRow.berth === undefined || pushRow.reference === undefined ? 'n/a' : pushRow.berth >= 0.9 * pushRow.reference ? 'PASS' : 'FAIL';
  if (pushRow.reference && pushRow.distribution && pushRow.berth) {
    const ceiling = pushRow.reference / pushRow.distribution;
    pushRow.note = `skopeo pushing to a registry that discards everything runs at ${fmt(pushRow.reference)} MB/s, so no registry can take this push faster than ${ceiling.toFixed(2)}x distribution here; berth reaches ${((100 * pushRow.berth) / pushRow.reference).toFixed(0)}% of that ceiling`;
  }
  if (!withPull) return [pushRow];
  const pullRow: Row = {
    bench: 'skopeo',
    metric: `pull ${label}`,
    unit: 'MB/s',
    better: 'higher',
    distribution: m(pull.distribution),
    berth: m(pull.berth),
  };
  return [pushRow, pullRow];
}
