// The HTTP front: one request listener for the whole API plus health endpoints, the access log,
// error rendering and graceful shutdown. Handlers never write error bodies themselves.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { BerthConfig } from '../config/index.ts';
import { openServices } from '../app.ts';
import { RegistryError } from '../registry/errors.ts';
import { dispatch } from '../registry/dispatch.ts';
import { matchRoute } from '../registry/routes.ts';
import type { RegistryServices, RequestContext } from '../registry/services.ts';
import { apiBaseURL } from '../registry/urls.ts';
import { UploadPurger } from '../maintenance/upload-purger.ts';
import { createAuthMiddleware, type AuthMiddleware, type AuthOverrides } from './auth-middleware.ts';
import { buildAuthExtras, type AuthExtras } from '../auth/wiring.ts';
import type { AccessServices } from '../auth/access/index.ts';
import type { Route } from '../registry/routes.ts';
import type { Principal } from '../auth/types.ts';
import { readCredentials } from '../auth/credentials.ts';
import { HealthMonitor } from './health.ts';
import { startDebugServer, type DebugServer } from './debug-server.ts';
import { IdleTrimmer } from './idle-trim.ts';
import { handlerForPath, handlerForRoute } from './request-metrics.ts';
import { serveSearch, type SearchDeps } from './search.ts';
import { enableMetrics } from '../metrics/registry.ts';
import { observeRequest } from '../metrics/http.ts';
import { createListener, type ListenerServer } from './listen.ts';
import { parseListenAddress } from './listen-address.ts';
import { readSecureContextOptions } from './tls.ts';
import { send, sendError, sendJSON } from './respond.ts';
import { handleLifecycleApi } from '../lifecycle/http/api.ts';
import { GcScheduler } from '../lifecycle/gc-scheduler.ts';
import { createRetention, RetentionRunner } from '../lifecycle/retention-runner.ts';
import { createCollector } from '../lifecycle/wiring.ts';
import { BlobBusyError } from '../lifecycle/blob-writes.ts';
// errors.ts alone: no SDK, so a registry on the filesystem does not load it.
import { S3StorageError } from '../storage/drivers/s3/errors.ts';
import type { LifecycleApiDeps, LifecycleCaller } from '../lifecycle/http/context.ts';
import { ApiError } from '../auth/access/admin/http.ts';
import { restrictionAllowsManaging, restrictionCoversEverything } from '../auth/access/roles.ts';
import { lazyConsole } from '../console/lazy.ts';
import { loadConsoleAssets } from '../console/assets.ts';
import { lazyNotary } from '../trust/notary/lazy.ts';
import type { PathHandler } from './lazy-handler.ts';
import { EXTENSION_PREFIX, serveSignatureExtension, SIGNATURES_HEADER } from '../trust/signatures/http.ts';

export interface RunningRegistry {
  server: ListenerServer;
  services: RegistryServices;
  /** The lifecycle API's wiring; its `jobs` hold the background collector and retention runner. */
  lifecycleApi: LifecycleApiDeps;
  /** http(s)://host:port as actually bound (useful when the configured port is 0). */
  url: string;
  close(): Promise<void>;
}

