// Delivery workers: one loop per enabled endpoint, reading the outbox (metadata.events) after the
// endpoint's cursor and POSTing each event in order, as distribution does one event per request.
//
//  - At least once, in order: the cursor moves past an event only once the endpoint answered it
//    2xx or 3xx (distribution's rule). While events flow the cursor is written every 20 events or
//    100 ms, so a crash sends at most those (and the one in flight) again, with the same `id`.
//  - One replica per endpoint at a time: the endpoint's lease in the store (renewed while the loop
//    runs, released at shutdown, taken over by another replica when it expires). Replicas thereby
//    share the endpoints; every event is delivered once per endpoint except across a crash.
//  - Failures: the first `threshold` failures in a row are retried at once (distribution's
//    meaning), then the wait starts at `backoff` and doubles per failure up to maxBackoffMs. The
//    failure count and the next attempt's time are in the store, so they survive a restart.
//  - An event still undelivered berth.notifications.maxage after it was queued is not sent: it moves
//    to the dead-letter list (with the events behind it that are that old too), and the endpoint
//    goes on with the next one. Dead letters are listed, retried and deleted through the admin API.
//  - Events an endpoint ignores (ignore.actions, ignore.mediatypes, ignoredmediatypes) are skipped.
//  - With berth.notifications.signingkey every request carries Berth-Signature (./signature.ts).
import type { Logger } from 'pino';
import type { EndpointConfig } from './config-types.ts';
import type { NotificationStore, StoredEvent } from '../metadata/events/store.ts';
import { EVENTS_MEDIA_TYPE } from './types.ts';
import { signatureHeader, SIGNATURE_HEADER } from './signature.ts';
import { endpointTarget, type EndpointTarget } from './endpoint-target.ts';
import { notificationDelivered, notificationError, notificationFailed, setNotificationQueueSource } from '../metrics/notifications.ts';

export interface DeliveryOptions {
  store: NotificationStore;
  endpoints: EndpointConfig[];
  /** This process's name in the endpoints' leases. */
  holder: string;
  maxAgeMs: number;
  maxBackoffMs: number;
  signingKey?: string;
  log: Logger;
  /** How long a lease lasts without renewal (default 30 s): a crashed replica's endpoints are taken over after this. */
  leaseTtlMs: number;
  /** How often an idle worker looks for events written by other replicas, and a replica without the lease looks for it (default 1 s). */
  pollMs: number;
  /** Events read per query (default 100). */
  batch: number;
  /** Events per request (berth.notifications.maxbatch; default 1, as distribution). */
  maxBatch: number;
  /** How often delivered events are removed from the outbox (default 10 min). */
  pruneIntervalMs: number;
}

/** Counters per endpoint since the start (for metrics and the admin API). */
export interface EndpointCounters {
  delivered: number;
  failures: number;
  skipped: number;
  deadLettered: number;
  /** Responses by status code ('error' for no response). */
  statuses: Record<string, number>;
}

/** Cursor writes while events flow: at most every SAVE_EVERY delivered events or SAVE_MS (see loop()). */
const SAVE_EVERY = 20;
const SAVE_MS = 100;

/** The wait before the next attempt after `failures` failures in a row (see the header). */
export function backoffDelay(failures: number, threshold: number, backoffMs: number, maxBackoffMs: number): number {
  if (failures < threshold) return 0;
  return Math.min(Math.max(maxBackoffMs, backoffMs), backoffMs * 2 ** Math.min(failures - threshold, 30));
}

/** Whether the endpoint ignores the event (its action, or its target's media type). */
export function ignores(endpoint: EndpointConfig, event: { action?: string; target?: { mediaType?: string } }): boolean {
  if (event.action && endpoint.ignoredActions.includes(event.action)) return true;
  const mt = event.target?.mediaType;
  return !!mt && endpoint.ignoredMediaTypes.includes(mt);
}

