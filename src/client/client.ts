// A Distribution API client for any registry (berth, registry:2, Harbor, ...): one instance per
// registry host. It answers 401 challenges itself (Basic or Bearer) and follows redirects.
import type { Readable } from 'node:stream';
import { Authenticator, AuthError } from './auth.ts';
import { parseChallenge } from './challenge.ts';
import { lookupCredentials, type Credentials } from './docker-config.ts';
import { baseUrl, header, isBrokenConnection, isLoopback, isRegistryUrl, send, TlsError, type RawResponse, type StreamResponse, type TransportOptions } from './transport.ts';

export interface ClientOptions extends TransportOptions {
  /** `user:password` from --creds; otherwise looked up in the docker config. */
  creds?: string | Credentials;
  /** Do not read stored credentials (login verifies only what it was given). */
  noStoredCredentials?: boolean;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  /** Token scope, e.g. `repository:a/b:pull`; undefined for /v2/ and the catalog's own scope. */
  scope?: string;
  stream?: boolean;
  /** Status codes that are not errors (default: 2xx). */
  ok?: number[];
}

/** A registry's error answer, with its status and `errors[].code`s. */
export class RegistryHttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly codes: string[],
  ) {
    super(message);
  }
}

export function parseCreds(text: string): Credentials {
  const i = text.indexOf(':');
  if (i < 0) return { username: text, password: '' };
  return { username: text.slice(0, i), password: text.slice(i + 1) };
}

export class RegistryClient {
  private auth?: Authenticator;

  private constructor(
    readonly host: string,
    private opts: ClientOptions,
  ) {}

  /** https://HOST, or http://HOST with --insecure or once a registry on this machine answered in plain HTTP. */
  get base(): string {
    return baseUrl(this.host, this.opts);
  }

  static async create(host: string, opts: ClientOptions = {}): Promise<RegistryClient> {
    const c = new RegistryClient(host, opts);
    let creds: Credentials | undefined;
    if (typeof opts.creds === 'string') creds = parseCreds(opts.creds);
    else if (opts.creds) creds = opts.creds;
    else if (!opts.noStoredCredentials) creds = await lookupCredentials(host);
    c.auth = new Authenticator(host, opts, creds);
    return c;
  }

  async request(path: string, req: RequestOptions & { stream: true }): Promise<StreamResponse>;
  async request(path: string, req?: RequestOptions): Promise<RawResponse>;
  async request(path: string, req: RequestOptions = {}): Promise<RawResponse | StreamResponse> {
    let url = path.startsWith('http') ? path : `${this.base}${path}`;
    const method = req.method ?? 'GET';
    let retried = false;
    // Manifest, tag and catalog reads (not blob streams: downloads resume by Range themselves)
    // survive a dropped connection or a replica that is restarting behind a load balancer.
    const idempotent = (method === 'GET' || method === 'HEAD') && req.body === undefined && !req.stream;
    let transientFailures = 0;
    const retryTransient = async (): Promise<boolean> => {
      if (!idempotent || transientFailures >= TRANSIENT_RETRIES) return false;
      transientFailures++;
      await new Promise((r) => setTimeout(r, 250 * 2 ** (transientFailures - 1)));
      return true;
    };
    for (let hops = 0; hops < 10 + TRANSIENT_RETRIES; hops++) {
      const onRegistry = isRegistryUrl(new URL(url), this.host);
      const headers: Record<string, string> = { ...req.headers };
      // Credentials only ever go to the registry itself, never to a redirect target (S3, a CDN).
      const authz = onRegistry ? await this.auth!.authorization(req.scope) : undefined;
      if (authz) headers.Authorization = authz;
      let res;
      try {
        res = await send(url, this.host, this.opts, { method, headers, body: req.body, stream: req.stream } as never);
      } catch (e) {
        if (this.fallBackToPlainHttp(e, onRegistry, req.body)) {
          url = url.replace(/^https:/, 'http:');
          continue;
        }
        if (isBrokenConnection(e) && (await retryTransient())) continue;
        throw e;
      }
      const r = res as RawResponse | StreamResponse;
      if (r.status === 401 && onRegistry && !retried && (req.body === undefined || Buffer.isBuffer(req.body))) {
        drain(r);
        const ch = parseChallenge(header(r.headers, 'www-authenticate'));
        if (!ch) throw new RegistryHttpError(`${this.host}: 401 without a WWW-Authenticate challenge`, 401, ['UNAUTHORIZED']);
        this.auth!.challenge = ch;
        this.auth!.forget(req.scope);
        retried = true;
        continue;
      }
      if ([301, 302, 303, 307, 308].includes(r.status) && header(r.headers, 'location') && !(req.ok ?? []).includes(r.status)) {
        drain(r);
        url = new URL(header(r.headers, 'location')!, url).toString();
        continue;
      }
      if ([502, 503, 504].includes(r.status) && !(req.ok ?? []).includes(r.status) && (await retryTransient())) {
        drain(r);
        continue;
      }
      const ok = req.ok ? req.ok.includes(r.status) : r.status >= 200 && r.status < 300;
      if (!ok) throw await httpError(this.host, method, path, r);
      return r;
    }
    throw new Error(`${this.host}: too many redirects for ${path}`);
  }

