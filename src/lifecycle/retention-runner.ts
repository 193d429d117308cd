// The server's background retention (berth.retention): one run every `interval` (default 24h)
// while any policy exists, in config or set per namespace. Every replica schedules runs; the
// lease lets one of them work at a time and the others skip that round. With dryrun the runs
// only log what they would delete. The admin API previews and starts runs through this object.
import type { Logger } from 'pino';
import type { RegistryServices } from '../registry/services.ts';
import { Retention, RetentionBusyError, type ImmutableTagsCheck, type RetentionOptions, type RetentionReport } from './retention.ts';
import { Rounds } from './jobs.ts';

export class RetentionRunner {
  private current?: Promise<RetentionReport>;
  private readonly rounds: Rounds;
  private readonly abort = new AbortController();
  /** The last run this process made (any trigger), for GET /api/v1/retention. */
  lastRun?: RetentionReport;

  constructor(
    readonly retention: Retention,
    log: Logger,
  ) {
    // Policies set through the API count too, so the check is made at each round.
    const round = async () => {
      if (await this.retention.hasPolicies()) await this.run({ trigger: 'schedule' });
    };
    this.rounds = new Rounds(retention.settings.intervalMs, round, log, 'retention');
  }

  start(): void {
    this.rounds.start();
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
    this.rounds.stop();
    this.abort.abort();
    await this.current?.catch(() => undefined);
  }
}

/** The retention engine over the registry's services (the server, the admin API and `berth retention`). */
export function createRetention(services: RegistryServices, log: Logger): Retention {
  const { config, immutableTags } = services;
  // Retention never deletes an immutable tag (config and namespace rules).
  const immutable: ImmutableTagsCheck = (repository, tag) => immutableTags.isImmutable(repository, tag);
  return new Retention({
    metadata: services.metadata,
    settings: config.berth.lifecycle.retention,
    // The collector's grace period: an untagged manifest that young may belong to a push in flight.
    graceMs: config.berth.lifecycle.gc.delayMs,
    log,
    pulls: services.pulls,
    ...(services.events && { events: services.events }),
    ...(services.trust && { trust: services.trust }),
    ...(config.berth.auth.accessControl.enabled && services.accessStore && { audit: services.accessStore.audit }),
    immutable,
  });
}
