// What the web console asks the metadata store: one query function per page (the pages and their
// JSON twins under /api/v1 share them), the console's sessions, and per-repository settings that
// the console edits (description, visibility). Written once over Kysely for SQLite and PostgreSQL
// (kysely-console-store.ts).
import type { RepositorySearchRequest, RepositorySearchResult } from './search-query.ts';

/** Keyset pagination: `cursor` is opaque (from the previous page's `next`); `limit` at most 200. */
export interface PageRequest {
  cursor?: string;
  limit: number;
}

export interface Page<T> {
  items: T[];
  /** Cursor of the next page, absent on the last one. */
  next?: string;
  /** Cursor of the previous page, absent on the first one. */
  prev?: string;
}

export type RepositorySort = 'name' | 'pushed';

export interface RepositoryListRequest extends PageRequest {
  /** Case-insensitive substring of the repository name. */
  q?: string;
  /** 'name' ascending, or 'pushed' newest first (never-pushed last). */
  sort: RepositorySort;
  /**
   * Only repositories under one of these namespaces (prefix + '/'), or these exact names; undefined =
   * everything. The console passes what the visitor may pull when it is not everything.
   * An entry ending in '/' is a namespace ('team-a/' = every name starting 'team-a/', not a
   * repository named 'team-a'); any other entry is an exact repository name. [] = nothing.
   */
  within?: string[];
  /** Only repositories below this namespace (names starting '<namespace>/'), as well as `within`. */
  namespace?: string;
}

export interface NamespaceListRequest extends PageRequest {
  /** As RepositoryListRequest's: only namespaces holding a repository the viewer may list. */
  within?: string[];
  /** Count each namespace's repositories (false: repositoryCount is null). */
  counts: boolean;
}

export interface NamespaceSummary {
  /** The first component of its repositories' names ('team-a' for team-a/app and team-a/sub/x). */
  name: string;
  /** Repositories below it, null when not counted. */
  repositoryCount: number | null;
}

/** How much of a repository's size it shares with other repositories. */
export interface RepositoryStorage {
  /** Bytes of live blobs linked here and in at least one other repository (deleting this one alone frees none of them). */
  shared: number;
  /** Bytes of live blobs linked only here: what deleting the repository would free. */
  unique: number;
}

export interface RepositorySummary {
  name: string;
  tagCount: number;
  /** Bytes of the distinct blobs linked into the repository (what it would free if alone). */
  size: number;
  /** Last manifest PUT (ms since epoch), null when nothing was pushed. */
  pushedAt: number | null;
  description: string | null;
  /** The repository's own visibility setting, null = inherits its namespace's. */
  visibility: 'public' | 'private' | null;
}

export interface PlatformInfo {
  os: string;
  architecture: string;
  variant?: string;
  /** The platform's manifest digest (an index's child). */
  digest: string;
  /** Compressed size: config + layers of that child manifest. */
  size: number;
}

export interface TagRow {
  name: string;
  digest: string;
  mediaType: string;
  /** The artifact's type (null for a plain image or an index without one): consoleArtifactType. */
  artifactType: string | null;
  /** Compressed size: config + layers (an index: the sum over its children, counted once each). */
  size: number;
  /** Index children with platforms (empty for a single-platform manifest). */
  platforms: PlatformInfo[];
  pushedAt: number;
  pulledAt: number | null;
  /** Other tags of the repository that point at the same digest. */
  sameDigest: string[];
  /** Referrers (by subject) plus cosign-style tags (sha256-<hex>.sig/.att/.sbom) of this digest. */
  accessories: Accessory[];
  signed: boolean;
}

export interface Accessory {
  /** 'signature' | 'attestation' | 'sbom' | 'other' */
  kind: 'signature' | 'attestation' | 'sbom' | 'other';
  digest: string;
  artifactType: string | null;
  /** The tag that names it (cosign style), if any. */
  tag?: string;
}

export type TagSort = 'pushed' | 'name';

export interface RepositoryDetail {
  summary: RepositorySummary;
  /** One page of tags, accessory tags (sha256-….sig/.att/.sbom) left out: they are listed under their subject. */
  tags: Page<TagRow>;
  /** Count of tags without the accessory tags. */
  tagCount: number;
  /** Manifests without a tag (and not an accessory or an index child). */
  untaggedCount: number;
  /** summary.size split into shared and unique bytes. */
  storage: RepositoryStorage;
}

