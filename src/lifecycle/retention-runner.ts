// The server's background retention (berth.retention): one run every `interval` (default 24h)
// while any policy exists, in config or set per namespace. Every replica schedules runs; the
// lease lets one of them work at a time and the others skip that round. With dryrun the runs
// only log what they would delete. The admin API previews and starts runs through this object.
import type { Logger } from 'pino';
import type { RegistryServices } from '../registry/services.ts';
import { Retention, RetentionBusyError, type ImmutableTagsCheck, type RetentionOptions, type RetentionReport } from './retention.ts';

export class RetentionRunner {
  private timer?: NodeJS.Timeout;
  private current?: Promise<RetentionReport>;
  private stopped = false;
  private readonly abort = new AbortController();
  /** The last run this process made (any trigger), for GET /api/v1/retention. */
  lastRun?: RetentionReport;

  constructor(
    readonly retention: Retention,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    // A little jitter so replicas started together do not all ask for the lease at once.
    const wait = this.retention.settings.intervalMs * (0.9 + Math.random() * 0.2);
    this.timer = setTimeout(() => void this.tick(), Math.max(1000, wait));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      // Policies set through the API count too, so the check is made at each round.
      if (await this.retention.hasPolicies()) await this.run({ trigger: 'schedule' });
    } catch (e) {
      if (e instanceof RetentionBusyError) this.log.debug('retention: another run is in progress; skipping this round');
      else this.log.error({ err: e }, 'retention: scheduled run failed');
    } finally {
      this.schedule();
    }
  }

  /** Runs now (one at a time in this process; RetentionBusyError when another process holds the lease). */
  run(options: RetentionOptions): Promise<RetentionReport> {
    if (this.current) return Promise.reject(new RetentionBusyError());
    const run: Promise<RetentionReport> = this.retention
      .run({ ...options, signal: this.abort.signal })
      .then((report) => (this.lastRun = report))
      .finally(() => {
        if (this.current === run) this.current = undefined;
      });
    this.current = run;
    return run;
  }

  preview(options: { namespace?: string } = {}): Promise<RetentionReport> {
    return this.retention.preview(options);
  }

  /** Stops scheduling, and stops a run in progress between two deletions (shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort();
    await this.current?.catch(() => undefined);
  }
}

/** The retention engine over the registry's services (the server, the admin API and `berth retention`). */
export function createRetention(services: RegistryServices, log: Logger): Retention {
  const { config, immutableTags } = services;
  // Retention never deletes an immutable tag (config and namespace rules).
  const immutable: ImmutableTagsCheck | undefined = immutableTags && ((repository, tag) => immutableTags.isImmutable(repository, tag));
  return new Retention({
    metadata: services.metadata,
    settings: config.berth.lifecycle.retention,
    // The collector's grace period: an untagged manifest that young may belong to a push in flight.
    graceMs: config.berth.lifecycle.gc.delayMs,
    log,
    ...(services.pulls && { pulls: services.pulls }),
    ...(config.berth.auth.accessControl.enabled && services.accessStore && { audit: services.accessStore.audit }),
    ...(immutable && { immutable }),
  });
}