export async function startRegistry(config: BerthConfig, log: Logger, authOverrides?: AuthOverrides): Promise<RunningRegistry> {
  // An unreadable certificate or key stops the start before anything is opened (listen.ts reads them again).
  if (config.http.tls) readSecureContextOptions(config.http.tls);
  // Prometheus metrics (http.debug.prometheus, src/metrics/): recording starts before anything records.
  if (config.http.debug?.prometheus.enabled) await enableMetrics();
  const services = await openServices(config, log);
  // The pull-through cache (proxy:, berth.mirrors): loaded only when configured (src/mirror/).
  if (config.proxy || config.berth.mirrors) services.mirror = (await import('../mirror/index.ts')).openMirror(config, log);
  let extras: AuthExtras;
  let auth: AuthMiddleware | undefined;
  try {
    // The access model and LDAP need the metadata store; a bad htpasswd file or key still stops the start.
    extras = await buildAuthExtras(config, services.accessStore, log, () => services.metadata.console.settings.visibilities());
    auth = await createAuthMiddleware(config, log, { ...extras.overrides, ...authOverrides });
  } catch (e) {
    await services.metadata.close();
    throw e;
  }
  const admin: AdminApi | undefined =
    extras.access && auth
      ? {
          access: extras.access,
          authenticate: async (req: IncomingMessage) => {
            const p = await auth!.authenticate(req);
            return p && extras.liftAdmin(p);
          },
          challenge: auth.challenge,
          prefix: config.http.prefix.replace(/\/+$/, ''),
        }
      : undefined;
  const gc = new GcScheduler(createCollector(services, log), config.berth.lifecycle.gc, log);
  gc.start();
  const retention = new RetentionRunner(createRetention(services, log), log);
  retention.start();
  const lifecycleApi: LifecycleApiDeps = {
    services,
    prefix: config.http.prefix.replace(/\/+$/, ''),
    jobs: { gc, retention },
    caller: (req) => lifecycleCaller(req, auth, extras),
  };
  // The console and the Notary server load on their first request (src/console/lazy.ts,
  // src/trust/notary/lazy.ts); the console's assets are read now, so a missing build stops the start.
  let consoleHandler: PathHandler | undefined;
  if (config.berth.ui.enabled) {
    try {
      const assets = await loadConsoleAssets();
      consoleHandler = lazyConsole(async () => (await import('../console/wiring.ts')).createConsole(config, services, auth, extras, { gc, retention }, log, assets));
    } catch (e) {
      gc.stop();
      await retention.stop();
      await extras.close();
      await services.metadata.close();
      throw e;
    }
  }
  // The Notary server (docker trust, notary) on the registry's origin: src/trust/notary/.
  const notary = lazyNotary(async () => (await import('../trust/notary/wiring.ts')).createNotary(config, services.metadata, auth, log));
  const health = new HealthMonitor(
    [
      { name: 'storagedriver', check: () => services.blobs.check() },
      { name: 'metadata', check: () => services.metadata.check() },
    ],
    { intervalMs: config.health.storagedriver.intervalMs, threshold: config.health.storagedriver.threshold },
    log,
  );
  if (config.health.storagedriver.enabled) health.start();
  // distribution's debug listener (http.debug.addr): /debug/health and the metrics (src/http/debug-server.ts).
  let debugServer: DebugServer | undefined;
  try {
    debugServer = await startDebugServer(config, services, health, log);
  } catch (e) {
    health.stop();
    gc.stop();
    await retention.stop();
    await extras.close();
    await services.metadata.close();
    throw e;
  }
  // GET /v1/_ping and /v1/search (podman search, docker search): src/http/search.ts.
  const search: SearchDeps = { services, auth, access: extras.access, liftAdmin: (p) => extras.liftAdmin(p) };
  const purger = new UploadPurger(services, config.storage.maintenance.uploadpurging, log);
  purger.start();

  // A full GC and malloc_trim once requests stop (src/http/idle-trim.ts).
  const trimmer = new IdleTrimmer();
  let shuttingDown = false;
  // Plain HTTP, or TLS with HTTP/2 and HTTP/1.1 (http.tls, http.http2): see listen.ts.
  const listener = createListener(config.http, (req, res) => {
    if (shuttingDown) {
      // A keep-alive connection must not outlive shutdown: answer this request, then close.
      res.shouldKeepAlive = false;
    } else {
      // A response that was in flight when shutdown began leaves its connection idle but open;
      // server.close() would then wait for the keep-alive timeout. Close it as soon as it idles.
      res.once('finish', () => {
        if (shuttingDown) setImmediate(() => listener.closeIdle());
      });
    }
    trimmer.track(res);
    void handle(req, res, services, health, auth, admin, lifecycleApi, consoleHandler, notary, search);
  }, log);
  const server = listener.server;
  const { host, port } = parseListenAddress(config.http.addr);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  trimmer.kick();
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${listener.scheme}://${shownHost}:${address.port}`;

  // Notification delivery (src/events/): the outbox's workers, once the server serves.
  await services.events?.start();
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      shuttingDown = true;
      health.stop();
      await debugServer?.close();
      purger.stop();
      trimmer.stop();
      gc.stop();
      services.trust?.close();
      // Stop accepting, let in-flight requests finish (bounded by http.draintimeout when set).
      const closed = listener.close();
      listener.closeIdle();
      const drainMs = config.http.drainTimeoutMs;
      if (drainMs > 0) {
        const timer = setTimeout(() => listener.closeAll(), drainMs);
        timer.unref();
      }
      await closed;
      await extras.close();
      await retention.stop();
      await services.pulls.close();
      await services.events?.close();
      await services.metadata.close();
    })());
  return { server, services, url, close, lifecycleApi };
}

