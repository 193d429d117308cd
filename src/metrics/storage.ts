// distribution's storage metrics:
//
//   registry_storage_action_seconds{driver,action}   histogram (client_golang's default buckets)
//       time of one storage driver call; `driver` is filesystem or s3, `action` one of
//       distribution's names where the call is the same (Stat, GetContent, PutContent, Reader,
//       Writer, Move, Delete, URLFor, List) — see src/storage/instrumented.ts for the mapping.
//   registry_storage_cache_requests_total / _hits_total / _errors_total   (distribution 3)
//   registry_storage_cache_total{type="Request"|"Hit"|"Miss"|"Error"}    (distribution 2.8)
//       lookups in the blob-descriptor cache. berth's equivalent is the shared Redis cache of the
//       pull path's metadata (storage.cache.blobdescriptor: redis, src/cache/); without it these
//       stay at 0, as distribution's do without a cache.
//
// Functions to call (cheap no-ops while metrics are off):
//   observeStorageAction(driver, action, seconds)
//   storageCacheLookup('hit' | 'miss' | 'error')
import { DEFAULT_BUCKETS, LightCounter, LightHistogram, type CounterChild, type HistogramChild } from './light.ts';
import { metricsOn } from './registry.ts';

export type StorageAction = 'Stat' | 'GetContent' | 'PutContent' | 'Reader' | 'Writer' | 'Move' | 'Delete' | 'URLFor' | 'List';

const action = new LightHistogram('registry_storage_action_seconds', 'The number of seconds that the storage action takes', ['driver', 'action'], DEFAULT_BUCKETS);
const actionChildren = new Map<string, HistogramChild>();

export function observeStorageAction(driver: string, name: StorageAction, seconds: number): void {
  if (!metricsOn) return;
  const key = `${driver}\u0000${name}`;
  let c = actionChildren.get(key);
  if (!c) actionChildren.set(key, (c = action.child(driver, name)));
  c.observe(seconds);
}

const requests = new LightCounter('registry_storage_cache_requests_total', 'The number of cache request received', []).child();
const hits = new LightCounter('registry_storage_cache_hits_total', 'The number of cache request received', []).child();
const errors = new LightCounter('registry_storage_cache_errors_total', 'The number of cache request errors', []).child();
const byType = new LightCounter('registry_storage_cache_total', 'The number of cache request received', ['type']);
const typed: Record<'Request' | 'Hit' | 'Miss' | 'Error', CounterChild> = {
  Request: byType.child('Request'),
  Hit: byType.child('Hit'),
  Miss: byType.child('Miss'),
  Error: byType.child('Error'),
};

/** One lookup in the blob-descriptor cache: found, not found (read from the store), or the cache failed (read from the store). */
export function storageCacheLookup(result: 'hit' | 'miss' | 'error'): void {
  if (!metricsOn) return;
  requests.value++;
  typed.Request.value++;
  if (result === 'hit') {
    hits.value++;
    typed.Hit.value++;
  } else {
    typed.Miss.value++;
    if (result === 'error') {
      errors.value++;
      typed.Error.value++;
    }
  }
}
