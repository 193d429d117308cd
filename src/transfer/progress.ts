// What a person (or a script) sees while blobs move. On a terminal: one bar per blob in flight and
// an overall bar (bytes, speed, ETA) via cli-progress. Not a terminal (CI logs, pipes): one plain
// line when a blob starts and when it ends, never carriage returns. `--quiet`: nothing. `--json`:
// nothing on stderr; the command prints one JSON result on stdout instead.
import { createRequire } from 'node:module';
import { Transform } from 'node:stream';
import type cliProgressTypes from 'cli-progress';
import { humanBytes } from '../util/human-bytes.ts';

// Loaded only when drawing bars: scripts and CI logs (plain, quiet, json) start without it.
const load = () => createRequire(import.meta.url)('cli-progress') as typeof cliProgressTypes;

export type ProgressMode = 'tty' | 'plain' | 'quiet' | 'json';

export interface ProgressFlags {
  quiet?: boolean;
  json?: boolean;
}

export function progressMode(flags: ProgressFlags, out: NodeJS.WriteStream = process.stderr): ProgressMode {
  if (flags.json) return 'json';
  if (flags.quiet) return 'quiet';
  return out.isTTY && process.env.TERM !== 'dumb' ? 'tty' : 'plain';
}

/** How a blob ended up at its destination. */
export type BlobOutcome = 'pushed' | 'pulled' | 'copied' | 'exists' | 'mounted' | 'cached';

export interface BlobTask {
  /** Count `n` more bytes moved. */
  add(n: number): void;
  /** The size once known (a layer compressed on the fly learns its size at the end). */
  setTotal(n: number): void;
  done(outcome: BlobOutcome): void;
  fail(err: Error): void;
}

export function short(digestOrName: string): string {
  const hex = /^sha(?:256|512):([a-f0-9]+)$/.exec(digestOrName)?.[1];
  return hex ? hex.slice(0, 12) : digestOrName;
}

function rate(bytes: number, ms: number): string {
  return `${humanBytes(ms > 0 ? (bytes * 1000) / ms : 0)}/s`;
}

interface Counters {
  /** Bytes that actually crossed the network (skipped blobs count zero). */
  moved: number;
  blobs: Record<BlobOutcome, number>;
}

export class Progress {
  private readonly started = Date.now();
  private readonly multi?: cliProgressTypes.MultiBar;
  private overall?: cliProgressTypes.SingleBar;
  private overallTotal = 0;
  private overallDone = 0;
  readonly counters: Counters = { moved: 0, blobs: { pushed: 0, pulled: 0, copied: 0, exists: 0, mounted: 0, cached: 0 } };

  constructor(
    readonly mode: ProgressMode,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    if (mode === 'tty') {
      const cliProgress = load();
      this.multi = new cliProgress.MultiBar(
        {
          stream: out,
          format: '{label} |{bar}| {percentage}% {value_h}/{total_h} {speed} ETA {eta_formatted}',
          barsize: 24,
          hideCursor: true,
          clearOnComplete: false,
          stopOnComplete: false,
          autopadding: true,
          etaBuffer: 50,
          fps: 8,
          formatValue: (v, _o, type) => (type === 'value' || type === 'total' ? humanBytes(v) : String(v)),
        },
        cliProgress.Presets.shades_classic,
      );
    }
  }

  /** A message line (what is being done); printed unless quiet/json. */
  line(msg: string): void {
    if (this.mode === 'quiet' || this.mode === 'json') return;
    if (this.multi) this.multi.log(`${msg}\n`);
    else this.out.write(`${msg}\n`);
  }

