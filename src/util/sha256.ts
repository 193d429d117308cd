// The SHA-256 an upload is hashed with on its way to storage. Two ways to feed it: chunk by chunk
// on the event loop (update), or whole write batches (updateBatch), which go to libuv's thread
// pool when the native addon is there.
//
// Why the pool: an upload's event loop receives the body, and SHA-256 costs 0.65 CPU-s per GiB
// even with SHA-NI. On the loop, receiving and hashing take turns, and a 1 GiB upload stayed
// under about 1 GB/s whatever the disk did. Hashing a 4 MiB batch on the pool lets three things
// overlap: the hash of one batch, its write on another pool thread, and the receipt of the next
// batch. Measured, 1 GiB `curl -T` uploads went from 700-850 MB/s to about 1,000 MB/s at lower
// CPU per GiB (docs/benchmark.md, "Hashing on the thread pool").
//
// The native hash is OpenSSL's, the one Node itself links, so its digests are the same as
// node:crypto's. Without the addon, or with BERTH_NATIVE_HASH=0, node:crypto hashes on the loop.
import { createHash, type Hash } from 'node:crypto';
import { nativeAddon, type NativeAddon, type Sha256State } from '../native/addon.ts';

/** A SHA-256 in progress. Never call updateBatch again, or anything else, before its promise settles. */
export interface Sha256 {
  /** Hashes `chunk` now, on the calling thread. */
  update(chunk: Buffer): void;
  /** Hashes buffer[0, length): off the event loop when it is large enough to be worth the trip. */
  updateBatch(buffer: Buffer, length: number): Promise<void>;
  /** The hex digest of the bytes so far; hashing can go on. */
  digestHex(): string;
}

/** Below this, the trip to the pool (a queue, a thread wake-up, a callback) costs more than the hash. */
const POOL_MIN_BYTES = 256 * 1024;

type NativeSha256 = Required<Pick<NativeAddon, 'sha256Create' | 'sha256Update' | 'sha256UpdateSync' | 'sha256Digest'>>;

let native: NativeSha256 | null | undefined;

function nativeHash(): NativeSha256 | undefined {
  if (native === undefined) {
    const addon = nativeAddon();
    const usable = process.env.BERTH_NATIVE_HASH !== '0' && addon?.sha256Available?.() === true && addon.sha256UpdateSync !== undefined;
    native = usable ? (addon as NativeSha256) : null;
  }
  return native ?? undefined;
}

class PoolSha256 implements Sha256 {
  private readonly state: Sha256State;

  constructor(private readonly addon: NativeSha256) {
    this.state = addon.sha256Create();
  }

  update(chunk: Buffer): void {
    this.addon.sha256UpdateSync(this.state, chunk, chunk.length);
  }

  updateBatch(buffer: Buffer, length: number): Promise<void> {
    if (length < POOL_MIN_BYTES) {
      this.addon.sha256UpdateSync(this.state, buffer, length);
      return Promise.resolve();
    }
    return this.addon.sha256Update(this.state, buffer, length);
  }

  digestHex(): string {
    return this.addon.sha256Digest(this.state);
  }
}

class LoopSha256 implements Sha256 {
  private readonly hash: Hash = createHash('sha256');

  update(chunk: Buffer): void {
    this.hash.update(chunk);
  }

  updateBatch(buffer: Buffer, length: number): Promise<void> {
    this.hash.update(buffer.subarray(0, length));
    return Promise.resolve();
  }

  digestHex(): string {
    return this.hash.copy().digest('hex');
  }
}

/** A fresh SHA-256: batches on the thread pool when the native addon can, else on the event loop. */
export function createSha256(): Sha256 {
  const addon = nativeHash();
  return addon ? new PoolSha256(addon) : new LoopSha256();
}

/** Whether batches are hashed off the event loop in this process (the start log line says so). */
export function sha256OffLoop(): boolean {
  return nativeHash() !== undefined;
}
