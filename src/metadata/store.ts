// The metadata contract: everything berth knows about repositories, tags and manifests lives here,
// so listing and GC are queries, never walks over blob storage. SQLite implements it for one node;
// the same query layer (kysely-store.ts) serves PostgreSQL for replicas.
import type { ParsedManifest, Platform } from '../oci/manifest.ts';
import type { LifecycleStore } from './lifecycle/lifecycle-store.ts';
import type { ConsoleStore } from './console/console-store.ts';
import type { NotaryStore } from './notary/notary-store.ts';
import type { SignatureStore } from './signatures/store.ts';
import type { NotificationStore } from './events/store.ts';

export interface ManifestRecord {
  digest: string;
  mediaType: string;
  size: number;
  artifactType: string | null;
  subjectDigest: string | null;
  configDigest: string | null;
  /** JSON text of the manifest's annotations, kept for the referrers API. */
  annotations: string | null;
  createdAt: Date;
}

export interface NewManifest {
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  subjectDigest?: string;
  configDigest?: string;
  annotations?: Record<string, string>;
  /** Blobs (config, layers) that must be linked to the repository. */
  blobs: string[];
  /** Child manifests (of an index) that must exist in the repository. */
  children: string[];
  /** An index's children's platforms, by child digest (stored with the references for the console). */
  platforms?: Record<string, Platform>;
  /**
   * A pull-through cache's copy of an upstream manifest (src/mirror/): stored before its blobs and
   * children, which come from the upstream when first asked for, so its references are not checked.
   */
  mirrored?: boolean;
}

/** The record a manifest PUT (or an import) stores for `parsed`, the manifest's bytes summarised. */
export function newManifest(parsed: ParsedManifest, digest: string, size: number): NewManifest {
  return {
    digest,
    mediaType: parsed.mediaType,
    size,
    artifactType: parsed.artifactType,
    subjectDigest: parsed.subject?.digest,
    configDigest: parsed.configDigest,
    annotations: parsed.annotations,
    blobs: parsed.blobs,
    children: parsed.children,
    platforms: parsed.platforms,
  };
}

export interface PutManifestResult {
  /** References that were not there; when non-empty nothing was written. */
  missingBlobs: string[];
  missingChildren: string[];
  /**
   * The manifest's own bytes were claimed by the garbage collector between the caller's
   * reserveBlob and this call; nothing was written. The caller reserves and stores them again.
   */
  bytesCollected?: boolean;
}

/** A tag as a plan saw it: deleted only if nobody has pushed it since. */
export interface TagCondition {
  digest: string;
  /** Epoch ms of the tag's last push (tags.updated_at). */
  pushedAt: number;
}

/** What reserveBlob found: see MetadataStore.reserveBlob. */
export type BlobReservation = 'live' | 'pending' | 'deleting';

export interface LinkedBlob {
  size: number;
  /** Epoch ms of the blob's last touch (upload, mount, HEAD, reference); the GC grace counts from it. */
  touchedAt: number;
}

/** linkBlob of a blob whose row the garbage collector has claimed or removed: its bytes may be gone. */
export class BlobCollectedError extends Error {
  constructor(readonly digest: string) {
    super(`blob ${digest} was garbage-collected while it was being linked`);
  }
}

export interface Page {
  n?: number;
  last?: string;
}

export interface UploadSession {
  id: string;
  repository: string;
  startedAt: Date;
}

export interface Referrer {
  digest: string;
  mediaType: string;
  size: number;
  artifactType: string | null;
  annotations: string | null;
}

export interface MetadataStore {
  /**
   * The first step of every write of blob bytes (upload commit, manifest PUT, import), so the
   * garbage collector and writers never race (src/lifecycle/README in docs/garbage-collection.md):
   * - 'live': the bytes are stored (a live row always has them); now touched, so the collector spares them;
   * - 'pending': no live row (now reserved, or another writer's): the caller stores the bytes, then links;
   * - 'deleting': the collector claimed it and is deleting the bytes; wait until it is done, then call again.
   */
  reserveBlob(digest: string, size: number): Promise<BlobReservation>;
  /**
   * Links a reserved or live blob, present in blob storage, to a repository and marks it live
   * (idempotent). Throws BlobCollectedError when the collector took it after it was reserved.
   */
  linkBlob(repository: string, digest: string, size: number): Promise<void>;
  /** The size (and last touch) of a blob when it is linked to the repository. */
  repositoryBlob(repository: string, digest: string): Promise<LinkedBlob | undefined>;
  /**
   * Repositories the blob is linked to, in lexical order, at most `limit` of them (a mount
   * without `from` looks for a source among these).
   */
  repositoriesLinking(digest: string, limit: number): Promise<string[]>;
  /** Marks a live blob and its link in the repository as just used (a HEAD); false when either is gone. */
  touchBlob(repository: string, digest: string): Promise<boolean>;
  unlinkBlob(repository: string, digest: string): Promise<boolean>;

  /** Checks references and writes manifest, references, subject and tag in one transaction. */
  putManifest(repository: string, manifest: NewManifest, tag?: string): Promise<PutManifestResult>;
  manifest(repository: string, digest: string): Promise<ManifestRecord | undefined>;
  resolveTag(repository: string, tag: string): Promise<string | undefined>;
  /** The manifest a tag points at, in one lookup (the hot path of every pull). */
  taggedManifest(repository: string, tag: string): Promise<ManifestRecord | undefined>;
  /** Removes the manifest, every tag pointing at it and its reference rows. */
  deleteManifest(repository: string, digest: string): Promise<boolean>;
  /** Deletes a tag; with `only`, just when it still points at that digest and was pushed at that time (retention's re-check). */
  deleteTag(repository: string, tag: string, only?: TagCondition): Promise<boolean>;

  repositoryExists(repository: string): Promise<boolean>;
  /** Tags in lexical order; undefined when the repository is unknown. */
  listTags(repository: string, page: Page): Promise<string[] | undefined>;
  /** Repositories holding at least one manifest, in lexical order. */
  listRepositories(page: Page): Promise<string[]>;
  listReferrers(repository: string, subjectDigest: string, artifactType?: string): Promise<Referrer[]>;

  createUpload(session: UploadSession): Promise<void>;
  upload(id: string): Promise<UploadSession | undefined>;
  deleteUpload(id: string): Promise<void>;

  /** Garbage collection, retention, immutability and quota queries (src/metadata/lifecycle). */
  readonly lifecycle: LifecycleStore;
  /** The web console's pages, sessions and repository settings (src/metadata/console). */
  readonly console: ConsoleStore;
  /** The Notary server's TUF metadata and signing keys (src/metadata/notary). */
  readonly notary: NotaryStore;
  /** Simple (GPG) signatures of manifests, for the signatures API extension (src/metadata/signatures). */
  readonly signatures: SignatureStore;
  /** The notification outbox, endpoint cursors and dead letters (src/metadata/events, delivered by src/events). */
  readonly events: NotificationStore;
  /** A cache in front of the store (Redis) drops what it holds for these repositories. */
  invalidateRepositories?(repositories: string[]): Promise<void>;

  /** Health probe: throws when the database cannot answer. */
  check(): Promise<void>;
  close(): Promise<void>;
}
