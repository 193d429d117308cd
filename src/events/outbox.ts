// The request path's side of the outbox: events are queued in memory and written to the metadata
// store in batches, never one database write per event.
//  - Every event the registry answers for (pushes, pulls, mounts, deletes) waits for the batch
//    holding it to be written before the client hears the answer, so an answered request always
//    has its event in the outbox, across a kill -9. The batch is written on the next turn of the
//    event loop: concurrent requests share one transaction.
//  - add() only queues: a timer writes what accumulated every flushIntervalMs (or at once past
//    maxPending), for events nobody waits on.
// When the metadata store refuses a batch, its events go back to the front of the queue (in order)
// and the write is retried with a growing delay (up to maxRetryDelayMs), for as long as it takes.
// A write (push, mount, delete) is not answered meanwhile: a request whose event is not written
// after maxWaitMs fails with 503 (its event stays queued and is written, and delivered, once the
// store takes it again). A pull is different: it changed nothing, and a registry whose database
// refuses writes must still serve images, so a pull's event (`failOpen`) is answered as soon as a
// write fails; the event stays queued, in order, and is written once the store takes it again.
// Memory is bounded by refusing new events once maxQueued are unwritten: a write fails at once
// with 503, a pull is served and its event dropped. Nothing queued is dropped to make room. The
// only events that never reach the outbox are those refused and those still unwritten when the
// process stops after closeTimeoutMs of retries (a kill -9 while the store refuses writes loses the
// queued pull events, which nobody waited for); all are logged and counted
// (berth_notifications_dropped_events_total{reason="queue_full"|"shutdown"}).
import type { Logger } from 'pino';
import type { NewEvent } from '../metadata/events/store.ts';
import { RegistryError } from '../registry/errors.ts';
import { addOutboxDepthSource, outboxDropped, outboxWriteFailed } from '../metrics/notifications.ts';

export interface OutboxSink {
  append(events: NewEvent[]): Promise<void>;
}

export interface OutboxOptions {
  /** How often queued events nobody waits on are written (default 250 ms). */
  flushIntervalMs?: number;
  /** Queued events beyond which a write starts at once (default 1000). */
  maxPending?: number;
  /** The most unwritten events kept in memory; beyond, new events are refused (default 20,000, ~20 MiB). */
  maxQueued?: number;
  /** How long a request waits for its event to be written before it fails with 503 (default 10 s). */
  maxWaitMs?: number;
  /** The longest delay between two attempts while the store refuses writes (default 5 s). */
  maxRetryDelayMs?: number;
  /** How long close() keeps trying to write what is queued (default 5 s). */
  closeTimeoutMs?: number;
  /** After each written batch (wakes the delivery workers). */
  onWritten?: () => void;
}

export type OutboxRefusal = 'queue_full' | 'timeout' | 'shutdown';

/**
 * The event of a request could not be made durable: the request fails with 503 UNAVAILABLE.
 * `reason` 'timeout': the event stays queued and is written once the store takes it again;
 * 'queue_full' and 'shutdown': the event was dropped (logged and counted).
 */
export class OutboxUnavailableError extends RegistryError {
  constructor(readonly reason: OutboxRefusal) {
    super('UNAVAILABLE', {
      message:
        reason === 'shutdown'
          ? 'the registry is shutting down; retry'
          : 'the notification outbox cannot be written (the metadata store refuses writes); retry later',
      headers: { 'Retry-After': '5' },
    });
  }
}

interface Waiter {
  resolve: () => void;
  /** A pull's event: answered at the first failed write instead of waiting for the store. */
  failOpen: boolean;
  reject: (e: Error) => void;
  /** When the waiter first saw a failed write (ms); set then, so that waiting costs nothing while writes succeed. */
  since?: number;
}

