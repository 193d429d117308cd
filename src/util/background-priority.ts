// The lowest CPU priority for a maintenance command (`berth gc`, `berth retention run`) that runs
// beside live registries on the same machine: when the CPU is contended, the servers come first.
// Linux keeps nice and the scheduling policy per thread, and os.setPriority(19) alone changes only
// the calling thread: V8's GC helpers and libuv's pool, started before, stayed at nice 0. So every
// thread gets nice 19, and SCHED_IDLE as well when the native addon is built (a runnable normal
// task then preempts this process at once). Lowering one's own priority needs no privilege;
// where a sandbox refuses even that, the command runs at the normal priority.
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { nativeAddon } from '../native/addon.ts';

export function runAsBackgroundJob(): void {
  let tids: number[] = [0];
  try {
    tids = readdirSync('/proc/self/task').map(Number);
  } catch {
    // Not Linux: the process's priority, as setpriority(2) means it there.
  }
  for (const tid of tids) {
    try {
      setPriority(tid, 19);
    } catch {
      // Not permitted here (some containers), or the thread ended meanwhile.
    }
  }
  nativeAddon()?.idleScheduling?.();
}
