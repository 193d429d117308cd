// Bundles the `berth` CLI for start-up time: src/cli/program.ts and the client commands' code, with
// their npm dependencies (commander, openpgp, ...), into dist/bundle/berth.mjs plus one chunk per
// command, split where program.ts imports a command's code when it runs. bin/berth.js runs
// dist/bundle/berth.mjs when it exists, else the tsc output (dist/cli/main.js).
//
// Why: Node 20 has no compile cache, so start-up is module loading: the tsc output is ~90 files
// (resolved, read and compiled one by one) plus commander through the CommonJS loader; one bundled
// file of ~0.2 MB is far less work (docs/benchmark.md, "CLI start-up", has the numbers).
//
// The server side (serve, import, gc, retention, user) is not bundled: program.ts imports it from the
// tsc output (dist/cli/*.js), so the server runs exactly as compiled, its paths relative to
// import.meta.url (the sendfile addon, the console's assets) and its native better-sqlite3 intact.
//
// `--out DIR` writes to DIR instead of dist/bundle/ (the tests use it; DIR must sit next to
// dist/cli/ for the server commands, so the tests only run client commands from it).
// `--metafile FILE` also writes esbuild's metafile (what each output holds). Exits 1 on failure.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundle, root } from './node-bundle.mjs';

const flag = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? resolve(process.argv[i + 1]) : undefined;
};
const outdir = flag('--out') ?? join(root, 'dist', 'bundle');
const metafileOut = flag('--metafile');

/** The commands whose modules are the server's: left to the tsc output in dist/cli/. */
const SERVER_COMMANDS = ['serve', 'import', 'gc', 'retention', 'user'];

const serverCommandsFromTsc = {
  name: 'server-commands-from-tsc',
  setup(build) {
    const filter = new RegExp(`^\\./(${SERVER_COMMANDS.join('|')})\\.ts$`);
    build.onResolve({ filter }, (args) => {
      if (args.importer !== join(root, 'src', 'cli', 'program.ts')) return undefined;
      // Relative to the output directory: dist/bundle/berth.mjs -> dist/cli/serve.js.
      return { path: `../cli/${args.path.slice(2, -3)}.js`, external: true };
    });
  },
};

const metafile = await bundle({
  what: 'the CLI',
  entry: { berth: join(root, 'src', 'cli', 'program.ts') },
  outdir,
  plugins: [serverCommandsFromTsc],
  chunksAre: 'loaded per command',
});
if (metafileOut) writeFileSync(metafileOut, JSON.stringify(metafile));
