// Notification (webhook) metrics: distribution's names, plus berth's outbox.
//
//   registry_notifications_events_total{type,endpoint}    counter  type as distribution: Events (queued for the
//                                                                   endpoint), Successes, Failures (non-2xx/3xx), Errors (no response)
//   registry_notifications_status_total{code,endpoint}    counter  responses by status, code as distribution writes it ("200 OK")
//   registry_notifications_pending_total{endpoint}        gauge    events waiting for the endpoint (berth: its outbox rows)
//   berth_notifications_dead_letters{endpoint}            gauge    events moved to the dead-letter list (older than maxage)
//
// `endpoint` is the configured endpoint name (bounded by the config). For the notifications code:
//   notificationQueued(endpoint, n = 1)        events written to the outbox for an endpoint
//   notificationDelivered(endpoint, status)    a POST answered 2xx/3xx
//   notificationFailed(endpoint, status)       a POST answered otherwise
//   notificationError(endpoint)                a POST without a response (refused, timed out)
//   setNotificationQueueSource(read)           per endpoint { endpoint, pending, deadLetters }, read at scrape time
//                                              from the outbox (shared by replicas); returns an unregister function
import { STATUS_CODES } from 'node:http';
import { LightCounter, ScrapedGauge } from './light.ts';
import { metricsOn } from './registry.ts';
import { readSource, type Source } from './sources.ts';

const events = new LightCounter('registry_notifications_events_total', 'The number of total events', ['type', 'endpoint']);
const statuses = new LightCounter('registry_notifications_status_total', 'The number of status code', ['code', 'endpoint']);

export function notificationQueued(endpoint: string, n = 1): void {
  if (metricsOn) events.child('Events', endpoint).value += n;
}

export function notificationDelivered(endpoint: string, status: number): void {
  if (!metricsOn) return;
  statuses.child(statusText(status), endpoint).value++;
  events.child('Successes', endpoint).value++;
}

export function notificationFailed(endpoint: string, status: number): void {
  if (!metricsOn) return;
  statuses.child(statusText(status), endpoint).value++;
  events.child('Failures', endpoint).value++;
}

export function notificationError(endpoint: string): void {
  if (metricsOn) events.child('Errors', endpoint).value++;
}

/** Go's fmt.Sprintf("%d %s", status, http.StatusText(status)); unknown codes fall into their class so the label stays bounded. */
function statusText(status: number): string {
  const text = STATUS_CODES[status];
  return text ? `${status} ${text}` : `${Math.floor(status / 100)}xx`;
}

export interface NotificationQueue {
  endpoint: string;
  pending: number;
  deadLetters: number;
}

let queueSource: Source<NotificationQueue[]> | undefined;

/** A gauge per endpoint from the queue source (both gauges read it; one read serves a scrape). */
function queueGauge(name: string, help: string, value: (q: NotificationQueue) => number): void {
  new ScrapedGauge(name, help, 'endpoint', async () => (await readSource(queueSource))?.map((q) => ({ label: q.endpoint, value: value(q) })));
}
queueGauge('registry_notifications_pending_total', 'The gauge of pending events in queue', (q) => q.pending);
queueGauge('berth_notifications_dead_letters', 'Events moved to the dead-letter list, per endpoint.', (q) => q.deadLetters);

export function setNotificationQueueSource(read: () => Promise<NotificationQueue[]>, maxAgeMs = 5_000): () => void {
  const source: Source<NotificationQueue[]> = { read, maxAgeMs };
  queueSource = source;
  return () => {
    if (queueSource === source) queueSource = undefined;
  };
}
