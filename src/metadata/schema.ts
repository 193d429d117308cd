// Table shapes for Kysely. Timestamps are epoch milliseconds (integers) so SQLite and PostgreSQL
// compare them the same way.
import type { Generated } from 'kysely';
import type { NotificationDeadLettersTable, NotificationEndpointsTable, NotificationEventsTable } from './events/tables.ts';

export interface RepositoriesTable {
  id: Generated<number>;
  name: string;
  created_at: number;
  /** Last manifest PUT into the repository (epoch ms), null = nothing pushed (0005_console). */
  pushed_at: number | null;
}

/**
 * A blob's life (src/lifecycle/gc.ts): 'pending' while a writer makes sure its bytes are stored,
 * 'live' once they are (a live row always has its bytes), 'deleting' once the collector has
 * claimed it (its links are gone and its bytes are about to be), 'deleted' once they are: a
 * tombstone, kept a day so that a writer that reserved the blob before the collector took it
 * finds out (its link fails) instead of linking bytes that are gone.
 */
export type BlobState = 'pending' | 'live' | 'deleting' | 'deleted';

export interface BlobsTable {
  digest: string;
  size: number;
  created_at: number;
  state: Generated<BlobState>;
  /** Last upload, mount, HEAD or reference: the collector's grace period counts from here. */
  touched_at: number;
  deleting_at: number | null;
}

export interface RepositoryBlobsTable {
  repository_id: number;
  digest: string;
  created_at: number;
}

export interface ManifestsTable {
  repository_id: number;
  digest: string;
  media_type: string;
  size: number;
  artifact_type: string | null;
  subject_digest: string | null;
  config_digest: string | null;
  annotations: string | null;
  created_at: number;
  /** Last PUT of this manifest (by tag or digest). */
  pushed_at: number;
  /** Last GET of this manifest (recorded in batches), null = never pulled. */
  pulled_at: number | null;
}

export interface ManifestReferencesTable {
  repository_id: number;
  parent_digest: string;
  child_digest: string;
  /** 'blob' for config/layers, 'manifest' for the children of an index. */
  kind: string;
  /** An index child's platform, JSON `{"os","architecture","variant"?}` (0005_console); null otherwise or when unknown. */
  platform: string | null;
  /** Place of the reference in its manifest (config 0, layers from 1; an index's children from 0), null for rows from before 0005_console. */
  position: number | null;
}

export interface TagsTable {
  repository_id: number;
  name: string;
  digest: string;
  /** When the tag was last pushed (pointed at its manifest). */
  updated_at: number;
  /** Last GET by this tag (recorded in batches), null = never pulled. */
  pulled_at: number | null;
}

export interface UploadSessionsTable {
  id: string;
  repository: string;
  started_at: number;
}

/** A named lease (one garbage collection at a time across replicas and `berth gc` processes). */
export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: number;
}

export interface GcRunsTable {
  id: string;
  started_at: number;
  finished_at: number | null;
  /** 'running' | 'succeeded' | 'failed' | 'skipped' */
  status: string;
  trigger: string;
  dry_run: number;
  delete_untagged: number;
  manifests_removed: number;
  blobs_removed: number;
  bytes_removed: number;
  /** JSON: { errors: string[], ... } */
  details: string | null;
}

/** Lifecycle rules set through the admin API per namespace: kind 'retention' | 'immutable' | 'quota'; body is JSON. */
export interface LifecycleRulesTable {
  id: Generated<number>;
  kind: string;
  namespace: string;
  body: string;
  updated_at: number;
  updated_by: string | null;
}

/** A console login (0005_console): the cookie's SHA-256, never the cookie itself. */
export interface ConsoleSessionsTable {
  id_hash: string;
  user_name: string;
  /** JSON of the principal the console needs again. */
  principal: string;
  csrf: string;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
}

/** What the console edits per repository (0005_console); keyed by name, so it outlives no row of its own. */
export interface RepositorySettingsTable {
  repository: string;
  description: string | null;
  /** 'public' | 'private'; null = the namespace's visibility decides. */
  visibility: string | null;
  updated_at: number;
  updated_by: string | null;
}

/** Named secrets the console creates once and every replica shares (0005_console). */
export interface ConsoleSecretsTable {
  name: string;
  value: string;
}

/** A simple (GPG "atomic") signature of a manifest (0007_signatures); deleted with the manifest. */
export interface SimpleSignaturesTable {
  repository_id: number;
  manifest_digest: string;
  /** `<manifest digest>@<32 hex>`, as the client named it. */
  name: string;
  /** 'atomic'. */
  type: string;
  /** The signature's exact bytes. */
  content: Buffer;
  /** sha256 of content: the same bytes are stored once per manifest. */
  content_digest: string;
  created_at: number;
  created_by: string | null;
}

/** Notary trust metadata (0006_notary): every version of every role of a GUN, the exact bytes. */
export interface NotaryMetadataTable {
  gun: string;
  role: string;
  version: number;
  /** Hex SHA-256 of data. */
  sha256: string;
  data: Buffer;
  created_at: number;
}

/** The Notary server's own timestamp and snapshot keys (0006_notary), private halves encrypted. */
export interface NotaryKeysTable {
  gun: string;
  role: string;
  key_id: string;
  algorithm: string;
  /** base64 DER SubjectPublicKeyInfo. */
  public: string;
  private_encrypted: string;
  /** 1 = created, not yet listed by an accepted root. */
  pending: number;
  created_at: number;
}

export interface Database {
  repositories: RepositoriesTable;
  blobs: BlobsTable;
  repository_blobs: RepositoryBlobsTable;
  manifests: ManifestsTable;
  manifest_references: ManifestReferencesTable;
  tags: TagsTable;
  upload_sessions: UploadSessionsTable;
  leases: LeasesTable;
  gc_runs: GcRunsTable;
  lifecycle_rules: LifecycleRulesTable;
  console_sessions: ConsoleSessionsTable;
  repository_settings: RepositorySettingsTable;
  console_secrets: ConsoleSecretsTable;
  notary_metadata: NotaryMetadataTable;
  notary_keys: NotaryKeysTable;
  simple_signatures: SimpleSignaturesTable;
  notification_events: NotificationEventsTable;
  notification_endpoints: NotificationEndpointsTable;
  notification_dead_letters: NotificationDeadLettersTable;
}
