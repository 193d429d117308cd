// The audit log as the request path sees it: record() returns at once; events are buffered and
// written in batches (every 250 ms or 200 events) so a pull never waits for an INSERT. When the
// database cannot take them, a batch is retried once with the next one, then dropped with an
// error line (an audit trail must not take the registry down with it); the buffer is bounded.
//
// Nothing secret is ever stored: detail keys that name a secret (password, token, secret,
// authorization, ...) are replaced, and any string that looks like a berth token or an
// Authorization header value is masked wherever it appears.
import type { AuditEventInput, AuditEventRecord, AuditFilter, AuditStore } from '../../metadata/access/store.ts';
import type { Principal } from '../types.ts';
import { errorSummary, type LoggerLike } from './token-verifier.ts';

export interface AuditLogOptions {
  flushIntervalMs?: number;
  maxBatch?: number;
  /** Events held while the database is unavailable; beyond this the oldest are dropped. */
  maxBuffered?: number;
  log?: LoggerLike;
}

export interface AuditPage {
  events: AuditEventRecord[];
  /** Opaque cursor for the next (older) page; null at the end. */
  next: string | null;
}

/** Keys that end in a secret's name (`password`, `accessToken`, `tokenHash`; not `tokenId`). */
const SECRET_KEY = /(pass(word|wd)?|secret|token|authori[sz]ation|cookie|credentials?|hash|private.?key)$/i;
const SECRET_VALUE = /\bberth_(?:pat|rbt)_[A-Za-z0-9_-]+|\b(?:Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{8,}/g;
const REDACTED = '[redacted]';

/** A copy of the details safe to store: secrets removed, depth and sizes bounded. */
export function redactDetails(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(SECRET_VALUE, REDACTED).slice(0, 1000);
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? String(value) : value;
  if (depth >= 5) return '[truncated]';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redactDetails(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value).slice(0, 50)) out[k] = SECRET_KEY.test(k) ? REDACTED : redactDetails(v, depth + 1);
  return out;
}

export function encodeCursor(e: { time: Date; id: number }): string {
  return Buffer.from(`${e.time.getTime()}.${e.id}`).toString('base64url');
}

/** undefined for anything that is not a cursor this log produced. */
export function decodeCursor(cursor: string): { time: number; id: number } | undefined {
  const m = /^(\d{1,16})\.(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return m ? { time: Number(m[1]), id: Number(m[2]) } : undefined;
}

export class AuditLog {
  private buffer: AuditEventInput[] = [];
  private retry: AuditEventInput[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private dropped = 0;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private readonly maxBuffered: number;

  constructor(
    private readonly store: AuditStore,
    private readonly options: AuditLogOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 250;
    this.maxBatch = options.maxBatch ?? 200;
    this.maxBuffered = options.maxBuffered ?? 10_000;
  }

  record(event: AuditEventInput): void {
    const clean: AuditEventInput = {
      ...event,
      time: event.time ?? new Date(),
      // An actor field is a name, but a client may type a token into the user name field.
      actor: String(redactDetails(event.actor)),
      details: event.details ? (redactDetails(event.details) as Record<string, unknown>) : null,
    };
    this.buffer.push(clean);
    if (this.buffer.length > this.maxBuffered) {
      this.buffer.splice(0, this.buffer.length - this.maxBuffered);
      this.dropped++;
    }
    if (this.buffer.length >= this.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushIntervalMs).unref();
  }

  /**
   * Shorthand for the HTTP layer: an event by the request's principal, e.g.
   * recordBy(principal, { action: 'push', repository, reference: digest, outcome: 'success', clientAddress }).
   */
  recordBy(principal: Principal, event: Omit<AuditEventInput, 'actor' | 'actorKind'>): void {
    this.record({ ...event, actor: principal.kind === 'anonymous' ? 'anonymous' : principal.name, actorKind: principal.kind });
  }

  /** Writes everything buffered so far (tests, shutdown, and a query that must see recent events). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.flushing) await this.flushing;
    if (this.buffer.length === 0 && this.retry.length === 0) return;
    const retrying = this.retry;
    const fresh = this.buffer;
    this.retry = [];
    this.buffer = [];
    this.flushing = (async () => {
      try {
        await this.store.insert([...retrying, ...fresh]);
      } catch (err) {
        // Retry the fresh events once with the next batch; events already retried are dropped.
        this.retry = fresh;
        this.dropped += retrying.length;
        this.options.log?.error({ err: errorSummary(err), events: fresh.length, dropped: retrying.length }, 'audit events could not be written');
        this.timer ??= setTimeout(() => void this.flush(), Math.max(this.flushIntervalMs, 1000)).unref();
      }
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
    if (this.dropped) {
      this.options.log?.warn({ dropped: this.dropped }, 'audit events dropped');
      this.dropped = 0;
    }
  }

  async query(filter: AuditFilter, page: { limit: number; cursor?: string }): Promise<AuditPage> {
    const before = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    if (page.cursor !== undefined && !before) throw new RangeError('invalid cursor');
    const limit = Math.max(1, Math.min(page.limit, 1000));
    const rows = await this.store.query(filter, { limit: limit + 1, ...(before && { before }) });
    const events = rows.slice(0, limit);
    const last = events[events.length - 1];
    return { events, next: rows.length > limit && last ? encodeCursor(last) : null };
  }

  /** Flushes and stops the timer. */
  async close(): Promise<void> {
    await this.flush();
    if (this.retry.length) await this.flush();
  }
}
