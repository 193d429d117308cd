// Builds the lifecycle's long-lived parts from the registry's services: the garbage collector
// (used by the server's scheduler, the admin API and `berth gc` alike) and its upload purge.
import type { Logger } from 'pino';
import type { RegistryServices } from '../registry/services.ts';
import { UploadPurger } from '../maintenance/upload-purger.ts';
import { GarbageCollector } from './gc.ts';

export function createCollector(services: RegistryServices, log: Logger): GarbageCollector {
  const purging = services.config.storage.maintenance.uploadpurging;
  return new GarbageCollector({
    metadata: services.metadata,
    blobs: services.blobs,
    log,
    ...(services.events && { events: services.events }),
    ...(services.trust && { trust: services.trust }),
    // Abandoned upload sessions go in the same run (storage.maintenance.uploadpurging.age), when purging is on.
    ...(purging.enabled && {
      uploads: { purge: (dryRun: boolean) => new UploadPurger(services, { ...purging, dryrun: purging.dryrun || dryRun }, log).purgeOnce() },
    }),
  });
}
