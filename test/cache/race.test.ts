// The read-then-write race: a reader reads the store, a writer commits and replaces the
// generation, then the reader stores what it read. That entry must never be served, on either
// replica. The reader is paused between its store read and its cache write to force the order.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../helpers/processes.ts';
import { redisSkip, startRedis, type RedisServer } from './redis-server.ts';
import { digest, image, openReplica, pausable, warm, type Replica } from './fixtures.ts';

describe('a reader that stores after a writer committed', { skip: redisSkip() }, () => {
  let redis: RedisServer;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let reader: Replica;
  let writer: Replica;
  let gate: ReturnType<typeof pausable>;
  before(async () => {
    redis = await startRedis();
    dir = await tempDir('berth-cache-race');
    reader = await openReplica(dir.path, redis.addr, { wrap: (inner) => (gate = pausable(inner)).store });
    writer = await openReplica(dir.path, redis.addr);
  });
  after(async () => {
    await reader?.store.close();
    await writer?.store.close();
    await redis?.stop();
    await dir?.cleanup();
  });

  const cases: Array<{
    name: string;
    /** The read that races, its answer before and after the write, and the write. */
    read: (r: Replica, repo: string, f: Fixture) => Promise<unknown>;
    write: (w: Replica, repo: string, f: Fixture) => Promise<unknown>;
    before: (f: Fixture) => unknown;
    after: (f: Fixture) => unknown;
    /** The Redis entry the reader writes (key suffix after the repository). */
    entry: (f: Fixture) => string;
  }> = [
    {
      name: 'tag moved',
      read: (r, repo) => r.store.taggedManifest(repo, 'latest').then((m) => m?.digest),
      write: (w, repo, f) => w.store.putManifest(repo, f.m2, 'latest'),
      before: (f) => f.m1.digest,
      after: (f) => f.m2.digest,
      entry: () => 't latest',
    },
    {
      name: 'tag resolved, then moved',
      read: (r, repo) => r.store.resolveTag(repo, 'latest'),
      write: (w, repo, f) => w.store.putManifest(repo, f.m2, 'latest'),
      before: (f) => f.m1.digest,
      after: (f) => f.m2.digest,
      entry: () => 'r latest',
    },
    {
      name: 'manifest deleted',
      read: (r, repo, f) => r.store.manifest(repo, f.m1.digest).then((m) => m?.digest),
      write: (w, repo, f) => w.store.deleteManifest(repo, f.m1.digest),
      before: (f) => f.m1.digest,
      after: () => undefined,
      entry: (f) => `m ${f.m1.digest}`,
    },
    {
      name: 'blob unlinked',
      read: (r, repo, f) => r.store.repositoryBlob(repo, f.cfg).then((b) => b && { size: b.size }),
      write: (w, repo, f) => w.store.unlinkBlob(repo, f.cfg),
      before: () => ({ size: 5 }),
      after: () => undefined,
      entry: (f) => `b ${f.cfg}`,
    },
  ];

  interface Fixture {
    cfg: string;
    m1: ReturnType<typeof image>;
    m2: ReturnType<typeof image>;
  }

  for (const c of cases) {
    it(`never serves the stale entry: ${c.name}`, async () => {
      const repo = `race/${c.name.replace(/\W+/g, '-')}`;
      const cfg = digest();
      const f: Fixture = { cfg, m1: image([cfg]), m2: image([cfg]) };
      await writer.store.linkBlob(repo, cfg, 5);
      await writer.store.putManifest(repo, f.m1, 'latest');
      await writer.store.putManifest(repo, f.m2);
      assert.deepEqual(await warm(reader, () => c.read(reader, repo, f)), c.before(f));
      const key = `berth:cache:v1:meta:${repo} ${c.entry(f)}`;
      await redis.admin.del(key); // the racing read must miss, and store

      const pause = gate.arm();
      const reading = c.read(reader, repo, f); // tokens (one MGET), then the store: the old answer
      await pause.read;
      await c.write(writer, repo, f); // commit, then a new generation
      pause.release();
      assert.deepEqual(await reading, c.before(f), 'began before the write ended: the old answer is right');
      await reader.flush();
      assert.ok((await redis.admin.get(key))?.includes(JSON.stringify(c.before(f)).slice(1, -1)), 'the stale entry was written');

      for (let i = 0; i < 3; i++) {
        for (const r of [reader, writer]) assert.deepEqual(await c.read(r, repo, f), c.after(f), `read ${i} on ${r === reader ? 'reader' : 'writer'}`);
        await reader.flush();
        await writer.flush();
      }
    });
  }
});
