// The request path's side of the outbox (src/events/outbox.ts) with a fake store: pulls wait for the
// timer and go in one batch, writes are written before their promise resolves and share a batch
// when concurrent; while the store refuses writes, a writer is answered only once its event is
// written (or fails with 503 after maxWaitMs, its event kept and written later) while a pull is
// served at once (its event kept, or dropped and counted when the queue is full), the memory bound
// refuses new events (503, logged, counted) and never drops queued ones, and close() logs and
// counts each event it could not write.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Outbox, OutboxUnavailableError } from '../../src/events/outbox.ts';
import type { NewEvent } from '../../src/metadata/events/store.ts';
import { enableMetrics, exposition } from '../../src/metrics/index.ts';
import { parseExposition, value } from '../metrics/exposition.ts';

const log = pino({ level: 'silent' });

/** A logger whose JSON lines are kept. */
function captureLog() {
  const lines: Record<string, unknown>[] = [];
  const stream = { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) };
  return { lines, log: pino({ level: 'info' }, stream) };
}

/** One sample of this process's metrics (0 when absent). */
async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  return value(parseExposition((await exposition()).body), name, labels) ?? 0;
}
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

  it('keeps a refused batch in order and answers its writer only once the store has taken it', async () => {
    const sink = fakeSink();
    const o = new Outbox(sink, log, { flushIntervalMs: 20 });
    sink.failTimes(2);
    let answered = false;
    const waiting = o.addAndWait(ev(1)).then(() => {
      answered = true;
      // Answered only now: the event is in the store (the old outbox answered after the first failure).
      assert.deepEqual(sink.batches.flat().slice(0, 1), ['e1']);
    });
    await sleep(400); // refused at once and again 250 ms later; the next attempt comes 500 ms after that
    assert.equal(answered, false, 'the writer still waits while the store refuses the event');
    assert.equal(o.pending, 1);
    o.add(ev(2));
    await waiting;
    const deadline = Date.now() + 10_000;
    while (sink.batches.flat().length < 2 && Date.now() < deadline) await sleep(20);
    assert.deepEqual(sink.batches.flat(), ['e1', 'e2']);
    assert.equal(o.dropped, 0);
    await o.close();
  });

  it('a pull (failOpen) is served while the store refuses writes; its event stays queued, in order, and is written later', async () => {
    const sink = fakeSink();
    const o = new Outbox(sink, log, { maxRetryDelayMs: 100 });
    sink.failTimes(3);
    const write = o.addAndWait(ev(1));
    let writeAnswered = false;
    void write.then(() => (writeAnswered = true));
    const t = Date.now();
    await o.addAndWait(ev(2), { failOpen: true }); // answered at the first failed write
    assert.ok(Date.now() - t < 200, `the pull waited ${Date.now() - t} ms`);
    await o.addAndWait(ev(3), { failOpen: true }); // writes are failing: answered at once
    assert.equal(writeAnswered, false, 'the write still waits for the store');
    assert.equal(o.pending, 3);
    assert.deepEqual(sink.batches, []);
    await write;
    const deadline = Date.now() + 10_000;
    while (sink.batches.flat().length < 3 && Date.now() < deadline) await sleep(20);
    assert.deepEqual(sink.batches.flat(), ['e1', 'e2', 'e3'], 'all three written, in order');
    assert.equal(o.dropped, 0);
    await o.close();
  });

  it('with the queue full, a pull (failOpen) is still served; its event is dropped, logged and counted', async () => {
    await enableMetrics();
    const before = await metric('berth_notifications_dropped_events_total', { reason: 'queue_full' });
    const sink = fakeSink();
    const logged = captureLog();
    const o = new Outbox(sink, logged.log, { flushIntervalMs: 10_000, maxPending: 1_000_000, maxQueued: 2, maxRetryDelayMs: 50 });
    sink.failTimes(1_000_000);
    const waits = [o.addAndWait(ev(0)), o.addAndWait(ev(1))];
    waits.forEach((w) => w.catch(() => undefined));
    await o.addAndWait(ev(2), { failOpen: true });
    assert.equal(o.pending, 2);
    assert.equal(o.dropped, 1);
    assert.equal((await metric('berth_notifications_dropped_events_total', { reason: 'queue_full' })) - before, 1);
    const line = logged.lines.find((l) => l.eventId === 'e2');
    assert.ok(line && line.level === 50 && line.pull === true, JSON.stringify(logged.lines));
    sink.failTimes(0);
    await Promise.all(waits);
    assert.deepEqual(sink.batches.flat(), ['e0', 'e1']);
    await o.close();
  });

  it('a writer that waited maxWaitMs fails with 503; its event stays queued and is written when the store is back', async () => {
    const sink = fakeSink();
    const o = new Outbox(sink, log, { maxWaitMs: 300, maxRetryDelayMs: 100 });
    sink.failTimes(8);
    const t = Date.now();
    const err = await o.addAndWait(ev(1)).then(
      () => assert.fail('answered although the event was never written'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OutboxUnavailableError);
    assert.equal(err.reason, 'timeout');
    assert.equal(err.status, 503);
    assert.ok(Date.now() - t >= 300, `failed after ${Date.now() - t} ms`);
    assert.deepEqual(sink.batches, []);
    const deadline = Date.now() + 10_000;
    while (sink.batches.length === 0 && Date.now() < deadline) await sleep(20);
    assert.deepEqual(sink.batches, [['e1']], 'written once the store took it again');
    assert.equal(o.dropped, 0, 'nothing was dropped');
    await o.close();
  });

  it('beyond maxQueued unwritten events, new events are refused (503, logged, counted); queued ones are never dropped', async () => {
    await enableMetrics();
    const before = await metric('berth_notifications_dropped_events_total', { reason: 'queue_full' });
    const sink = fakeSink();
    const logged = captureLog();
    const o = new Outbox(sink, logged.log, { flushIntervalMs: 10_000, maxPending: 1_000_000, maxQueued: 5, maxRetryDelayMs: 50 });
    sink.failTimes(1_000_000);
    const waits = Array.from({ length: 5 }, (_, i) => o.addAndWait(ev(i)));
    waits.forEach((w) => w.catch(() => undefined));
    assert.equal(o.pending, 5);
    await sleep(150); // a few refused writes
    assert.equal(await metric('berth_notifications_unwritten_events'), 5);
    assert.ok((await metric('berth_notifications_outbox_write_failures_total')) >= 1);
    const refused = await o.addAndWait(ev(5)).then(
      () => assert.fail('a sixth event was accepted'),
      (e: unknown) => e,
    );
    assert.ok(refused instanceof OutboxUnavailableError);
    assert.equal(refused.reason, 'queue_full');
    assert.equal(refused.status, 503);
    assert.equal(o.add(ev(6)), false);
    assert.equal(o.pending, 5, 'the queued events are all kept');
    assert.equal(o.dropped, 2);
    assert.equal((await metric('berth_notifications_dropped_events_total', { reason: 'queue_full' })) - before, 2);
    const line = logged.lines.find((l) => l.eventId === 'e5');
    assert.ok(line && line.level === 50 && /refused/.test(String(line.msg)), JSON.stringify(logged.lines));
    // The store is back: the five are written, oldest first, and their writers answered.
    sink.failTimes(0);
    await Promise.all(waits);
    assert.deepEqual(sink.batches, [['e0', 'e1', 'e2', 'e3', 'e4']]);
    assert.equal(await metric('berth_notifications_unwritten_events'), 0);
    await o.close();
    assert.equal(o.add(ev(9)), false, 'nothing is accepted after close');
    await assert.rejects(o.addAndWait(ev(10)), (e: unknown) => e instanceof OutboxUnavailableError && e.reason === 'shutdown');
  });

  it('at close, what the store still refuses after closeTimeoutMs is logged event by event and counted as lost', async () => {
    await enableMetrics();
    const before = await metric('berth_notifications_dropped_events_total', { reason: 'shutdown' });
    const sink = fakeSink();
    const logged = captureLog();
    const o = new Outbox(sink, logged.log, { flushIntervalMs: 10_000, closeTimeoutMs: 300, maxRetryDelayMs: 50 });
    sink.failTimes(1_000_000);
    o.add(ev(1));
    o.add(ev(2));
    const waiting = o.addAndWait(ev(3)).then(
      () => assert.fail('answered although never written'),
      (e: unknown) => e,
    );
    const t = Date.now();
    await o.close();
    assert.ok(Date.now() - t >= 250, 'close kept trying');
    const err = await waiting;
    assert.ok(err instanceof OutboxUnavailableError);
    assert.deepEqual(sink.batches, []);
    assert.equal(o.dropped, 3);
    assert.equal((await metric('berth_notifications_dropped_events_total', { reason: 'shutdown' })) - before, 3);
    const lost = logged.lines.filter((l) => l.msg === 'notifications: event lost at shutdown').map((l) => l.eventId);
    assert.deepEqual(lost, ['e1', 'e2', 'e3']);
    assert.equal(o.pending, 0);
  });
});
