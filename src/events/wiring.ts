// Builds services.events from the configuration (src/app.ts) and names this process: the event
// `source` (distribution's: hostname:port and a UUID per start) and the lease holder.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { BerthConfig } from '../config/index.ts';
import type { MetadataStore } from '../metadata/store.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { ManifestCache } from '../registry/manifest-cache.ts';
import { RegistryEvents } from './registry-events.ts';
import { buildNotifications } from '../config/notifications.ts';

function portOf(addr: string): string | undefined {
  const m = /:(\d+)$/.exec(addr.trim());
  return m?.[1];
}

export function createRegistryEvents(config: BerthConfig, metadata: MetadataStore, blobs: BlobStore, manifestCache: ManifestCache, log: Logger): RegistryEvents {
  const notifications = config.notifications ?? buildNotifications(undefined, undefined, []);
  const port = portOf(config.http.addr);
  const host = hostname();
  // distribution: the host name with the configured port (the address itself when there is no host name).
  const source = { addr: port ? `${host}:${port}` : config.http.addr, instanceID: randomUUID() };
  return new RegistryEvents({
    config: notifications,
    store: metadata.events,
    source,
    // Stable across a restart on the same host and port, so a restarted server (after a crash)
    // takes its endpoints back at once instead of waiting for its old leases to expire.
    holder: `${host}:${port ?? config.http.addr}`,
    log,
    loadManifest: async (digest) => {
      const cached = manifestCache.get(digest);
      if (cached) return cached;
      const chunks: Buffer[] = [];
      for await (const chunk of await blobs.read(digest)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
  });
}
