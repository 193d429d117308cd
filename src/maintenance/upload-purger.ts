// Purges abandoned uploads (storage.maintenance.uploadpurging): anything not written to for `age`
// is removed from storage and metadata. Runs every `interval`, like registry:2.
import type { Logger } from 'pino';
import type { RegistryServices } from '../registry/services.ts';

export interface PurgeSettings {
  enabled: boolean;
  ageMs: number;
  intervalMs: number;
  dryrun: boolean;
}

export class UploadPurger {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly services: RegistryServices,
    private readonly settings: PurgeSettings,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (!this.settings.enabled) return;
    this.timer = setInterval(() => void this.purgeOnce().catch((e) => this.log.error({ err: e }, 'upload purge failed')), Math.max(1000, this.settings.intervalMs));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
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
