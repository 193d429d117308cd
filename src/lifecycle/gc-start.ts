// Starting a garbage collection on request, shared by POST /api/v1/gc (src/lifecycle/http/gc-routes.ts)
// and the console's "run now" (src/console/pages/admin/lifecycle/gc.ts): the same body, the same
// defaults (berth.gc.delay and berth.gc.pace) and the same way of learning the run's id without
// waiting for it to end.
import { z } from 'zod';
import { parseDuration } from '../config/durations.ts';
import type { GcScheduler } from './gc-scheduler.ts';
import type { GcOptions, GcReport } from './gc.ts';

/** What a run may ask for: delay "1h", "0s" (default berth.gc.delay); pace in (0, 1] (default berth.gc.pace). */
export const gcRunBody = z
  .object({
    dryRun: z.boolean().optional(),
    deleteUntagged: z.boolean().optional(),
    delay: z.string().optional(),
    pace: z.number().gt(0).lte(1).optional(),
  })
  .strict();

export type GcRunRequest = z.infer<typeof gcRunBody>;

/** A request the collector cannot take (its message names the field: `delay: ...`). */
export class GcRequestError extends Error {}

/** The grace period a request asks for, in ms; berth.gc.delay when it names none. */
export function gcDelayMs(gc: GcScheduler, delay: string | undefined): number {
  if (delay === undefined) return gc.delayMs;
  let ms: number;
  try {
    ms = parseDuration(delay);
  } catch (e) {
    throw new GcRequestError(`delay: ${(e as Error).message}`);
  }
  if (ms < 0) throw new GcRequestError('delay: must not be negative');
  return ms;
}

export interface StartedGc {
  /** The report when the run ends; rejects with GcBusyError when another run holds the lease. */
  report: Promise<GcReport>;
  /**
   * The run's id as soon as it holds the lease and has recorded itself (its gc_runs row exists),
   * else its report's id; rejects as `report` does. Asked only when wanted, so a caller that
   * waits for the report has no second promise to handle.
   */
  id(): Promise<string>;
}

/** Starts a run now; throws GcRequestError for an invalid delay. */
export function startGc(gc: GcScheduler, request: GcRunRequest, trigger: GcOptions['trigger'] = 'api'): StartedGc {
  const delayMs = gcDelayMs(gc, request.delay);
  let started: (id: string) => void = () => undefined;
  const startedId = new Promise<string>((resolve) => (started = resolve));
  const pace = request.pace ?? gc.pace;
  const report = gc.run({ trigger, dryRun: request.dryRun, deleteUntagged: request.deleteUntagged, delayMs, pace, onStarted: started });
  return { report, id: () => Promise.race([startedId, report.then((r) => r.id)]) };
}
