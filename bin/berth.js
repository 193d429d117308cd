#!/usr/bin/env node
// The installed entry point. No V8 flags on the command line: they would reach only this way of
// starting berth (not `node bin/berth.js` or `node dist/cli/main.js`), and any flag makes node skip
// its built-in modules' code cache (about 10 ms more for every CLI command). The server sets its
// heap up from inside instead (src/http/server-heap.ts).
// The bundled CLI (scripts/build-cli.mjs: about 3 times faster to start) when it is built, else the
// tsc output; both are built by `npm ci` (prepare) and `npm run build`.
import { existsSync } from 'node:fs';
// `serve` sets its heap and malloc arena cap up before the bundle loads (src/cli/serve-early.ts);
// the bundle's serve runs the tsc output's server modules, so dist/cli/ is there whenever it can.
if (process.argv[2] === 'serve') await import('../dist/cli/serve-early.js');
const bundle = new URL('../dist/bundle/berth.mjs', import.meta.url);
await import(existsSync(bundle) ? bundle.href : '../dist/cli/main.js');
