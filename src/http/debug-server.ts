// distribution's debug listener (http.debug.addr): a second, plain-HTTP listener for operators,
// never for clients. It serves
//   GET /debug/health              {} (200) when every health check passes, else 503 and
//                                  {"<check>": "<last error>"} for the failing ones, as
//                                  distribution's health package (checks: storagedriver_<driver>
//                                  and berth's metadata_<driver>, with health.storagedriver.enabled)
//   GET <prometheus.path>          the metrics (http.debug.prometheus.enabled; default /metrics)
// and 404 for anything else (distribution's /debug/pprof and /debug/vars are Go's: not here).
//
// Scrape-time figures are registered here: open upload sessions and quota usage.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { BerthConfig } from '../config/index.ts';
// index.ts: every family is registered, notifications and proxy ones included, even before their code runs.
import { exposition, setQuotaUsageSource, setUploadsInProgressSource } from '../metrics/index.ts';
import type { RegistryServices } from '../registry/services.ts';
import type { HealthMonitor } from './health.ts';
import { parseListenAddress } from './listen-address.ts';

export interface DebugServer {
  /** http://host:port as bound. */
  url: string;
  close(): Promise<void>;
}

/** Checks under distribution's names: its storage check is registered as "storagedriver_" + the driver's name. */
function healthStatus(health: HealthMonitor, services: RegistryServices): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [probe, error] of Object.entries(health.unhealthy())) {
    const suffix = probe === 'storagedriver' ? services.blobs.driverName : probe === 'metadata' ? services.config.berth.metadata.driver : '';
    out[suffix ? `${probe}_${suffix}` : probe] = error;
  }
  return out;
}

export async function startDebugServer(config: BerthConfig, services: RegistryServices, health: HealthMonitor, log: Logger): Promise<DebugServer | undefined> {
  const debug = config.http.debug;
  if (!debug) return undefined;
  const prometheus = debug.prometheus.enabled ? debug.prometheus.path : undefined;
  const unregister: (() => void)[] = [];
  if (prometheus) {
    unregister.push(setUploadsInProgressSource(() => services.metadata.console.openUploads()));
    unregister.push(
      setQuotaUsageSource(async () => {
        const out = [];
        for (const scope of await services.quotas.scopes()) {
          const used = await services.quotas.usage(scope);
          out.push({ namespace: scope.namespace ?? scope.label, usedBytes: used.bytes, limitBytes: scope.limitBytes });
        }
        return out;
      }),
    );
  }
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const get = req.method === 'GET' || req.method === 'HEAD';
    if (get && path === '/debug/health') {
      const failing = healthStatus(health, services);
      const body = JSON.stringify(failing);
      res.writeHead(Object.keys(failing).length ? 503 : 200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (get && prometheus && path === prometheus) {
      exposition().then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        (err: unknown) => {
          log.error({ err }, 'metrics: scrape failed');
          res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
          res.end('metrics unavailable\n');
        },
      );
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end('404 page not found\n');
  });
  const { host, port } = parseListenAddress(debug.addr);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (e) {
    for (const u of unregister) u();
    throw new Error(`http.debug.addr ${debug.addr}: ${(e as Error).message}`);
  }
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  log.info({ addr: url, metrics: prometheus ?? null }, 'debug server listening');
  return {
    url,
    close: async () => {
      for (const u of unregister) u();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
