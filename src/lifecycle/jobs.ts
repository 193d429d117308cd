// What the background lifecycle jobs (garbage collection, retention) share: the lease that lets
// one run work at a time across replicas and CLI processes, the refusal when another run holds
// it, and a round every interval, with jitter so replicas started together do not all ask for
// the lease at once.
import type { Logger } from 'pino';
import type { LifecycleStore } from '../metadata/lifecycle/lifecycle-store.ts';

/** Another run (in this process, another replica or a CLI) holds the job's lease. */
export class LeaseBusyError extends Error {}

/**
 * A job's lease while its run lasts: renewed every quarter of its lifetime. A run that stalls
 * past it (the lease then expired, and another run may have taken it) must stop before it
 * deletes more: check() says so.
 */
export class HeldLease {
  private lost = false;
  private readonly renewal: NodeJS.Timeout;

  private constructor(
    private readonly store: LifecycleStore,
    private readonly name: string,
    private readonly holder: string,
    ttlMs: number,
    private readonly what: string,
    log: Logger,
  ) {
    this.renewal = setInterval(() => {
      store.renewLease(name, holder, ttlMs).then(
        (held) => {
          if (!held) this.lost = true;
        },
        (err) => log.warn({ err }, `${what}: could not renew the lease`),
      );
    }, ttlMs / 4);
    this.renewal.unref();
  }

  /** Takes the lease, or throws `busy()` when another holder has it. */
  static async take(store: LifecycleStore, opts: { name: string; holder: string; ttlMs: number; what: string; log: Logger; busy: () => LeaseBusyError }): Promise<HeldLease> {
    if (!(await store.acquireLease(opts.name, opts.holder, opts.ttlMs))) throw opts.busy();
    return new HeldLease(store, opts.name, opts.holder, opts.ttlMs, opts.what, opts.log);
  }

  check(): void {
    if (this.lost) throw new Error(`the ${this.what} lease was lost (the run stalled longer than the lease); stopped before deleting more`);
  }

  async release(): Promise<void> {
    clearInterval(this.renewal);
    await this.store.releaseLease(this.name, this.holder).catch(() => undefined);
  }
}

export class Rounds {
  private timer?: NodeJS.Timeout;
  private stopped = false;

  /** `what` names the job in logs ("gc", "retention"). */
  constructor(
    private readonly intervalMs: number,
    private readonly round: () => Promise<void>,
    private readonly log: Logger,
    private readonly what: string,
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    const wait = this.intervalMs * (0.9 + Math.random() * 0.2);
    this.timer = setTimeout(() => void this.tick(), Math.max(1000, wait));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.round();
    } catch (e) {
      if (e instanceof LeaseBusyError) this.log.debug(`${this.what}: another run is in progress; skipping this round`);
      else this.log.error({ err: e }, `${this.what}: scheduled run failed`);
    } finally {
      this.schedule();
    }
  }
}
