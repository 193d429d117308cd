// The request path's side of the outbox: events are queued in memory and written to the metadata
// store in batches, never one database write per event.
//  - Every event the registry answers for (pushes, pulls, mounts, deletes) waits for the batch
//    holding it to be written before the client hears the answer, so an answered request always
//    has its event in the outbox, across a kill -9. The batch is written on the next turn of the
//    event loop: concurrent requests share one transaction.
//  - add() only queues: a timer writes what accumulated every flushIntervalMs (or at once past
//    maxPending), for events nobody waits on.
// When the database refuses a batch, its events go back to the front of the queue and the write is
// retried with a growing delay; waiting writers are released after the first failure (the write
// itself succeeded; its event is still queued and logged about).
import type { Logger } from 'pino';
import type { NewEvent } from '../metadata/events/store.ts';

export interface OutboxSink {
  append(events: NewEvent[]): Promise<void>;
}

export interface OutboxOptions {
  /** How often queued pull events are written (default 250 ms). */
  flushIntervalMs?: number;
  /** Queued events beyond which a write starts at once (default 1000). */
  maxPending?: number;
  /** The most events kept in memory while the database fails; the oldest go beyond (default 20,000, ~20 MiB). */
  maxQueued?: number;
  /** After each written batch (wakes the delivery workers). */
  onWritten?: () => void;
}

export class Outbox {
  private queue: NewEvent[] = [];
  private waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private writing: Promise<void> | undefined;
  private failures = 0;
  private dropped = 0;
  private closed = false;
  private readonly flushIntervalMs: number;
  private readonly maxPending: number;
  private readonly maxQueued: number;

  constructor(
    private readonly sink: OutboxSink,
    private readonly log: Logger,
    private readonly options: OutboxOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 250;
    this.maxPending = options.maxPending ?? 1000;
    this.maxQueued = options.maxQueued ?? 20_000;
  }

  /** Queues an event; it is written with the next batch (within flushIntervalMs). */
  add(event: NewEvent): void {
    if (this.closed) return;
    this.queue.push(event);
    if (this.queue.length > this.maxQueued) this.drop();
    if (this.queue.length >= this.maxPending) this.soon();
    else this.timer ??= setTimeout(() => this.run(), this.retryDelay()).unref();
  }

  /** Queues an event and resolves once it is written (or the write failed once; it stays queued). */
  addAndWait(event: NewEvent): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.queue.push(event);
      if (this.queue.length > this.maxQueued) this.drop();
      this.waiters.push(resolve);
      if (this.failures === 0) this.soon();
      else this.timer ??= setTimeout(() => this.run(), this.retryDelay()).unref();
    });
  }

  /** Events queued and not yet written. */
  get pending(): number {
    return this.queue.length;
  }

  private retryDelay(): number {
    return this.failures === 0 ? this.flushIntervalMs : Math.min(30_000, 500 * 2 ** Math.min(this.failures, 6));
  }

  private drop(): void {
    const excess = this.queue.length - this.maxQueued;
    this.queue.splice(0, excess);
    this.dropped += excess;
    if (this.dropped === excess || this.dropped % 10_000 < excess) {
      this.log.error({ dropped: this.dropped }, 'notifications: the metadata store has refused events for a long time; the oldest queued events are dropped');
    }
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

  /** Writes everything queued so far. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.queue.length === 0) {
      this.release();
      return;
    }
    const batch = this.queue;
    const waiters = this.waiters;
    this.queue = [];
    this.waiters = [];
    this.writing = this.sink.append(batch).then(
      () => {
        if (this.failures) this.log.info({ events: batch.length }, 'notifications: queued events written again');
        this.failures = 0;
        for (const w of waiters) w();
        this.options.onWritten?.();
      },
      (err: unknown) => {
        this.failures++;
        this.queue = batch.concat(this.queue);
        if (this.queue.length > this.maxQueued) this.drop();
        this.log.warn({ err, events: batch.length, attempt: this.failures }, 'notifications: events could not be written to the outbox; retrying');
        for (const w of waiters) w();
        if (!this.closed) this.timer ??= setTimeout(() => this.run(), this.retryDelay()).unref();
      },
    );
    try {
      await this.writing;
    } finally {
      this.writing = undefined;
    }
    // Writers that queued while this batch was written.
    if (this.waiters.length && this.failures === 0) this.soon();
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Writes what is queued (one attempt) and accepts nothing more. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    await this.flush();
    if (this.queue.length) this.log.error({ events: this.queue.length }, 'notifications: events could not be written to the outbox before shutdown; they are lost');
    this.release();
  }
}
