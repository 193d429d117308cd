// How the console answers: every HTML page with the same security headers (a strict CSP with no
// inline script or style, no framing, no referrer leaks, no MIME sniffing), JSON twins for scripts,
// and redirects after POST (so a reload never repeats an action).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Html } from '../html.ts';

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

function securityHeaders(res: ServerResponse, cookies: string[]): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store');
  if (cookies.length) res.setHeader('Set-Cookie', cookies);
}

export function sendHtml(res: ServerResponse, status: number, page: Html, cookies: string[] = [], startedAt?: bigint): void {
  securityHeaders(res, cookies);
  const body = Buffer.from(`<!doctype html>\n${page.value}`);
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Length', body.length);
  // Server time of the page (the benchmark reads it; browsers show it in their network panel).
  if (startedAt !== undefined) res.setHeader('Server-Timing', `app;dur=${(Number(process.hrtime.bigint() - startedAt) / 1e6).toFixed(2)}`);
  res.end(body);
}

export function sendConsoleJson(res: ServerResponse, status: number, value: unknown, startedAt?: bigint): void {
  const body = Buffer.from(JSON.stringify(value));
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', body.length);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
  if (startedAt !== undefined) res.setHeader('Server-Timing', `app;dur=${(Number(process.hrtime.bigint() - startedAt) / 1e6).toFixed(2)}`);
  res.end(body);
}

/** 303 See Other: after a POST the browser GETs the target. */
export function redirect(res: ServerResponse, location: string, cookies: string[] = [], status = 303): void {
  securityHeaders(res, cookies);
  res.statusCode = status;
  res.setHeader('Location', location);
  res.setHeader('Content-Length', 0);
  res.end();
}

const MAX_FORM = 256 * 1024;

/** An application/x-www-form-urlencoded body (the only kind the console's forms send). */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new FormError('expected a form (application/x-www-form-urlencoded)');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM) throw new FormError('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export class FormError extends Error {}
