// Gives memory back once the server goes quiet, as Go's runtime does with its background scavenger.
// A burst of requests leaves two kinds of free-but-held memory behind: V8 garbage (request objects,
// and the 64 KiB socket-read Buffers whose bytes live outside V8's heap) and glibc heap pages that
// were freed but sit below live allocations, which glibc never returns on its own (its trim only
// shrinks the top of the heap). Measured after 64 concurrent image pulls: 24 MiB of glibc heap
// held for 5 MiB in use, and the process stayed 30-60 MiB above its idle size for good.
//
// A third kind is not garbage at all: pages of the node binary and its libraries that start-up
// read once (V8's snapshot, symbol tables, ICU data), about 40 MiB that stay mapped and count in
// RSS. They are released too (native/sendfile/file-pages.c); they stay in the page cache, and the
// few that requests use come back by minor fault (no measurable cost on the first request).
//
// So: when no request has been in flight for IDLE_MS after some activity, run a full garbage
// collection, then malloc_trim(0), then release clean file pages (native/sendfile). Together a few
// milliseconds on an idle server; at most one trim per MIN_INTERVAL_MS keeps a trickle of requests
// from paying it often.
import type { ServerResponse } from 'node:http';
import { nativeAddon } from '../native/addon.ts';
import { serverGc } from './server-heap.ts';

const IDLE_MS = 1000;
const MIN_INTERVAL_MS = 5000;

/** Frees V8 garbage, then hands free heap pages and clean file pages back to the kernel. */
export function trimMemory(): void {
  // An ordinary full collection. After many concurrent uploads it leaves some finished requests'
  // buffers alive (28-38 MiB) until V8's own memory reducer runs; asking V8 for that
  // memory-reducing collection here freed them, but made the next burst of requests start cold
  // (docs/benchmark.md, "The idle trim and V8's memory reducer"), so the trim does not.
  serverGc()?.({ type: 'major' });
  const addon = nativeAddon();
  addon?.trimMalloc?.();
  addon?.releaseFilePages?.();
}

export class IdleTrimmer {
  private inFlight = 0;
  private activeSinceTrim = false;
  private lastTrim = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly trim: () => void = trimMemory,
    private readonly idleMs = IDLE_MS,
    private readonly minIntervalMs = MIN_INTERVAL_MS,
  ) {}

  /** Counts a request from now until its response closes (finished or aborted). */
  track(res: ServerResponse): void {
    this.inFlight++;
    this.activeSinceTrim = true;
    this.cancel();
    res.once('close', () => {
      if (--this.inFlight === 0) this.schedule();
    });
  }

  /** Counts as activity without a request: start-up leaves garbage of its own (module loading, config). */
  kick(): void {
    this.activeSinceTrim = true;
    if (this.inFlight === 0) this.schedule();
  }

  /** For good: responses that close while the server drains schedule nothing. */
  stop(): void {
    this.stopped = true;
    this.cancel();
  }

  private schedule(): void {
    this.cancel();
    if (this.stopped) return;
    const wait = Math.max(this.idleMs, this.lastTrim + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.inFlight > 0 || !this.activeSinceTrim) return;
      this.activeSinceTrim = false;
      this.lastTrim = Date.now();
      this.trim();
    }, wait);
    this.timer.unref();
  }

  private cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
