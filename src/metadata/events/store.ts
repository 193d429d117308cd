// The notification outbox's questions to the metadata store (src/events/ delivers from it):
// appending events, each endpoint's cursor and lease, failures, dead letters. Written once over
// Kysely (kysely-event-store.ts) for SQLite and PostgreSQL.

export interface NewEvent {
  /** The event's UUID (its JSON `id`). */
  eventId: string;
  /** Epoch ms; an event older than berth.notifications.maxage is not sent but dead-lettered. */
  createdAt: number;
  /** The event's JSON. */
  body: string;
  /** Only this endpoint (a dead letter sent again); default every endpoint. */
  endpoint?: string;
}

export interface StoredEvent {
  seq: number;
  eventId: string;
  endpoint: string | null;
  createdAt: number;
  body: string;
}

export interface EndpointState {
  name: string;
  /** The last seq delivered, skipped (ignored) or dead-lettered. */
  cursor: number;
  holder: string | null;
  leaseUntil: number;
  /** Failed attempts in a row on the next event. */
  failures: number;
  /** No attempt before this (epoch ms): the backoff. */
  nextAttemptAt: number;
  lastError: string | null;
  lastSuccessAt: number | null;
  updatedAt: number;
}

export interface DeadLetter {
  id: number;
  endpoint: string;
  eventId: string;
  /** When the event was queued (epoch ms). */
  createdAt: number;
  /** The event's JSON. */
  body: string;
  failedAt: number;
  attempts: number;
  lastError: string | null;
}

export interface NotificationStore {
  /** Appends events in one transaction, in order; their seqs become visible in that order. */
  append(events: NewEvent[]): Promise<void>;
  /** Creates the endpoint's row when it has none, its cursor at the newest event (a new endpoint starts now). */
  registerEndpoint(name: string): Promise<void>;
  /** Takes or renews the endpoint's lease until now + ttlMs; its state when `holder` has it, undefined when another replica does. */
  claim(name: string, holder: string, ttlMs: number): Promise<EndpointState | undefined>;
  /** Gives the lease up (shutdown), so another replica can take the endpoint at once. */
  release(name: string, holder: string): Promise<void>;
  /** Up to `limit` events after seq `after` meant for the endpoint, in seq order. */
  pending(name: string, after: number, limit: number): Promise<StoredEvent[]>;
  /** Moves the cursor to `seq` and clears failures (`delivered`: also the time of the last success); false when the lease was lost. */
  advance(name: string, holder: string, seq: number, delivered: boolean): Promise<boolean>;
  /** Records a failed attempt; false when the lease was lost. */
  recordFailure(name: string, holder: string, failures: number, nextAttemptAt: number, error: string): Promise<boolean>;
  /**
   * Moves events to the dead-letter list and the cursor to `upTo` (past them, and past any ignored
   * event between them), in one transaction; `attempts` and `error` belong to the first. False
   * when the lease was lost.
   */
  deadLetter(name: string, holder: string, events: StoredEvent[], upTo: number, attempts: number, error: string | null): Promise<boolean>;
  /** Every endpoint's state with how many events wait for it (the admin API). */
  endpoints(): Promise<(EndpointState & { backlog: number })[]>;
  /** Dead letters by id (oldest first), after id `after`, optionally of one endpoint. */
  deadLetters(options: { endpoint?: string; after?: number; limit: number }): Promise<DeadLetter[]>;
  /** How many dead letters there are (of one endpoint). */
  deadLetterCount(endpoint?: string): Promise<number>;
  deadLetterById(id: number): Promise<DeadLetter | undefined>;
  /** Queues the dead letters again, for their endpoint only (same event id), and removes them; returns how many. */
  retryDeadLetters(ids: number[]): Promise<number>;
  deleteDeadLetters(ids: number[]): Promise<number>;
  /**
   * Removes events every endpoint active since `activeSince` has passed (and, when no endpoint has
   * been active since then, events created before it); returns how many.
   */
  prune(activeSince: number): Promise<number>;
}
