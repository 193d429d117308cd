// POST /api/v1/gc runs a collection (site administrators): body {dryRun, deleteUntagged, delay,
// pace} (delay "1h", "0s": default berth.gc.delay; pace in (0, 1]: default berth.gc.pace). It
// answers with the report when the run ends, or at once with 202 and the run's id when ?wait=false. GET /api/v1/gc/runs lists recent runs (newest
// first), GET /api/v1/gc/runs/:id one of them.
import { z } from 'zod';
import { parseDuration } from '../../config/durations.ts';
import { ApiError } from '../../auth/access/admin/http.ts';
import type { GcScheduler } from '../gc-scheduler.ts';
import type { LifecycleContext } from './context.ts';
import type { LifecycleRoute } from './route.ts';

const runBody = z
  .object({
    dryRun: z.boolean().optional(),
    deleteUntagged: z.boolean().optional(),
    delay: z.string().optional(),
    pace: z.number().gt(0).lte(1).optional(),
  })
  .strict();

function scheduler(ctx: LifecycleContext): GcScheduler {
  const gc = ctx.deps.jobs.gc as GcScheduler | undefined;
  if (!gc) throw new ApiError('UNAVAILABLE', 'garbage collection is not available in this process');
  return gc;
}

export const gcRoutes: LifecycleRoute[] = [
  {
    method: 'POST',
    path: '/gc',
    async handler(ctx) {
      await ctx.requireSiteAdmin();
      const body = await ctx.body(runBody);
      let delayMs = scheduler(ctx).delayMs;
      if (body.delay !== undefined) {
        try {
          delayMs = parseDuration(body.delay);
        } catch (e) {
          throw new ApiError('INVALID', `delay: ${(e as Error).message}`);
        }
        if (delayMs < 0) throw new ApiError('INVALID', 'delay: must not be negative');
      }
      let started: (id: string) => void = () => undefined;
      const startedId = new Promise<string>((resolve) => (started = resolve));
      const pace = body.pace ?? scheduler(ctx).pace;
      const run = scheduler(ctx).run({ trigger: 'api', dryRun: body.dryRun, deleteUntagged: body.deleteUntagged, delayMs, pace, onStarted: started });
      // A busy lease rejects `run` with GcBusyError: 409 (api.ts).
      if (ctx.url.searchParams.get('wait') === 'false') {
        run.catch(() => undefined); // its outcome is recorded in gc_runs
        // Answer once the run holds the lease (or could not get it).
        const id = await Promise.race([startedId, run.then((r) => r.id)]);
        ctx.send(202, { id, status: 'running' });
        return;
      }
      ctx.send(200, await run);
    },
  },
  {
    method: 'GET',
    path: '/gc/runs',
    async handler(ctx) {
      await ctx.requireSiteAdmin();
      const { limit } = ctx.query(z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }));
      ctx.send(200, { runs: await ctx.services.metadata.lifecycle.gcRuns(limit ?? 50) });
    },
  },
  {
    method: 'GET',
    path: '/gc/runs/:id',
    async handler(ctx) {
      await ctx.requireSiteAdmin();
      const run = (await ctx.services.metadata.lifecycle.gcRuns(1000)).find((r) => r.id === ctx.params.id);
      if (!run) throw new ApiError('NOT_FOUND', 'no such garbage collection run');
      ctx.send(200, run);
    },
  },
];
