// The one Prometheus registry berth's metrics live in (prom-client's Registry renders the text
// format), and the switch that turns recording on. Off by default: with metrics disabled
// (http.debug.prometheus.enabled false), every recording function in src/metrics returns at its
// first line, so the request path pays nothing.
//
// Arrows: handlers, stores and jobs call src/metrics; src/metrics imports nothing of berth's.
// Figures that are read rather than counted (quota usage, open uploads, outbox depth) are pulled
// at scrape time through sources that the wiring registers (see sources.ts).
import { collectDefaultMetrics, Registry, type Metric } from 'prom-client';

export const registry = new Registry();

/** True once enableMetrics() ran; read on the hot path (an ES module live binding). */
export let metricsOn = false;

/** Turns recording on and adds the process_* and nodejs_* collectors (as Go's default registry has go_* and process_*). */
export function enableMetrics(): void {
  if (metricsOn) return;
  metricsOn = true;
  collectDefaultMetrics({ register: registry });
}

/** Registers a metric object of light.ts (prom-client's registry takes anything with name, help, type and get()). */
export function registerLight(metric: { name: string; get(): Promise<unknown> }): void {
  registry.registerMetric(metric as unknown as Metric);
}

/** The text exposition format (what GET <http.debug.prometheus.path> answers). */
export async function exposition(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
