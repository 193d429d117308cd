// Pacing for a background job that shares the process (and the machine) with request handling.
// A collection is a sequence of small steps; between two steps the job pauses so that its steps
// take at most `share` of the wall time: a step that took 4 ms is followed by a 76 ms pause at
// share 0.05. Wall time, not CPU time: inside the server, process CPU is mostly the requests'.
import { setTimeout as sleep } from 'node:timers/promises';

/** Lets queued requests run before the next step (setImmediate: after pending I/O). */
export const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Pacer {
  private stepStartedAt: number;

  /**
   * @param share fraction of wall time the job may spend in its steps, in (0, 1]; 1 only yields.
   * @param maxPauseMs bound on one pause, so that one long step (a slow S3 delete) does not stall the job.
   */
  constructor(
    readonly share: number,
    private readonly maxPauseMs = 2000,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(share > 0 && share <= 1)) throw new RangeError(`pace must be in (0, 1], got ${share}`);
    this.stepStartedAt = now();
  }

  /** How long to pause after a step that took `stepMs`. */
  pauseFor(stepMs: number): number {
    if (this.share >= 1) return 0;
    return Math.min(this.maxPauseMs, (stepMs * (1 - this.share)) / this.share);
  }

  /** Ends a step: pauses as pacing requires (at least a yield), then starts the next one. */
  async pause(): Promise<void> {
    const ms = this.pauseFor(this.now() - this.stepStartedAt);
    if (ms >= 1) await sleep(ms);
    else await yieldToRequests();
    this.stepStartedAt = this.now();
  }
}
