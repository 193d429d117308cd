// One of several processes that hammer the same PostgreSQL database at once (driven by
// postgres-concurrency.test.ts). Protocol on stdin/stdout, so all workers start each phase together:
//   parent: "migrate"  -> worker opens the store (migrating a fresh database), prints "ready"
//   parent: "go"       -> worker runs the scenarios, prints one JSON line of results, exits
// Every digest is derived from a fixed name, so all workers push the very same blobs/manifests.
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { openPostgresMetadata } from '../../src/metadata/postgres.ts';
import type { MetadataStore, NewManifest, PutManifestResult } from '../../src/metadata/store.ts';

export const K = 6;
export const digestOf = (name: string) => `sha256:${createHash('sha256').update(name).digest('hex')}`;
export const CFG = digestOf('cfg');
export const layer = (k: number) => digestOf(`layer-${k}`);
export const image = (k: number): NewManifest => ({
  digest: digestOf(`image-${k}`),
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  size: 100 + k,
  blobs: [CFG, layer(k)],
  children: [],
  configDigest: CFG,
});
export const index = (k: number): NewManifest => ({
  digest: digestOf(`index-${k}`),
  mediaType: 'application/vnd.oci.image.index.v1+json',
  size: 50 + k,
  blobs: [],
  children: [image(k).digest],
});
/** Images with an even k may be deleted in race/delete; odd ones never are. */
export const deletable = (k: number) => k % 2 === 0;

export interface WorkerReport {
  worker: number;
  ops: number;
  deletes: number;
  refusedIndexes: number;
  errors: string[];
}

const rand = (n: number) => Math.floor(Math.random() * n);

async function main(): Promise<void> {
  const url = process.env.BERTH_WORKER_DB_URL;
  const worker = Number(process.env.BERTH_WORKER_ID ?? 0);
  const iterations = Number(process.env.BERTH_WORKER_ITERATIONS ?? 50);
  if (!url) throw new Error('BERTH_WORKER_DB_URL is required');
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const expectLine = async (want: string) => {
    const { value, done } = await lines.next();
    if (done || value.trim() !== want) throw new Error(`expected "${want}" on stdin`);
  };

  await expectLine('migrate');
  const store = await openPostgresMetadata({ url, poolSize: 4 });
  process.stdout.write('ready\n');
  await expectLine('go');

  const report: WorkerReport = { worker, ops: 0, deletes: 0, refusedIndexes: 0, errors: [] };
  /** Runs one store call; an exception or an unexpected result is recorded, never thrown. */
  const step = async <T>(what: string, call: () => Promise<T>, check?: (r: T) => string | undefined): Promise<T | undefined> => {
    report.ops++;
    try {
      const r = await call();
      const bad = check?.(r);
      if (bad) report.errors.push(`${what}: ${bad}`);
      return r;
    } catch (err) {
      report.errors.push(`${what}: ${(err as Error).stack ?? err}`);
      return undefined;
    }
  };
  const accepted = (r: PutManifestResult) => (r.missingBlobs.length || r.missingChildren.length ? `refused ${JSON.stringify(r)}` : undefined);
  const put = (repo: string, m: NewManifest, tag?: string) => step(`put ${repo} ${m.digest.slice(7, 15)} ${tag ?? ''}`, () => store.putManifest(repo, m, tag), accepted);
  const linkAll = async (repo: string) => {
    await step(`link ${repo}`, () => store.linkBlob(repo, CFG, 10));
    for (let k = 0; k < K; k++) await step(`link ${repo}`, () => store.linkBlob(repo, layer(k), 20 + k));
  };

  // Setup races too: every worker links the same blobs into the same new repositories at once.
  await Promise.all(['race/tag', 'race/manifest', 'race/delete'].map(linkAll));
  for (let k = 1; k < K; k += 2) await put('race/delete', image(k));

  const sameTag = async () => {
    for (let i = 0; i < iterations; i++) await put('race/tag', image(rand(K)), 'latest');
  };
  const newRepos = async () => {
    // The same fresh repository, blob and manifest from every worker at about the same moment.
    for (let i = 0; i < iterations; i++) {
      const repo = `race/new-${i}`;
      await step(`link ${repo}`, () => store.linkBlob(repo, CFG, 10));
      await step(`link ${repo}`, () => store.linkBlob(repo, layer(i % K), 20 + (i % K)));
      await put(repo, image(i % K), 'v');
    }
  };
  const sameManifest = async () => {
    for (let i = 0; i < iterations; i++) {
      await put('race/manifest', image(0), 'shared');
      await put('race/manifest', image(0), `w${worker}-${i % 5}`);
    }
  };
  const deleteWhilePush = async () => {
    const repo = 'race/delete';
    for (let i = 0; i < iterations * 2; i++) {
      const k = rand(K);
      switch (rand(6)) {
        case 0:
          await put(repo, image(k), `t-${k}`);
          break;
        case 1:
          await put(repo, image(k), 'latest');
          break;
        case 2:
          if (deletable(k) && (await step(`delete ${k}`, () => store.deleteManifest(repo, image(k).digest)))) report.deletes++;
          break;
        case 3:
          await step(`index ${k}`, () => store.putManifest(repo, index(k), `idx-${k}`), (r) => {
            if (!r.missingBlobs.length && !r.missingChildren.length) return undefined;
            // Only a deletable child may be missing, and then nothing else may be.
            if (deletable(k) && !r.missingBlobs.length && r.missingChildren.join() === image(k).digest) {
              report.refusedIndexes++;
              return undefined;
            }
            return `refused ${JSON.stringify(r)}`;
          });
          break;
        case 4:
          await step('untag', () => store.deleteTag(repo, 'latest'));
          break;
        default:
          if (!deletable(k)) await put(repo, image(k), `keep-${k}`);
          else await step(`delete index ${k}`, () => store.deleteManifest(repo, index(k).digest));
      }
    }
  };
  await Promise.all([sameTag(), newRepos(), sameManifest(), deleteWhilePush()]);
  await store.close();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

// Only when run as a process: the test imports the fixtures above.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`worker failed: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
