// Bundles the server (src/cli/serve.ts and everything `berth serve` loads, npm dependencies
// included) into dist/server/serve.mjs plus one chunk per lazily loaded part (S3, PostgreSQL,
// Redis, LDAP, the console, the Notary server, openpgp, ...). `berth serve` runs it when it is
// built, however berth is started (src/cli/main.ts), else the tsc output.
//
// Why: memory. Unbundled, the server is ~640 ES modules (kysely alone is 262), and each module
// costs V8 a module record, its own scope and a copy of its source; bundled, idle RSS drops by
// about 10 MiB (docs/benchmark.md, "Memory"). Files shipped next to the code are found from the
// package root (src/util/package-root.ts), so the bundle's depth does not matter.
//
// `--out DIR` writes to DIR instead of dist/server/ (the tests use it; DIR must be inside the
// package so node_modules/better-sqlite3 resolves). Exits 1 on failure.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const i = process.argv.indexOf('--out');
const outdir = i > 0 && process.argv[i + 1] ? resolve(process.argv[i + 1]) : join(root, 'dist', 'server');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch (err) {
  console.error(`berth: cannot bundle the server: esbuild is not installed (${err.message}); run npm ci`);
  process.exit(1);
}

let result;
try {
  result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { serve: join(root, 'src', 'cli', 'serve.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // As the CLI bundle: names stay readable in stack traces; maps apply with --enable-source-maps.
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    // A native addon stays in node_modules; pg's optional native binding is not installed.
    external: ['better-sqlite3', 'pg-native'],
    // CommonJS dependencies call require() for Node's built-in modules; ESM has none.
    banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
} catch (err) {
  console.error(`berth: bundling the server failed:\n${err.message}`);
  process.exit(1);
}

rmSync(outdir, { recursive: true, force: true });
for (const f of result.outputFiles) {
  mkdirSync(dirname(f.path), { recursive: true });
  writeFileSync(f.path, f.contents);
}
for (const w of result.warnings) console.warn(`berth: bundling the server: warning: ${w.text}`);
const entry = result.metafile.outputs[Object.keys(result.metafile.outputs).find((o) => o.endsWith('serve.mjs'))];
const chunks = readdirSync(join(outdir, 'chunks')).filter((f) => f.endsWith('.mjs')).length;
console.log(`berth: ${join(outdir, 'serve.mjs').replace(`${root}/`, '')} ${(entry.bytes / 1024).toFixed(1)} KB (+ ${chunks} chunks loaded on demand)`);
