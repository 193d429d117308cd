// Idempotent reads (manifests, tags, catalog) survive a dropped connection or a 502/503/504 from a
// replica that is restarting behind a load balancer; writes are never sent twice. A small HTTP
// proxy in front of a real berth breaks the first requests in a planned way.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientSandbox, startBerth, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { berthCli, client, pushRandomImage } from './helpers.ts';

type Fault = 'reset' | 503 | 502 | 504;

interface FaultyProxy {
  host: string;
  /** Faults for the next requests, in order; a request finding the list empty is forwarded. */
  faults: Fault[];
  /** Requests seen, as "METHOD path". */
  seen: string[];
  close(): Promise<void>;
}

async function startFaultyProxy(target: RunningServer): Promise<FaultyProxy> {
  const proxy: FaultyProxy = { host: '', faults: [], seen: [], close: async () => undefined };
  const server: Server = createServer((req, res) => {
    proxy.seen.push(`${req.method} ${req.url}`);
    const fault = proxy.faults.shift();
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault !== undefined) {
      res.writeHead(fault, { 'Content-Type': 'text/plain' }).end('upstream unavailable');
      return;
    }
    const upstream = httpRequest({ host: '127.0.0.1', port: target.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode!, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return proxy;
}

describe('the client retries idempotent reads, never writes', () => {
  let berth: RunningServer;
  let proxy: FaultyProxy;
  let sb: ClientSandbox;
  let cli: ReturnType<typeof berthCli>;
  let digest: string;
  before(async () => {
    berth = await startBerth();
    proxy = await startFaultyProxy(berth);
    sb = await clientSandbox('cli-retry');
    cli = berthCli(sb.env);
    digest = (await pushRandomImage(await client(berth.host), 'retry/app', 'v1')).digest;
  });
  after(async () => {
    await proxy?.close();
    await berth?.stop();
    await sb?.cleanup();
  });

  it('reads a manifest through dropped connections and 502/503/504', async () => {
    proxy.faults = ['reset', 503, 'reset'];
    const r = await cli(['digest', `${proxy.host}/retry/app:v1`, '--insecure']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), digest);
    proxy.faults = [502, 504];
    const tags = await cli(['tags', `${proxy.host}/retry/app`, '--insecure']);
    assert.equal(tags.code, 0, tags.stderr);
    assert.match(tags.stdout, /v1/);
  });

  it('gives up after three retries with the error of the last attempt', async () => {
    proxy.faults = [503, 503, 503, 503];
    proxy.seen = [];
    const r = await cli(['digest', `${proxy.host}/retry/app:v1`, '--insecure']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /503/);
    assert.equal(proxy.seen.filter((s) => s.includes('/manifests/v1')).length, 4);
    proxy.faults = [];
  });

  it('sends a write once: a dropped PUT is an error, not a second PUT', async () => {
    const c = await client(proxy.host);
    const manifest = await c.request('/v2/retry/app/manifests/v1', { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    proxy.faults = ['reset'];
    proxy.seen = [];
    await assert.rejects(
      c.request('/v2/retry/app/manifests/v2', { method: 'PUT', body: manifest.body, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } }),
      (e: Error & { code?: string }) => e.code === 'ECONNRESET' || /socket hang up/.test(e.message),
    );
    assert.deepEqual(proxy.seen, ['PUT /v2/retry/app/manifests/v2']);
    const tags = await (await client(berth.host)).tags('retry/app');
    assert.deepEqual(tags, ['v1']);
  });
});
