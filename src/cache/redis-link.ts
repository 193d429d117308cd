// The one Redis connection behind the shared cache, and the rules that keep the cache correct and
// the registry up whatever Redis does:
//
// - Redis is never required. While it is unreachable, or while this replica still owes an epoch
//   replacement (below), `read` and `bestEffort` do nothing and callers use the metadata store.
//   ioredis is set up to fail fast (no offline queue, no retries, a command timeout: see open.ts),
//   so no request waits for a dead Redis.
// - One warning per outage and one info line when it is over. ioredis reports every reconnect
//   attempt as an error; those only supply the reason given in the warning.
// - Missed invalidations. A write that could not replace its repository's generation (Redis down,
//   a timeout) may leave stale entries in Redis, visible to every replica once Redis answers again.
//   The link counts such misses and, before it uses the cache for anything again, replaces the
//   global epoch, which every metadata entry must match to be valid: every entry written before
//   that moment, by any replica, is dead at once. An entry being written while that happens
//   carries the epoch its reader saw before reading the store, so it is dead too.
//   What remains: a replica that cannot reach Redis while other replicas can. Until it reaches
//   Redis again (or the entries' TTL ends), the others may serve what its writes changed; the TTL
//   is the bound. A replica that stops with misses tries once more on close().
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { newToken, type CacheKeys } from './keys.ts';

export interface RedisLinkOptions {
  log: Logger;
  keys: CacheKeys;
  /** host:port, for log lines (never the password). */
  addr: string;
  /** Removed from every message this link logs, in case a server or client error quotes it. */
  password?: string;
  /** After a command failed on a connection that still looks open, try Redis again after this long. */
  retryMs?: number;
}

export type LinkState = 'connecting' | 'up' | 'down' | 'closed';

export class RedisLink {
  private current: LinkState = 'connecting';
  /** An outage warning went out and no recovery line since. */
  private warned = false;
  /** Invalidations this replica could not write, and how many of them an epoch replacement covers. */
  private missed = 0;
  private cleared = 0;
  private recovering?: Promise<void>;
  private lastFailure = 0;
  private lastReason = '';
  private waiters: Array<() => void> = [];
  private readonly retryMs: number;

  constructor(
    readonly client: Redis,
    private readonly options: RedisLinkOptions,
  ) {
    this.retryMs = options.retryMs ?? 1000;
    client.on('ready', () => void this.recover());
    client.on('close', () => this.fail(this.lastReason || 'connection closed'));
    // Without a listener ioredis prints every reconnect error to the console.
    client.on('error', (err: unknown) => {
      this.lastReason = this.describe(err);
    });
  }

  get keys(): CacheKeys {
    return this.options.keys;
  }

  get state(): LinkState {
    return this.current;
  }

  /** True when the cache may be read and written: connected, and no invalidation is owed. */
  get usable(): boolean {
    return this.current === 'up' && this.client.status === 'ready';
  }

  /** Runs a read; undefined when Redis is not usable or the command fails (the caller falls through). */
  async read<T>(op: (client: Redis) => Promise<T>): Promise<T | undefined> {
    if (!this.usable) {
      this.retrySoon();
      return undefined;
    }
    try {
      return await op(this.client);
    } catch (err) {
      this.fail(err);
      return undefined;
    }
  }

  /** Fire-and-forget write of something the cache can live without (an entry, a missing token). */
  bestEffort(op: (client: Redis) => Promise<unknown>): void {
    if (!this.usable) return;
    op(this.client).catch((err: unknown) => {
      // The server refusing one write (e.g. OOM under maxmemory noeviction) is no outage.
      if (!(err instanceof Error && err.name === 'ReplyError')) this.fail(err);
    });
  }

  /**
   * Writes an invalidation. Never throws: when it cannot be written, the miss is remembered and
   * the epoch is replaced before this replica uses the cache again. Resolves once the outcome is
   * known, so a write is answered only after its invalidation was written or recorded as missed.
   */
  async invalidate(op: (client: Redis) => Promise<unknown>): Promise<void> {
    if (this.usable) {
      try {
        await op(this.client);
        return;
      } catch (err) {
        this.missed++;
        this.fail(err);
        return;
      }
    }
    this.missed++;
    if (this.current === 'up') this.fail('connection not ready');
    this.retrySoon();
  }

  /** Resolves true once the cache is usable, false after timeoutMs (the registry starts anyway). */
  async waitUntilUsable(timeoutMs: number): Promise<boolean> {
    if (this.usable) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(done);
    });
  }

  async close(): Promise<void> {
    if (this.current === 'closed') return;
    // A short-lived process (berth import) must not leave with invalidations owed.
    if (this.missed > this.cleared && this.client.status === 'ready') await this.recover();
    if (this.missed > this.cleared) {
      this.options.log.warn({ redis: this.options.addr }, 'Redis cache: closing with invalidations not written; other replicas may serve entries these writes changed until the entries expire');
    }
    this.current = 'closed';
    try {
      if (this.client.status === 'ready') await this.client.quit();
    } catch {
      /* closing anyway */
    } finally {
      this.client.disconnect();
    }
  }

  private fail(reason: unknown): void {
    if (this.current === 'closed') return;
    this.lastFailure = Date.now();
    if (this.current === 'down') return;
    const wasUp = this.current === 'up';
    this.current = 'down';
    if (this.warned) return;
    this.warned = true;
    this.options.log.warn(
      { redis: this.options.addr, reason: this.describe(reason) },
      wasUp ? 'Redis cache unavailable: serving from the metadata store until it is back' : 'Redis cache not reachable: serving from the metadata store until it is',
    );
  }

  /** After a command failure on a connection that stayed open no 'ready' event comes: try again here. */
  private retrySoon(): void {
    if (this.current === 'down' && this.client.status === 'ready' && Date.now() - this.lastFailure >= this.retryMs) void this.recover();
  }

  /** On every (re)connection: pay the epoch replacement owed, then let the cache be used. */
  private recover(): Promise<void> {
    if (this.recovering) return this.recovering;
    // Cleared from a later microtask: the attempt may complete synchronously.
    const attempt: Promise<void> = this.replaceEpochAndResume().finally(() => {
      if (this.recovering === attempt) this.recovering = undefined;
    });
    this.recovering = attempt;
    return attempt;
  }

  private async replaceEpochAndResume(): Promise<void> {
    try {
      // Loop: a write may miss its invalidation while the replacement is in flight, after its
      // commit; the replacement already sent does not cover it.
      let answered = false;
      while (this.missed > this.cleared) {
        if (this.current === 'closed' || this.client.status !== 'ready') return;
        const covered = this.missed;
        await this.client.set(this.options.keys.epoch, newToken());
        this.cleared = covered;
        answered = true;
      }
      if (this.current === 'closed' || this.client.status !== 'ready') return;
      // After a command failed on a connection that stayed open (a stalled server), the
      // connection looking ready proves nothing: Redis must answer before it is used again.
      if (!answered) await this.client.ping();
      this.up();
    } catch (err) {
      this.fail(err);
    }
  }

  private up(): void {
    const first = this.current === 'connecting';
    this.current = 'up';
    this.lastReason = '';
    if (this.warned) {
      this.warned = false;
      this.options.log.info({ redis: this.options.addr }, 'Redis cache available again');
    } else if (first) {
      this.options.log.debug({ redis: this.options.addr }, 'Redis cache connected');
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private describe(err: unknown): string {
    let text = err instanceof Error ? err.message : String(err);
    const { password } = this.options;
    if (password) text = text.split(password).join('***');
    return text.slice(0, 300);
  }
}
