// The notification outbox in the metadata store (metadata.events), on SQLite and PostgreSQL:
// appends in order, each endpoint's cursor and lease, failures, dead letters (retried for their
// endpoint only, with the same event id), pruning; and on PostgreSQL, concurrent appenders never
// make an event visible after one with a larger seq (a reader following a cursor misses nothing).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openPostgresMetadata } from '../../src/metadata/postgres.ts';
import type { MetadataStore } from '../../src/metadata/store.ts';
import type { NewEvent, NotificationStore } from '../../src/metadata/events/store.ts';
import { tempSqliteStore } from '../helpers/metadata-stores.ts';
import { postgresSkip, startPostgres, type PostgresServer } from '../helpers/postgres.ts';

const ev = (n: number, endpoint?: string): NewEvent => ({ eventId: randomUUID(), createdAt: Date.now(), body: JSON.stringify({ n }), ...(endpoint && { endpoint }) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function suite(name: string, open: () => Promise<{ store: MetadataStore; cleanup(): Promise<void> }>, skip: string | false = false) {
  describe(`notification outbox: ${name}`, { skip }, () => {
    let store: MetadataStore;
    let events: NotificationStore;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await open());
      events = store.events;
    });
    after(() => cleanup?.());

    it('appends in order; a new endpoint starts after what is there; pending reads after a cursor', async () => {
      await events.append([ev(1), ev(2)]);
      await events.registerEndpoint('late');
      await events.registerEndpoint('late'); // idempotent
      await events.append([ev(3), ev(4), ev(5, 'other')]);
      const s = await events.claim('late', 'h1', 10_000);
      assert.ok(s);
      const pending = await events.pending('late', s.cursor, 100);
      assert.deepEqual(pending.map((p) => JSON.parse(p.body).n), [3, 4], "events for another endpoint only are not this one's");
      assert.ok(pending[0]!.seq < pending[1]!.seq);
      assert.deepEqual((await events.pending('other', s.cursor, 100)).map((p) => JSON.parse(p.body).n), [3, 4, 5]);
      assert.deepEqual((await events.pending('late', s.cursor, 1)).length, 1);
    });

    it('one holder per endpoint: claim, renew, lose on expiry; cursor writes check the holder', async () => {
      await events.registerEndpoint('lease');
      const a = await events.claim('lease', 'a', 300);
      assert.ok(a);
      assert.equal(await events.claim('lease', 'b', 300), undefined, 'b cannot take a held lease');
      assert.ok(await events.claim('lease', 'a', 300), 'a renews');
      await sleep(350);
      const b = await events.claim('lease', 'b', 10_000);
      assert.ok(b, 'b takes the expired lease');
      assert.equal(await events.advance('lease', 'a', a.cursor + 1, true), false, 'a lost it: its cursor write is refused');
      assert.equal(await events.recordFailure('lease', 'a', 1, 0, 'x'), false);
      assert.equal(await events.advance('lease', 'b', b.cursor, true), true);
      await events.release('lease', 'b');
      assert.ok(await events.claim('lease', 'a', 10_000), 'a released lease is free at once');
    });

    it('records failures, dead-letters events with the cursor past them, retries them for that endpoint only', async () => {
      await events.registerEndpoint('dl');
      await events.registerEndpoint('dl-other');
      const s = (await events.claim('dl', 'h', 10_000))!;
      await events.append([ev(10), ev(11), ev(12)]);
      const pending = await events.pending('dl', s.cursor, 100);
      assert.equal(pending.length, 3);
      assert.equal(await events.recordFailure('dl', 'h', 4, Date.now() + 1000, 'HTTP 503'), true);
      const failed = (await events.claim('dl', 'h', 10_000))!;
      assert.equal(failed.failures, 4);
      assert.equal(failed.lastError, 'HTTP 503');
      assert.ok(failed.nextAttemptAt > Date.now());
      // 10 and 11 dead, cursor past 11 (12 still pending).
      assert.equal(await events.deadLetter('dl', 'h', pending.slice(0, 2), pending[1]!.seq, 4, 'HTTP 503'), true);
      const after = (await events.claim('dl', 'h', 10_000))!;
      assert.equal(after.cursor, pending[1]!.seq);
      assert.equal(after.failures, 0);
      assert.deepEqual((await events.pending('dl', after.cursor, 100)).map((p) => JSON.parse(p.body).n), [12]);
      const letters = await events.deadLetters({ endpoint: 'dl', limit: 10 });
      assert.deepEqual(letters.map((l) => [JSON.parse(l.body).n, l.attempts, l.lastError]), [[10, 4, 'HTTP 503'], [11, 0, 'HTTP 503']]);
      assert.equal(letters[0]!.eventId, pending[0]!.eventId);
      assert.equal(await events.deadLetterCount('dl'), 2);
      assert.equal((await events.deadLetterById(letters[0]!.id))?.eventId, pending[0]!.eventId);
      assert.deepEqual(await events.deadLetters({ endpoint: 'dl', after: letters[0]!.id, limit: 10 }).then((l) => l.map((x) => x.id)), [letters[1]!.id]);

      assert.equal(await events.retryDeadLetters([letters[0]!.id, 999_999]), 1);
      const again = await events.pending('dl', after.cursor, 100);
      assert.deepEqual(again.map((p) => [JSON.parse(p.body).n, p.eventId, p.endpoint]), [[12, pending[2]!.eventId, null], [10, pending[0]!.eventId, 'dl']]);
      const otherCursor = (await events.claim('dl-other', 'h', 10_000))!.cursor;
      assert.ok(!(await events.pending('dl-other', otherCursor, 100)).some((p) => p.endpoint === 'dl'), 'a retried dead letter goes to its endpoint only');
      assert.equal(await events.deleteDeadLetters([letters[1]!.id]), 1);
      assert.equal(await events.deadLetterCount('dl'), 0);
      const listed = await events.endpoints();
      assert.equal(listed.find((e) => e.name === 'dl')!.backlog, 2);
    });

    it('prunes what every active endpoint has passed', async () => {
      await events.registerEndpoint('p1');
      const s = (await events.claim('p1', 'h', 10_000))!;
      await events.append([ev(20), ev(21)]);
      const [first, second] = await events.pending('p1', s.cursor, 100);
      // Every endpoint row active now must be past an event for it to go: move all of them to `first`.
      for (const e of await events.endpoints()) {
        await events.release(e.name, e.holder ?? '');
        await events.claim(e.name, 'pruner', 10_000);
        await events.advance(e.name, 'pruner', first!.seq, false);
      }
      await events.prune(Date.now() - 60_000);
      const left = await events.pending('p1', 0, 1000);
      assert.ok(!left.some((p) => p.seq <= first!.seq), 'passed events are gone');
      assert.ok(left.some((p) => p.seq === second!.seq), 'the rest stays');
    });
  });
}

