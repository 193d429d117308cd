// Purges abandoned uploads (storage.maintenance.uploadpurging): anything not written to for `age`
// is removed from storage and metadata. Like registry:2, the first purge comes within an hour of
// the start (at a random minute, so replicas started together do not walk the uploads at once),
// then one every `interval`: waiting a whole interval (a day by default) first meant a registry
// restarted more often than that (daily deploys, rolling updates) never purged at all.
import type { Logger } from 'pino';
import type { RegistryServices } from '../registry/services.ts';

export interface PurgeSettings {
  enabled: boolean;
  ageMs: number;
  intervalMs: number;
  dryrun: boolean;
}

const MINUTE_MS = 60_000;

/** When the first purge runs: a random whole minute from 1 to 60 (registry:2 takes 0 to 59), never later than `interval`. */
export function firstPurgeDelayMs(intervalMs: number, random: () => number = Math.random): number {
  return Math.min(intervalMs, (1 + Math.floor(random() * 60)) * MINUTE_MS);
}

export class UploadPurger {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly services: RegistryServices,
    private readonly settings: PurgeSettings,
    private readonly log: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  start(): void {
    if (!this.settings.enabled) return;
    const run = () => void this.purgeOnce().catch((e) => this.log.error({ err: e }, 'upload purge failed'));
    this.timer = setTimeout(() => {
      run();
      this.timer = setInterval(run, Math.max(1000, this.settings.intervalMs));
      this.timer.unref();
    }, firstPurgeDelayMs(this.settings.intervalMs, this.random));
    this.timer.unref();
  }

  stop(): void {
    // One Timeout type in Node: clearTimeout ends the first run's timer and the interval alike.
    if (this.timer) clearTimeout(this.timer);
  }

  /** Returns the ids of the uploads purged (or that would be, in dry-run mode). */
  async purgeOnce(now = Date.now()): Promise<string[]> {
    const { blobs, metadata, uploadHashes } = this.services;
    const purged: string[] = [];
    for await (const upload of blobs.uploads.list()) {
      if (now - upload.modifiedAt.getTime() < this.settings.ageMs) continue;
      purged.push(upload.id);
      if (this.settings.dryrun) continue;
      await uploadHashes.withLock(upload.id, async () => {
        uploadHashes.forget(upload.id);
        await blobs.uploads.abort(upload.id);
        await metadata.deleteUpload(upload.id);
      });
    }
    if (purged.length) this.log.info({ count: purged.length, dryrun: this.settings.dryrun }, 'purged abandoned uploads');
    return purged;
  }
}
