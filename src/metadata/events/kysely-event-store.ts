// NotificationStore over Kysely (SQLite and PostgreSQL).
//
// Ordering: delivery reads events after a cursor in seq order, so an event must never become
// visible after one with a larger seq (its endpoint's cursor would have passed it). On PostgreSQL
// a sequence value is taken at insert time but seen at commit, so two appenders could commit out
// of order: append therefore locks the table (EXCLUSIVE: readers go on, other appenders wait) for
// its short transaction. Appends are batches (src/events/outbox.ts), a few per second at most per
// replica, so the lock costs nothing that matters. SQLite has one writer at a time anyway.
//
// Leases: an endpoint's row carries the replica delivering to it (holder) until lease_until; every
// write of the cursor or the failure state checks the holder, so a replica that lost its lease
// (paused too long, then resumed) cannot move the cursor another has moved since.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { SqlDialect } from '../dialect.ts';
import type { Database } from '../schema.ts';
import type { DeadLetter, EndpointState, NewEvent, NotificationStore, StoredEvent } from './store.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface KyselyNotificationStoreOptions {
  dialect: SqlDialect;
  /** The metadata store's write transaction (retries, BEGIN IMMEDIATE on SQLite). */
  transaction<T>(work: (tx: Db) => Promise<T>): Promise<T>;
}

/** Rows per INSERT statement (SQLite's and PostgreSQL's limits on bound parameters are far above). */
const CHUNK = 200;

const num = (v: unknown) => Number(v);

function toState(r: Record<string, unknown>): EndpointState {
  return {
    name: String(r.name),
    cursor: num(r.cursor),
    holder: (r.holder as string | null) ?? null,
    leaseUntil: num(r.lease_until),
    failures: num(r.failures),
    nextAttemptAt: num(r.next_attempt_at),
    lastError: (r.last_error as string | null) ?? null,
    lastSuccessAt: r.last_success_at === null || r.last_success_at === undefined ? null : num(r.last_success_at),
    updatedAt: num(r.updated_at),
  };
}

function toDeadLetter(r: Record<string, unknown>): DeadLetter {
  return {
    id: num(r.id),
    endpoint: String(r.endpoint),
    eventId: String(r.event_id),
    createdAt: num(r.created_at),
    body: String(r.body),
    failedAt: num(r.failed_at),
    attempts: num(r.attempts),
    lastError: (r.last_error as string | null) ?? null,
  };
}

