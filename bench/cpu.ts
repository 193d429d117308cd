// How much CPU did processes other than this benchmark (and the servers and tools it started) use
// while it ran? On a shared 2-core machine that is the first thing to know about a number.
import { readFileSync } from 'node:fs';

const HZ = 100; // USER_HZ on Linux

function busyTicks(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...: busy = all - idle - iowait
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return total - f[3] - f[4];
}

/** utime+stime(+cutime+cstime: children already reaped) of a process, in ticks. */
function procTicks(pid: number | 'self'): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields after the command: state(3) ... utime(14) stime(15) cutime(16) cstime(17), 1-based in proc(5)
    return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  } catch {
    return 0;
  }
}

/** User and system CPU seconds a process has used so far (itself only); zeros when it is gone. */
export function processUserSystemSeconds(pid: number): { user: number; system: number } {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { user: Number(f[11]) / HZ, system: Number(f[12]) / HZ };
  } catch {
    return { user: 0, system: 0 };
  }
}

/** CPU seconds (user + system) a process has used so far; 0 when it is gone. */
export function processCpuSeconds(pid: number): number {
  return procTicks(pid) / HZ;
}

export interface CpuSnapshot {
  at: number;
  busy: number;
  ours: number;
}

export function cpuSnapshot(pids: number[]): CpuSnapshot {
  return { at: Date.now(), busy: busyTicks(), ours: procTicks('self') + pids.reduce((n, p) => n + procTicks(p), 0) };
}

/** Average number of cores used by other processes between two snapshots. */
export function foreignCores(a: CpuSnapshot, b: CpuSnapshot): number {
  const secs = (b.at - a.at) / 1000;
  if (secs <= 0) return 0;
  return Math.max(0, (b.busy - a.busy - (b.ours - a.ours)) / HZ / secs);
}
