// The writer's half of the garbage collector's protocol (docs/garbage-collection.md): every path
// that stores blob bytes (upload commit, manifest PUT, import) first reserves the blob in the
// metadata store. A reservation touches the blob, so the collector spares it, and tells the writer
// whether the bytes are already stored. A blob the collector has claimed is waited out: its
// deletion takes milliseconds, after which the writer stores the bytes again.
import type { MetadataStore } from '../metadata/store.ts';

/** The metadata lease a running collection holds (src/lifecycle/gc.ts). */
export const GC_LEASE = 'gc';

/** A claim older than this belongs to a collector that died (its lease lasts a minute). */
export const STALE_CLAIM_MS = 5 * 60_000;
const WAIT_MS = 30_000;

export class BlobBusyError extends Error {
  constructor(readonly digest: string) {
    super(`blob ${digest} is being garbage-collected; retry shortly`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Reserves `digest` for a write: 'live' (stored; nothing to write) or 'pending' (store the bytes,
 * then link). Throws BlobBusyError when a collection holds it for longer than the wait.
 */
export async function reserveForWrite(metadata: MetadataStore, digest: string, size: number): Promise<'live' | 'pending'> {
  const deadline = Date.now() + WAIT_MS;
  for (let pause = 10; ; pause = Math.min(pause * 2, 500)) {
    const state = await metadata.reserveBlob(digest, size);
    if (state !== 'deleting') return state;
    // A claim with no collection running (none holds the lease) was left by one that was killed:
    // take it back now rather than wait for the next run to finish it.
    const orphaned = !(await metadata.lifecycle.leaseHeld(GC_LEASE));
    if (await metadata.lifecycle.reapStaleClaim(digest, orphaned ? Date.now() + 1 : Date.now() - STALE_CLAIM_MS)) continue;
    if (Date.now() > deadline) throw new BlobBusyError(digest);
    await sleep(pause);
  }
}

/**
 * How stale a blob's last touch may be before a HEAD or GET touches it again: half the grace
 * period, at most 5 minutes, so a collector with a delay of 5 minutes or more never takes a blob
 * that a client was just told exists.
 */
export function touchAfterMs(gcDelayMs: number): number {
  return Math.min(gcDelayMs / 2, 5 * 60_000);
}