export class KyselyNotificationStore implements NotificationStore {
  private readonly pg: boolean;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: KyselyNotificationStoreOptions,
  ) {
    this.pg = options.dialect === 'postgres';
  }

  private async insertEvents(tx: Db, events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (this.pg) await sql`lock table notification_events in exclusive mode`.execute(tx);
    for (let i = 0; i < events.length; i += CHUNK) {
      const rows = events.slice(i, i + CHUNK).map((e) => ({ event_id: e.eventId, endpoint: e.endpoint ?? null, created_at: e.createdAt, body: e.body }));
      await tx.insertInto('notification_events').values(rows).execute();
    }
  }

  async append(events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.options.transaction((tx) => this.insertEvents(tx, events));
  }

  private async newestSeq(db: Db): Promise<number> {
    const row = await db.selectFrom('notification_events').select((eb) => eb.fn.max('seq').as('max')).executeTakeFirst();
    return row?.max === null || row?.max === undefined ? 0 : num(row.max);
  }

  async registerEndpoint(name: string): Promise<void> {
    const exists = await this.db.selectFrom('notification_endpoints').select('name').where('name', '=', name).executeTakeFirst();
    if (exists) return;
    const cursor = await this.newestSeq(this.db);
    await this.db
      .insertInto('notification_endpoints')
      .values({ name, cursor, holder: null, lease_until: 0, failures: 0, next_attempt_at: 0, last_error: null, last_success_at: null, updated_at: Date.now() })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
  }

  async claim(name: string, holder: string, ttlMs: number): Promise<EndpointState | undefined> {
    const now = Date.now();
    const row = await this.db
      .updateTable('notification_endpoints')
      .set({ holder, lease_until: now + ttlMs, updated_at: now })
      .where('name', '=', name)
      .where((eb) => eb.or([eb('holder', '=', holder), eb('holder', 'is', null), eb('lease_until', '<', now)]))
      .returningAll()
      .executeTakeFirst();
    return row ? toState(row as unknown as Record<string, unknown>) : undefined;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.db.updateTable('notification_endpoints').set({ holder: null, lease_until: 0 }).where('name', '=', name).where('holder', '=', holder).execute();
  }

  async pending(name: string, after: number, limit: number): Promise<StoredEvent[]> {
    const rows = await this.db
      .selectFrom('notification_events')
      .select(['seq', 'event_id', 'endpoint', 'created_at', 'body'])
      .where('seq', '>', after)
      .where((eb) => eb.or([eb('endpoint', 'is', null), eb('endpoint', '=', name)]))
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ seq: num(r.seq), eventId: r.event_id, endpoint: r.endpoint, createdAt: num(r.created_at), body: r.body }));
  }

  async advance(name: string, holder: string, seq: number, delivered: boolean): Promise<boolean> {
    const now = Date.now();
    const res = await this.db
      .updateTable('notification_endpoints')
      .set({ cursor: seq, failures: 0, next_attempt_at: 0, updated_at: now, ...(delivered && { last_success_at: now, last_error: null }) })
      .where('name', '=', name)
      .where('holder', '=', holder)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async recordFailure(name: string, holder: string, failures: number, nextAttemptAt: number, error: string): Promise<boolean> {
    const res = await this.db
      .updateTable('notification_endpoints')
      .set({ failures, next_attempt_at: nextAttemptAt, last_error: error.slice(0, 1000), updated_at: Date.now() })
      .where('name', '=', name)
      .where('holder', '=', holder)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async deadLetter(name: string, holder: string, events: StoredEvent[], upTo: number, attempts: number, error: string | null): Promise<boolean> {
    const last = upTo;
    return this.options.transaction(async (tx) => {
      const now = Date.now();
      const res = await tx
        .updateTable('notification_endpoints')
        .set({ cursor: last, failures: 0, next_attempt_at: 0, updated_at: now })
        .where('name', '=', name)
        .where('holder', '=', holder)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) return false;
      for (let i = 0; i < events.length; i += CHUNK) {
        const rows = events.slice(i, i + CHUNK).map((e, j) => ({
          endpoint: name,
          event_id: e.eventId,
          created_at: e.createdAt,
          body: e.body,
          failed_at: now,
          // Only the first had attempts: the others waited behind it.
          attempts: i + j === 0 ? attempts : 0,
          last_error: error?.slice(0, 1000) ?? null,
        }));
        await tx.insertInto('notification_dead_letters').values(rows).execute();
      }
      return true;
    });
  }

  async endpoints(): Promise<(EndpointState & { backlog: number })[]> {
    const rows = await this.db.selectFrom('notification_endpoints').selectAll().orderBy('name').execute();
    const out: (EndpointState & { backlog: number })[] = [];
    for (const r of rows) {
      const state = toState(r as unknown as Record<string, unknown>);
      const c = await this.db
        .selectFrom('notification_events')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('seq', '>', state.cursor)
        .where((eb) => eb.or([eb('endpoint', 'is', null), eb('endpoint', '=', state.name)]))
        .executeTakeFirst();
      out.push({ ...state, backlog: num(c?.n ?? 0) });
    }
    return out;
  }

  async deadLetters(options: { endpoint?: string; after?: number; limit: number }): Promise<DeadLetter[]> {
    let q = this.db.selectFrom('notification_dead_letters').selectAll();
    if (options.endpoint !== undefined) q = q.where('endpoint', '=', options.endpoint);
    if (options.after !== undefined) q = q.where('id', '>', options.after);
    const rows = await q.orderBy('id').limit(options.limit).execute();
    return rows.map((r) => toDeadLetter(r as unknown as Record<string, unknown>));
  }

  async deadLetterCount(endpoint?: string): Promise<number> {
    let q = this.db.selectFrom('notification_dead_letters').select((eb) => eb.fn.countAll().as('n'));
    if (endpoint !== undefined) q = q.where('endpoint', '=', endpoint);
    const row = await q.executeTakeFirst();
    return num(row?.n ?? 0);
  }

  async deadLetterById(id: number): Promise<DeadLetter | undefined> {
    const row = await this.db.selectFrom('notification_dead_letters').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toDeadLetter(row as unknown as Record<string, unknown>) : undefined;
  }

  async retryDeadLetters(ids: number[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.options.transaction(async (tx) => {
      const rows = await tx.selectFrom('notification_dead_letters').selectAll().where('id', 'in', ids).orderBy('id').execute();
      if (rows.length === 0) return 0;
      const now = Date.now();
      // Aged from now: the original time stays in the event's own timestamp.
      await this.insertEvents(
        tx,
        rows.map((r) => ({ eventId: r.event_id, endpoint: r.endpoint, createdAt: now, body: r.body })),
      );
      await tx.deleteFrom('notification_dead_letters').where('id', 'in', rows.map((r) => r.id)).execute();
      return rows.length;
    });
  }

  async deleteDeadLetters(ids: number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const res = await this.db.deleteFrom('notification_dead_letters').where('id', 'in', ids).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  async prune(activeSince: number): Promise<number> {
    const row = await this.db
      .selectFrom('notification_endpoints')
      .select((eb) => eb.fn.min('cursor').as('min'))
      .where('updated_at', '>=', activeSince)
      .executeTakeFirst();
    const min = row?.min;
    const res =
      min === null || min === undefined
        ? await this.db.deleteFrom('notification_events').where('created_at', '<', activeSince).executeTakeFirst()
        : await this.db.deleteFrom('notification_events').where('seq', '<=', num(min)).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
