// The server's background collector (berth.gc): one run every `interval` (jobs.ts), removing
// unreferenced blobs older than `delay` (never untagged manifests: those go only with
// --delete-untagged or a retention policy). Replicas all schedule runs; the lease lets one of
// them work at a time and the others skip that round. The admin API starts runs through the same
// object.
import type { Logger } from 'pino';
import type { GcSettings } from './config-types.ts';
import { GcBusyError, type GarbageCollector, type GcOptions, type GcReport } from './gc.ts';
import { Rounds } from './jobs.ts';

const ORPHAN_SWEEP_MS = 24 * 3_600_000;

export class GcScheduler {
  private current?: Promise<GcReport>;
  private lastOrphanSweep = 0;
  private readonly rounds: Rounds;

  constructor(
    readonly collector: GarbageCollector,
    private readonly settings: GcSettings,
    log: Logger,
  ) {
    this.rounds = new Rounds(settings.intervalMs, () => this.round(), log, 'gc');
  }

  start(): void {
    if (this.settings.enabled) this.rounds.start();
  }

  private async round(): Promise<void> {
    // The orphan sweep lists the whole store for what only crashes leave behind: once a day.
    const orphans = Date.now() - this.lastOrphanSweep >= ORPHAN_SWEEP_MS;
    const report = await this.run({ trigger: 'schedule', delayMs: this.settings.delayMs, pace: this.settings.pace, orphans });
    if (orphans && report.status === 'succeeded') this.lastOrphanSweep = Date.now();
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

  get pace(): number {
    return this.settings.pace;
  }

  stop(): void {
    this.rounds.stop();
  }
}
