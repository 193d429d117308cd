// The console's entry point: `/` redirects to it, `/ui/...` are its pages (and static assets),
// `/api/v1/repositories...` their JSON twins. Every request gets a Viewer (session cookie, else the
// Authorization header a script sends, else anonymous; or "open" without authentication), a
// locale (cookie, else Accept-Language), a theme, and a CSRF token that every POST must echo.
import { isConsolePath } from '../lazy.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { negotiateLocale, isLocale, translator, type Locale } from '../i18n/index.ts';
import { readCookies, setCookie } from './cookies.ts';
import { FormError, readForm, redirect, sendConsoleJson, sendHtml } from './respond.ts';
import type { ConsoleDeps } from '../deps.ts';
import { Viewer } from '../viewer.ts';
import type { Flash, PageContext, Theme } from '../page.ts';
import { Forbidden, NotFound, SignInRequired } from '../errors.ts';
import { errorPage } from '../pages/error.ts';
import { namespacesPage, repositoriesPage } from '../pages/repositories.ts';
import { repositoryPage } from '../pages/repository.ts';
import { imagePage } from '../pages/image.ts';
import { settingsPage } from '../pages/settings.ts';
import { login, loginPage, safeNext } from '../pages/login.ts';
import { confirmDeleteRepositoryPage, confirmDeleteTagsPage, createRepository, deleteRepository, deleteTags, newRepositoryPage, saveRepositorySettings } from '../pages/repository-actions.ts';
import { adminPage } from '../pages/admin/index.ts';
import { consoleApi } from './api.ts';
import type { Html } from '../html.ts';

const LANG_COOKIE = 'berth_lang';
const THEME_COOKIE = 'berth_theme';
const FLASH_COOKIE = 'berth_flash';
const YEAR = 365 * 86_400;

/** True when the request was the console's (answered); false to let the registry handle it. */
export async function handleConsole(req: IncomingMessage, res: ServerResponse, url: URL, pathname: string, deps: ConsoleDeps): Promise<boolean> {
  if (!isConsolePath(pathname)) return false;
  if (pathname === '/' || pathname === '/ui') {
    redirect(res, deps.prefix + '/ui/', [], 302);
    return true;
  }
  const isApi = pathname.startsWith('/api/');
  if (pathname.startsWith('/ui/static/')) {
    if (!deps.assets.serve(req, res, pathname)) sendPlain404(res);
    return true;
  }
  const ctx = await pageContext(req, res, url, pathname, deps);
  if (isApi) {
    await consoleApi(ctx);
    return true;
  }
  try {
    await route(ctx);
  } catch (e) {
    await renderError(ctx, e);
  }
  return true;
}

function sendPlain404(res: ServerResponse): void {
  res.statusCode = 404;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end('404 page not found\n');
}

async function pageContext(req: IncomingMessage, res: ServerResponse, url: URL, path: string, deps: ConsoleDeps): Promise<PageContext> {
  const startedAt = process.hrtime.bigint();
  const secure = requestIsSecure(req, deps.services.config.berth.ui.secureCookies);
  const cookies = readCookies(req);
  const lang = cookies.get(LANG_COOKIE);
  const locale: Locale = isLocale(lang) ? lang : negotiateLocale(req.headers['accept-language']);
  const th = cookies.get(THEME_COOKIE);
  const theme: Theme = th === 'dark' || th === 'light' ? th : 'auto';
  let viewer: Viewer;
  const loaded = deps.authEnabled ? await deps.sessions.load(req) : undefined;
  if (!deps.authEnabled) viewer = Viewer.open();
  else if (loaded) viewer = Viewer.of(deps.liftAdmin(loaded.principal), deps.access, loaded.session);
  else if (req.headers.authorization && deps.authenticate) {
    const p = await deps.authenticate(req).catch(() => undefined);
    viewer = Viewer.of(p && deps.liftAdmin(p), deps.access);
  } else viewer = Viewer.of(undefined, deps.access);
  const csrf = deps.sessions.csrfFor(req, loaded?.session, secure);
  let flash: { taken: boolean; value?: Flash } = { taken: false };
  const ctx: PageContext = {
    req,
    res,
    url,
    path,
    deps,
    t: translator(locale),
    viewer,
    csrf: csrf.token,
    cookies: csrf.cookie ? [csrf.cookie] : [],
    theme,
    secure,
    startedAt,
    href: (p) => deps.prefix + p,
    takeFlash() {
      if (!flash.taken) flash = { taken: true, value: readFlash(ctx) };
      return flash.value;
    },
  };
  return ctx;
}

