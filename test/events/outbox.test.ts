// The request path's side of the outbox (src/events/outbox.ts) with a fake store: pulls wait for the
// timer and go in one batch, writes are written before their promise resolves and share a batch
// when concurrent, a refused batch is kept (in order) and written later, and the memory bound drops
// the oldest events.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Outbox } from '../../src/events/outbox.ts';
import type { NewEvent } from '../../src/metadata/events/store.ts';

const log = pino({ level: 'silent' });
const ev = (n: number): NewEvent => ({ eventId: `e${n}`, createdAt: Date.now(), body: `{"n":${n}}` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fakeSink() {
  const batches: string[][] = [];
  let failNext = 0;
  return {
    batches,
    failTimes(n: number) {
      failNext = n;
    },
    async append(events: NewEvent[]) {
      await sleep(5);
      if (failNext > 0) {
        failNext--;
        throw new Error('database is down');
      }
      batches.push(events.map((e) => e.eventId));
    },
  };
}

describe('outbox', () => {
  it('writes queued pulls in one batch after the interval, and never before', async () => {
    const sink = fakeSink();
    const o = new Outbox(sink, log, { flushIntervalMs: 100 });
    for (let i = 0; i < 50; i++) o.add(ev(i));
    await sleep(30);
    assert.equal(sink.batches.length, 0);
    assert.equal(o.pending, 50);
    await sleep(150);
    assert.equal(sink.batches.length, 1);
    assert.equal(sink.batches[0]!.length, 50);
    await o.close();
  });

  it('writes an event before addAndWait resolves; concurrent writes and queued pulls share a batch, in order', async () => {
    const sink = fakeSink();
    let written = 0;
    const o = new Outbox(sink, log, { flushIntervalMs: 10_000, onWritten: () => written++ });
    o.add(ev(1));
    await Promise.all([o.addAndWait(ev(2)), o.addAndWait(ev(3))]);
    assert.deepEqual(sink.batches, [['e1', 'e2', 'e3']]);
    assert.equal(written, 1);
    await o.close();
  });

  it('keeps a refused batch, in order before newer events, and writes it when the store is back', async () => {
    const sink = fakeSink();
    const o = new Outbox(sink, log, { flushIntervalMs: 20 });
    sink.failTimes(2);
    const t = Date.now();
    await o.addAndWait(ev(1)); // released after the first failure: the write itself succeeded
    assert.ok(Date.now() - t < 1000);
    o.add(ev(2));
    const deadline = Date.now() + 10_000;
    while (sink.batches.flat().length < 2 && Date.now() < deadline) await sleep(50);
    assert.deepEqual(sink.batches.flat(), ['e1', 'e2']);
    await o.close();
  });

  it('drops the oldest events beyond maxQueued while the store refuses them', async () => {
    const sink = fakeSink();
    const o = new Outbox(sink, log, { flushIntervalMs: 10_000, maxPending: 1_000_000, maxQueued: 5 });
    for (let i = 0; i < 8; i++) o.add(ev(i));
    assert.equal(o.pending, 5);
    await o.flush();
    assert.deepEqual(sink.batches, [['e3', 'e4', 'e5', 'e6', 'e7']]);
    await o.close();
    o.add(ev(9));
    assert.equal(o.pending, 0, 'nothing is accepted after close');
  });
});
