// Builds the web console's static assets: web/console.ts -> web/dist/console.<hash>.js (minified
// IIFE, es2020) and web/console.css -> web/dist/console.<hash>.css (minified), plus
// web/dist/manifest.json mapping each logical name to its hashed file. The server
// (src/console/assets.ts) reads the manifest at start and serves the files as immutable.
// Exits 1 when esbuild is missing, the build fails, or an asset is over its gzipped budget.
// `--out DIR` writes to DIR instead of web/dist/ (the tests use it).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { BUDGETS, buildWeb } from './web-build-options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outFlag = process.argv.indexOf('--out');
const dist = outFlag > 0 && process.argv[outFlag + 1] ? resolve(process.argv[outFlag + 1]) : join(root, 'web', 'dist');
const shown = relative(process.cwd(), dist) || '.';

let esbuild;
try {
  esbuild = await import('esbuild');
} catch (err) {
  console.error(`berth: cannot build the web console: esbuild is not installed (${err.message}); run npm ci`);
  process.exit(1);
}

let assets;
try {
  assets = await buildWeb(esbuild, root);
} catch (err) {
  // esbuild's own message lists every error with its file and line.
  console.error(`berth: building the web console failed:\n${err.message}`);
  process.exit(1);
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
let over = false;
for (const a of assets) {
  for (const w of a.warnings) console.warn(`berth: ${a.name}: warning: ${w.text}`);
  const gz = gzipSync(a.bytes, { level: 9 }).length;
  const budget = BUDGETS[a.name];
  const verdict = gz > budget ? `OVER the ${kb(budget)} gzipped budget` : `budget ${kb(budget)}`;
  console.log(`berth: ${join(shown, a.fileName).padEnd(34)} ${kb(a.bytes.length).padStart(9)} raw ${kb(gz).padStart(9)} gzipped (${verdict})`);
  if (gz > budget) over = true;
}
if (over) {
  console.error(`berth: the web console is over its size budget; ${shown} was left unchanged`);
  process.exit(1);
}

// Remove earlier builds' hashed files, so they do not pile up (only ours: --out may name any directory).
mkdirSync(dist, { recursive: true });
for (const entry of readdirSync(dist)) {
  if (/^console\.[0-9a-f]{8}\.(js|css)$/.test(entry)) rmSync(join(dist, entry), { force: true });
}
const manifest = {};
for (const a of assets) {
  writeFileSync(join(dist, a.fileName), a.bytes);
  manifest[a.name] = a.fileName;
}
writeFileSync(join(dist, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
