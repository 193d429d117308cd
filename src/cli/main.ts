#!/usr/bin/env node
// Entry of the tsc output (`node dist/cli/main.js`) and of the TypeScript (tests, `tsx`). The
// commands are in program.ts, loaded only once serve-early.ts has run: a static import graph is
// loaded whole before any of it runs, and loading program.ts's ~90 modules sets off V8's parallel
// scavenges, whose threads take malloc arenas of their own before the cap could be set (six
// arenas instead of two; serve-early.ts says why that matters). The CLI bundle starts from
// program.ts directly, after bin/berth.js has run serve-early.ts.
import './serve-early.ts';

await import('./program.ts');