/** Who calls the lifecycle API, by the registry's own rules (see src/lifecycle/http/context.ts). */
async function lifecycleCaller(req: IncomingMessage, auth: AuthMiddleware | undefined, extras: AuthExtras): Promise<LifecycleCaller> {
  if (!auth) return { isSiteAdmin: async () => true, canAdminister: async () => true };
  let principal = await auth.authenticate(req).catch(() => undefined);
  if (principal) principal = extras.liftAdmin(principal);
  if (!principal || principal.kind === 'anonymous') {
    throw new ApiError('UNAUTHORIZED', 'sign in to use this API', auth.challenge ? { 'WWW-Authenticate': auth.challenge } : {});
  }
  const p = principal;
  const access = extras.access;
  if (!access) {
    // registry:2's model: whoever is authenticated may do everything, except that a credential
    // with scopes of its own (a bearer token's access claim) is held to them, as /v2 holds it.
    const everything = restrictionCoversEverything(p.restrictedTo);
    return {
      principal: p,
      isSiteAdmin: async () => everything,
      canAdminister: async (name) => restrictionAllowsManaging(p.restrictedTo, { kind: 'namespace', name }),
    };
  }
  let siteAdmin: Promise<boolean> | undefined;
  const isSiteAdmin = () => (siteAdmin ??= access.controller.isSiteAdmin(p));
  return {
    principal: p,
    isSiteAdmin,
    canAdminister: async (name) => (await isSiteAdmin()) || access.controller.canAdminister(p, { kind: 'namespace', name }),
  };
}

interface AdminApi {
  access: AccessServices;
  authenticate(req: IncomingMessage): Promise<Principal | undefined>;
  challenge: string;
  prefix: string;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  services: RegistryServices,
  health: HealthMonitor,
  auth: AuthMiddleware | undefined,
  admin: AdminApi | undefined,
  lifecycleApi: LifecycleApiDeps,
  consoleHandler: PathHandler | undefined,
  notary: PathHandler,
  search: SearchDeps,
): Promise<void> {
  const started = process.hrtime.bigint();
  const observed = observeRequest(req, res, started);
  const { config, log } = services;
  const requestId = randomUUID();
  res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
  for (const [name, values] of Object.entries(config.http.headers)) res.setHeader(name, values);
  let pathname = '';
  let user: string | undefined;
  if (!config.log.accesslog.disabled) {
    res.once('finish', () => {
      log.info(
        {
          requestId,
          method: req.method,
          path: pathname,
          status: res.statusCode,
          bytes: Number(res.getHeader('content-length') ?? 0),
          durationMs: Number(process.hrtime.bigint() - started) / 1e6,
          remote: req.socket.remoteAddress,
          userAgent: req.headers['user-agent'],
          ...(user && { user }),
        },
        'request',
      );
    });
  }
  try {
    const url = new URL(req.url ?? '/', 'http://registry.invalid');
    pathname = decodeURIComponent(url.pathname);
    const prefix = config.http.prefix.replace(/\/+$/, '');
    if (prefix && pathname.startsWith(prefix)) pathname = pathname.slice(prefix.length) || '/';
    observed.route(handlerForPath(pathname));

    if (pathname === '/livez') return send(res, 200, { 'Content-Type': 'text/plain' }, 'ok\n');
    if (pathname === '/readyz') {
      const failing = health.unhealthy();
      return Object.keys(failing).length ? sendJSON(res, 503, { status: 'unavailable', failing }) : sendJSON(res, 200, { status: 'ok' });
    }
    // Signatures or trust data written here change what the pull policy decides (src/trust/policy/).
    if (req.method !== 'GET' && req.method !== 'HEAD' && services.trust && (pathname.startsWith(EXTENSION_PREFIX) || pathname.includes('/_trust/'))) res.once('finish', () => services.trust?.invalidate());
    if (pathname.startsWith('/v1/') && (await serveSearch(req, res, url, pathname, search))) return;
    // Simple (GPG) signatures stored in the registry: containers/image's API extension (src/trust/signatures).
    if (pathname.startsWith(EXTENSION_PREFIX)) {
      return await serveSignatureExtension({ req, res, url, services, baseURL: apiBaseURL(req, config.http) }, pathname, auth);
    }
    if (consoleHandler && (await consoleHandler(req, res, url, pathname))) return;
    if (auth && (await auth.serve(req, res, url, pathname))) return;
    if (await notary(req, res, url, pathname)) return;
    if (pathname.startsWith('/api/') && (await handleLifecycleApi(req, res, lifecycleApi))) return;
    if (admin && pathname.startsWith('/api/')) {
      const { handleAdminApi } = await import('../auth/access/admin-api.ts');
      const deps = { services: admin.access, authenticate: admin.authenticate, prefix: admin.prefix, challenge: admin.challenge, log };
      if (await handleAdminApi(req, res, deps)) return;
    }
    let route = matchRoute(pathname);
    if (!route) return send(res, 404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }, '404 page not found\n');
    observed.route(handlerForRoute(route));
    // containerd's ?ns=<host> names a mirror: the request is for that mirror's local name, checked as such below (src/mirror/).
    if (services.mirror) route = services.mirror.mapRoute(route, url, res);
    // containers/image reads this from its unauthenticated ping (a 401 too) to store signatures here.
    if (route.kind === 'base') res.setHeader(SIGNATURES_HEADER, '1');
    const baseURL = apiBaseURL(req, config.http);
    const ctx: RequestContext = { req, res, url, services, baseURL, requestId };
    if (auth) user = (await auth.authorize(ctx, route)).name || undefined;
    if (admin && ctx.principal) {
      // GET /v2/ with credentials is what `docker login` does.
      if (route.kind === 'base' && ctx.principal.kind !== 'anonymous') {
        admin.access.audit.recordBy(ctx.principal, { action: 'login', outcome: 'success', clientAddress: req.socket.remoteAddress ?? null });
      }
      audit(admin.access, ctx, route);
    }
    await dispatch(ctx, route);
  } catch (e) {
    if (e instanceof RegistryError) {
      if (admin) auditRefusal(admin.access, req, e, pathname);
      sendError(res, e);
    } else if (e instanceof BlobBusyError) {
      // A write that waited out a garbage collection's claim for too long: retry shortly.
      sendError(res, new RegistryError('UNAVAILABLE', { message: e.message, headers: { 'Retry-After': '1' } }));
    } else if (e instanceof URIError) {
      sendError(res, new RegistryError('NAME_INVALID', { message: 'malformed percent-encoding in path' }));
    } else if (isClientGone(e, req)) {
      res.destroy();
    } else {
      log.error({ requestId, err: e, method: req.method, path: pathname }, 'request failed');
      sendError(res, new RegistryError('UNKNOWN', { message: 'internal server error', detail: { requestId } }));
    }
  } finally {
    // Consume whatever body a handler did not read so the connection can be reused.
    if (!req.readableEnded && !req.destroyed) req.resume();
  }
}

