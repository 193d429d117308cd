// Table shapes for Kysely. Timestamps are epoch milliseconds (integers) so SQLite and PostgreSQL
// compare them the same way.
import type { Generated } from 'kysely';

export interface RepositoriesTable {
  id: Generated<number>;
  name: string;
  created_at: number;
}

export interface BlobsTable {
  digest: string;
  size: number;
  created_at: number;
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
}

export interface ManifestReferencesTable {
  repository_id: number;
  parent_digest: string;
  child_digest: string;
  /** 'blob' for config/layers, 'manifest' for the children of an index. */
  kind: string;
}

export interface TagsTable {
  repository_id: number;
  name: string;
  digest: string;
  updated_at: number;
}

export interface UploadSessionsTable {
  id: string;
  repository: string;
  started_at: number;
}

export interface Database {
  repositories: RepositoriesTable;
  blobs: BlobsTable;
  repository_blobs: RepositoryBlobsTable;
  manifests: ManifestsTable;
  manifest_references: ManifestReferencesTable;
  tags: TagsTable;
  upload_sessions: UploadSessionsTable;
}
