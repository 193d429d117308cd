// Run first, so that for `berth serve` the server's heap and malloc settings apply before anything
// else loads: bin/berth.js imports it before the CLI bundle, main.ts (the tsc output's entry)
// before program.ts. (The bundle's serve runs the tsc output's server modules, so this file is
// always there beside them; program.ts itself does not import it, which keeps it off the start
// of every other command.)
//
// Why first: glibc lets threads create malloc arenas of their own, up to 8 before it even looks
// at its arena cap, and Node's V8 and libuv threads make their first allocations while the CLI's
// modules load. Set from the serve action, the one-arena cap came too late and a server ran with
// six arenas, each keeping 2-5 MiB it could not give back (malloc_trim never shrinks a thread
// arena's top). Set here, only the arena of Node's own start-up thread remains.
import { configureServerHeap } from '../http/server-heap.ts';

if (process.argv[2] === 'serve') configureServerHeap();
