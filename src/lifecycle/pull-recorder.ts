// Last-pull times for retention's mostrecentlypulledcount / pulledwithin. A manifest GET must not
// wait for a database write, so record() only sets the time in a Map keyed by (repository,
// digest, tag); a timer writes what accumulated every few seconds in one transaction, and
// close() writes the rest at shutdown. Many pulls of the same image between two flushes cost one
// UPDATE. A pull time lost to a crash (at most one interval) only makes an image look a few
// seconds less recently pulled.
import type { Logger } from 'pino';
import type { PullRecord } from '../metadata/lifecycle/retention-queries.ts';

export interface PullSink {
  recordPulls(records: PullRecord[]): Promise<void>;
}

export interface PullRecorderOptions {
  /** How often pending pulls are written (default 5 s). */
  flushIntervalMs?: number;
  /** Pending entries beyond which a flush starts at once (default 10,000). */
  maxPending?: number;
}

export class PullRecorder {
  private pending = new Map<string, PullRecord>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly flushIntervalMs: number;
  private readonly maxPending: number;

  constructor(
    private readonly sink: PullSink,
    private readonly log: Logger,
    options: PullRecorderOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 5000;
    this.maxPending = options.maxPending ?? 10_000;
  }

  /** A successful manifest GET of `digest` in `repository`, by `tag` when the reference was one. */
  record(repository: string, digest: string, tag?: string): void {
    if (this.closed) return;
    const key = tag === undefined ? `${repository}@${digest}` : `${repository}@${digest}:${tag}`;
    const at = Date.now();
    const entry = this.pending.get(key);
    if (entry) entry.at = at;
    else this.pending.set(key, tag === undefined ? { repository, digest, at } : { repository, digest, tag, at });
    if (this.pending.size >= this.maxPending) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushIntervalMs).unref();
  }

  /** Writes everything recorded so far (shutdown, tests, and retention before it reads the times). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.flushing = this.sink.recordPulls(batch).catch((err: unknown) => {
      // Pull times are a hint for retention, not a record that must survive: log and move on.
      this.log.warn({ err, pulls: batch.length }, 'pull times could not be written');
    });
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  /** Writes what is pending and records nothing more. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}
