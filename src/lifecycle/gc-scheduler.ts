// The server's background collector (berth.gc): one run every `interval`, removing unreferenced
// blobs older than `delay` (never untagged manifests: those go only with --delete-untagged or a
// retention policy). Replicas all schedule runs; the lease lets one of them work at a time and the
// others skip that round. The admin API starts runs through the same object.
import type { Logger } from 'pino';
import type { GcSettings } from './config-types.ts';
import { GcBusyError, type GarbageCollector, type GcOptions, type GcReport } from './gc.ts';

const ORPHAN_SWEEP_MS = 24 * 3_600_000;

export class GcScheduler {
  private timer?: NodeJS.Timeout;
  private current?: Promise<GcReport>;
  private stopped = false;
  private lastOrphanSweep = 0;

  constructor(
    readonly collector: GarbageCollector,
    private readonly settings: GcSettings,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (!this.settings.enabled) return;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    // A little jitter so replicas started together do not all ask for the lease at once.
    const wait = this.settings.intervalMs * (0.9 + Math.random() * 0.2);
    this.timer = setTimeout(() => void this.tick(), Math.max(1000, wait));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      // The orphan sweep lists the whole store for what only crashes leave behind: once a day.
      const orphans = Date.now() - this.lastOrphanSweep >= ORPHAN_SWEEP_MS;
      const report = await this.run({ trigger: 'schedule', delayMs: this.settings.delayMs, orphans });
      if (orphans && report.status === 'succeeded') this.lastOrphanSweep = Date.now();
    } catch (e) {
      if (e instanceof GcBusyError) this.log.debug('gc: another collection is running; skipping this round');
      else this.log.error({ err: e }, 'gc: scheduled run failed');
    } finally {
      this.schedule();
    }
  }

  /** Runs now (one at a time in this process; GcBusyError when another process holds the lease). */
  run(options: GcOptions): Promise<GcReport> {
    if (this.current) return Promise.reject(new GcBusyError());
    const run = this.collector.run(options).finally(() => {
      if (this.current === run) this.current = undefined;
    });
    this.current = run;
    return run;
  }

  get delayMs(): number {
    return this.settings.delayMs;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
