// The one Prometheus registry berth's metrics live in (prom-client's Registry renders the text
// format), and the switch that turns recording on. Off by default: with metrics disabled
// (http.debug.prometheus.enabled false), every recording function in src/metrics returns at its
// first line, so the request path pays nothing, and prom-client is never loaded (about 2 MiB of
// heap for a server that does not export metrics).
//
// Arrows: handlers, stores and jobs call src/metrics; src/metrics imports nothing of berth's.
// Figures that are read rather than counted (quota usage, open uploads, outbox depth) are pulled
// at scrape time through sources that the wiring registers (see sources.ts).
import type { Metric, Registry } from 'prom-client';
import { commonJsExports } from '../util/commonjs.ts';

/** What prom-client's registry accepts as a metric: a name, help, type and get() at scrape time. */
export interface LightMetric {
  name: string;
  get(): Promise<unknown>;
}

const metrics: LightMetric[] = [];
let registry: Registry | undefined;
let loading: Promise<Registry> | undefined;

/** True once enableMetrics() ran; read on the hot path (an ES module live binding). */
export let metricsOn = false;

/**
 * Turns recording on and makes the registry, with the process_* and nodejs_* collectors (as Go's
 * default registry has go_* and process_*). Idempotent; resolves with the registry.
 */
export function enableMetrics(): Promise<Registry> {
  metricsOn = true;
  // prom-client is CommonJS: in the server bundle its chunk exports only `default`.
  return (loading ??= import('prom-client').then(commonJsExports).then((prom) => {
    registry = new prom.Registry();
    for (const m of metrics) registry.registerMetric(m as unknown as Metric);
    prom.collectDefaultMetrics({ register: registry });
    return registry;
  }));
}

/** Registers a metric object of light.ts; defined at module load, exported once metrics are on. */
export function registerLight(metric: LightMetric): void {
  metrics.push(metric);
  registry?.registerMetric(metric as unknown as Metric);
}

/** The text exposition format (what GET <http.debug.prometheus.path> answers). */
export async function exposition(): Promise<{ contentType: string; body: string }> {
  const r = await enableMetrics();
  return { contentType: r.contentType, body: await r.metrics() };
}
