// Several replicas on one PostgreSQL database: worker processes (postgres-worker.ts) migrate a
// fresh database at the same moment, then race on the same tag, blob, manifest and on deletes
// while pushing. Afterwards SQL checks the invariants no interleaving may break.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import pg from 'pg';
import { openPostgresMetadata } from '../../src/metadata/postgres.ts';
import { postgresSkip, startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { repoRoot } from '../helpers/processes.ts';
import { K, deletable, image, index, type WorkerReport } from './postgres-worker.ts';

const WORKERS = 4;
const ITERATIONS = 40;

interface Worker {
  child: ChildProcess;
  /** Resolves with the next stdout line. */
  next(): Promise<string>;
  send(line: string): void;
  stderr(): string;
  exit: Promise<number | null>;
}

function spawnWorker(id: number, url: string): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test', 'metadata', 'postgres-worker.ts')], {
    cwd: repoRoot,
    env: { ...process.env, BERTH_WORKER_DB_URL: url, BERTH_WORKER_ID: String(id), BERTH_WORKER_ITERATIONS: String(ITERATIONS) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString('utf8')));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    async next() {
      const { value, done } = await lines.next();
      if (done) throw new Error(`worker ${id} ended early (exit ${await exit})\n${err}`);
      return value;
    },
    send: (line) => child.stdin!.write(`${line}\n`),
    stderr: () => err,
    exit,
  };
}

async function query<T extends pg.QueryResultRow>(client: pg.Client, text: string, values: unknown[] = []): Promise<T[]> {
  return (await client.query<T>(text, values)).rows;
}

describe('PostgreSQL metadata under concurrent replicas', { skip: postgresSkip() }, () => {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgres();
  });
  after(() => server?.stop());

  it('lets stores in one process migrate the same fresh database at the same moment', async () => {
    const url = await server.createDatabase('migrate_race');
    const stores = await Promise.all(Array.from({ length: 5 }, () => openPostgresMetadata({ url, poolSize: 2 })));
    for (const s of stores) await s.check();
    await Promise.all(stores.map((s) => s.close()));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const rows = await query<{ name: string; n: string }>(client, 'select name, count(*) as n from berth_migrations group by name');
      assert.ok(rows.length > 0);
      for (const r of rows) assert.equal(Number(r.n), 1, r.name);
    } finally {
      await client.end();
    }
  });

  it('keeps tags, manifests and references consistent while processes race', { timeout: 240_000 }, async (t) => {
    const url = await server.createDatabase('race');
    const workers = Array.from({ length: WORKERS }, (_, i) => spawnWorker(i, url));
    const reports: WorkerReport[] = [];
    try {
      // Both phases start together in every process: migrating an empty database, then the race.
      for (const w of workers) w.send('migrate');
      for (const w of workers) assert.equal(await w.next(), 'ready');
      for (const w of workers) w.send('go');
      for (const w of workers) reports.push(JSON.parse(await w.next()) as WorkerReport);
      const codes = await Promise.all(workers.map((w) => w.exit));
      assert.deepEqual(codes, workers.map(() => 0), workers.map((w) => w.stderr()).join('\n'));
    } finally {
      for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    }
    for (const r of reports) assert.deepEqual(r.errors, [], `worker ${r.worker} hit unexpected errors`);
    const sum = (f: (r: WorkerReport) => number) => reports.reduce((n, r) => n + f(r), 0);
    t.diagnostic(`${WORKERS} processes: ${sum((r) => r.ops)} store calls, ${sum((r) => r.deletes)} manifest deletes, ${sum((r) => r.refusedIndexes)} index pushes refused for a just-deleted child`);
    assert.ok(sum((r) => r.deletes) > 0, 'some deletes ran during the pushes');

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await assertInvariants(client);
      const [stats] = await query<{ deadlocks: string }>(client, 'select deadlocks from pg_stat_database where datname = current_database()');
      // The lock order (manifest row before tag rows, in put and delete alike) is meant to make
      // deadlocks impossible between store operations; the retry would hide them, so count them.
      assert.equal(Number(stats!.deadlocks), 0, 'deadlocks between store transactions');
    } finally {
      await client.end();
    }
  });
});

