// Raw HTTP(S) for the registry client. node:http/https rather than global fetch: fetch cannot take a
// per-request CA without the undici package, and registries with a private CA are the common case.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type * as Https from 'node:https';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export interface TransportOptions {
  /** Plain http (registries without TLS). */
  insecure?: boolean;
  /** PEM file of the CA that signed the registry's certificate. */
  caCert?: string;
  /** Where docker keeps per-registry CAs; overridable for tests. */
  certsDir?: string;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  url: string;
}

export class TlsError extends Error {
  constructor(
    message: string,
    /** The server answered the TLS handshake in plain HTTP. */
    readonly plainHttp = false,
  ) {
    super(message);
  }
}

/**
 * A registry on this machine: localhost, 127.0.0.0/8 or ::1, with or without a port. docker treats
 * these as insecure registries without being told: HTTPS first, plain HTTP if that is what answers.
 */
export function isLoopback(host: string): boolean {
  const bareIpv6 = !host.startsWith('[') && host.split(':').length > 2;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : bareIpv6 ? host : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/**
 * The connection broke or timed out midway: another attempt may well succeed. A refused connection
 * is not one of these (nothing is listening); callers that want to wait for a restart add it.
 * Node's 'socket hang up' carries ECONNRESET, and so does tlsHint's rewritten message for it.
 */
export function isBrokenConnection(e: unknown): boolean {
  const code = (e as { code?: string } | undefined)?.code ?? '';
  return ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'ERR_STREAM_PREMATURE_CLOSE'].includes(code);
}

/** docker's convention: every *.crt in /etc/docker/certs.d/<host:port>/ is a trusted CA for that registry. */
export function loadCa(host: string, opts: TransportOptions): Buffer[] | undefined {
  if (opts.caCert) return [readFileSync(opts.caCert)];
  const dir = join(opts.certsDir ?? '/etc/docker/certs.d', host);
  try {
    const files = readdirSync(dir).filter((f) => f.endsWith('.crt') && !f.endsWith('.cert'));
    return files.length ? files.map((f) => readFileSync(join(dir, f))) : undefined;
  } catch {
    return undefined;
  }
}

// node:https brings tls and most of crypto: a few ms of the CLI's start-up, more than a whole
// plain-HTTP request to a local registry takes. Loaded (synchronously) on the first https:// request.
let https: typeof Https | undefined;
const loadHttps = (): typeof Https => (https ??= createRequire(import.meta.url)('node:https') as typeof Https);

/**
 * What a registry on this machine is verified against when no CA is configured for it: nothing,
 * rather than Node's bundled public roots. No public CA may certify localhost, 127.0.0.0/8 or ::1
 * (CA/Browser Forum baseline requirements), so a certificate fails verification either way, with
 * the same errors; but building that root store takes about 17 ms, most of the HTTPS attempt a
 * command makes before falling back to a loopback registry's plain HTTP. With NODE_EXTRA_CA_CERTS
 * set (Node adds it to that store; it may hold a private CA for localhost) the default stays.
 */
function loopbackTrust(host: string): Buffer[] | undefined {
  return isLoopback(host) && !process.env.NODE_EXTRA_CA_CERTS ? [] : undefined;
}

/**
 * Whether `u` points at the registry `host` (HOST[:PORT] as the user wrote it). URL drops the
 * scheme's default port and lower-cases the name, so `reg.example.com:443` must be normalised the
 * same way before comparing, or its own requests would look like a redirect elsewhere: no
 * credentials, no CA from --ca-cert or certs.d.
 */
export function isRegistryUrl(u: URL, host: string): boolean {
  if (u.host === host) return true;
  try {
    return new URL(`${u.protocol}//${host}`).host === u.host;
  } catch {
    return false;
  }
}

export function baseUrl(host: string, opts: TransportOptions): string {
  return `${opts.insecure ? 'http' : 'https'}://${host}`;
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|HOSTNAME|ALTNAME/i;

/** Connection errors rewritten to say what to do: the raw OpenSSL text names no fix. */
function tlsHint(host: string, err: Error & { code?: string }, opts: TransportOptions): Error {
  const text = `${err.code ?? ''} ${err.message}`;
  if (!opts.insecure && /wrong version number|packet length too long|EPROTO/i.test(text)) {
    return new TlsError(`${host} does not speak TLS (it answers plain HTTP): use --insecure for a registry without TLS`, true);
  }
  if (!opts.insecure && TLS_CODES.test(text)) {
    return new TlsError(
      `x509/TLS error talking to ${host}: ${err.message}. Trust the registry's CA by putting it in /etc/docker/certs.d/${host}/ca.crt ` +
        `or passing --ca-cert FILE, or use --insecure if the registry serves plain HTTP.`,
    );
  }
  if (opts.insecure && /socket hang up|ECONNRESET/i.test(text)) {
    // Keeps the code: a reset may also be transient, and the client retries reads on it.
    return Object.assign(new Error(`${host} closed the plain-HTTP connection (${err.message}): if it serves HTTPS, drop --insecure`), { code: err.code });
  }
  return err;
}

export interface SendOptions {
  method: string;
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  /** Resolve with the live stream instead of a buffered body (blob downloads). */
  stream?: boolean;
}

export interface StreamResponse extends Omit<RawResponse, 'body'> {
  stream: Readable;
}

export function send(url: string, host: string, opts: TransportOptions, req: SendOptions & { stream: true }): Promise<StreamResponse>;
export function send(url: string, host: string, opts: TransportOptions, req: SendOptions): Promise<RawResponse>;
export function send(url: string, host: string, opts: TransportOptions, req: SendOptions): Promise<RawResponse | StreamResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const tls = u.protocol === 'https:';
    // A CA is only meaningful for the registry itself; redirects to S3 etc. use the system store.
    const ca = tls && isRegistryUrl(u, host) ? (loadCa(host, opts) ?? loopbackTrust(host)) : undefined;
    const headers: Record<string, string> = { 'User-Agent': 'berth-client/0.1', ...req.headers };
    if (Buffer.isBuffer(req.body)) headers['Content-Length'] = String(req.body.length);
    const r = (tls ? loadHttps().request : httpRequest)(u, { method: req.method, headers, ...(ca ? { ca } : {}) }, (res) => {
      if (req.stream) {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, url, stream: res });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), url }));
      res.on('error', reject);
    });
    r.on('error', (e) => reject(tlsHint(host, e, opts)));
    if (req.body === undefined) r.end();
    else if (Buffer.isBuffer(req.body)) r.end(req.body);
    else {
      // A failing source (a corrupt archive, a digest mismatch) must abort the upload, not leave
      // the request hanging half-sent: the registry then discards or keeps the partial bytes.
      const body = req.body;
      body.on('error', (e) => {
        r.destroy(e);
        reject(e);
      });
      body.pipe(r);
    }
  });
}

export function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