/**
 * Whether the browser reached the console over HTTPS, so that its cookies carry Secure: a TLS
 * connection to berth; with berth.ui.securecookies 'forwarded', also a request that a
 * TLS-terminating proxy in front marked X-Forwarded-Proto: https (the last value: the proxy
 * nearest berth adds it); with 'always', every request. The header is never believed unless the
 * configuration says a proxy sets it: anyone could send it.
 */
export function requestIsSecure(req: IncomingMessage, mode: 'auto' | 'forwarded' | 'always'): boolean {
  if (mode === 'always' || (req.socket as TLSSocket).encrypted) return true;
  if (mode !== 'forwarded') return false;
  const header = req.headers['x-forwarded-proto'];
  const values = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((v) => v.trim().toLowerCase()).filter(Boolean);
  return values[values.length - 1] === 'https';
}

/** A one-shot message for the next page (after a redirect), in a short-lived cookie. */
function flashCookie(ctx: PageContext, text: string | undefined, kind: Flash['kind'] = 'notice'): string[] {
  if (!text) return [];
  return [setCookie(FLASH_COOKIE, Buffer.from(JSON.stringify({ kind, text })).toString('base64url'), { path: ctx.deps.prefix + '/ui/', maxAge: 60, httpOnly: true, secure: ctx.secure })];
}

/**
 * The flash cookie's message, and its deletion queued with the answer. Through ctx.takeFlash(),
 * which layout() calls: whichever page a redirect lands on shows it (and no later page does). A
 * HEAD request leaves it for the GET.
 */
function readFlash(ctx: PageContext): Flash | undefined {
  const raw = readCookies(ctx.req).get(FLASH_COOKIE);
  if (!raw || ctx.req.method === 'HEAD') return undefined;
  ctx.cookies.push(setCookie(FLASH_COOKIE, '', { path: ctx.deps.prefix + '/ui/', maxAge: 0, httpOnly: true, secure: ctx.secure }));
  try {
    const f = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Flash;
    return typeof f.text === 'string' ? { kind: f.kind === 'error' ? 'error' : 'notice', text: f.text.slice(0, 1000) } : undefined;
  } catch {
    return undefined;
  }
}

function page(ctx: PageContext, html: Html, status = 200): void {
  sendHtml(ctx.res, status, html, ctx.cookies, ctx.startedAt);
}

const REPO_PATH = /^\/ui\/repo\/(.+?)(?:\/-\/(manifest\/([^/]+)(\/raw)?|delete-tags|delete|settings))?\/?$/;

