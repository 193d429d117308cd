// Building events as distribution's notifications bridge does (notifications/bridge.go): which
// fields each kind of event carries, the request and actor records, target URLs.
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { EventAction, EventDescriptor, EventRequest, RegistryEvent } from './types.ts';

/** Where an event comes from: a registry request (RequestContext fits), a console action, or a background job. */
export interface EventOrigin {
  req?: IncomingMessage;
  /** The request's id (the access log's requestId); a fresh UUID when absent. */
  requestId?: string;
  /** The caller; anonymous callers have no actor name, as in distribution. */
  principal?: { name: string; kind: string };
  /** scheme://host of target URLs ('' = relative, http.relativeurls). */
  baseURL?: string;
  /** A background job's name (retention, gc): the actor when there is no request. */
  actor?: string;
}

export interface ManifestInfo {
  digest: string;
  mediaType: string;
  size: number;
}

export interface EventSource {
  addr: string;
  instanceID: string;
}

/** distribution's RequestRecord: X-Forwarded-For's first address, then X-Real-Ip, then the peer (dcontext.RemoteAddr). */
const first = (h: string | string[] | undefined) => (Array.isArray(h) ? h[0] : h);

export function remoteAddr(req: IncomingMessage): string {
  const forwarded = first(req.headers['x-forwarded-for'])?.split(',')[0]?.trim();
  if (forwarded && isIP(forwarded)) return forwarded;
  const real = first(req.headers['x-real-ip'])?.trim();
  if (real && isIP(real)) return real;
  let ip = req.socket.remoteAddress ?? '';
  if (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4) ip = ip.slice(7);
  const port = req.socket.remotePort;
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function requestRecord(o: EventOrigin): EventRequest {
  const req = o.req;
  if (!req) return {};
  const host = req.headers.host ?? (req.headers[':authority'] as string | undefined);
  return {
    id: o.requestId ?? randomUUID(),
    addr: remoteAddr(req),
    ...(host && { host }),
    method: req.method ?? '',
    useragent: req.headers['user-agent'] ?? '',
  };
}

function actorRecord(o: EventOrigin): { name?: string } {
  const p = o.principal;
  if (p && p.kind !== 'anonymous' && p.name) return { name: p.name };
  return o.actor ? { name: o.actor } : {};
}

/** Names of the OCI grammar need no escaping in a path; anything else is escaped per segment. */
const PLAIN_NAME = /^[a-z0-9._\/-]+$/;

function encodeName(name: string): string {
  return PLAIN_NAME.test(name) ? name : name.split('/').map(encodeURIComponent).join('/');
}

export function manifestURL(o: EventOrigin, repository: string, digest: string): string {
  return `${o.baseURL ?? ''}/v2/${encodeName(repository)}/manifests/${digest}`;
}

export function blobURL(o: EventOrigin, repository: string, digest: string): string {
  return `${o.baseURL ?? ''}/v2/${encodeName(repository)}/blobs/${digest}`;
}

/** The ISO text of the current millisecond, formatted once per millisecond (pulls come in bursts). */
let lastMs = 0;
let lastIso = '';
function nowIso(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/** An event's time in ms (no parsing for one made within the current millisecond). */
export function eventMs(event: RegistryEvent): number {
  return event.timestamp === lastIso ? lastMs : Date.parse(event.timestamp);
}

export function newEvent(action: EventAction, o: EventOrigin, source: EventSource, target: RegistryEvent['target'], now = Date.now()): RegistryEvent {
  return {
    id: randomUUID(),
    timestamp: nowIso(now),
    action,
    target,
    request: requestRecord(o),
    actor: actorRecord(o),
    source,
  };
}

/** distribution's Descriptor as it marshals it: media type, size, digest, then urls and annotations when present (no platform). */
function descriptorOf(d: unknown): EventDescriptor | undefined {
  if (typeof d !== 'object' || d === null) return undefined;
  const r = d as Record<string, unknown>;
  const out: EventDescriptor = {};
  if (typeof r.mediaType === 'string' && r.mediaType) out.mediaType = r.mediaType;
  if (typeof r.size === 'number' && r.size) out.size = r.size;
  if (typeof r.digest === 'string' && r.digest) out.digest = r.digest;
  if (Array.isArray(r.urls) && r.urls.length) out.urls = r.urls.filter((u): u is string => typeof u === 'string');
  if (typeof r.annotations === 'object' && r.annotations !== null && Object.keys(r.annotations).length) out.annotations = r.annotations as Record<string, string>;
  return out;
}

/** A manifest's references as distribution lists them: an index's manifests, else the config then the layers. */
export function manifestReferences(bytes: Buffer): EventDescriptor[] {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    return [];
  }
  const list = Array.isArray(m.manifests) ? m.manifests : [m.config, ...(Array.isArray(m.layers) ? m.layers : [])];
  return list.map(descriptorOf).filter((d): d is EventDescriptor => d !== undefined);
}
