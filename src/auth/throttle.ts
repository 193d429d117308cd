// Brute-force protection for password checks. Failures are counted per user name (lower-cased,
// so case variants of one account count together) and per client address. After the second
// failure each further failed answer is held back (250 ms, doubling, at most 4 s); at
// `maxFailures` for a user, or 4x that for an address (offices and CI runners share one), further
// attempts are refused without checking the password until the lockout ends. A success resets
// both counters. Failures older than the window are forgotten. Memory is bounded: the oldest
// entries go first when a flood of made-up names fills the table.

export interface ThrottleOptions {
  maxFailures: number;
  lockoutMs: number;
  /** Failures older than this are forgotten (default: 3 x lockout, at least 15 minutes). */
  windowMs?: number;
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  failures: number;
  lastFailure: number;
  lockedUntil: number;
}

export interface Refusal {
  retryAfterS: number;
}

export const ADDRESS_FACTOR = 4;
const MAX_DELAY_MS = 4000;

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly maxEntries: number;

  constructor(private readonly opts: ThrottleOptions) {
    this.now = opts.now ?? Date.now;
    this.windowMs = opts.windowMs ?? Math.max(3 * opts.lockoutMs, 15 * 60_000);
    this.maxEntries = opts.maxEntries ?? 50_000;
  }

  /** A refusal while the user or the address is locked out; undefined when an attempt may proceed. */
  check(user: string, address: string): Refusal | undefined {
    const now = this.now();
    let until = 0;
    for (const key of keys(user, address)) {
      const e = this.live(key, now);
      if (e && e.lockedUntil > now) until = Math.max(until, e.lockedUntil);
    }
    return until ? { retryAfterS: Math.max(1, Math.ceil((until - now) / 1000)) } : undefined;
  }

  /** Records a failed attempt; returns how long to hold the answer back and whether it locked. */
  failure(user: string, address: string): { delayMs: number; locked?: Refusal } {
    const now = this.now();
    let delayMs = 0;
    let lockedUntil = 0;
    for (const key of keys(user, address)) {
      const limit = key.startsWith('a:') ? this.opts.maxFailures * ADDRESS_FACTOR : this.opts.maxFailures;
      const e = this.live(key, now) ?? { failures: 0, lastFailure: now, lockedUntil: 0 };
      e.failures++;
      e.lastFailure = now;
      if (e.failures >= limit) {
        e.lockedUntil = now + this.opts.lockoutMs;
        // A fresh count after the lockout; the next failures lock again quickly enough.
        e.failures = 0;
        lockedUntil = Math.max(lockedUntil, e.lockedUntil);
      }
      // Only the per-user count slows answers: one address with many honest users should not crawl.
      if (key.startsWith('u:') && e.failures >= 2) delayMs = Math.min(250 * 2 ** (e.failures - 2), MAX_DELAY_MS);
      this.store(key, e);
    }
    return lockedUntil ? { delayMs, locked: { retryAfterS: Math.ceil((lockedUntil - now) / 1000) } } : { delayMs };
  }

  success(user: string, address: string): void {
    for (const key of keys(user, address)) this.entries.delete(key);
  }

  private live(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.lockedUntil <= now && now - e.lastFailure > this.windowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private store(key: string, e: Entry): void {
    // Re-insert so the Map's order is least-recently-failed first.
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, e);
  }
}

function keys(user: string, address: string): string[] {
  // Bounded key length: a megabyte-long user name must not become a megabyte of memory.
  return [`u:${user.toLowerCase().slice(0, 256)}`, `a:${address}`];
}