async function route(ctx: PageContext): Promise<void> {
  const method = ctx.req.method ?? 'GET';
  const path = ctx.path;
  const get = method === 'GET' || method === 'HEAD';
  let form: URLSearchParams | undefined;
  if (method === 'POST') {
    form = await readForm(ctx.req);
    if (!ctx.deps.sessions.checkCsrf(ctx.req, ctx.viewer.session, form.get('_csrf') ?? undefined)) {
      return page(ctx, await errorPage(ctx, 403, ctx.t.t('error.csrf')), 403);
    }
  } else if (!get) {
    ctx.res.setHeader('Allow', 'GET, HEAD, POST');
    return page(ctx, await errorPage(ctx, 405, ctx.t.t('error.method')), 405);
  }

  if (path === '/ui/') return page(ctx, await repositoriesPage(ctx));
  if (path === '/ui/namespaces') return page(ctx, await namespacesPage(ctx));
  if (path === '/ui/settings') return page(ctx, await settingsPage(ctx));
  if (path === '/ui/login') {
    if (get) return page(ctx, await loginPage(ctx));
    const outcome = await login(ctx, form!);
    if (outcome.ok) return redirect(ctx.res, outcome.location, [outcome.cookie]);
    return page(ctx, await loginPage(ctx, outcome.error, outcome.user), outcome.status);
  }
  if (path === '/ui/logout' && form) {
    const cookie = await ctx.deps.sessions.destroy(ctx.req, ctx.secure);
    return redirect(ctx.res, ctx.href('/ui/'), [cookie]);
  }
  if (path === '/ui/prefs' && form) {
    const cookies: string[] = [];
    const lang = form.get('lang');
    if (isLocale(lang)) cookies.push(setCookie(LANG_COOKIE, lang, { path: ctx.deps.prefix + '/', maxAge: YEAR, secure: ctx.secure }));
    const theme = form.get('theme');
    if (theme === 'auto' || theme === 'dark' || theme === 'light') cookies.push(setCookie(THEME_COOKIE, theme, { path: ctx.deps.prefix + '/', maxAge: YEAR, secure: ctx.secure }));
    return redirect(ctx.res, safeNext(ctx, form.get('back')), cookies);
  }
  if (path === '/ui/new') {
    if (ctx.viewer.mode === 'anonymous') throw new SignInRequired();
    if (get) return page(ctx, await newRepositoryPage(ctx));
    const result = await createRepository(ctx, form!);
    if ('error' in result) return page(ctx, await newRepositoryPage(ctx, result.error, form), 400);
    return redirect(ctx.res, result.location, flashCookie(ctx, result.notice));
  }
  if (path === '/ui/admin' || path.startsWith('/ui/admin/')) {
    if (ctx.viewer.mode === 'anonymous') throw new SignInRequired();
    if (!(await ctx.viewer.isSiteAdmin())) throw new Forbidden();
    const out = await adminPage(ctx, path.slice('/ui/admin'.length) || '/', form, form ? undefined : ctx.takeFlash());
    if ('location' in out) return redirect(ctx.res, out.location, flashCookie(ctx, out.notice, out.error ? 'error' : 'notice'));
    return page(ctx, out.html, out.status ?? 200);
  }
  const m = REPO_PATH.exec(path);
  if (m) {
    const name = m[1];
    const action = m[2];
    if (!action) {
      if (!get) throw new NotFound();
      return page(ctx, await repositoryPage(ctx, name, ctx.takeFlash()));
    }
    if (action.startsWith('manifest/')) {
      if (!get) throw new NotFound();
      const digest = m[3];
      if (m[4]) return sendRaw(ctx, name, digest);
      return page(ctx, await imagePage(ctx, name, digest));
    }
    if (action === 'delete-tags') {
      if (get) return page(ctx, await confirmDeleteTagsPage(ctx, name));
      const r = await deleteTags(ctx, name, form!);
      return redirect(ctx.res, r.location, flashCookie(ctx, r.notice));
    }
    if (action === 'delete') {
      if (get) return page(ctx, await confirmDeleteRepositoryPage(ctx, name));
      const r = await deleteRepository(ctx, name);
      return redirect(ctx.res, r.location, flashCookie(ctx, r.notice));
    }
    if (action === 'settings' && form) {
      const r = await saveRepositorySettings(ctx, name, form);
      return redirect(ctx.res, r.location, flashCookie(ctx, r.notice));
    }
  }
  throw new NotFound();
}

/** The manifest's exact bytes, as stored, for download. */
async function sendRaw(ctx: PageContext, name: string, digest: string): Promise<void> {
  if (!(await ctx.viewer.can(name, 'pull'))) throw new NotFound();
  const record = await ctx.deps.services.metadata.manifest(name, digest);
  if (!record) throw new NotFound();
  const { readDocument } = await import('../data/blob-text.ts');
  const bytes = await readDocument(ctx.deps.services, digest);
  if (!bytes) throw new NotFound();
  const res = ctx.res;
  res.statusCode = 200;
  res.setHeader('Content-Type', record.mediaType);
  res.setHeader('Content-Length', bytes.length);
  res.setHeader('Content-Disposition', `attachment; filename="${digest.replace(':', '_')}.json"`);
  res.setHeader('Docker-Content-Digest', digest);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
  res.end(ctx.req.method === 'HEAD' ? undefined : bytes);
}

async function renderError(ctx: PageContext, e: unknown): Promise<void> {
  if (ctx.res.headersSent) {
    ctx.res.destroy();
    return;
  }
  const anonymous = ctx.viewer.mode === 'anonymous' && ctx.deps.canLogin;
  if (e instanceof SignInRequired || (e instanceof Forbidden && anonymous)) {
    return redirect(ctx.res, ctx.href(`/ui/login?next=${encodeURIComponent(ctx.url.pathname + ctx.url.search)}`), ctx.cookies);
  }
  if (e instanceof NotFound) return page(ctx, await errorPage(ctx, 404, ctx.t.t('error.notFound')), 404);
  if (e instanceof Forbidden) return page(ctx, await errorPage(ctx, 403, ctx.t.t('error.forbidden')), 403);
  if (e instanceof FormError) return page(ctx, await errorPage(ctx, 400, e.message), 400);
  ctx.deps.log.error({ err: e, path: ctx.path }, 'console: page failed');
  return page(ctx, await errorPage(ctx, 500, ctx.t.t('error.internal')), 500);
}

export { sendConsoleJson };
