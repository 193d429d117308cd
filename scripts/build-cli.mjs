// Bundles the `berth` CLI for start-up time: src/cli/main.ts and the client commands' code, with
// their npm dependencies (commander, openpgp, ...), into dist/bundle/berth.mjs plus one chunk per
// command, split where main.ts imports a command's code when it runs. bin/berth.js runs
// dist/bundle/berth.mjs when it exists, else the tsc output (dist/cli/main.js).
//
// Why: Node 20 has no compile cache, so start-up is module loading: the tsc output is ~90 files
// (resolved, read and compiled one by one) plus commander through the CommonJS loader; one bundled
// file of ~0.2 MB is far less work (docs/benchmark.md, "CLI start-up", has the numbers).
//
// The server side (serve, import, gc, retention, user) is not bundled: main.ts imports it from the
// tsc output (dist/cli/*.js), so the server runs exactly as compiled, its paths relative to
// import.meta.url (the sendfile addon, the console's assets) and its native better-sqlite3 intact.
//
// `--out DIR` writes to DIR instead of dist/bundle/ (the tests use it; DIR must sit next to
// dist/cli/ for the server commands, so the tests only run client commands from it).
// `--metafile FILE` also writes esbuild's metafile (what each output holds). Exits 1 on failure.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const flag = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? resolve(process.argv[i + 1]) : undefined;
};
const outdir = flag('--out') ?? join(root, 'dist', 'bundle');
const metafileOut = flag('--metafile');

/** The commands whose modules are the server's: left to the tsc output in dist/cli/. */
const SERVER_COMMANDS = ['serve', 'import', 'gc', 'retention', 'user'];

let esbuild;
try {
  esbuild = await import('esbuild');
} catch (err) {
  console.error(`berth: cannot bundle the CLI: esbuild is not installed (${err.message}); run npm ci`);
  process.exit(1);
}

const serverCommandsFromTsc = {
  name: 'server-commands-from-tsc',
  setup(build) {
    const filter = new RegExp(`^\\./(${SERVER_COMMANDS.join('|')})\\.ts$`);
    build.onResolve({ filter }, (args) => {
      if (args.importer !== join(root, 'src', 'cli', 'main.ts')) return undefined;
      // Relative to the output directory: dist/bundle/berth.mjs -> dist/cli/serve.js.
      return { path: `../cli/${args.path.slice(2, -3)}.js`, external: true };
    });
  },
};

let result;
try {
  result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { berth: join(root, 'src', 'cli', 'main.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Whitespace and syntax only: identifiers stay, so stack traces keep readable function names.
    // Source maps apply with NODE_OPTIONS=--enable-source-maps (off by default: parsing them costs
    // start-up time on every run).
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    // Packages with native addons stay in node_modules, loaded as they are.
    external: ['better-sqlite3'],
    // CommonJS dependencies (commander) call require() for Node's built-in modules; ESM has none.
    banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
    plugins: [serverCommandsFromTsc],
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
} catch (err) {
  // esbuild's own message lists every error with its file and line.
  console.error(`berth: bundling the CLI failed:\n${err.message}`);
  process.exit(1);
}

// Replace the previous bundle as a whole: chunk names carry hashes and would pile up otherwise.
rmSync(outdir, { recursive: true, force: true });
for (const f of result.outputFiles) {
  mkdirSync(dirname(f.path), { recursive: true });
  writeFileSync(f.path, f.contents);
}
if (metafileOut) writeFileSync(metafileOut, JSON.stringify(result.metafile));
for (const w of result.warnings) console.warn(`berth: bundling the CLI: warning: ${w.text}`);
const entry = result.metafile.outputs[Object.keys(result.metafile.outputs).find((o) => o.endsWith('berth.mjs'))];
const chunks = readdirSync(join(outdir, 'chunks')).filter((f) => f.endsWith('.mjs')).length;
console.log(`berth: ${join(outdir, 'berth.mjs').replace(`${root}/`, '')} ${(entry.bytes / 1024).toFixed(1)} KB (+ ${chunks} chunks loaded per command)`);
