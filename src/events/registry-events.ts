// services.events: what the registry handlers, retention, GC and the console call, one call per
// event, with distribution's events (notifications/listener.go, bridge.go):
//  - manifest PUT: push (tag when pushed by tag); manifest GET/HEAD: pull (tag when asked by tag;
//    not for a 304); manifest DELETE by digest: delete {repository, digest}, then one delete
//    {repository, tag} per tag that pointed at it; DELETE by tag (berth only): delete {repository, tag};
//  - blob GET/HEAD (any answer once the blob is found, ranges too): pull; upload commit: push;
//    cross-repository mount: mount with fromRepository; blob DELETE: delete {repository, digest};
//  - retention, GC (untagged manifests) and the console: the same delete events, with the job's
//    name (retention, gc) or the console user as the actor; a repository deleted from the console
//    gives each manifest's delete, then delete {repository} (distribution's RepoDeleted).
// With no enabled endpoint every call returns at once. Otherwise each call resolves once its event
// is written to the outbox (outbox.ts, batched per turn of the event loop), and rejects with a 503
// RegistryError (OutboxUnavailableError) when the metadata store does not take it in time.
import type { Logger } from 'pino';
import type { NotificationsConfig } from './config-types.ts';
import type { RegistryEvent, EventAction } from './types.ts';
import { blobURL, eventMs, manifestReferences, manifestURL, newEvent, type EventOrigin, type EventSource, type ManifestInfo } from './record.ts';
import { Outbox, type OutboxOptions } from './outbox.ts';
import type { NotificationStore } from '../metadata/events/store.ts';
import { NotificationDelivery, ignores, type DeliveryOptions } from './delivery.ts';
import type { EndpointConfig } from './config-types.ts';
import { metricsOn } from '../metrics/registry.ts';
import { notificationQueued } from '../metrics/notifications.ts';

/** Octet-stream: distribution's blob descriptors (linkedBlobStatter) carry no other media type. */
const BLOB_MEDIA_TYPE = 'application/octet-stream';

const DONE = Promise.resolve();

export interface RegistryEventsOptions {
  config: NotificationsConfig;
  store: NotificationStore;
  source: EventSource;
  /** The lease holder name of this process (stable across a restart on the same host and address). */
  holder: string;
  log: Logger;
  /** A manifest's bytes by digest (for includereferences on a HEAD, which reads none). */
  loadManifest?: (digest: string) => Promise<Buffer | undefined>;
  outbox?: OutboxOptions;
  delivery?: Partial<DeliveryOptions>;
}

export class RegistryEvents {
  /** Some endpoint is enabled: events are recorded. */
  readonly enabled: boolean;
  readonly delivery: NotificationDelivery | undefined;
  private readonly outbox: Outbox | undefined;
  private readonly includeReferences: boolean;
  /** Actions and media types every enabled endpoint ignores are not even recorded. */
  private readonly ignoredActions: Set<string>;
  private readonly ignoredMediaTypes: Set<string>;
  private readonly endpoints: EndpointConfig[];

  constructor(private readonly options: RegistryEventsOptions) {
    const endpoints = options.config.endpoints.filter((e) => !e.disabled);
    this.enabled = endpoints.length > 0;
    this.endpoints = endpoints;
    this.includeReferences = options.config.includeReferences;
    const common = (lists: string[][]) => new Set(lists.length ? lists.reduce((a, b) => a.filter((x) => b.includes(x))) : []);
    this.ignoredActions = common(endpoints.map((e) => e.ignoredActions));
    this.ignoredMediaTypes = common(endpoints.map((e) => e.ignoredMediaTypes));
    if (this.enabled) {
      this.delivery = new NotificationDelivery({
        store: options.store,
        endpoints,
        holder: options.holder,
        maxAgeMs: options.config.maxAgeMs,
        maxBackoffMs: options.config.maxBackoffMs,
        maxBatch: options.config.maxBatch ?? 1,
        ...(options.config.signingKey !== undefined && { signingKey: options.config.signingKey }),
        log: options.log,
        ...options.delivery,
      });
      const delivery = this.delivery;
      const store = options.store;
      // Endpoints get their rows before this process's first event is written (delivery.register).
      const sink = {
        async append(events: Parameters<NotificationStore['append']>[0]) {
          await delivery.register();
          await store.append(events);
        },
      };
      this.outbox = new Outbox(sink, options.log, { ...options.outbox, onWritten: () => delivery.wake() });
    }
  }

  private wanted(action: EventAction, mediaType?: string): boolean {
    return this.enabled && !this.ignoredActions.has(action) && !(mediaType !== undefined && this.ignoredMediaTypes.has(mediaType));
  }

  /** registry_notifications_events_total{type="Events"}: an event queued for each endpoint that does not ignore it. */
  private count(event: RegistryEvent): void {
    for (const e of this.endpoints) if (!ignores(e, event)) notificationQueued(e.name);
  }

  /** Queues the event and resolves once it is in the outbox (a pull's: see Outbox's failOpen). */
  private write(event: RegistryEvent): Promise<void> {
    if (metricsOn) this.count(event);
    return this.outbox!.addAndWait({ eventId: event.id, createdAt: eventMs(event), body: JSON.stringify(event) }, { failOpen: event.action === 'pull' });
  }

