// Table shapes of the notification outbox (migration 0009_events, ./migration.ts), listed in
// ../schema.ts's Database. Timestamps are epoch milliseconds.
import type { Generated } from 'kysely';

/** The outbox: every event once, in commit order (seq), for every endpoint (or one, when `endpoint` is set). */
export interface NotificationEventsTable {
  seq: Generated<number>;
  /** The event's UUID (its `id` field): the same on every attempt, and when a dead letter is retried. */
  event_id: string;
  /** null = every endpoint; a name = only that endpoint (a dead letter sent again). */
  endpoint: string | null;
  created_at: number;
  /** The event as JSON, exactly as it is POSTed inside the envelope. */
  body: string;
}

/** Per endpoint: how far delivery got (cursor = the last seq handled), who delivers now (the lease), and its failures. */
export interface NotificationEndpointsTable {
  name: string;
  cursor: number;
  holder: string | null;
  lease_until: number;
  /** Failed attempts in a row on the event after the cursor. */
  failures: number;
  next_attempt_at: number;
  last_error: string | null;
  last_success_at: number | null;
  updated_at: number;
}

/** Events an endpoint never took before berth.notifications.maxage. */
export interface NotificationDeadLettersTable {
  id: Generated<number>;
  endpoint: string;
  event_id: string;
  created_at: number;
  body: string;
  failed_at: number;
  attempts: number;
  last_error: string | null;
}