  /**
   * docker's rule for a registry on this machine (localhost, 127.0.0.0/8, ::1): HTTPS first, plain
   * HTTP when that is what answers, so `berth push x.tar localhost:5000/app` works without
   * --insecure, as `docker push` does. Only for a request that can be sent again (no stream body).
   */
  private fallBackToPlainHttp(e: unknown, onRegistry: boolean, body: RequestOptions['body']): boolean {
    // No check of opts.insecure: requests sent in parallel (a push's blobs) may have tried HTTPS
    // before the first of them switched; each goes on over plain HTTP. A plain-HTTP answer comes
    // only from an https:// attempt, so this cannot loop.
    if (!(e instanceof TlsError) || !e.plainHttp || !onRegistry || !isLoopback(this.host)) return false;
    if (body !== undefined && !Buffer.isBuffer(body)) return false;
    this.opts = { ...this.opts, insecure: true };
    return true;
  }

  /** GET /v2/: true when reachable and the credentials (if any) are accepted. */
  async ping(): Promise<void> {
    await this.request('/v2/');
  }

  /** Whether the registry demanded authentication for /v2/ (after ping). */
  get challenged(): boolean {
    return this.auth?.challenge !== undefined;
  }

  hasCredentials(): boolean {
    return this.auth?.hasCredentials() ?? false;
  }

  /** Follows `Link: <...>; rel="next"` pages (RFC 5988) as registry:2 and berth send them. */
  async paginate(first: string, key: 'repositories' | 'tags', scope: string | undefined, pageSize?: number): Promise<string[]> {
    const out: string[] = [];
    let path: string | undefined = pageSize ? `${first}${first.includes('?') ? '&' : '?'}n=${pageSize}` : first;
    for (let guard = 0; path && guard < 100_000; guard++) {
      const res = await this.request(path, { scope, headers: { Accept: 'application/json' } });
      const body = JSON.parse(res.body.toString('utf8') || '{}') as Record<string, string[] | null>;
      out.push(...(body[key] ?? []));
      const link = header(res.headers, 'link');
      const next = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link)?.[1] : undefined;
      path = next ? (next.startsWith('http') ? next : next.startsWith('/') ? next : `/${next}`) : undefined;
    }
    return out;
  }

  catalog(pageSize?: number): Promise<string[]> {
    return this.paginate('/v2/_catalog', 'repositories', 'registry:catalog:*', pageSize);
  }

  tags(repo: string, pageSize?: number): Promise<string[]> {
    return this.paginate(`/v2/${repo}/tags/list`, 'tags', `repository:${repo}:pull`, pageSize);
  }
}

/** Retries of an idempotent read after a dropped connection or a 502/503/504 (0.25, 0.5, 1 s apart). */
const TRANSIENT_RETRIES = 3;

function drain(r: RawResponse | StreamResponse): void {
  if ('stream' in r) r.stream.resume();
}

async function httpError(host: string, method: string, path: string, r: RawResponse | StreamResponse): Promise<Error> {
  let body: Buffer;
  if ('stream' in r) {
    const chunks: Buffer[] = [];
    for await (const c of r.stream) chunks.push(c as Buffer);
    body = Buffer.concat(chunks);
  } else body = r.body;
  let codes: string[] = [];
  let detail = '';
  try {
    const j = JSON.parse(body.toString('utf8')) as { errors?: { code: string; message?: string }[] };
    codes = (j.errors ?? []).map((e) => e.code);
    detail = (j.errors ?? []).map((e) => `${e.code}: ${e.message ?? ''}`).join('; ');
  } catch {
    /* not a registry error body */
  }
  const what = r.status === 401 ? 'unauthorized (wrong or missing credentials: berth login, or --creds USER:PASS)' : r.status === 403 ? 'denied' : `${r.status}`;
  const err = new RegistryHttpError(`${host}: ${method} ${path.replace(/^https?:\/\/[^/]+/, '')}: ${what}${detail ? ` (${detail})` : ''}`, r.status, codes);
  return err;
}

export { AuthError };
