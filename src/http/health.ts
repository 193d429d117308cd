// Liveness and readiness. Readiness runs the storage driver probe every `interval` and turns
// unhealthy after `threshold` failures in a row (registry:2's health.storagedriver semantics).
import type { Logger } from 'pino';

export interface Probe {
  name: string;
  check(): Promise<void>;
}

export class HealthMonitor {
  private failures = new Map<string, number>();
  private lastError = new Map<string, string>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly probes: Probe[],
    private readonly opts: { intervalMs: number; threshold: number },
    private readonly log: Logger,
  ) {}

  start(): void {
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), Math.max(100, this.opts.intervalMs));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async runOnce(): Promise<void> {
    await Promise.all(
      this.probes.map(async (p) => {
        try {
          await p.check();
          this.failures.set(p.name, 0);
          this.lastError.delete(p.name);
        } catch (e) {
          const n = (this.failures.get(p.name) ?? 0) + 1;
          this.failures.set(p.name, n);
          this.lastError.set(p.name, (e as Error).message);
          this.log.warn({ probe: p.name, failures: n, err: (e as Error).message }, 'health probe failed');
        }
      }),
    );
  }

  /** Probes that have failed `threshold` times in a row, with their last error. */
  unhealthy(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const p of this.probes) {
      if ((this.failures.get(p.name) ?? 0) >= Math.max(1, this.opts.threshold)) out[p.name] = this.lastError.get(p.name) ?? 'failing';
    }
    return out;
  }
}
