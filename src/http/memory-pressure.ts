// Bounds the memory held by already-consumed request bodies. Every socket read of an upload
// becomes a 64 KiB Buffer whose bytes live outside V8's heap; V8 frees them only when a garbage
// collection finds the small JS wrappers dead, and with a 4 MiB young generation that can take
// hundreds of MiB of traffic (measured: peak RSS +35..60 MiB during a 1 GiB upload). A minor GC
// (a scavenge, well under a millisecond here) every few MiB of body keeps that garbage small.
// Only when the process runs with --expose-gc (bin/berth.js does); otherwise nothing happens.

const EVERY_BYTES = 16 * 1024 * 1024;

type MinorGc = (opts: { type: 'minor' }) => void;
const gc = (globalThis as { gc?: MinorGc }).gc;

let since = 0;

/** Counts bytes of request bodies that have been written out; collects young garbage now and then. */
export function bodyBytesConsumed(n: number): void {
  if (!gc) return;
  since += n;
  if (since < EVERY_BYTES) return;
  since = 0;
  gc({ type: 'minor' });
}
