// The read-only view of a CNCF Distribution (registry:2) storage tree that `berth import` needs.
// Paths are '/'-separated and relative to the tree's `docker/registry/v2` directory, exactly as
// distribution's storage drivers address them, so an S3 source is a thin mapping onto
// ListObjectsV2 (Delimiter '/'), GetObject and HeadObject under `<rootdirectory>/docker/registry/v2/`.
import type { Readable } from 'node:stream';

export interface DistributionSource {
  /** Where the tree is, for messages and reports. */
  readonly location: string;
  /** Names of the subdirectories of `dir`, sorted; [] when `dir` does not exist. */
  listDirectories(dir: string): Promise<string[]>;
  /** Contents of a link file (a digest, no newline), or undefined when the file does not exist. */
  readLink(path: string): Promise<string | undefined>;
  /** Size of a file, or undefined when it does not exist. */
  stat(path: string): Promise<{ size: number } | undefined>;
  /** Streams a file (a blob's `data`). Fails to open with SourceReadError; the caller attributes mid-stream errors to the source. */
  open(path: string): Promise<Readable>;
  /**
   * The file's path on the local filesystem, when the source is a local directory: lets a
   * filesystem target hard-link blobs instead of copying them. Absent for remote sources.
   */
  localPath?(path: string): string;
}

/** A source item could not be read (permissions, I/O error): that item is skipped, the import goes on. */
export class SourceReadError extends Error {
  constructor(
    readonly path: string,
    override readonly cause: unknown,
  ) {
    super(`cannot read ${path}: ${(cause as NodeJS.ErrnoException)?.code ?? (cause as Error)?.message ?? String(cause)}`);
    this.name = 'SourceReadError';
  }
}
