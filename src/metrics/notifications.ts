// Notification (webhook) metrics: distribution's names, plus berth's outbox.
//
//   registry_notifications_events_total{type,endpoint}    counter  type as distribution: Events (queued for the
//                                                                   endpoint), Successes, Failures (non-2xx/3xx), Errors (no response)
//   registry_notifications_status_total{code,endpoint}    counter  responses by status, code as distribution writes it ("200 OK")
//   registry_notifications_pending_total{endpoint}        gauge    events waiting for the endpoint (berth: its outbox rows)
//   berth_notifications_dead_letters{endpoint}            gauge    events moved to the dead-letter list (older than maxage)
//   berth_notifications_unwritten_events                  gauge    events in this process's memory that the metadata store has not
//                                                                   taken yet (the outbox's write queue; src/events/outbox.ts)
//   berth_notifications_outbox_write_failures_total       counter  batch writes to the outbox that the metadata store refused
//   berth_notifications_dropped_events_total{reason}      counter  events that never reached the outbox: queue_full (refused, their
//                                                                   request failed with 503), shutdown (unwritten when the process stopped)
//
// `endpoint` is the configured endpoint name (bounded by the config). For the notifications code:
//   notificationQueued(endpoint, n = 1)        events written to the outbox for an endpoint
//   notificationDelivered(endpoint, status)    a POST answered 2xx/3xx
//   notificationFailed(endpoint, status)       a POST answered otherwise
//   notificationError(endpoint)                a POST without a response (refused, timed out)
//   addOutboxDepthSource(read)                 an outbox's unwritten events, read at scrape time
//   outboxWriteFailed()                        a batch write refused by the metadata store
//   outboxDropped(reason)                      an event that will never be in the outbox
//   setNotificationQueueSource(read)           per endpoint { endpoint, pending, deadLetters }, read at scrape time
//                                              from the outbox (shared by replicas); returns an unregister function
import { STATUS_CODES } from 'node:http';
import { LightCounter, ScrapedGauge, type CounterChild } from './light.ts';
import { metricsOn } from './registry.ts';
import { readSource, type Source } from './sources.ts';

const events = new LightCounter('registry_notifications_events_total', 'The number of total events', ['type', 'endpoint']);
const statuses = new LightCounter('registry_notifications_status_total', 'The number of status code', ['code', 'endpoint']);

// Read at scrape time from every open outbox of this process (usually one): no work per event.
const unwrittenSources = new Set<() => number>();
new ScrapedGauge('berth_notifications_unwritten_events', "Events in this process's memory that the metadata store has not taken into the outbox yet.", undefined, async () => {
  let n = 0;
  for (const read of unwrittenSources) n += read();
  return [{ value: n }];
});
const writeFailures = new LightCounter('berth_notifications_outbox_write_failures_total', 'Batch writes to the notification outbox refused by the metadata store (retried).', []).child();
const droppedFamily = new LightCounter('berth_notifications_dropped_events_total', 'Events that never reached the outbox: refused while the write queue was full (their request failed with 503), or unwritten at shutdown.', ['reason']);
const dropped: Record<'queue_full' | 'shutdown', CounterChild> = { queue_full: droppedFamily.child('queue_full'), shutdown: droppedFamily.child('shutdown') };

/** An outbox's count of unwritten events, read at scrape time; returns the function that removes it. */
export function addOutboxDepthSource(read: () => number): () => void {
  unwrittenSources.add(read);
  return () => unwrittenSources.delete(read);
}

export function outboxWriteFailed(): void {
  if (metricsOn) writeFailures.value++;
}

export function outboxDropped(reason: 'queue_full' | 'shutdown'): void {
  if (metricsOn) dropped[reason].value++;
}

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
