#!/usr/bin/env -S node --max-semi-space-size=4 --expose-gc
// The installed entry point runs the compiled CLI (built by `npm ci` through the `prepare` script).
// A 4 MiB young-generation semi-space keeps the server's resident memory about 30 MiB lower under
// load (measured with wrk at 64 connections) at no measurable cost to throughput. --expose-gc lets
// uploads collect consumed body buffers early (src/http/memory-pressure.ts).
import '../dist/cli/main.js';
