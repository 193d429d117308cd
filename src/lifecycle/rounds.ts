// What the background lifecycle jobs (garbage collection, retention) share: a round every
// interval, with jitter so replicas started together do not all ask for the lease at once, and
// the refusal every job gives when another run holds its lease.
import type { Logger } from 'pino';

/** Another run (in this process, another replica or a CLI) holds the job's lease. */
export class LeaseBusyError extends Error {}

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
