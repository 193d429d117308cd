// berth's one native addon (native/sendfile, built by `npm ci` when a compiler is there): sendfile(2)
// for blob GETs (src/http/zero-copy.ts), aligned memory for O_DIRECT upload writes
// (src/storage/drivers/direct-io.ts), SHA-256 of upload batches off the event loop
// (src/util/sha256.ts), freeing upload memory without waiting for a collection
// (src/storage/drivers/file-appender.ts), glibc's malloc settings and trim and the release of clean file pages
// when idle (src/http/server-heap.ts, src/http/idle-trim.ts), and SCHED_IDLE for maintenance
// commands (src/util/background-priority.ts).
// Optional: without it berth streams and writes through the page cache and leaves malloc as it is,
// as it would on another platform.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.ts';

export interface NativeAddon {
  sendfile(socketFd: number, fileFd: number, offset: number, length: number, idleTimeoutMs: number): Promise<number>;
  /** Bytes from the start of `buffer` to its first address aligned to `alignment` (a power of two). */
  alignmentOffset?(buffer: Buffer, alignment: number): number;
  /** Fixed glibc mmap and trim thresholds and arena cap (src/http/server-heap.ts); true when glibc took them. */
  tuneMalloc?(mmapThreshold: number, trimThreshold: number, arenaMax?: number): boolean;
  /** malloc_trim(0): free heap pages back to the kernel (src/http/idle-trim.ts); true if any went. */
  trimMalloc?(): boolean;
  /** Unmaps clean pages of read-only file mappings (native/sendfile/file-pages.c); bytes of RSS released. */
  releaseFilePages?(): number;
  /** Detaches `arrayBuffer`, freeing its memory now when nothing else shares it (native/sendfile/free-now.c); false when V8 refused. */
  freeNow?(arrayBuffer: ArrayBufferLike): boolean;
  /** SCHED_IDLE for every thread of the process (src/util/background-priority.ts); threads changed. */
  idleScheduling?(): number;
  /** SHA-256 with Node's own OpenSSL, updatable on libuv's pool (src/util/sha256.ts); false when this Node exports no OpenSSL. */
  sha256Available?(): boolean;
  sha256Create?(): Sha256State;
  /** Hashes buffer[0, length) on libuv's pool; never two at once on one state. */
  sha256Update?(state: Sha256State, buffer: Buffer, length: number): Promise<void>;
  sha256UpdateSync?(state: Sha256State, buffer: Buffer, length: number): void;
  /** Hex digest of what was hashed so far; the state goes on. */
  sha256Digest?(state: Sha256State): string;
}

/** An opaque native SHA-256 state (an external). */
export type Sha256State = { readonly __sha256: unique symbol };

let loaded: NativeAddon | null | undefined;

/** The addon, or undefined when it is not built or not loadable. */
export function nativeAddon(): NativeAddon | undefined {
  if (loaded === undefined) loaded = load() ?? null;
  return loaded ?? undefined;
}

function load(): NativeAddon | undefined {
  if (process.platform !== 'linux') return undefined;
  const file = join(packageRoot(import.meta.url), 'native', 'sendfile', 'build', 'Release', 'berth_sendfile.node');
  if (!existsSync(file)) return undefined;
  try {
    const addon = createRequire(import.meta.url)(file) as Partial<NativeAddon>;
    return typeof addon.sendfile === 'function' ? (addon as NativeAddon) : undefined;
  } catch {
    return undefined;
  }
}
