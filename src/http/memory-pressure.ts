// Bounds the memory held by blob bytes that passed through the process: request bodies already
// written out, and streamed blob reads already handed to the socket. Every socket read of an upload
// becomes a 64 KiB Buffer whose bytes live outside V8's heap; V8 frees them only when a garbage
// collection finds the small JS wrappers dead, which with a small young generation and little JS
// garbage per chunk can take hundreds of MiB of traffic (measured: peak RSS +35..60 MiB during a
// 1 GiB upload). A minor GC (a scavenge, well under a millisecond here) every few MiB of body
// keeps that garbage small. Streamed GETs (TLS, HTTP/2, pipelined requests) read up to 4 MiB at a
// time, and two of them left 32 MiB of dead chunks behind for seconds (measured in the many-clients
// bench), so their bytes count too. Body chunks an upload frees itself (HTTP/1 requests into the
// filesystem driver: src/storage/drivers/file-appender.ts) are not counted: nothing is left to
// collect. The collector is reachable when the server configured its heap (src/http/server-heap.ts);
// otherwise nothing happens.
import { serverGc } from './server-heap.ts';

// Every 4 MiB: measured on a skopeo push of a 1 GiB layer (32 KiB chunks), 16 MiB let V8's
// external-memory accounting start 65 full mark-compacts (2.5 CPU s of the server's user time);
// 8 MiB, 35; 4 MiB, one (1.2 s); 2 MiB, one, with twice the scavenges.
const EVERY_BYTES = 4 * 1024 * 1024;

let since = 0;

/** Counts blob bytes that are done with (written out, or sent); collects young garbage now and then. */
export function transientBytesDone(n: number): void {
  since += n;
  if (since < EVERY_BYTES) return;
  since = 0;
  serverGc()?.({ type: 'minor' });
}
