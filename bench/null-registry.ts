// A registry that keeps nothing: it speaks just enough of the push protocol for skopeo (ping,
// blob HEAD -> 404, POST/PATCH/PUT uploads, manifest PUT) and throws every byte away. Pushing to
// it measures what the client alone costs (reading, digesting, sending), so it bounds how fast
// any registry can take a push from that client on this machine.
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

function drain(req: IncomingMessage): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => resolve(n));
    req.on('error', reject);
  });
}

function collect(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

export interface NullRegistry {
  host: string;
  close(): Promise<void>;
}

export async function startNullRegistry(): Promise<NullRegistry> {
  const sizes = new Map<string, number>();
  const server: Server = createServer(async (req, res) => {
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    const url = new URL(req.url ?? '/', 'http://null');
    const path = url.pathname;
    const send = (status: number, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Length': '0', ...headers });
      res.end();
    };
    try {
      if (path === '/v2/' || path === '/v2') return send(200);
      let m = /^\/v2\/(.+)\/blobs\/uploads\/?$/.exec(path);
      if (m && req.method === 'POST') {
        await drain(req);
        const id = randomUUID();
        sizes.set(id, 0);
        return send(202, { Location: `/v2/${m[1]}/blobs/uploads/${id}`, Range: '0-0', 'Docker-Upload-UUID': id });
      }
      m = /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/.exec(path);
      if (m) {
        const id = m[2]!;
        const size = (sizes.get(id) ?? 0) + (await drain(req));
        sizes.set(id, size);
        if (req.method === 'PUT') {
          sizes.delete(id);
          const digest = url.searchParams.get('digest') ?? '';
          return send(201, { Location: `/v2/${m[1]}/blobs/${digest}`, 'Docker-Content-Digest': digest });
        }
        return send(202, { Location: `/v2/${m[1]}/blobs/uploads/${id}`, Range: `0-${Math.max(0, size - 1)}`, 'Docker-Upload-UUID': id });
      }
      if (/^\/v2\/.+\/blobs\/[^/]+$/.test(path)) return send(404);
      m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
      if (m && req.method === 'PUT') {
        const digest = `sha256:${createHash('sha256').update(await collect(req)).digest('hex')}`;
        return send(201, { Location: `/v2/${m[1]}/manifests/${digest}`, 'Docker-Content-Digest': digest });
      }
      if (m) return send(404);
      return send(404);
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
