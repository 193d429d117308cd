// What an administrator asks about notifications, answered once for both faces: the admin JSON
// API (src/events/http/api.ts) and the console page (src/console/pages/admin/notifications/).
// Each endpoint's delivery state, the dead-letter list page by page, retrying and deleting.
import type { RegistryServices } from '../registry/services.ts';
import type { DeadLetter } from '../metadata/events/store.ts';

export interface EndpointStatus {
  name: string;
  /** In config.yml now (an endpoint removed from it keeps its row, and its dead letters). */
  configured: boolean;
  /** The configured URL, with credentials and query values hidden (see redactedURL). */
  url?: string;
  disabled?: boolean;
  /** Events waiting for it. */
  backlog: number;
  /** Failed attempts in a row on its next event. */
  failures: number;
  /** No attempt before this (epoch ms) while it backs off; null when not backing off. */
  nextAttemptAt: number | null;
  lastError: string | null;
  lastSuccessAt: number | null;
  /** The replica holding its lease, when one does. */
  deliveredBy: string | null;
  deadLetters: number;
}

/**
 * A URL fit to show: a webhook URL often carries its secret as user info or a query parameter
 * (`?token=`), which must not reach a page, a log or an API answer.
 */
export function redactedURL(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '(invalid URL)';
  }
  if (url.username) url.username = '***';
  if (url.password) url.password = '***';
  for (const key of [...new Set(url.searchParams.keys())]) url.searchParams.set(key, '***');
  // URLSearchParams encodes '*': put the mask back as typed.
  return url.href.replace(/%2A%2A%2A/g, '***');
}

/** Every endpoint the outbox knows, with how many events wait for it and how many were given up. */
export async function endpointStatuses(services: RegistryServices, now = Date.now()): Promise<EndpointStatus[]> {
  const store = services.metadata.events;
  const configured = new Map((services.config.notifications?.endpoints ?? []).map((e) => [e.name, e]));
  const rows: EndpointStatus[] = [];
  for (const s of await store.endpoints()) {
    const e = configured.get(s.name);
    rows.push({
      name: s.name,
      configured: !!e,
      ...(e && { url: redactedURL(e.url), disabled: e.disabled }),
      backlog: s.backlog,
      failures: s.failures,
      nextAttemptAt: s.nextAttemptAt > now ? s.nextAttemptAt : null,
      lastError: s.lastError,
      lastSuccessAt: s.lastSuccessAt,
      deliveredBy: s.holder && s.leaseUntil > now ? s.holder : null,
      deadLetters: await store.deadLetterCount(s.name),
    });
  }
  return rows;
}

export interface DeadLetterPage {
  letters: DeadLetter[];
  /** The `after` of the following page, when there is one. */
  next?: number;
}

/** Dead letters oldest first, after id `after`, optionally of one endpoint. */
export async function deadLetterPage(services: RegistryServices, o: { endpoint?: string; after?: number; limit: number }): Promise<DeadLetterPage> {
  const rows = await services.metadata.events.deadLetters({ ...(o.endpoint && { endpoint: o.endpoint }), ...(o.after !== undefined && { after: o.after }), limit: o.limit + 1 });
  const letters = rows.slice(0, o.limit);
  return { letters, ...(rows.length > o.limit && { next: letters[letters.length - 1]!.id }) };
}

/** Queues dead letters again for their endpoint (same event id); returns how many there were. */
export async function retryDeadLetters(services: RegistryServices, ids: number[]): Promise<number> {
  const retried = await services.metadata.events.retryDeadLetters(ids);
  if (retried) services.events?.delivery?.wake();
  return retried;
}

/** Queues again every dead letter of an endpoint (or of all), oldest first so that they keep their order. */
export async function retryAllDeadLetters(services: RegistryServices, endpoint?: string): Promise<number> {
  const store = services.metadata.events;
  let retried = 0;
  for (;;) {
    const page = await store.deadLetters({ ...(endpoint && { endpoint }), limit: 500 });
    if (page.length === 0) break;
    const n = await store.retryDeadLetters(page.map((d) => d.id));
    retried += n;
    // Another replica or request took this page meanwhile: nothing more is ours to move.
    if (n === 0) break;
  }
  if (retried) services.events?.delivery?.wake();
  return retried;
}

export async function deleteDeadLetter(services: RegistryServices, id: number): Promise<boolean> {
  return (await services.metadata.events.deleteDeadLetters([id])) > 0;
}

/** The event a dead letter holds, parsed (its stored text when it is not JSON). */
export function deadLetterEvent(d: DeadLetter): unknown {
  try {
    return JSON.parse(d.body);
  } catch {
    return d.body;
  }
}
