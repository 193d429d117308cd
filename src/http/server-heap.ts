// V8 heap settings for the server, applied from inside the program so that `bin/berth.js serve`,
// `node bin/berth.js serve`, `npm start` and `node dist/cli/main.js serve` all run the same way
// (command-line flags only reach the first; NODE_OPTIONS rejects most V8 flags).
//
// Young generation: V8 grows each semi-space from 1 MiB up to 16 MiB when many young objects
// survive a scavenge, which module loading at start-up does: an idle berth then holds ~28 MiB of
// mostly empty new space for good. Stopping growth keeps it at 1 MiB per semi-space (2 MiB). The
// request paths allocate little that outlives a request, so scavenges stay cheap; the benchmark's
// manifest and blob rows measure the cost. Unlike --max-semi-space-size, which V8 reads once when
// the heap is set up, the growth factor is read at every resize, so setting it here still works.
//
// A minor GC on demand (src/http/memory-pressure.ts): uploads drop one 64 KiB body Buffer per
// socket read, outside V8's heap; a scavenge every few MiB of body frees them long before V8's own
// external-memory heuristics would.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { nativeAddon } from '../native/addon.ts';

type Gc = (opts?: { type?: 'minor' | 'major' }) => void;

/**
 * Per process, not per module instance: the CLI (dist/bundle/) configures the heap, then loads the
 * server bundle (dist/server/), which has its own copy of this module. Module-level variables
 * would leave the server's copy without the collector (it did: a 1 GiB upload then ran 36 full
 * mark-compacts, started by V8's external-memory heuristics, instead of its forced scavenges).
 */
const STATE = Symbol.for('berth.server-heap');
interface HeapState {
  configured?: boolean;
  gc?: Gc;
}
const state = (): HeapState => ((globalThis as { [STATE]?: HeapState })[STATE] ??= {});

/** Applies the server's heap settings; call before the server's modules are loaded. Idempotent. */
export function configureServerHeap(): void {
  const s = state();
  if (s.configured) return;
  s.configured = true;
  if (process.env.BERTH_MALLOC_DEFAULTS !== '1') tuneMalloc();
  // BERTH_V8_DEFAULTS=1 leaves V8's own sizing (to compare, or when a deployment sets flags itself).
  if (process.env.BERTH_V8_DEFAULTS === '1') return;
  setFlagsFromString('--semi-space-growth-factor=1');
  s.gc = (globalThis as { gc?: Gc }).gc;
  if (!s.gc) {
    // --expose-gc set now binds `gc` in contexts created from now on: take it from a fresh one.
    setFlagsFromString('--expose-gc');
    s.gc = runInNewContext('gc') as Gc;
  }
}

/**
 * One malloc arena. glibc gives a thread that allocates while another holds the main arena an arena
 * of its own, up to 8 per core, and each keeps freed memory as the main one does. Every blob GET's
 * sendfile thread allocates once (its completion message), so 64 concurrent pulls spread over 16
 * arenas holding 1-5 MiB each for some KiB in use: peak RSS 86-88 MiB against 77-78 with one arena,
 * at the same pull times (measured, 3 runs each). The other threads (V8's GC helpers, libuv's pool)
 * allocate little, so the shared lock costs nothing measurable.
 */
const ARENA_MAX = 1;

/**
 * Fixed glibc malloc thresholds. By default glibc raises its mmap threshold each time a large
 * block is freed (up to 32 MiB) and its trim threshold to twice that, so freed memory stays in the
 * main heap: in the many-clients bench the [heap] mapping reached 108 MiB during 64 pulls and the
 * server's peak RSS 189-283 MiB. Fixed at 8 MiB each, above every buffer berth allocates (4 MiB
 * streamed reads, 1 MiB upload batches), those still come from the heap and are reused (mapping
 * each one afresh halved streamed GETs here: 1.35 against 2.45 GB/s with 256 KiB), and the heap
 * gives back what it no longer uses: peak 125 MiB in the same bench. BERTH_MALLOC_DEFAULTS=1
 * keeps glibc's behaviour.
 */
function tuneMalloc(): void {
  nativeAddon()?.tuneMalloc?.(8 * 1024 * 1024, 8 * 1024 * 1024, ARENA_MAX);
}

/** The garbage collector, when configureServerHeap() made it reachable (or node ran with --expose-gc). */
export function serverGc(): Gc | undefined {
  return state().gc ?? (globalThis as { gc?: Gc }).gc;
}
