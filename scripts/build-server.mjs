// Bundles the server (src/cli/serve.ts and everything `berth serve` loads, npm dependencies
// included) into dist/server/serve.mjs plus one chunk per lazily loaded part (S3, PostgreSQL,
// Redis, LDAP, the console, the Notary server, openpgp, ...). `berth serve` runs it when it is
// built, however berth is started (src/cli/program.ts), else the tsc output.
//
// Why: memory. Unbundled, the server is ~640 ES modules (kysely alone is 262), and each module
// costs V8 a module record, its own scope and a copy of its source; bundled, idle RSS drops by
// about 10 MiB (docs/benchmark.md, "Memory"). Files shipped next to the code are found from the
// package root (src/util/package-root.ts), so the bundle's depth does not matter.
//
// `--out DIR` writes to DIR instead of dist/server/ (the tests use it; DIR must be inside the
// package so node_modules/better-sqlite3 resolves). Exits 1 on failure.
import { join, resolve } from 'node:path';
import { bundle, root } from './node-bundle.mjs';

const i = process.argv.indexOf('--out');
const outdir = i > 0 && process.argv[i + 1] ? resolve(process.argv[i + 1]) : join(root, 'dist', 'server');

await bundle({
  what: 'the server',
  entry: { serve: join(root, 'src', 'cli', 'serve.ts') },
  outdir,
  // pg's optional native binding is not installed.
  external: ['pg-native'],
  chunksAre: 'loaded on demand',
});