suite('sqlite', () => tempSqliteStore('events-store'));

let pgServer: PostgresServer | undefined;
suite(
  'postgres',
  async () => {
    pgServer = await startPostgres();
    const store = await openPostgresMetadata({ url: await pgServer.createDatabase('events') });
    return {
      store,
      async cleanup() {
        await store.close();
        await pgServer?.stop();
      },
    };
  },
  postgresSkip(),
);

describe('notification outbox: concurrent appenders on PostgreSQL', { skip: postgresSkip(), timeout: 120_000 }, () => {
  let server: PostgresServer;
  let writers: MetadataStore[] = [];
  let reader: MetadataStore;
  before(async () => {
    server = await startPostgres();
    const url = await server.createDatabase('events_race');
    reader = await openPostgresMetadata({ url });
    writers = await Promise.all([1, 2, 3, 4].map(() => openPostgresMetadata({ url, poolSize: 4 })));
  });
  after(async () => {
    await Promise.allSettled([reader?.close(), ...writers.map((w) => w.close())]);
    await server?.stop();
  });

  it('a reader following a cursor sees every event, however the appenders interleave', async () => {
    await reader.events.registerEndpoint('race');
    let cursor = (await reader.events.claim('race', 'r', 60_000))!.cursor;
    const seen = new Set<string>();
    const written = new Set<string>();
    let done = false;
    const writing = Promise.all(
      writers.map(async (w, wi) => {
        for (let i = 0; i < 40; i++) {
          const batch = Array.from({ length: 1 + ((i + wi) % 5) }, (_, k) => ev(wi * 1000 + i * 10 + k));
          await w.events.append(batch);
          for (const b of batch) written.add(b.eventId);
        }
      }),
    ).finally(() => {
      done = true;
    });
    while (!done || seen.size < written.size) {
      const page = await reader.events.pending('race', cursor, 50);
      for (const p of page) seen.add(p.eventId);
      if (page.length) cursor = page[page.length - 1]!.seq;
      else if (done) break;
    }
    await writing;
    for (const p of await reader.events.pending('race', cursor, 10_000)) seen.add(p.eventId);
    const missed = [...written].filter((id) => !seen.has(id));
    assert.equal(missed.length, 0, `${missed.length} events were passed over by the cursor`);
  });
});
