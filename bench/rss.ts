// Memory of the server processes: VmRSS sampled every 250 ms (summed over the process and its
// descendants), plus the kernel's own high-water mark VmHWM of the main process at the end.
import { readdirSync, readFileSync } from 'node:fs';

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * VmRSS split as the kernel counts it: anonymous memory (heaps, stacks, buffers) and file pages
 * mapped in (the executable's and libraries' code and data, shared with any other process running
 * the same binary). A Node server's idle RSS is mostly the second kind: V8's and ICU's code.
 */
export function rssParts(pid: number): { anon: number; file: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN) * 1024;
    const anon = kb('RssAnon');
    const file = kb('RssFile') + kb('RssShmem');
    return Number.isFinite(anon) && Number.isFinite(file) ? { anon, file } : undefined;
  } catch {
    return undefined;
  }
}

function descendants(pid: number): number[] {
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    let kids: number[] = [];
    try {
      for (const task of listDir(`/proc/${p}/task`)) {
        const c = readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
        if (c) kids = kids.concat(c.split(/\s+/).map(Number));
      }
    } catch {
      /* gone */
    }
    out.push(...kids);
    stack.push(...kids);
  }
  return out;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export interface RssResult {
  /** Largest sampled VmRSS (process + descendants), bytes. */
  peakSampled: number;
  /** VmHWM of the main process when the run ended, bytes. */
  hwm: number | undefined;
  /** Peak sampled RSS per phase label. */
  byPhase: Record<string, number>;
}

export class RssSampler {
  private peak = 0;
  private phase = 'start';
  private byPhase: Record<string, number> = {};
  private timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    intervalMs = 250,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    this.sample();
  }

  setPhase(name: string): void {
    this.sample();
    this.phase = name;
  }

  sample(): number {
    let total = 0;
    for (const p of [this.pid, ...descendants(this.pid)]) total += statusField(p, 'VmRSS') ?? 0;
    if (total > this.peak) this.peak = total;
    if (total > (this.byPhase[this.phase] ?? 0)) this.byPhase[this.phase] = total;
    return total;
  }

  /** Stop sampling; call before the process is stopped so VmHWM can still be read. */
  finish(): RssResult {
    this.sample();
    clearInterval(this.timer);
    return { peakSampled: this.peak, hwm: statusField(this.pid, 'VmHWM'), byPhase: { ...this.byPhase } };
  }
}