export class NotificationDelivery {
  private readonly options: DeliveryOptions;
  private stopped = false;
  private started = false;
  private loops: Promise<void>[] = [];
  private wakers = new Set<() => void>();
  private pruneTimer: NodeJS.Timeout | undefined;
  private readonly aborts = new Set<AbortController>();
  private unregisterMetrics: (() => void) | undefined;
  readonly counters = new Map<string, EndpointCounters>();
  /** Per endpoint: its URL without user information, and the Basic credentials that came from it. */
  private readonly targets = new Map<string, EndpointTarget>();

  constructor(options: Partial<DeliveryOptions> & Pick<DeliveryOptions, 'store' | 'endpoints' | 'holder' | 'maxAgeMs' | 'maxBackoffMs' | 'log'>) {
    this.options = { leaseTtlMs: 30_000, pollMs: 1000, batch: 100, maxBatch: 1, pruneIntervalMs: 600_000, ...options };
    for (const e of this.options.endpoints) {
      this.counters.set(e.name, { delivered: 0, failures: 0, skipped: 0, deadLettered: 0, statuses: {} });
      this.targets.set(e.name, endpointTarget(e.url));
    }
  }

  private registered: Promise<void> | undefined;

  /**
   * Gives every endpoint its row (a new one starts after the newest event), once: before this
   * process writes its first event, so none of its events is before a new endpoint's start.
   */
  register(): Promise<void> {
    this.registered ??= (async () => {
      for (const e of this.options.endpoints) await this.options.store.registerEndpoint(e.name);
    })().catch((err: unknown) => {
      this.registered = undefined;
      throw err;
    });
    return this.registered;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.register();
    for (const e of this.options.endpoints) this.loops.push(this.loop(e));
    // registry_notifications_pending_total and berth_notifications_dead_letters, read from the outbox at scrape time.
    const names = new Set(this.options.endpoints.map((e) => e.name));
    this.unregisterMetrics = setNotificationQueueSource(async () => {
      const states = await this.options.store.endpoints();
      const out = [];
      for (const s of states) if (names.has(s.name)) out.push({ endpoint: s.name, pending: s.backlog, deadLetters: await this.options.store.deadLetterCount(s.name) });
      return out;
    });
    const prune = () => {
      this.options.store
        .prune(Date.now() - Math.max(this.options.maxAgeMs, 3_600_000))
        .then((n) => n && this.options.log.debug({ events: n }, 'notifications: delivered events removed from the outbox'))
        .catch((err: unknown) => this.options.log.warn({ err }, 'notifications: the outbox could not be pruned'));
    };
    this.pruneTimer = setInterval(prune, this.options.pruneIntervalMs).unref();
    setTimeout(() => !this.stopped && prune(), Math.min(60_000, this.options.pruneIntervalMs)).unref();
  }

  /** New events were written by this process: idle workers look at once. */
  wake(): void {
    const w = [...this.wakers];
    this.wakers.clear();
    for (const f of w) f();
  }

