// Absolute URLs for Location headers, as registry:2 builds them: http.host when configured,
// else the scheme and host the client used, as told by a proxy in front (X-Forwarded-Proto/Host).
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

export function externalBaseURL(req: IncomingMessage, configuredHost: string | undefined, relative: boolean): string {
  if (relative) return '';
  if (configuredHost) return configuredHost.replace(/\/+$/, '');
  const forwardedProto = firstValue(req.headers['x-forwarded-proto']);
  const forwardedHost = firstValue(req.headers['x-forwarded-host']);
  const proto = forwardedProto ?? ((req.socket as TLSSocket).encrypted ? 'https' : 'http');
  const host = forwardedHost ?? req.headers.host ?? firstValue(req.headers[':authority']) ?? 'localhost';
  return `${proto}://${host}`;
}

/**
 * The URL the API hangs under, for every Location berth hands out: http.host as configured (its
 * path, if any, is the prefix clients see, as registry:2 takes it), else the request's origin
 * (none with http.relativeurls) and http.prefix. registry:2 keeps the prefix too: behind a proxy
 * that forwards only <prefix>, a Location without it would lead nowhere.
 */
export function apiBaseURL(req: IncomingMessage, http: { host?: string | undefined; relativeurls: boolean; prefix: string }): string {
  if (http.host) return externalBaseURL(req, http.host, false);
  return `${externalBaseURL(req, undefined, http.relativeurls)}${prefixPath(http.prefix)}`;
}

/** http.prefix as a path to put before /v2 ('' for the default '/'). */
export function prefixPath(prefix: string): string {
  return prefix.replace(/\/+$/, '');
}

function firstValue(header: string | string[] | undefined): string | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  // A chain of proxies appends values; the first is what the client used.
  return v?.split(',')[0]?.trim() || undefined;
}

export function encodeName(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}
