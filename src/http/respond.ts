// Small response helpers: every answer goes through here so the API-version header and the
// configured extra headers (http.headers) are never forgotten.
import type { ServerResponse } from 'node:http';
import { RegistryError } from '../registry/errors.ts';

export type Headers = Record<string, string | number | string[]>;

export function send(res: ServerResponse, status: number, headers: Headers = {}, body?: string | Buffer): void {
  const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  // RFC 9110 §8.6: no Content-Length on 204 (and nothing useful on 304).
  if (status === 204 || status === 304) res.removeHeader('Content-Length');
  else if (!res.hasHeader('Content-Length')) res.setHeader('Content-Length', payload?.length ?? 0);
  res.end(res.req.method === 'HEAD' ? undefined : payload);
}

export function sendJSON(res: ServerResponse, status: number, value: unknown, headers: Headers = {}): void {
  send(res, status, { 'Content-Type': 'application/json', ...headers }, JSON.stringify(value));
}

export function sendError(res: ServerResponse, err: RegistryError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJSON(res, err.status, err.toJSON(), err.headers);
}