  /** Waits `ms`, or less when woken (new events) or stopped. */
  private idle(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      timer.unref();
      this.wakers.add(done);
    });
  }

  /** Waits `ms` unless stopped (a backoff: new events do not shorten it). */
  private pause(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(onStop);
        resolve();
      };
      const onStop = () => {
        if (this.stopped) done();
        else this.wakers.add(onStop);
      };
      const timer = setTimeout(done, Math.max(0, ms));
      timer.unref();
      this.wakers.add(onStop);
    });
  }

  private async loop(endpoint: EndpointConfig): Promise<void> {
    const { store, holder, leaseTtlMs, pollMs, batch, maxAgeMs, log } = this.options;
    const name = endpoint.name;
    const counters = this.counters.get(name)!;
    let state: Awaited<ReturnType<NotificationStore['claim']>>;
    let renewedAt = 0;
    let held = false;
    while (!this.stopped) {
      try {
        // Take or renew the lease when it is a third through (or not ours).
        if (!held || Date.now() - renewedAt > leaseTtlMs / 3) {
          state = await store.claim(name, holder, leaseTtlMs);
          renewedAt = Date.now();
          if (!state) {
            if (held) log.info({ endpoint: name }, 'notifications: another replica delivers to this endpoint now');
            held = false;
            await this.pause(pollMs);
            continue;
          }
          if (!held) log.debug({ endpoint: name }, 'notifications: delivering to this endpoint');
          held = true;
        }
        const s = state!;
        const events = await store.pending(name, s.cursor, batch);
        if (events.length === 0) {
          await this.idle(Math.min(pollMs, leaseTtlMs / 3));
          continue;
        }
        const now = Date.now();
        // Skip what this endpoint ignores (one cursor move for the run of them).
        let i = 0;
        let skipTo = 0;
        while (i < events.length && ignores(endpoint, parse(events[i]!))) skipTo = events[i++]!.seq;
        if (skipTo) {
          if (!(await store.advance(name, holder, skipTo, false))) {
            held = false;
            continue;
          }
          counters.skipped += i;
          s.cursor = skipTo;
          continue;
        }
        const head = events[0]!;
        if (now - head.createdAt > maxAgeMs) {
          await this.deadLetter(endpoint, s, events, now);
          continue;
        }
        if (s.nextAttemptAt > now) {
          // Backing off; wake early when the head event reaches maxage.
          await this.pause(Math.min(s.nextAttemptAt - now, head.createdAt + maxAgeMs + 1 - now, leaseTtlMs / 3));
          continue;
        }
        // Cursor writes are coalesced while events flow (every SAVE_EVERY events or SAVE_MS): a crash
        // sends at most those again, and a busy endpoint does not cost one database write per event.
        let unsaved: { seq: number; delivered: boolean; count: number } | undefined;
        let savedAt = Date.now();
        const save = async (): Promise<boolean> => {
          if (!unsaved) return true;
          const { seq, delivered } = unsaved;
          unsaved = undefined;
          savedAt = Date.now();
          return store.advance(name, holder, seq, delivered);
        };
        let lost = false;
        const expired = (e: StoredEvent) => Date.now() - e.createdAt > maxAgeMs;
        for (let i = 0; i < events.length; ) {
          const event = events[i]!;
          if (this.stopped || Date.now() - renewedAt > leaseTtlMs / 3) break;
          if (expired(event)) break; // the next round dead-letters it
          if (ignores(endpoint, parse(event))) {
            unsaved = { seq: event.seq, delivered: unsaved?.delivered ?? false, count: (unsaved?.count ?? 0) + 1 };
            s.cursor = event.seq;
            counters.skipped++;
            i++;
            continue;
          }
          // With berth.notifications.maxbatch above 1, the events that follow go in the same request.
          const batch = [event];
          let next = i + 1;
          while (batch.length < this.options.maxBatch && next < events.length && !expired(events[next]!)) {
            const e = events[next++]!;
            if (ignores(endpoint, parse(e))) counters.skipped++;
            else batch.push(e);
          }
          const last = events[next - 1]!.seq;
          const error = await this.post(endpoint, batch);
          if (error === undefined) {
            counters.delivered += batch.length;
            i = next;
            unsaved = { seq: last, delivered: true, count: (unsaved?.count ?? 0) + batch.length };
            s.cursor = last;
            s.failures = 0;
            s.nextAttemptAt = 0;
            s.lastError = null;
            if ((unsaved.count >= SAVE_EVERY || Date.now() - savedAt >= SAVE_MS) && !(await save())) {
              lost = true;
              break;
            }
            continue;
          }
          if (!(await save())) {
            lost = true;
            break;
          }
          counters.failures++;
          s.failures++;
          s.lastError = error;
          const wait = backoffDelay(s.failures, endpoint.threshold, endpoint.backoffMs, this.options.maxBackoffMs);
          s.nextAttemptAt = Date.now() + wait;
          if (s.failures === endpoint.threshold) log.warn({ endpoint: name, error, failures: s.failures }, 'notifications: endpoint keeps failing, backing off');
          else log.debug({ endpoint: name, error, failures: s.failures }, 'notifications: delivery failed');
          if (!(await store.recordFailure(name, holder, s.failures, s.nextAttemptAt, error))) lost = true;
          break;
        }
        if (!lost && !(await save())) lost = true;
        if (lost) held = false;
      } catch (err) {
        // The database is unreachable, say: try again shortly, with the lease re-checked.
        log.warn({ err, endpoint: name }, 'notifications: delivery loop error');
        held = false;
        await this.pause(pollMs);
      }
    }
    if (held) await store.release(name, holder).catch(() => undefined);
  }

  /** Moves the expired events at the head (and ignored ones among them) to the dead-letter list. */
  private async deadLetter(endpoint: EndpointConfig, s: NonNullable<Awaited<ReturnType<NotificationStore['claim']>>>, events: StoredEvent[], now: number): Promise<void> {
    const { store, holder, maxAgeMs, log } = this.options;
    const expired: StoredEvent[] = [];
    let upTo = s.cursor;
    for (const e of events) {
      if (now - e.createdAt <= maxAgeMs) break;
      upTo = e.seq;
      if (!ignores(endpoint, parse(e))) expired.push(e);
    }
    if (!(await store.deadLetter(endpoint.name, holder, expired, upTo, s.failures, s.lastError))) return;
    const counters = this.counters.get(endpoint.name)!;
    counters.deadLettered += expired.length;
    log.warn({ endpoint: endpoint.name, events: expired.length, lastError: s.lastError }, 'notifications: events older than berth.notifications.maxage moved to the dead-letter list');
    s.cursor = upTo;
    s.failures = 0;
    s.nextAttemptAt = 0;
  }

  /** One attempt; undefined when delivered, else what went wrong. */
  private async post(endpoint: EndpointConfig, events: StoredEvent[]): Promise<string | undefined> {
    const counters = this.counters.get(endpoint.name)!;
    const body = `{"events":[${events.map((e) => e.body).join(',')}]}`;
    const headers = new Headers();
    for (const [k, values] of Object.entries(endpoint.headers)) for (const v of values) headers.append(k, v);
    const target = this.targets.get(endpoint.name) ?? endpointTarget(endpoint.url);
    // The URL's user information, as Go's client sends it: only when no Authorization is configured.
    if (target.authorization && !headers.has('Authorization')) headers.set('Authorization', target.authorization);
    // Set last, as distribution does: a configured Content-Type cannot replace it.
    headers.set('Content-Type', EVENTS_MEDIA_TYPE);
    if (!headers.has('User-Agent')) headers.set('User-Agent', 'berth-notifications');
    if (this.options.signingKey !== undefined) headers.set(SIGNATURE_HEADER, signatureHeader(this.options.signingKey, body));
    const abort = new AbortController();
    this.aborts.add(abort);
    const timer = setTimeout(() => abort.abort(new Error(`no answer within ${endpoint.timeoutMs} ms`)), endpoint.timeoutMs);
    try {
      const res = await fetch(target.url, { method: 'POST', headers, body, redirect: 'manual', signal: abort.signal });
      await res.arrayBuffer().catch(() => undefined);
      counters.statuses[res.status] = (counters.statuses[res.status] ?? 0) + 1;
      if (res.status >= 200 && res.status < 400) {
        notificationDelivered(endpoint.name, res.status);
        return undefined;
      }
      notificationFailed(endpoint.name, res.status);
      return `HTTP ${res.status}`;
    } catch (e) {
      counters.statuses.error = (counters.statuses.error ?? 0) + 1;
      notificationError(endpoint.name);
      const err = e as Error & { cause?: Error };
      if (abort.signal.aborted) return String((abort.signal.reason as Error)?.message ?? 'aborted');
      return err.cause?.message ? `${err.message}: ${err.cause.message}` : err.message;
    } finally {
      clearTimeout(timer);
      this.aborts.delete(abort);
    }
  }

  /**
   * Stops the loops and releases the leases. An attempt in flight may finish for 2 s (so a receiver
   * that is answering does not get the event again); then it is abandoned and sent again later.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.unregisterMetrics?.();
    const abort = setTimeout(() => {
      for (const a of this.aborts) a.abort(new Error('shutting down'));
    }, 2000);
    this.wake();
    await Promise.all(this.loops);
    clearTimeout(abort);
  }
}

function parse(e: StoredEvent): { action?: string; target?: { mediaType?: string } } {
  try {
    return JSON.parse(e.body) as { action?: string; target?: { mediaType?: string } };
  } catch {
    return {};
  }
}
