// Run first, so that for `berth serve` the server's heap and malloc settings apply before anything
// else loads: bin/berth.js imports it before the CLI bundle, main.ts (the tsc output's entry)
// before program.ts, and program.ts, which the bundle starts from, imports it first. glibc lets threads create malloc arenas of their own, up to 8 before
// it even looks at its arena cap, and Node's V8 and libuv threads make their first allocations
// while the CLI's modules load: set from the serve action, the one-arena cap came too late and a
// server ran with six arenas, each keeping 2-5 MiB it could not give back (malloc_trim never
// shrinks a thread arena's top). Set here, only the arena of Node's own start-up thread remains.
import { configureServerHeap } from '../http/server-heap.ts';

if (process.argv[2] === 'serve') configureServerHeap();