async function assertInvariants(client: pg.Client): Promise<void> {
  const none = async (what: string, text: string) => assert.deepEqual(await query(client, text), [], what);

  await none('no tag points at a missing manifest', `
    select t.name from tags t left join manifests m on m.repository_id = t.repository_id and m.digest = t.digest
    where m.digest is null`);
  await none('no duplicate repository names', 'select name from repositories group by name having count(*) > 1');
  await none('no duplicate tags', 'select name from tags group by repository_id, name having count(*) > 1');
  await none('no duplicate manifests', 'select digest from manifests group by repository_id, digest having count(*) > 1');
  await none('no duplicate blob links', 'select digest from repository_blobs group by repository_id, digest having count(*) > 1');
  await none('no duplicate blobs', 'select digest from blobs group by digest having count(*) > 1');
  await none('no reference without its manifest', `
    select r.parent_digest from manifest_references r left join manifests m on m.repository_id = r.repository_id and m.digest = r.parent_digest
    where m.digest is null`);
  await none('every blob a manifest references is linked', `
    select r.child_digest from manifest_references r left join repository_blobs rb on rb.repository_id = r.repository_id and rb.digest = r.child_digest
    where r.kind = 'blob' and rb.digest is null`);
  await none('every manifest is linked as a blob of its repository', `
    select m.digest from manifests m left join repository_blobs rb on rb.repository_id = m.repository_id and rb.digest = m.digest
    where rb.digest is null`);

  // Every manifest has all of its reference rows (an image: config + layer; an index: its child).
  const expected = new Map<string, { blob: number; manifest: number }>();
  for (let k = 0; k < K; k++) {
    expected.set(image(k).digest, { blob: 2, manifest: 0 });
    expected.set(index(k).digest, { blob: 0, manifest: 1 });
  }
  const refs = await query<{ repo: string; digest: string; blob: string; manifest: string }>(client, `
    select rp.name as repo, m.digest,
      count(*) filter (where r.kind = 'blob') as blob, count(*) filter (where r.kind = 'manifest') as manifest
    from manifests m join repositories rp on rp.id = m.repository_id
    left join manifest_references r on r.repository_id = m.repository_id and r.parent_digest = m.digest
    group by rp.name, m.digest`);
  assert.ok(refs.length > 0);
  for (const r of refs) {
    assert.deepEqual({ blob: Number(r.blob), manifest: Number(r.manifest) }, expected.get(r.digest), `references of ${r.repo} ${r.digest}`);
  }

  // An index's child may only be missing if it was deleted after the index was pushed, and only
  // deletable children ever are.
  const orphans = await query<{ child: string }>(client, `
    select r.child_digest as child from manifest_references r
    left join manifests c on c.repository_id = r.repository_id and c.digest = r.child_digest
    where r.kind = 'manifest' and c.digest is null`);
  const deletableImages = new Set(Array.from({ length: K }, (_, k) => k).filter(deletable).map((k) => image(k).digest));
  for (const o of orphans) assert.ok(deletableImages.has(o.child), `index child ${o.child} vanished`);

  const tagsOf = async (repo: string) =>
    new Map(
      (await query<{ name: string; digest: string }>(client, 'select t.name, t.digest from tags t join repositories r on r.id = t.repository_id where r.name = $1', [repo])).map(
        (t) => [t.name, t.digest],
      ),
    );
  // Same tag from every worker: one row, on one of the pushed manifests.
  const images = new Set(Array.from({ length: K }, (_, k) => image(k).digest));
  const raceTag = await tagsOf('race/tag');
  assert.equal(raceTag.size, 1);
  assert.ok(images.has(raceTag.get('latest')!));

  // Same manifest from every worker: nothing lost, every tag present.
  const raceManifest = await tagsOf('race/manifest');
  assert.equal(raceManifest.size, 1 + WORKERS * 5);
  for (const d of raceManifest.values()) assert.equal(d, image(0).digest);

  // Fresh repositories created by all workers at once: each exists once, complete.
  for (let i = 0; i < ITERATIONS; i++) {
    const tags = await tagsOf(`race/new-${i}`);
    assert.equal(tags.get('v'), image(i % K).digest, `race/new-${i}`);
  }

  // Never-deleted manifests survive the delete storm with their tags.
  const raceDelete = await tagsOf('race/delete');
  const [{ n }] = (await query<{ n: string }>(client, `
    select count(*) as n from manifests m join repositories r on r.id = m.repository_id
    where r.name = 'race/delete' and m.digest = any($1)`, [Array.from({ length: K }, (_, k) => k).filter((k) => !deletable(k)).map((k) => image(k).digest)])) as [{ n: string }];
  assert.equal(Number(n), K / 2);
  for (const [tag, digest] of raceDelete) {
    if (tag.startsWith('keep-')) assert.equal(digest, image(Number(tag.slice(5))).digest, tag);
  }
}
