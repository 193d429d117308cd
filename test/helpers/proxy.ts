// A loopback TCP proxy in front of a registry that counts the bytes going one way and, with a
// budget, stops forwarding after that many: the client then sees a transfer that stalls mid-blob,
// which is how tests interrupt a pull (direction 'down') or a push ('up') at a known point.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './processes.ts';

export interface CountingProxy {
  port: number;
  /** Bytes forwarded in the counted direction. */
  bytes: number;
  budget?: number;
  close(): Promise<void>;
}

export async function startCountingProxy(targetPort: number, direction: 'down' | 'up' = 'down'): Promise<CountingProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  const proxy: CountingProxy = { port, bytes: 0, close: async () => undefined };
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    const [from, to] = direction === 'down' ? [upstream, client] : [client, upstream];
    (direction === 'down' ? client : upstream).pipe(direction === 'down' ? upstream : client);
    from.on('data', (chunk: Buffer) => {
      if (proxy.budget !== undefined && proxy.bytes + chunk.length > proxy.budget) {
        from.pause(); // stall: the other side sees a connection that stops mid-body
        return;
      }
      proxy.bytes += chunk.length;
      to.write(chunk);
    });
    from.on('end', () => to.end());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
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
