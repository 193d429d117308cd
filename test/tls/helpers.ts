// Shared by the TLS tests: run `berth tls init`, and talk TLS to a server with exact control over
// the CA, the client certificate, the protocol versions and ALPN (which fetch() cannot offer).
import { connect as h2connect, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type SecureVersion } from 'node:tls';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, run, type RunResult } from '../helpers/processes.ts';

export interface CertFiles {
  dir: string;
  ca: string;
  caKey: string;
  cert: string;
  key: string;
}

export function certFiles(dir: string): CertFiles {
  return { dir, ca: join(dir, 'ca.crt'), caKey: join(dir, 'ca.key'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
}

/** `berth tls init --out dir ...args` through the real CLI. */
export async function tlsInit(dir: string, args: string[], allowFail = false): Promise<RunResult & { files: CertFiles }> {
  const r = await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'tls', 'init', '--out', dir, ...args], { allowFail, timeoutMs: 60_000 });
  return { ...r, files: certFiles(dir) };
}

export interface ClientTls {
  /** PEM file of the CA to trust. */
  ca?: string;
  /** Client certificate and key files (mutual TLS). */
  cert?: string;
  key?: string;
  servername?: string;
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  ALPNProtocols?: string[];
}

function tlsOptions(c: ClientTls): ConnectionOptions {
  return {
    ...(c.ca && { ca: readFileSync(c.ca) }),
    ...(c.cert && { cert: readFileSync(c.cert) }),
    ...(c.key && { key: readFileSync(c.key) }),
    servername: c.servername ?? 'localhost',
    ...(c.minVersion && { minVersion: c.minVersion }),
    ...(c.maxVersion && { maxVersion: c.maxVersion }),
    ...(c.ALPNProtocols && { ALPNProtocols: c.ALPNProtocols }),
  };
}

export interface Handshake {
  alpn: string | false;
  protocol: string | null;
  fingerprint256: string;
  authorized: boolean;
  authorizationError?: string;
}

/**
 * A TLS handshake and nothing else. With TLS 1.3 the server checks the client certificate after
 * the client already considers the handshake done, so wait briefly for a refusal alert to arrive.
 */
export function handshake(port: number, c: ClientTls): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ...tlsOptions(c), rejectUnauthorized: c.ca !== undefined }, () => {
      const result: Handshake = {
        alpn: socket.alpnProtocol ?? false,
        protocol: socket.getProtocol(),
        fingerprint256: socket.getPeerCertificate().fingerprint256,
        authorized: socket.authorized,
        ...(socket.authorizationError && { authorizationError: String(socket.authorizationError) }),
      };
      socket.once('error', reject);
      // A request makes a server that refuses the client certificate answer with its alert.
      socket.write('GET /v2/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      socket.once('data', () => {
        socket.destroy();
        resolve(result);
      });
      socket.once('end', () => resolve(result));
    });
    socket.once('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('handshake timed out')));
  });
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  httpVersion: string;
}

/** One HTTPS/1.1 request on a fresh connection. */
export function https1(port: number, c: ClientTls, path: string, init: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers, agent: false, ...tlsOptions(c) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => chunks.push(b));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), httpVersion: res.httpVersion }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('request timed out')));
    req.end(init.body);
  });
}

export interface H2Client {
  session: ClientHttp2Session;
  request(headers: OutgoingHttpHeaders, body?: Buffer | Buffer[]): Promise<Reply & { headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

/** An HTTP/2 session (ALPN h2 only, so a server without HTTP/2 fails the connect). */
export async function h2(port: number, c: ClientTls): Promise<H2Client> {
  // Dial 127.0.0.1 whatever the name (localhost may resolve to ::1, where nothing listens).
  const session = h2connect(`https://${c.servername ?? 'localhost'}:${port}`, {
    createConnection: () => tlsConnect({ host: '127.0.0.1', port, ...tlsOptions(c), ALPNProtocols: ['h2'] }),
  });
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  session.on('error', () => undefined);
  return {
    session,
    request(headers, body) {
      return new Promise((resolve, reject) => {
        const stream = session.request(headers, { endStream: body === undefined });
        const chunks: Buffer[] = [];
        let head: IncomingHttpHeaders = {};
        stream.on('response', (h) => (head = h));
        stream.on('data', (b: Buffer) => chunks.push(b));
        stream.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks), httpVersion: '2.0' }));
        stream.on('error', reject);
        // Several writes without Content-Length: a body of unknown length, as Go and curl stream one.
        if (Array.isArray(body)) {
          for (const b of body) stream.write(b);
          stream.end();
        } else if (body) stream.end(body);
      });
    },
    // A session the server already ended (GOAWAY at shutdown) never calls close()'s callback.
    close: () => (session.closed || session.destroyed ? Promise.resolve() : new Promise<void>((resolve) => session.close(() => resolve()))),
  };
}

/** True once something accepts TCP connections on the port: berth listens only when fully set up. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