  private manifestEvent(action: EventAction, o: EventOrigin, repository: string, m: ManifestInfo, tag: string | undefined, bytes: Buffer | undefined): RegistryEvent {
    return newEvent(action, o, this.options.source, {
      mediaType: m.mediaType,
      size: m.size,
      digest: m.digest,
      length: m.size,
      repository,
      url: manifestURL(o, repository, m.digest),
      ...(tag !== undefined && { tag }),
      ...(this.includeReferences && bytes && { references: manifestReferences(bytes) }),
    });
  }

  private blobEvent(action: EventAction, o: EventOrigin, repository: string, digest: string, size: number, from?: string): RegistryEvent {
    return newEvent(action, o, this.options.source, {
      mediaType: BLOB_MEDIA_TYPE,
      size,
      digest,
      length: size,
      repository,
      ...(from !== undefined && { fromRepository: from }),
      url: blobURL(o, repository, digest),
    });
  }

  /** A manifest PUT that succeeded (`bytes`: what was stored). */
  manifestPushed(o: EventOrigin, repository: string, m: ManifestInfo, tag: string | undefined, bytes: Buffer): Promise<void> {
    if (!this.wanted('push', m.mediaType)) return DONE;
    return this.write(this.manifestEvent('push', o, repository, m, tag, bytes));
  }

  /**
   * A manifest GET or HEAD answered with the manifest (`bytes` when the caller has them at hand).
   * Resolves once the event is in the outbox: the handler answers after that, so a crash (kill -9)
   * never loses the event of a pull the client saw. Concurrent pulls share one write per turn of
   * the event loop (src/events/outbox.ts).
   */
  async manifestPulled(o: EventOrigin, repository: string, m: ManifestInfo, tag?: string, bytes?: Buffer): Promise<void> {
    if (!this.wanted('pull', m.mediaType)) return;
    const event = this.manifestEvent('pull', o, repository, m, tag, bytes);
    if (this.includeReferences && !bytes && this.options.loadManifest) {
      // References need the bytes (from the manifest cache, or storage for a HEAD that read none).
      const loaded = await this.options.loadManifest(m.digest).catch(() => undefined);
      if (loaded) event.target.references = manifestReferences(loaded);
    }
    await this.write(event);
  }

  /** A manifest deleted by digest, with the tags that pointed at it (they went with it). */
  async manifestDeleted(o: EventOrigin, repository: string, digest: string, tags: readonly string[] = []): Promise<void> {
    if (!this.wanted('delete')) return;
    const waits = [this.write(newEvent('delete', o, this.options.source, { digest, repository }))];
    for (const tag of tags) waits.push(this.write(newEvent('delete', o, this.options.source, { repository, tag })));
    await Promise.all(waits);
  }

  /** A tag deleted by name (the manifest stays). */
  tagDeleted(o: EventOrigin, repository: string, tag: string): Promise<void> {
    if (!this.wanted('delete')) return DONE;
    return this.write(newEvent('delete', o, this.options.source, { repository, tag }));
  }

  /** A whole repository deleted (the console); its manifests' deletes come first. */
  async repositoryDeleted(o: EventOrigin, repository: string, manifests: readonly string[] = []): Promise<void> {
    if (!this.wanted('delete')) return;
    const waits = manifests.map((digest) => this.write(newEvent('delete', o, this.options.source, { digest, repository })));
    waits.push(this.write(newEvent('delete', o, this.options.source, { repository })));
    await Promise.all(waits);
  }

  /** A blob upload committed (PUT, or a single POST with the body). */
  blobPushed(o: EventOrigin, repository: string, digest: string, size: number): Promise<void> {
    if (!this.wanted('push', BLOB_MEDIA_TYPE)) return DONE;
    return this.write(this.blobEvent('push', o, repository, digest, size));
  }

  /** A blob GET or HEAD on a blob linked to the repository; resolves once the event is in the outbox (as manifestPulled). */
  blobPulled(o: EventOrigin, repository: string, digest: string, size: number): Promise<void> {
    if (!this.wanted('pull', BLOB_MEDIA_TYPE)) return DONE;
    return this.write(this.blobEvent('pull', o, repository, digest, size));
  }

  /** A blob mounted from another repository (`from`: the source, named or discovered). */
  blobMounted(o: EventOrigin, repository: string, digest: string, size: number, from: string | undefined): Promise<void> {
    if (!this.wanted('mount', BLOB_MEDIA_TYPE)) return DONE;
    return this.write(this.blobEvent('mount', o, repository, digest, size, from));
  }

  /** A blob unlinked from the repository (DELETE). */
  blobDeleted(o: EventOrigin, repository: string, digest: string): Promise<void> {
    if (!this.wanted('delete')) return DONE;
    return this.write(newEvent('delete', o, this.options.source, { digest, repository }));
  }

  /** Starts delivering (the server; `berth gc` and other commands only record). */
  async start(): Promise<void> {
    await this.delivery?.start();
  }

  /** Writes what is queued, stops delivering and gives up the endpoints' leases. */
  async close(): Promise<void> {
    await this.outbox?.close();
    await this.delivery?.stop();
  }

  /** Writes what is queued now (tests, shutdown). */
  async flush(): Promise<void> {
    await this.outbox?.flush();
  }
}
