// The Berth-Signature header (berth.notifications.signingkey), so a receiver can check that a
// notification comes from its registry and was not changed on the way:
//
//   Berth-Signature: t=<unix seconds>,sha256=<hex HMAC-SHA256(key, "<t>.<body>")>
//
// key is the signingkey's UTF-8 bytes, body the request body's exact bytes. The time is inside the
// signed text so a receiver can refuse old replays (say, t more than 5 minutes away from its clock);
// a retried event is signed again with the time of that attempt. See docs/operations.md.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Berth-Signature';

export function signatureHeader(key: string, body: string, now = Date.now()): string {
  const t = Math.floor(now / 1000);
  const mac = createHmac('sha256', key).update(`${t}.`).update(body).digest('hex');
  return `t=${t},sha256=${mac}`;
}

/** What a receiver does (tests use it too): true when the header signs `body` with `key`, within `toleranceSec` of now. */
export function verifySignature(key: string, body: string | Buffer, header: string | undefined, toleranceSec = 300, now = Date.now()): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !/^[0-9a-f]{64}$/.test(parts.sha256 ?? '')) return false;
  if (Math.abs(now / 1000 - t) > toleranceSec) return false;
  const expected = createHmac('sha256', key).update(`${t}.`).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(parts.sha256!, 'hex'));
}
