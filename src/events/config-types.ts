// The notifications settings as berth codes against them: distribution's `notifications:`
// section plus `berth.notifications` (durations in milliseconds).

export interface EndpointConfig {
  /** The endpoint's name; it keys the endpoint's delivery position in the outbox (the URL when no name is given). */
  name: string;
  url: string;
  /** Extra request headers (name -> values), as distribution's `headers`. */
  headers: Record<string, string[]>;
  /** One delivery attempt's limit (distribution's default 1s). */
  timeoutMs: number;
  /** Failures in a row retried at once before backing off (distribution's default 10). */
  threshold: number;
  /** The first wait once `threshold` failures happened in a row; it doubles with each further failure, up to maxBackoffMs (distribution's default 1s). */
  backoffMs: number;
  /** Events whose target media type is listed are not sent (ignoredmediatypes and ignore.mediatypes together). */
  ignoredMediaTypes: string[];
  /** Events with these actions are not sent (ignore.actions). */
  ignoredActions: string[];
  /** distribution's `disabled`: configured but not delivered to (its events are not kept for it either). */
  disabled: boolean;
}

export interface NotificationsConfig {
  /** notifications.events.includereferences: manifest events list the manifest's references. */
  includeReferences: boolean;
  endpoints: EndpointConfig[];
  /** berth.notifications.maxage: an event not delivered by then moves to the dead-letter list (default 24h). */
  maxAgeMs: number;
  /** berth.notifications.signingkey: HMAC-SHA256 key for the Berth-Signature header; absent = no signature. */
  signingKey?: string;
  /** The longest wait between two attempts however many failures (berth.notifications.maxbackoff, default 5m). */
  maxBackoffMs: number;
  /**
   * berth.notifications.maxbatch: events per request when several wait (default 1, as distribution
   * sends them; its envelope allows more, and a busy endpoint keeps up with more).
   */
  maxBatch?: number;
}
