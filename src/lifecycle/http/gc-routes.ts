// POST /api/v1/gc runs a collection (site administrators): body {dryRun, deleteUntagged, delay,
// pace} (delay "1h", "0s": default berth.gc.delay; pace in (0, 1]: default berth.gc.pace). It
// answers with the report when the run ends, or at once with 202 and the run's id when ?wait=false. GET /api/v1/gc/runs lists recent runs (newest
// first), GET /api/v1/gc/runs/:id one of them.
import { z } from 'zod';
import { ApiError } from '../../auth/access/admin/http.ts';
import type { GcScheduler } from '../gc-scheduler.ts';
import { GcRequestError, gcRunBody, startGc, type StartedGc } from '../gc-start.ts';
import type { LifecycleContext } from './context.ts';
import type { LifecycleRoute } from './route.ts';

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
      const body = await ctx.body(gcRunBody);
      const gc = scheduler(ctx);
      let run: StartedGc;
      try {
        run = startGc(gc, body);
      } catch (e) {
        if (e instanceof GcRequestError) throw new ApiError('INVALID', e.message);
        throw e;
      }
      // A busy lease rejects the run with GcBusyError: 409 (api.ts).
      if (ctx.url.searchParams.get('wait') === 'false') {
        run.report.catch(() => undefined); // its outcome is recorded in gc_runs
        // Answer once the run holds the lease (or could not get it).
        const id = await run.id();
        ctx.send(202, { id, status: 'running' });
        return;
      }
      ctx.send(200, await run.report);
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
