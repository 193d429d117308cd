// distribution's HTTP metrics (docker/go-metrics' NewDefaultHttpMetrics under the namespace
// "registry", subsystem "http"), same names, labels and buckets, so existing dashboards work:
//
//   registry_http_requests_total{code,handler,method}      counter
//   registry_http_request_duration_seconds{handler,method}  histogram, .005 … 60 s
//   registry_http_request_size_bytes{handler}               histogram, 1 KiB … 2 GiB (×2)
//   registry_http_response_size_bytes{handler}              histogram, same buckets
//   registry_http_in_flight_requests{handler}               gauge
//
// `handler` is the route kind with distribution's names (base, manifest, blob, blob_upload,
// blob_upload_chunk, tags, catalog; berth adds referrers, and for its other surfaces search,
// v1_ping, token, console, api, notary, signatures, health, other); `method` is lower case as
// promhttp writes it; `code` the status. Never a repository, digest or user.
//
// Per request: process.hrtime.bigint() once more, and a few additions on children kept per
// handler (light.ts). Request size is approximated as promhttp does (request line, headers and
// Content-Length); response size is the response's Content-Length (0 for HEAD, 204, 304).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LightCounter, LightGauge, LightHistogram, type CounterChild, type HistogramChild } from './light.ts';
import { metricsOn } from './registry.ts';

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60];
const SIZE_BUCKETS = Array.from({ length: 22 }, (_, i) => 1024 * 2 ** i);

const requests = new LightCounter('registry_http_requests_total', 'Total number of HTTP requests made.', ['code', 'handler', 'method']);
const duration = new LightHistogram('registry_http_request_duration_seconds', 'The HTTP request latencies in seconds.', ['handler', 'method'], DURATION_BUCKETS);
const requestSize = new LightHistogram('registry_http_request_size_bytes', 'The HTTP request sizes in bytes.', ['handler'], SIZE_BUCKETS);
const responseSize = new LightHistogram('registry_http_response_size_bytes', 'The HTTP response sizes in bytes.', ['handler'], SIZE_BUCKETS);
const inFlight = new LightGauge('registry_http_in_flight_requests', 'The in-flight HTTP requests', ['handler']);

/** distribution's handlers (its route names, '-' as '_'), then berth's. */
export const HANDLERS = [
  'base',
  'blob',
  'blob_upload',
  'blob_upload_chunk',
  'catalog',
  'manifest',
  'tags',
  'referrers',
  'search',
  'v1_ping',
  'token',
  'console',
  'api',
  'notary',
  'signatures',
  'health',
  'other',
] as const;
export type HandlerName = (typeof HANDLERS)[number];

const METHODS: Record<string, string> = { GET: 'get', HEAD: 'head', PUT: 'put', POST: 'post', PATCH: 'patch', DELETE: 'delete', OPTIONS: 'options' };

interface MethodChildren {
  duration: HistogramChild;
  codes: Map<number, CounterChild>;
}

class HandlerChildren {
  readonly inFlight: CounterChild;
  private sizes?: { request: HistogramChild; response: HistogramChild };
  private readonly methods = new Map<string, MethodChildren>();

  constructor(readonly name: string) {
    this.inFlight = inFlight.child(name);
  }

  /** Made at the handler's first request, as distribution's (only the in-flight gauge shows from the start). */
  size(): { request: HistogramChild; response: HistogramChild } {
    return (this.sizes ??= { request: requestSize.child(this.name), response: responseSize.child(this.name) });
  }

  method(m: string): MethodChildren {
    let c = this.methods.get(m);
    if (!c) this.methods.set(m, (c = { duration: duration.child(this.name, m), codes: new Map() }));
    return c;
  }

  code(m: MethodChildren, method: string, status: number): CounterChild {
    let c = m.codes.get(status);
    if (!c) m.codes.set(status, (c = requests.child(String(status), this.name, method)));
    return c;
  }
}

// distribution shows every handler's in-flight gauge from the start (at 0); so does berth, for its own route kinds too.
const handlers = new Map<string, HandlerChildren>(HANDLERS.map((h) => [h, new HandlerChildren(h)]));

export interface RequestObservation {
  /** Names the request's handler (again, once the route is known: the in-flight count moves). */
  route(handler: HandlerName): void;
}

const NOOP: RequestObservation = { route() {} };

class Observation implements RequestObservation {
  private handler: HandlerChildren | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly started: bigint,
  ) {}

  route(name: HandlerName): void {
    const next = handlers.get(name)!;
    if (next === this.handler) return;
    if (this.handler) this.handler.inFlight.value--;
    next.inFlight.value++;
    this.handler = next;
  }

  readonly done = (): void => {
    const seconds = Number(process.hrtime.bigint() - this.started) / 1e9;
    const { req, res } = this;
    const h = this.handler ?? handlers.get('other')!;
    if (this.handler) h.inFlight.value--;
    const method = METHODS[req.method ?? ''] ?? 'other';
    const m = h.method(method);
    m.duration.observe(seconds);
    h.code(m, method, res.statusCode).value++;
    const sizes = h.size();
    sizes.request.observe(approximateRequestSize(req));
    const status = res.statusCode;
    sizes.response.observe(method === 'head' || status === 204 || status === 304 ? 0 : Number(res.getHeader('content-length') ?? 0) || 0);
  };
}

/** promhttp's computeApproximateRequestSize: request line, headers, Content-Length. */
function approximateRequestSize(req: IncomingMessage): number {
  let size = (req.url?.length ?? 0) + (req.method?.length ?? 0) + 8;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i++) size += raw[i]!.length;
  const length = Number(req.headers['content-length']);
  return length > 0 ? size + length : size;
}

/**
 * Starts observing one request (`started`: its process.hrtime.bigint() at arrival); the figures
 * are recorded when the response closes. A no-op while metrics are off.
 */
export function observeRequest(req: IncomingMessage, res: ServerResponse, started: bigint): RequestObservation {
  if (!metricsOn) return NOOP;
  const o = new Observation(req, res, started);
  res.once('close', o.done);
  return o;
}
