// Reads the Authorization header: Basic (RFC 7617) or Bearer (RFC 6750). Anything else, or a
// header too long to be honest, is `invalid` (answered 401, never echoed anywhere).
import type { IncomingMessage } from 'node:http';

export type Credentials =
  | { kind: 'none' }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'bearer'; token: string }
  | { kind: 'invalid' };

/** Tokens with an x5c chain are a few KiB; Node refuses all headers past 16 KiB anyway. */
const MAX_HEADER = 8192;

export function readCredentials(req: IncomingMessage): Credentials {
  const header = req.headers.authorization;
  if (header === undefined || header === '') return { kind: 'none' };
  if (header.length > MAX_HEADER) return { kind: 'invalid' };
  const space = header.indexOf(' ');
  if (space <= 0) return { kind: 'invalid' };
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') return /^[A-Za-z0-9\-._~+/]+=*$/.test(value) ? { kind: 'bearer', token: value } : { kind: 'invalid' };
  if (scheme !== 'basic') return { kind: 'invalid' };
  const basic = decodeBasic(value);
  // `Basic Og==` (":"), what containers/image (skopeo, podman, buildah) sends when it has no login
  // for the registry: no one can sign in with it, so it is an anonymous request (a public
  // repository's pull must not fail with "invalid username or password").
  if (basic && basic.username === '' && basic.password === '') return { kind: 'none' };
  return basic ?? { kind: 'invalid' };
}

export function decodeBasic(value: string): { kind: 'basic'; username: string; password: string } | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  const text = Buffer.from(value, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { kind: 'basic', username: text.slice(0, colon), password: text.slice(colon + 1) };
}
