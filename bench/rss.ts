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
