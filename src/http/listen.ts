// The listening socket in its three forms: plain HTTP/1.1 (no http.tls), HTTPS with HTTP/2 offered
// over ALPN next to HTTP/1.1 (the default with http.tls, as distribution does), or HTTPS with
// HTTP/1.1 only (http.http2.disabled). Handlers are written against node:http's request and
// response; under HTTP/2 they get node:http2's compatibility objects, which offer the same API.
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createSecureServer, type Http2SecureServer, type Http2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { BerthConfig } from '../config/index.ts';
import { CertificateReloader, describeCertificate, serverTlsOptions } from './tls.ts';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;
export type ListenerServer = HttpServer | HttpsServer | Http2SecureServer;

export interface Listener {
  server: ListenerServer;
  scheme: 'http' | 'https';
  /** Stops accepting, stops watching certificates; resolves once every connection has ended. */
  close(): Promise<void>;
  /** Ends connections with no request in flight (HTTP/2: GOAWAY, streams in flight still finish). */
  closeIdle(): void;
  /** Ends every connection now. */
  closeAll(): void;
}

// Same timeouts for every form: keep-alive a little above common proxies' 60 s, so the proxy
// closes first; no limit on a request's total time (a multi-GiB blob upload is one request).
const KEEP_ALIVE_MS = 65_000;
const HEADERS_TIMEOUT_MS = 60_000;
// HTTP/2 flow control: a 64 KiB stream window (the protocol default) caps an upload at one
// window per round trip; 1 MiB lets a push over a WAN link run at link speed. It also bounds what
// one stream can make the server buffer while a handler is not reading.
const H2_STREAM_WINDOW = 1 << 20;

export function createListener(http: BerthConfig['http'], handler: RequestHandler, log: Logger): Listener {
  if (!http.tls) {
    const server = createHttpServer({ keepAliveTimeout: KEEP_ALIVE_MS, requestTimeout: 0, headersTimeout: HEADERS_TIMEOUT_MS }, handler);
    return {
      server,
      scheme: 'http',
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      closeIdle: () => server.closeIdleConnections(),
      closeAll: () => server.closeAllConnections(),
    };
  }
  const tls = http.tls;
  const options = serverTlsOptions(tls);
  let server: HttpsServer | Http2SecureServer;
  const sessions = new Set<Http2Session>();
  if (http.http2.disabled) {
    server = createHttpsServer({ ...options, ALPNProtocols: ['http/1.1'], keepAliveTimeout: KEEP_ALIVE_MS, requestTimeout: 0, headersTimeout: HEADERS_TIMEOUT_MS }, handler);
  } else {
    // The compat request/response are not node:http's classes, but offer every member handlers use
    // (headers, statusCode, setHeader, write/end with backpressure, 'finish', destroy, req.socket).
    const h2 = createSecureServer({ ...options, allowHTTP1: true, settings: { initialWindowSize: H2_STREAM_WINDOW } }, handler as unknown as Parameters<typeof createSecureServer>[1]);
    // HTTP/1.1 connections on this server run node:http's code, which reads these from the server.
    Object.assign(h2, { keepAliveTimeout: KEEP_ALIVE_MS, requestTimeout: 0, headersTimeout: HEADERS_TIMEOUT_MS });
    h2.on('session', (session: Http2Session) => {
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
      // An idle session goes away politely (GOAWAY); a stream still running is not cut.
      session.setTimeout(KEEP_ALIVE_MS, () => session.close());
    });
    h2.on('sessionError', (err) => log.debug({ err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, 'HTTP/2 session error'));
    server = h2;
  }
  // Handshake failures are the client's story (unknown CA, no client certificate, old TLS version);
  // the client sees the alert. Logged at debug only: scanners would otherwise fill the log.
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: Socket) =>
    log.debug({ err: { message: err.message, code: err.code }, remote: socket.remoteAddress }, 'TLS handshake failed'),
  );
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const reloader = new CertificateReloader(server, tls, log);
  reloader.start();
  const certificate = describeCertificate(options.cert as Buffer);
  log.info({ certificate, http2: !http.http2.disabled, minimumTLS: options.minVersion, clientCertificates: options.requestCert ? 'required' : 'not requested' }, 'serving TLS');
  // Clients refuse an expired certificate with an x509 error that never mentions the registry's log.
  const daysLeft = (Date.parse(certificate.notAfter) - Date.now()) / 86_400_000;
  if (daysLeft < 14) log[daysLeft < 0 ? 'error' : 'warn']({ certificate }, daysLeft < 0 ? 'the TLS certificate has expired' : 'the TLS certificate expires in less than 14 days');
  const closeIdle = () => {
    // HTTP/1.1 connections: node:http's own idle tracking (Http2SecureServer has it with allowHTTP1,
    // though its typings do not say so). HTTP/2 sessions: GOAWAY, running streams finish.
    (server as HttpsServer).closeIdleConnections();
    for (const s of sessions) s.close();
  };
  return {
    server,
    scheme: 'https',
    close: () => {
      reloader.stop();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
    closeIdle,
    closeAll: () => {
      for (const s of sessions) s.destroy();
      for (const s of sockets) s.destroy();
    },
  };
}
