// A notification receiver for tests: an HTTP server on loopback that records every POST (headers,
// exact body, parsed events) and answers what the test says (200 by default). It can be taken
// down (the port refuses connections) and brought back on the same port.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RegistryEvent } from '../../src/events/types.ts';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  events: RegistryEvent[];
  at: number;
  /** The status it was answered with. */
  status: number;
  /** The request's path and query. */
  path: string;
}

export interface Receiver {
  url: string;
  port: number;
  /** Every request, answered or refused, in arrival order. */
  requests: Received[];
  /** Events of the requests answered 2xx, in arrival order (duplicates included). */
  accepted(): RegistryEvent[];
  /** Answer with this status from now on (e.g. 503 to fail deliveries). */
  setStatus(status: number): void;
  /** Close the listener: connections are refused until up(). */
  down(): Promise<void>;
  up(): Promise<void>;
  /** Resolves once `pred` holds for the accepted events (polls), or rejects after timeoutMs with what arrived. */
  waitFor(pred: (events: RegistryEvent[]) => boolean, timeoutMs?: number, what?: string): Promise<RegistryEvent[]>;
  stop(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  const requests: Received[] = [];
  let status = 200;
  let server: Server | undefined;
  const listen = (p: number) =>
    new Promise<Server>((resolve, reject) => {
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          let events: RegistryEvent[] = [];
          try {
            events = (JSON.parse(body) as { events: RegistryEvent[] }).events ?? [];
          } catch {
            // recorded as is
          }
          requests.push({ headers: req.headers, body, events, at: Date.now(), status, path: req.url ?? '' });
          res.statusCode = status;
          res.end();
        });
      });
      s.keepAliveTimeout = 1000;
      s.once('error', reject);
      s.listen(p, '127.0.0.1', () => resolve(s));
    });
  server = await listen(port);
  const bound = (server.address() as AddressInfo).port;
  const accepted = () => requests.filter((r) => r.status >= 200 && r.status < 400).flatMap((r) => r.events);
  const close = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  };
  return {
    url: `http://127.0.0.1:${bound}/hook`,
    port: bound,
    requests,
    accepted,
    setStatus(s) {
      status = s;
    },
    down: close,
    async up() {
      if (!server) server = await listen(bound);
    },
    async waitFor(pred, timeoutMs = 20_000, what = 'events') {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const ev = accepted();
        if (pred(ev)) return ev;
        if (Date.now() > deadline) {
          throw new Error(`receiver: timed out waiting for ${what}; got ${ev.length} events:\n${ev.map((e) => `${e.action} ${e.target.repository ?? ''} ${e.target.tag ?? e.target.digest ?? ''}`).join('\n')}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: close,
  };
}
