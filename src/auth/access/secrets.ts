// Secrets of personal access tokens and robot accounts: 32 random bytes behind a recognizable
// prefix (`berth_pat_`, `berth_rbt_`), so a verifier chain can tell a token from a password before
// trying anything (a token is never sent to LDAP) and secret scanners can spot a leaked one.
//
// Stored as SHA-256, not bcrypt: bcrypt's cost exists to slow down guessing low-entropy
// passwords; a 256-bit random secret cannot be guessed whatever the hash, so the cost would buy
// nothing while adding ~100 ms of CPU to every registry request that carries the token (Docker
// sends Basic credentials with each one). An unsalted SHA-256 is also deterministic, so the hash
// itself is the index key and a lookup needs no separate token id.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const PAT_PREFIX = 'berth_pat_';
export const ROBOT_SECRET_PREFIX = 'berth_rbt_';

/** Characters of the secret kept as a hint (prefix plus 4), so lists can tell tokens apart. */
const HINT_EXTRA = 4;

export interface NewSecret {
  /** Shown once to its creator, never stored. */
  secret: string;
  hash: string;
  hint: string;
}

export function newSecret(prefix: string): NewSecret {
  const secret = prefix + randomBytes(32).toString('base64url');
  return { secret, hash: hashSecret(secret), hint: secret.slice(0, prefix.length + HINT_EXTRA) };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex SHA-256 digests. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === 32 && y.length === 32 && timingSafeEqual(x, y);
}

/** A berth-issued token (PAT or robot secret), by its shape. */
export function looksLikeBerthSecret(value: string): boolean {
  return value.startsWith(PAT_PREFIX) || value.startsWith(ROBOT_SECRET_PREFIX);
}
