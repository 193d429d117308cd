// The esbuild set-up shared by the CLI bundle (scripts/build-cli.mjs) and the server bundle
// (scripts/build-server.mjs): ESM for Node 20, split into chunks at dynamic imports, readable
// names, linked source maps, native addons left in node_modules. Writes the output directory as
// a whole and prints one line about it; exits 1 with esbuild's message on failure.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Bundles `entry` (`{ name: sourcePath }`, one entry) into `outdir`; `what` names it in messages
 * ("the CLI"), `chunksAre` says when the chunks load. Returns esbuild's metafile.
 */
export async function bundle({ what, entry, outdir, external = [], plugins = [], chunksAre }) {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch (err) {
    console.error(`berth: cannot bundle ${what}: esbuild is not installed (${err.message}); run npm ci`);
    process.exit(1);
  }
  let result;
  try {
    result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: entry,
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
      external: ['better-sqlite3', ...external],
      // CommonJS dependencies call require() for Node's built-in modules; ESM has none.
      banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
      plugins,
      metafile: true,
      write: false,
      logLevel: 'silent',
    });
  } catch (err) {
    // esbuild's own message lists every error with its file and line.
    console.error(`berth: bundling ${what} failed:\n${err.message}`);
    process.exit(1);
  }
  // Replace the previous bundle as a whole: chunk names carry hashes and would pile up otherwise.
  rmSync(outdir, { recursive: true, force: true });
  for (const f of result.outputFiles) {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.contents);
  }
  for (const w of result.warnings) console.warn(`berth: bundling ${what}: warning: ${w.text}`);
  const main = `${Object.keys(entry)[0]}.mjs`;
  const out = result.metafile.outputs[Object.keys(result.metafile.outputs).find((o) => o.endsWith(main))];
  const chunks = readdirSync(join(outdir, 'chunks')).filter((f) => f.endsWith('.mjs')).length;
  console.log(`berth: ${join(outdir, main).replace(`${root}/`, '')} ${(out.bytes / 1024).toFixed(1)} KB (+ ${chunks} chunks ${chunksAre})`);
  return result.metafile;
}