/** Refusals are logged at most this often, each message with the count since the last one. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

export class Outbox {
  private queue: NewEvent[] = [];
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private writing: Promise<void> | undefined;
  /** Events of the batch being written (they count towards maxQueued). */
  private inFlight = 0;
  private readonly removeDepthSource: () => void;
  private failures = 0;
  private refused = 0;
  private refusedSinceLog = 0;
  private lastRefusalLog = 0;
  private lost = 0;
  private closed = false;
  private readonly flushIntervalMs: number;
  private readonly maxPending: number;
  private readonly maxQueued: number;
  private readonly maxWaitMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly closeTimeoutMs: number;

  constructor(
    private readonly sink: OutboxSink,
    private readonly log: Logger,
    private readonly options: OutboxOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 250;
    this.maxPending = options.maxPending ?? 1000;
    this.maxQueued = options.maxQueued ?? 20_000;
    this.maxWaitMs = options.maxWaitMs ?? 10_000;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 5_000;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
    this.removeDepthSource = addOutboxDepthSource(() => this.pending);
  }

  /**
   * Queues an event nobody waits on; it is written with the next batch (within flushIntervalMs).
   * Returns false when it was refused (maxQueued unwritten events, or closed): logged and counted.
   */
  add(event: NewEvent): boolean {
    if (!this.admit(event)) return false;
    this.queue.push(event);
    if (this.failures > 0) this.retryLater();
    else if (this.queue.length >= this.maxPending) this.soon();
    else this.timer ??= setTimeout(() => this.run(), this.flushIntervalMs).unref();
    return true;
  }

  /**
   * Queues an event and resolves once it is written to the outbox. Rejects with OutboxUnavailableError
   * (503) when it is refused (queue full, closed) or not written within maxWaitMs (it stays queued then).
   * `failOpen` (pulls): resolves instead, as soon as a write fails or at once while writes fail; the
   * event stays queued (or, when refused, is dropped: logged and counted).
   */
  addAndWait(event: NewEvent, options: { failOpen?: boolean } = {}): Promise<void> {
    const failOpen = options.failOpen ?? false;
    if (!this.admit(event, failOpen)) return failOpen ? Promise.resolve() : Promise.reject(new OutboxUnavailableError(this.closed ? 'shutdown' : 'queue_full'));
    // The store refuses writes right now: a pull is served, its event waits in the queue.
    if (failOpen && this.failures > 0) {
      this.queue.push(event);
      this.retryLater();
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.queue.push(event);
      this.waiters.push({ resolve, reject, failOpen });
      if (this.failures === 0) this.soon();
      else this.retryLater();
    });
  }

  /** Events queued and not yet written (the batch being written included). */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  /** Events that never reached the outbox: refused (their request failed) or lost at shutdown. */
  get dropped(): number {
    return this.refused + this.lost;
  }

  /** Room for one more event? Counts and logs a refusal otherwise. */
  private admit(event: NewEvent, failOpen = false): boolean {
    if (!this.closed && this.pending < this.maxQueued) return true;
    const reason = this.closed ? 'shutdown' : 'queue_full';
    this.refused++;
    this.refusedSinceLog++;
    outboxDropped(reason);
    const now = Date.now();
    if (now - this.lastRefusalLog >= REFUSAL_LOG_INTERVAL_MS) {
      this.log.error(
        { reason, pull: failOpen, refused: this.refusedSinceLog, refusedTotal: this.refused, unwritten: this.pending, eventId: event.eventId, event: event.body },
        reason === 'shutdown'
          ? 'notifications: an event came after the outbox was closed; it is dropped and its request fails'
          : `notifications: ${this.pending} events wait for the metadata store already; new events are refused: writes fail with 503, pulls are served without their event (this event and the others refused since the last message are dropped)`,
      );
      this.lastRefusalLog = now;
      this.refusedSinceLog = 0;
    }
    return false;
  }

  private retryDelay(): number {
    return Math.min(this.maxRetryDelayMs, 250 * 2 ** Math.min(Math.max(0, this.failures - 1), 10));
  }

  /**
   * While the store refuses writes: the next attempt after the backoff delay (one timer at a time).
   * The timer keeps the process alive while someone waits (a CLI's job must not end half-way).
   */
  private retryLater(): void {
    if (this.closed || this.writing) return;
    this.timer ??= setTimeout(() => this.run(), this.retryDelay());
    if (this.waiters.length) this.timer.ref();
    else this.timer.unref();
  }

  private soon(): void {
    this.immediate ??= setImmediate(() => {
      this.immediate = undefined;
      this.run();
    });
  }

  private run(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    void this.flush();
  }

  /** Writes everything queued so far (one attempt; on failure the events stay queued and a retry is scheduled). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.queue.length === 0) {
      this.release(this.waiters.splice(0));
      return;
    }
    const batch = this.queue;
    const waiters = this.waiters;
    this.queue = [];
    this.waiters = [];
    this.inFlight = batch.length;
    this.writing = this.sink.append(batch).then(
      () => {
        if (this.failures) this.log.info({ events: batch.length, attempts: this.failures + 1 }, 'notifications: the metadata store took the queued events again');
        this.failures = 0;
        this.inFlight = 0;
        this.release(waiters);
        this.options.onWritten?.();
      },
      (err: unknown) => {
        this.failures++;
        outboxWriteFailed();
        this.inFlight = 0;
        this.queue = batch.concat(this.queue);
        // Pulls are answered now (their events stay queued); writes keep waiting.
        const all = waiters.concat(this.waiters);
        this.waiters = all.filter((w) => !w.failOpen);
        this.release(all.filter((w) => w.failOpen));
        this.expireWaiters();
        this.log.warn(
          { err, events: this.queue.length, attempt: this.failures, retryInMs: this.closed ? undefined : this.retryDelay() },
          'notifications: events could not be written to the outbox; they stay queued and the write is retried',
        );
      },
    );
    try {
      await this.writing;
    } finally {
      this.writing = undefined;
    }
    if (this.failures > 0) this.retryLater();
    // Writers that queued while this batch was written (or events queued meanwhile, for the timer).
    else if (this.waiters.length) this.soon();
    else if (this.queue.length && !this.closed) this.timer ??= setTimeout(() => this.run(), this.flushIntervalMs).unref();
  }

  /** After a failed write: waiters past maxWaitMs fail (503); their events stay queued. */
  private expireWaiters(): void {
    const now = Date.now();
    const keep: Waiter[] = [];
    const expired: Waiter[] = [];
    for (const w of this.waiters) {
      w.since ??= now;
      (now - w.since >= this.maxWaitMs ? expired : keep).push(w);
    }
    if (expired.length === 0) return;
    this.waiters = keep;
    this.log.warn({ requests: expired.length, unwritten: this.pending }, `notifications: requests waited ${this.maxWaitMs} ms for their events to be written and fail with 503; the events stay queued`);
    for (const w of expired) w.reject(new OutboxUnavailableError('timeout'));
  }

  private release(waiters: Waiter[]): void {
    for (const w of waiters) w.resolve();
  }

  /**
   * Accepts nothing more and writes what is queued, retrying for up to closeTimeoutMs. Events still
   * unwritten then are lost: each is logged (with its body) and counted.
   */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    const deadline = Date.now() + this.closeTimeoutMs;
    await this.flush();
    while (this.queue.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min(this.retryDelay(), Math.max(0, deadline - Date.now()))));
      await this.flush();
    }
    if (this.queue.length) {
      const lost = this.queue;
      this.queue = [];
      this.lost += lost.length;
      this.log.error({ events: lost.length }, 'notifications: events could not be written to the outbox before shutdown; they are lost (each is logged below)');
      for (const e of lost) {
        outboxDropped('shutdown');
        this.log.error({ eventId: e.eventId, event: e.body }, 'notifications: event lost at shutdown');
      }
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new OutboxUnavailableError('shutdown'));
    this.removeDepthSource();
  }
}
