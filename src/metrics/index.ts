// Prometheus metrics (http.debug.prometheus): distribution's names so its dashboards keep working,
// and berth's own. One file per subsystem; each documents its metrics and the functions to call:
//
//   registry.ts       the registry, enableMetrics(), the text exposition
//   http.ts           registry_http_*            observeRequest(req, res, started).route(handler)
//   storage.ts        registry_storage_*         observeStorageAction, storageCacheLookup
//   notifications.ts  registry_notifications_*, berth_notifications_dead_letters
//   proxy.ts          registry_proxy_*           proxyBlobPull/Push, proxyManifestPull/Push
//   berth.ts          berth_* (uploads, GC, retention, quotas, auth failures, manifest cache)
//
// Rules: no label ever carries a repository, digest, tag, user or secret, or any other value a
// client controls; recording is a no-op until enableMetrics(); nothing here imports berth's code.
export { enableMetrics, exposition, metricsOn } from './registry.ts';
export { observeRequest, type HandlerName, type RequestObservation } from './http.ts';
export { observeStorageAction, storageCacheLookup, type StorageAction } from './storage.ts';
export * from './berth.ts';
export * from './notifications.ts';
export * from './proxy.ts';