/** Pushes, pulls and deletes of manifests go to the audit log once answered (blobs would flood it). */
function audit(access: AccessServices, ctx: RequestContext, route: Route): void {
  if (route.kind !== 'manifest') return;
  const action = ({ GET: 'pull', PUT: 'push', DELETE: 'delete' } as Record<string, string>)[ctx.req.method ?? ''];
  const principal = ctx.principal;
  if (!action || !principal) return;
  ctx.res.once('finish', () => {
    const status = ctx.res.statusCode;
    access.audit.recordBy(principal, {
      action,
      repository: route.name,
      reference: String(ctx.res.getHeader('docker-content-digest') ?? route.reference),
      outcome: status < 400 ? 'success' : status === 401 || status === 403 ? 'denied' : 'failure',
      clientAddress: ctx.req.socket.remoteAddress ?? null,
    });
  });
}

/** Failed logins and refused operations go to the audit log, naming the user the client claimed. */
function auditRefusal(access: AccessServices, req: IncomingMessage, err: RegistryError, pathname: string): void {
  const code = err.code;
  if (code !== 'UNAUTHORIZED' && code !== 'DENIED' && code !== 'TOOMANYREQUESTS') return;
  const creds = readCredentials(req);
  // A request without credentials being challenged is the normal first step, not a failure.
  if (code === 'UNAUTHORIZED' && creds.kind === 'none') return;
  const actor = creds.kind === 'basic' ? creds.username : creds.kind === 'bearer' ? '(bearer token)' : 'anonymous';
  access.audit.record({
    actor,
    actorKind: creds.kind === 'none' ? 'anonymous' : 'user',
    action: code === 'DENIED' ? 'denied' : 'login_failed',
    outcome: 'denied',
    clientAddress: req.socket.remoteAddress ?? null,
    details: { method: req.method, path: pathname, code },
  });
}

function isClientGone(e: unknown, req: IncomingMessage): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  // Not req.destroyed alone: Node destroys a request once its body has been read to the end, so
  // that took every failure after an upload's last byte (a full disk, the metadata store) for a
  // client that left: the connection was dropped without an answer or a log line.
  const cutShort = req.destroyed && !req.complete;
  if (cutShort || req.socket?.destroyed === true) return true;
  // An S3 error carries the code of the registry's own connection to the object store (a gateway
  // or its balancer resetting it): a failure to answer, not a client that left.
  if (e instanceof S3StorageError) return false;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE';
}