export interface ManifestDetail {
  repository: string;
  digest: string;
  mediaType: string;
  /** The manifest's artifactType, else its config media type unless that is the image config's (consoleArtifactType). */
  artifactType: string | null;
  /** The manifest's own bytes (what it references, with sizes, is in `references`). */
  size: number;
  configDigest: string | null;
  subject: string | null;
  annotations: Record<string, string> | null;
  pushedAt: number;
  pulledAt: number | null;
  tags: string[];
  /**
   * Blobs and child manifests it references, in manifest order where known, with sizes (a blob's
   * bytes; a child manifest's own bytes), and an index child's platform when the index gave one.
   */
  references: { kind: 'blob' | 'manifest'; digest: string; size: number | null; platform?: { os: string; architecture: string; variant?: string } }[];
  /**
   * Everything attached to it, as a tag row's accessories are: referrers and cosign-style tags
   * (sha256-<hex>.sig/.att/.sbom) of its digest.
   */
  accessories: Accessory[];
  /** An accessory is a signature: the same rule as TagRow.signed. */
  signed: boolean;
  /** Manifests whose subject is this one, each with their own referrers (one level deeper). */
  referrers: { digest: string; artifactType: string | null; mediaType: string; size: number; tags: string[]; referrers: { digest: string; artifactType: string | null }[] }[];
}

export interface ConsoleSession {
  /** SHA-256 (hex) of the cookie value: the cookie itself is never stored. */
  idHash: string;
  userName: string;
  /** The principal as the console needs it again (kind, name, teams, source), JSON-safe. */
  principal: unknown;
  csrf: string;
  createdAt: number;
  expiresAt: number;
  lastSeenAt: number;
}

export interface RepositorySettings {
  repository: string;
  description: string | null;
  visibility: 'public' | 'private' | null;
  updatedAt: number;
  updatedBy: string | null;
}

export interface ConsoleStore {
  repositories(req: RepositoryListRequest): Promise<Page<RepositorySummary>>;
  /** Namespaces (first name components) by name, one statement per page (namespace-list-query.ts). */
  namespaces(req: NamespaceListRequest): Promise<Page<NamespaceSummary>>;
  /** Repositories by page number with the total (GET /v1/search; search-query.ts). */
  search(req: RepositorySearchRequest): Promise<RepositorySearchResult>;
  /** Open blob upload sessions (the berth_uploads_in_progress gauge). */
  openUploads(): Promise<number>;
  /** undefined when the repository does not exist (no row) and has no settings. */
  repository(name: string, tags: PageRequest & { sort: TagSort; q?: string }): Promise<RepositoryDetail | undefined>;
  manifest(repository: string, digest: string): Promise<ManifestDetail | undefined>;

  /** Creates an empty repository (its row), as DTR's "new repository" does; false when it exists. */
  createRepository(name: string, now: number): Promise<boolean>;
  /**
   * Deletes a repository with everything in it, in one transaction: tags, manifests, references,
   * blob links and its row (blobs themselves are left to the garbage collector). Returns what went;
   * undefined when there was no such repository. The caller invalidates caches.
   */
  deleteRepository(name: string): Promise<{ manifests: string[]; tags: number; links: number } | undefined>;

  sessions: {
    create(s: ConsoleSession): Promise<void>;
    get(idHash: string, now: number): Promise<ConsoleSession | undefined>;
    touch(idHash: string, lastSeenAt: number, expiresAt: number): Promise<void>;
    delete(idHash: string): Promise<void>;
    /** Deletes every session of a user (password change, disable). */
    deleteForUser(userName: string): Promise<number>;
    purgeExpired(now: number): Promise<number>;
  };

  settings: {
    get(repository: string): Promise<RepositorySettings | undefined>;
    /** Every setting with a visibility, for the access controller's cache. */
    visibilities(): Promise<{ repository: string; visibility: 'public' | 'private' }[]>;
    put(s: RepositorySettings): Promise<void>;
    delete(repository: string): Promise<void>;
  };

  /** A named secret for the console (the CSRF key): created once, shared by replicas. */
  secret(name: string, create: () => string): Promise<string>;
}