  /** Starts tracking one blob. `label` is usually the digest; `total` its size if known. */
  blob(label: string, total: number | undefined, verb: string): BlobTask {
    const name = short(label);
    const t0 = Date.now();
    let moved = 0;
    let size = total ?? 0;
    let finished = false;
    this.overallTotal += size;
    const bar = this.multi?.create(Math.max(size, 1), 0, { label: `${verb} ${name}`, speed: '', value_h: '0 B', total_h: total === undefined ? '?' : humanBytes(size) });
    this.ensureOverall();
    if (this.mode === 'plain' && (total === undefined || total >= 1 << 20)) this.out.write(`${name}: ${verb}${total === undefined ? '' : ` ${humanBytes(total)}`}\n`);
    const refresh = () => {
      bar?.update(moved, { speed: rate(moved, Date.now() - t0), value_h: humanBytes(moved), total_h: humanBytes(size) });
      this.overall?.setTotal(Math.max(this.overallTotal, 1));
      this.overall?.update(this.overallDone, { speed: rate(this.counters.moved, Date.now() - this.started), value_h: humanBytes(this.overallDone), total_h: humanBytes(this.overallTotal) });
    };
    return {
      add: (n) => {
        moved += n;
        this.overallDone += n;
        this.counters.moved += n;
        if (moved > size) {
          this.overallTotal += moved - size;
          size = moved;
          bar?.setTotal(size);
        }
        refresh();
      },
      setTotal: (n) => {
        this.overallTotal += n - size;
        size = n;
        bar?.setTotal(Math.max(n, 1));
        refresh();
      },
      done: (outcome) => {
        if (finished) return;
        finished = true;
        this.counters.blobs[outcome]++;
        // A skipped blob counts as done for the overall bar: that work is finished too.
        if (outcome === 'exists' || outcome === 'mounted' || outcome === 'cached') this.overallDone += Math.max(size - moved, 0);
        if (bar) {
          bar.update(size, { label: `${outcome.padEnd(7)} ${name}`, value_h: humanBytes(size), total_h: humanBytes(size), speed: moved ? rate(moved, Date.now() - t0) : '' });
          this.multi!.remove(bar);
          this.multi!.log(`${name}: ${outcome} ${humanBytes(size)}${moved ? ` in ${((Date.now() - t0) / 1000).toFixed(1)}s (${rate(moved, Date.now() - t0)})` : ''}\n`);
        } else if (this.mode === 'plain') {
          this.out.write(`${name}: ${outcome} ${humanBytes(size)}${moved ? ` in ${((Date.now() - t0) / 1000).toFixed(1)}s (${rate(moved, Date.now() - t0)})` : ''}\n`);
        }
        refresh();
      },
      fail: (err) => {
        if (finished) return;
        finished = true;
        if (bar) this.multi!.remove(bar);
        if (this.mode === 'tty' || this.mode === 'plain') this.line(`${name}: failed: ${err.message}`);
      },
    };
  }

  /**
   * A pass-through that counts the bytes flowing through it into `task`. With `coalesce`, chunks
   * are also gathered into writes of that many bytes: a socket-to-socket copy otherwise makes one
   * write syscall per 64 KiB read.
   */
  meter(task: BlobTask, coalesce = 0): Transform {
    let held: Buffer[] = [];
    let heldBytes = 0;
    return new Transform({
      transform(chunk: Buffer, _enc, cb) {
        task.add(chunk.length);
        if (!coalesce) return cb(null, chunk);
        held.push(chunk);
        heldBytes += chunk.length;
        if (heldBytes < coalesce) return cb();
        const out = held.length === 1 ? held[0]! : Buffer.concat(held, heldBytes);
        held = [];
        heldBytes = 0;
        cb(null, out);
      },
      flush(cb) {
        cb(null, heldBytes ? Buffer.concat(held, heldBytes) : undefined);
      },
    });
  }

  private ensureOverall(): void {
    if (!this.multi || this.overall) return;
    this.overall = this.multi.create(1, 0, { label: 'total', speed: '', value_h: '0 B', total_h: '0 B' });
  }

  /** Stops the bars and prints the summary line (unless quiet/json). */
  finish(summary?: string): void {
    if (this.overall) this.overall.update(this.overallDone);
    this.multi?.stop();
    const ms = Date.now() - this.started;
    const b = this.counters.blobs;
    const parts = Object.entries(b)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${k}`);
    if (this.mode === 'tty' || this.mode === 'plain') {
      this.out.write(`${summary ? `${summary}: ` : ''}${parts.join(', ') || 'nothing to move'}; ${humanBytes(this.counters.moved)} in ${(ms / 1000).toFixed(1)}s (${rate(this.counters.moved, ms)})\n`);
    }
  }

  elapsedMs(): number {
    return Date.now() - this.started;
  }
}
