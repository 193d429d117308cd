// The metadata contract: everything berth knows about repositories, tags and manifests lives here,
// so listing and GC are queries, never walks over blob storage. SQLite implements it for one node;
// the same query layer (kysely-store.ts) serves PostgreSQL for replicas.
import type { ParsedManifest } from '../oci/manifest.ts';

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
  };
}

export interface PutManifestResult {
  /** References that were not there; when non-empty nothing was written. */
  missingBlobs: string[];
  missingChildren: string[];
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
  /** Links a blob that is present in blob storage to a repository (idempotent). */
  linkBlob(repository: string, digest: string, size: number): Promise<void>;
  /** The size of a blob when it is linked to the repository. */
  repositoryBlob(repository: string, digest: string): Promise<{ size: number } | undefined>;
  unlinkBlob(repository: string, digest: string): Promise<boolean>;

  /** Checks references and writes manifest, references, subject and tag in one transaction. */
  putManifest(repository: string, manifest: NewManifest, tag?: string): Promise<PutManifestResult>;
  manifest(repository: string, digest: string): Promise<ManifestRecord | undefined>;
  resolveTag(repository: string, tag: string): Promise<string | undefined>;
  /** The manifest a tag points at, in one lookup (the hot path of every pull). */
  taggedManifest(repository: string, tag: string): Promise<ManifestRecord | undefined>;
  /** Removes the manifest, every tag pointing at it and its reference rows. */
  deleteManifest(repository: string, digest: string): Promise<boolean>;
  deleteTag(repository: string, tag: string): Promise<boolean>;

  repositoryExists(repository: string): Promise<boolean>;
  /** Tags in lexical order; undefined when the repository is unknown. */
  listTags(repository: string, page: Page): Promise<string[] | undefined>;
  /** Repositories holding at least one manifest, in lexical order. */
  listRepositories(page: Page): Promise<string[]>;
  listReferrers(repository: string, subjectDigest: string, artifactType?: string): Promise<Referrer[]>;

  createUpload(session: UploadSession): Promise<void>;
  upload(id: string): Promise<UploadSession | undefined>;
  deleteUpload(id: string): Promise<void>;

  /** Health probe: throws when the database cannot answer. */
  check(): Promise<void>;
  close(): Promise<void>;
}
