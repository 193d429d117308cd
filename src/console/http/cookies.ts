// Cookie header parsing and Set-Cookie values for the console. Names are fixed ASCII; values are
// base64url or short enums, so no quoting is needed.
import type { IncomingMessage } from 'node:http';

export function readCookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

export interface CookieOptions {
  path: string;
  /** Seconds; 0 deletes the cookie; undefined = a session cookie. */
  maxAge?: number;
  httpOnly?: boolean;
  secure?: boolean;
}

export function setCookie(name: string, value: string, o: CookieOptions): string {
  let c = `${name}=${value}; Path=${o.path}; SameSite=Strict`;
  if (o.maxAge !== undefined) c += `; Max-Age=${o.maxAge}`;
  if (o.httpOnly) c += '; HttpOnly';
  if (o.secure) c += '; Secure';
  return c;
}
