// Pull-through cache (mirror) metrics, as distribution's proxy (registry/proxy/proxymetrics.go):
//
//   registry_proxy_requests_total{type}       counter  requests served through the proxy (type blob|manifest)
//   registry_proxy_hits_total{type}           counter  of those, served from the local copy
//   registry_proxy_misses_total{type}         counter  fetched from the upstream
//   registry_proxy_pulled_bytes_total{type}   counter  bytes read from the upstream
//   registry_proxy_pushed_bytes_total{type}   counter  bytes sent to clients
//
// Every series exists from the start at 0, as distribution's. For the mirror code, the same
// calls as distribution's proxyMetricsCollector:
//   proxyBlobPull(bytesPulled)            a blob fetched from the upstream into the cache (a miss)
//   proxyBlobPush(bytesPushed, isHit)     a blob served to a client
//   proxyManifestPull(bytesPulled)        a manifest fetched from the upstream (a miss)
//   proxyManifestPush(bytesPushed, isHit) a manifest served to a client
// No mirror or upstream label: distribution has none, and the type alone keeps dashboards working.
import { LightCounter, type CounterChild } from './light.ts';
import { metricsOn } from './registry.ts';

type Kind = 'blob' | 'manifest';
const families = {
  requests: new LightCounter('registry_proxy_requests_total', 'The number of total incoming proxy request received', ['type']),
  hits: new LightCounter('registry_proxy_hits_total', 'The number of total proxy request hits', ['type']),
  misses: new LightCounter('registry_proxy_misses_total', 'The number of total proxy request misses', ['type']),
  pulledBytes: new LightCounter('registry_proxy_pulled_bytes_total', 'The size of total bytes pulled from the upstream', ['type']),
  pushedBytes: new LightCounter('registry_proxy_pushed_bytes_total', 'The size of total bytes pushed to the client', ['type']),
};
const children = (kind: Kind): Record<keyof typeof families, CounterChild> => ({
  requests: families.requests.child(kind),
  hits: families.hits.child(kind),
  misses: families.misses.child(kind),
  pulledBytes: families.pulledBytes.child(kind),
  pushedBytes: families.pushedBytes.child(kind),
});
const blob = children('blob');
const manifest = children('manifest');

function pull(c: typeof blob, bytesPulled: number): void {
  if (!metricsOn) return;
  c.misses.value++;
  c.pulledBytes.value += bytesPulled;
}

function push(c: typeof blob, bytesPushed: number, isHit: boolean): void {
  if (!metricsOn) return;
  c.requests.value++;
  c.pushedBytes.value += bytesPushed;
  if (isHit) c.hits.value++;
}

export const proxyBlobPull = (bytesPulled: number): void => pull(blob, bytesPulled);
export const proxyBlobPush = (bytesPushed: number, isHit: boolean): void => push(blob, bytesPushed, isHit);
export const proxyManifestPull = (bytesPulled: number): void => pull(manifest, bytesPulled);
export const proxyManifestPush = (bytesPushed: number, isHit: boolean): void => push(manifest, bytesPushed, isHit);
