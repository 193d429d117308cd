// Shared pieces of the mirror tests: an upstream (Debian's docker-registry with htpasswd, or another
// berth) behind a counting HTTP proxy that records every request the mirror sends upstream and can
// hold requests back, slow down or cut blob transfers; images pushed to the upstream with skopeo.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { htpasswdText } from '../auth/harness.ts';
import { freePort, run, startBerth, startDistribution, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { makeOciLayout, type LayoutResult, type Platform } from '../helpers/images.ts';

export const UPSTREAM_USER = 'mirror';
export const UPSTREAM_PASSWORD = 'Upstr3am-Pa55word';

export interface CountingHttpProxy {
  port: number;
  host: string;
  /** Requests forwarded, as `METHOD /path` (no query string), in order. */
  requests: string[];
  /** Requests whose `METHOD /path` matches. */
  count(method: string, pathPattern: RegExp | string): number;
  /** Blob GETs are answered this many bytes per second at most (0 = no limit). */
  bytesPerSecond: number;
  /** Blob GET bodies are cut (the connection destroyed) after this many bytes, when set. */
  cutBlobsAfter?: number;
  /** When set, each request is forwarded only once the promise it returns settles (a slow upstream). */
  hold?: (method: string, path: string) => Promise<void> | undefined;
  reset(): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An HTTP proxy in front of `target` (host:port) that counts requests; the mirror is pointed at it. */
export async function startCountingHttpProxy(target: string): Promise<CountingHttpProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  const [targetHost, targetPort] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const proxy: CountingHttpProxy = {
    port,
    host: `127.0.0.1:${port}`,
    requests: [],
    bytesPerSecond: 0,
    count: (method, pattern) =>
      proxy.requests.filter((r) => {
        const [m, p] = r.split(' ');
        return m === method && (typeof pattern === 'string' ? p === pattern : pattern.test(p!));
      }).length,
    reset: () => {
      proxy.requests.length = 0;
    },
    close: async () => undefined,
  };
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    proxy.requests.push(`${req.method} ${path}`);
    const isBlobGet = req.method === 'GET' && /\/blobs\/sha256:/.test(path);
    const held = proxy.hold?.(req.method ?? 'GET', path);
    if (held) await held.catch(() => undefined);
    const up = request({ host: targetHost, port: targetPort, method: req.method, path: req.url, headers: req.headers }, async (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      if (!isBlobGet || (!proxy.bytesPerSecond && proxy.cutBlobsAfter === undefined)) {
        upRes.pipe(res);
        return;
      }
      let sent = 0;
      const cut = proxy.cutBlobsAfter;
      for await (const chunk of upRes as AsyncIterable<Buffer>) {
        for (let off = 0; off < chunk.length; off += 16 * 1024) {
          let piece = chunk.subarray(off, off + 16 * 1024);
          if (cut !== undefined && sent + piece.length > cut) {
            piece = piece.subarray(0, cut - sent);
            res.write(piece);
            await sleep(50);
            res.destroy();
            upRes.destroy();
            return;
          }
          sent += piece.length;
          if (!res.write(piece)) await new Promise((r) => res.once('drain', r));
          if (proxy.bytesPerSecond) await sleep((piece.length / proxy.bytesPerSecond) * 1000);
        }
      }
      res.end();
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, '127.0.0.1', () => res());
  });
  proxy.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return proxy;
}

/** Debian's docker-registry with an htpasswd file (one user: UPSTREAM_USER). */
export async function startDistributionUpstream(work: string): Promise<RunningServer> {
  const htpasswd = join(work, 'upstream.htpasswd');
  await writeFile(htpasswd, await htpasswdText({ [UPSTREAM_USER]: UPSTREAM_PASSWORD }));
  return startDistribution({ configYaml: `auth:\n  htpasswd: {realm: upstream, path: ${htpasswd}}\n` });
}

/** skopeo with the sandbox's isolated config and no signature policy. */
export function skopeo(sb: ClientSandbox, args: string[], opts: { allowFail?: boolean; timeoutMs?: number } = {}) {
  return run('skopeo', ['--insecure-policy', ...args], { env: sb.env, ...opts });
}

/** Makes an OCI layout image and pushes it to `dest` (docker://host/name:tag) with optional creds. */
export async function pushImage(
  sb: ClientSandbox,
  dir: string,
  dest: string,
  opts: { layers?: number; layerBytes?: number; platforms?: Platform[]; creds?: string } = {},
): Promise<LayoutResult> {
  const tag = dest.slice(dest.lastIndexOf(':') + 1);
  const layout = await makeOciLayout(dir, { tag, layers: opts.layers ?? 2, layerBytes: opts.layerBytes ?? 64 * 1024, ...(opts.platforms && { platforms: opts.platforms }) });
  await skopeo(sb, ['copy', '--quiet', '--all', '--dest-tls-verify=false', ...(opts.creds ? ['--dest-creds', opts.creds] : []), `oci:${dir}:${tag}`, `docker://${dest}`]);
  return layout;
}

/** A berth with extra config YAML (the mirror under test, or a second upstream). */
export function startMirrorBerth(configYaml: string, extra: { root?: string } = {}): Promise<RunningServer> {
  return startBerth({ configYaml, ...(extra.root && { root: extra.root }) });
}

/** Blob GET paths of one image, for counting upstream requests. */
export function blobPaths(upstreamRepo: string, layout: LayoutResult): string[] {
  return layout.images.flatMap((i) => [i.config.digest, ...i.layers.map((l) => l.digest)]).map((d) => `/v2/${upstreamRepo}/blobs/${d}`);
}
