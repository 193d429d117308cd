// The web console's two static assets (one script, one stylesheet), served from memory under
// /ui/static/ with content-hashed names, so they can be cached forever (immutable).
//
// scripts/build-web.mjs builds them into web/dist/ at install (`npm ci` runs it through
// `prepare`; `npm run build:web` by hand); web/dist/manifest.json maps each logical name to its
// hashed file. They are read once, with their gzipped form computed once. Running from a checkout
// without web/dist/ (no `npm ci`), they are built in memory with esbuild when it is installed.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { send } from '../http/respond.ts';
import { packageRoot } from '../util/package-root.ts';
import { noneMatch } from '../http/conditional.ts';

export const STATIC_PREFIX = '/ui/static/';

export interface ConsoleAssets {
  /** e.g. `/ui/static/console.1a2b3c4d.js`, relative to the registry root (without http.prefix). */
  scriptPath: string;
  /** e.g. `/ui/static/console.1a2b3c4d.css`, relative to the registry root (without http.prefix). */
  stylePath: string;
  /**
   * Handles GET/HEAD of `/ui/static/<hashed name>` (the request path with http.prefix removed);
   * returns false when the path is not one of ours, and has then written nothing.
   */
  serve(req: IncomingMessage, res: ServerResponse, pathname: string): boolean;
}

export interface LoadOptions {
  /** The repository root holding web/ (default: the directory of berth's package.json). */
  root?: string;
}

type AssetName = 'console.js' | 'console.css';
const NAMES: readonly AssetName[] = ['console.js', 'console.css'];
const CONTENT_TYPES: Record<AssetName, string> = {
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};
const HASHED = { 'console.js': /^console\.[0-9a-f]{8}\.js$/, 'console.css': /^console\.[0-9a-f]{8}\.css$/ };

interface Asset {
  body: Buffer;
  gzip: Buffer | null;
  etag: string;
  gzipEtag: string;
  contentType: string;
}

async function fromDist(root: string): Promise<Map<AssetName, { fileName: string; bytes: Buffer }> | null> {
  const dist = join(root, 'web', 'dist');
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(await readFile(join(dist, 'manifest.json'), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`web/dist/manifest.json is unreadable (${(err as Error).message}); run npm run build:web`);
  }
  const out = new Map<AssetName, { fileName: string; bytes: Buffer }>();
  for (const name of NAMES) {
    const fileName = manifest[name];
    if (typeof fileName !== 'string' || !HASHED[name].test(fileName)) {
      throw new Error(`web/dist/manifest.json has no valid entry for ${name}; run npm run build:web`);
    }
    try {
      out.set(name, { fileName, bytes: await readFile(join(dist, fileName)) });
    } catch (err) {
      throw new Error(`web/dist/${fileName} is unreadable (${(err as Error).message}); run npm run build:web`);
    }
  }
  return out;
}

async function inMemory(root: string): Promise<Map<AssetName, { fileName: string; bytes: Buffer }>> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error('the web console is not built (web/dist/manifest.json is missing) and esbuild is not installed: run npm run build:web');
  }
  const options: typeof import('../../scripts/web-build-options.mjs') = await import(
    pathToFileURL(join(packageRoot(import.meta.url), 'scripts', 'web-build-options.mjs')).href
  );
  const built = await options.buildWeb(esbuild, root);
  return new Map(built.map((a) => [a.name, { fileName: a.fileName, bytes: a.bytes }]));
}

function etagOf(bytes: Buffer): string {
  return `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 22)}"`;
}

/** Whether Accept-Encoding admits gzip (RFC 9110 §12.5.3: named with q > 0, or `*` with q > 0 and gzip not refused). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (!header) return false;
  let gzip: number | undefined;
  let star: number | undefined;
  for (const part of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    const weight = Number.isNaN(q) ? 0 : q;
    if (coding.trim() === 'gzip' || coding.trim() === 'x-gzip') gzip = weight;
    else if (coding.trim() === '*') star = weight;
  }
  return gzip !== undefined ? gzip > 0 : star !== undefined && star > 0;
}

/** Reads (or, without web/dist/, builds) the console's assets; call once at start. */
export async function loadConsoleAssets(options: LoadOptions = {}): Promise<ConsoleAssets> {
  const root = options.root ?? packageRoot(import.meta.url);
  const files = (await fromDist(root)) ?? (await inMemory(root));
  const byPath = new Map<string, Asset>();
  const paths = {} as Record<AssetName, string>;
  for (const name of NAMES) {
    const { fileName, bytes } = files.get(name)!;
    const gzip = gzipSync(bytes, { level: 9 });
    const etag = etagOf(bytes);
    byPath.set(STATIC_PREFIX + fileName, {
      body: bytes,
      gzip: gzip.length < bytes.length ? gzip : null,
      etag,
      gzipEtag: `${etag.slice(0, -1)}-gz"`,
      contentType: CONTENT_TYPES[name],
    });
    paths[name] = STATIC_PREFIX + fileName;
  }

  return {
    scriptPath: paths['console.js'],
    stylePath: paths['console.css'],
    serve(req, res, pathname) {
      const asset = byPath.get(pathname);
      if (!asset) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(res, 405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }, 'method not allowed\n');
        return true;
      }
      const gzip = asset.gzip !== null && acceptsGzip(req.headers['accept-encoding']);
      const etag = gzip ? asset.gzipEtag : asset.etag;
      const headers: Record<string, string | number> = {
        'Cache-Control': 'public, max-age=31536000, immutable',
        ETag: etag,
        Vary: 'Accept-Encoding',
        'X-Content-Type-Options': 'nosniff',
      };
      if (noneMatch(req.headers['if-none-match'], [asset.etag, asset.gzipEtag])) {
        send(res, 304, headers);
        return true;
      }
      const body = gzip ? asset.gzip! : asset.body;
      headers['Content-Type'] = asset.contentType;
      headers['Content-Length'] = body.length;
      if (gzip) headers['Content-Encoding'] = 'gzip';
      send(res, 200, headers, body);
      return true;
    },
  };
}
