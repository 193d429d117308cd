// What a handler needs, passed explicitly: configuration, the two stores, caches and the logger.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { BerthConfig } from '../config/index.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { MetadataStore } from '../metadata/store.ts';
import type { ContentCache } from '../cache/content-cache.ts';
import type { ManifestCache } from './manifest-cache.ts';
import type { UploadHashes } from './upload-hashes.ts';
import type { UploadStateSigner } from './upload-state.ts';
import type { AccessStore } from '../metadata/access/store.ts';
import type { Principal } from '../auth/types.ts';
import type { ImmutableTags } from '../lifecycle/immutable-tags.ts';
import type { Quotas } from '../lifecycle/quotas.ts';
import type { PullRecorder } from '../lifecycle/pull-recorder.ts';
import type { Mirror } from '../mirror/mirror.ts';
import type { TrustPolicy } from '../trust/policy/policy.ts';
import type { RegistryEvents } from '../events/registry-events.ts';

export interface RegistryServices {
  config: BerthConfig;
  blobs: BlobStore;
  metadata: MetadataStore;
  manifestCache: ManifestCache;
  /** Shared second level for manifest bytes (Redis), when configured. */
  contentCache?: ContentCache;
  uploadHashes: UploadHashes;
  /** Users, teams, roles, tokens and audit (SQLite/PostgreSQL), below any cache wrapper. */
  accessStore?: AccessStore;
  /** Signs the `_state` token of upload Locations with http.secret. */
  uploadState: UploadStateSigner;
  /** Immutable tag rules (config and admin API), checked on manifest PUT and DELETE (src/lifecycle/immutable-tags.ts). */
  immutableTags: ImmutableTags;
  /** Storage quotas (config and admin API), checked before bytes are added (src/lifecycle/quotas.ts). */
  quotas: Quotas;
  /** Last-pull times for retention, written in batches (src/lifecycle/pull-recorder.ts). */
  pulls: PullRecorder;
  /** The pull-through cache (proxy:, berth.mirrors), when configured (src/mirror/). */
  mirror?: Mirror;
  /** The server-side pull policy (berth.trust.policies and namespace policies), asked before a manifest is served (src/trust/policy/). */
  trust?: TrustPolicy;
  /** Notification events (src/events/): one call per event; pulls only queue in memory. Absent in hand-built services. */
  events?: RegistryEvents;
  log: Logger;
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  services: RegistryServices;
  /** What Location headers start with: origin and http.prefix, or http.host (only the prefix with http.relativeurls); see apiBaseURL. */
  baseURL: string;
  /** The request's id (the access log's requestId), for notification events. */
  requestId?: string;
  /** The caller, when authentication is configured (set by the authorization step). */
  principal?: Principal;
  /** With authentication: whether the caller may see a repository in `_catalog`. */
  canList?: (repository: string) => Promise<boolean>;
  /**
   * With authentication, on upload POSTs: whether the caller may pull a repository (a mount
   * without `from` looks for a source among those). Without authentication every repository may be pulled.
   */
  canPull?: (repository: string) => Promise<boolean>;
  /** With authentication, on manifest HEADs: whether the caller may push to a repository (the pull policy lets pushers resolve digests). */
  canPush?: (repository: string) => Promise<boolean>;
}
