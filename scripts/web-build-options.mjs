// How the web console's two static assets (web/console.ts and web/console.css) are built. Shared
// by scripts/build-web.mjs, which writes them to web/dist/ at install, and by
// src/console/assets.ts, which builds them in memory when web/dist/ is missing (running from a
// checkout that skipped `npm ci`), so both produce the same bytes and the same hashed names.
import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** The two assets, by their logical name (the keys of web/dist/manifest.json). */
export const ASSET_NAMES = ['console.js', 'console.css'];

/** Largest gzipped size each asset may have, in bytes; the build fails above it. */
export const BUDGETS = { 'console.js': 50 * 1024, 'console.css': 20 * 1024 };

/** esbuild options for each asset; `write: false`, so the bytes come back in outputFiles. */
export function webBuildOptions(root) {
  const common = {
    absWorkingDir: root,
    bundle: true,
    minify: true,
    write: false,
    target: 'es2020',
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'silent',
  };
  return {
    'console.js': {
      ...common,
      entryPoints: [join(root, 'web', 'console.ts')],
      outfile: join(root, 'web', 'dist', 'console.js'),
      format: 'iife',
      platform: 'browser',
      // Not the repository's tsconfig.json (made for Node): the output must not depend on where
      // the sources sit (web/dist/ and the in-memory build must hash the same).
      tsconfigRaw: { compilerOptions: { alwaysStrict: true } },
    },
    'console.css': {
      ...common,
      entryPoints: [join(root, 'web', 'console.css')],
      outfile: join(root, 'web', 'dist', 'console.css'),
      loader: { '.css': 'css' },
    },
  };
}

/** `console.js` + bytes -> `console.1a2b3c4d.js`: the first 8 hex digits of the SHA-256 of the bytes. */
export function hashedName(name, bytes) {
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 8);
  const dot = name.lastIndexOf('.');
  return `${name.slice(0, dot)}.${hash}${name.slice(dot)}`;
}

/** Builds both assets in memory with the given esbuild module. */
export async function buildWeb(esbuild, root) {
  const options = webBuildOptions(root);
  const out = [];
  for (const name of ASSET_NAMES) {
    const result = await esbuild.build(options[name]);
    const file = result.outputFiles.find((f) => f.path.endsWith(name));
    if (!file) throw new Error(`esbuild produced no ${name}`);
    const bytes = Buffer.from(file.contents);
    out.push({ name, fileName: hashedName(name, bytes), bytes, warnings: result.warnings });
  }
  return out;
}
