// http.debug: distribution's debug listener. `addr` opens a second, plain-HTTP listener with
// /debug/health; `prometheus.enabled` adds the metrics at `prometheus.path` (default /metrics).
// Without `addr` there is no listener, as in distribution, so enabling Prometheus alone is warned about.
import type { FileConfig } from './schema.ts';
import type { BerthConfig } from './types.ts';
import type { Warning } from './keytree.ts';

type FileDebug = NonNullable<NonNullable<FileConfig['http']>['debug']>;

export function buildDebug(d: FileDebug | undefined, warnings: Warning[]): Pick<BerthConfig['http'], 'debug'> {
  if (!d) return {};
  const prometheus = { enabled: d.prometheus?.enabled ?? false, path: d.prometheus?.path || '/metrics' };
  if (!d.addr) {
    if (prometheus.enabled) warnings.push({ text: 'http.debug.prometheus.enabled has no effect without http.debug.addr: set the debug listener\'s address (e.g. ":5001") to serve the metrics' });
    return {};
  }
  return { debug: { addr: d.addr, prometheus } };
}
