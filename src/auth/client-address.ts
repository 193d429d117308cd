// The address brute-force counters are kept for. By default the TCP peer: X-Forwarded-For is
// written by whoever sends the request, so trusting it would let an attacker pick a fresh address
// per attempt. Behind one trusted reverse proxy (berth.auth.bruteforce.trustforwardedfor), the
// last entry is the one that proxy appended: the address it saw.
import type { IncomingMessage } from 'node:http';

export function clientAddress(req: IncomingMessage, trustForwardedFor: boolean): string {
  if (trustForwardedFor) {
    const header = req.headers['x-forwarded-for'];
    const value = Array.isArray(header) ? header.at(-1) : header;
    const last = value?.split(',').at(-1)?.trim();
    if (last) return last.slice(0, 64);
  }
  return req.socket.remoteAddress ?? 'unknown';
}
