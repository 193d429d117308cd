// The notification event as CNCF Distribution 2.8 sends it (notifications/event.go): the same
// field names, the same order and the same omissions (Go's omitempty), so a receiver written for
// registry:2 reads berth's events unchanged. See docs/operations.md ("Notifications").

/** Content-Type of the POST body, `{"events":[...]}` (distribution 2.8's v1 envelope). */
export const EVENTS_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json';

export type EventAction = 'push' | 'pull' | 'mount' | 'delete';

export const EVENT_ACTIONS: readonly EventAction[] = ['push', 'pull', 'mount', 'delete'];

/** A descriptor in `target.references` (distribution.Descriptor without the platform, as 2.8 serialises it). */
export interface EventDescriptor {
  mediaType?: string;
  size?: number;
  digest?: string;
  urls?: string[];
  annotations?: Record<string, string>;
}

export interface EventTarget {
  mediaType?: string;
  size?: number;
  digest?: string;
  length?: number;
  repository?: string;
  fromRepository?: string;
  url?: string;
  tag?: string;
  references?: EventDescriptor[];
}

export interface EventRequest {
  id?: string;
  addr?: string;
  host?: string;
  method?: string;
  useragent?: string;
}

export interface RegistryEvent {
  /** A UUID, the same on every delivery attempt (receivers de-duplicate on it). */
  id: string;
  /** RFC 3339 with milliseconds (distribution: nanoseconds). */
  timestamp: string;
  action: EventAction;
  target: EventTarget;
  request: EventRequest;
  actor: { name?: string };
  source: { addr?: string; instanceID?: string };
}

/** The POST body for some events. */
export function envelope(events: RegistryEvent[]): string {
  return JSON.stringify({ events });
}
