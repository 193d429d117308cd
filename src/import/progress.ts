// Progress of a running import on stderr: a live line redrawn in place on a terminal, plain lines
// every few seconds otherwise (CI logs, `| tee`), so long imports are visibly alive either way.
import { humanBytes } from '../util/human-bytes.ts';
import type { ImportStats } from './report.ts';

export interface ProgressOptions {
  stream: NodeJS.WritableStream;
  tty: boolean;
  /** Between plain lines when not on a terminal; default 10 s. */
  intervalMs?: number;
}

export function progressLine(s: ImportStats, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? s.verifiedBytes / (elapsedMs / 1000) : 0;
  return [
    `repositories ${s.repositories.done}/${s.repositories.total}`,
    `manifests ${s.imported.manifests} new ${s.present.manifests} present`,
    `blobs ${s.imported.blobs} new (${humanBytes(s.imported.bytes)}) ${s.present.blobs} present`,
    `verified ${humanBytes(s.verifiedBytes)} at ${humanBytes(rate)}/s`,
    `skipped ${s.skipped}`,
  ].join(' | ');
}

export function startProgress(stats: ImportStats, opts: ProgressOptions): { stop(): void } {
  const started = Date.now();
  const draw = opts.tty
    ? () => opts.stream.write(`\r\x1b[K${progressLine(stats, Date.now() - started)}`)
    : () => opts.stream.write(`berth import: ${progressLine(stats, Date.now() - started)}\n`);
  const timer = setInterval(draw, opts.tty ? 200 : (opts.intervalMs ?? 10_000));
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      if (opts.tty) opts.stream.write('\r\x1b[K');
    },
  };
}
