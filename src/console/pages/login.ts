// Sign in and out. The form checks the password as /v2's Basic auth does (the same throttle and
// verifier chain: htpasswd, LDAP, local users, personal access tokens), then starts a new session
// (a new id every time: no fixation). `next` is only ever a path of this console.
import { html, type Html } from '../html.ts';
import { csrfField, layout, type PageContext } from '../page.ts';
import { LoginError } from '../../auth/password-login.ts';

export function safeNext(ctx: PageContext, next: string | null | undefined): string {
  const home = ctx.href('/ui/');
  if (!next || !next.startsWith(ctx.href('/ui/')) || next.startsWith('//') || next.includes('\\')) return home;
  return next;
}

export async function loginPage(ctx: PageContext, error?: string, user?: string): Promise<Html> {
  const { t } = ctx;
  const next = safeNext(ctx, ctx.url.searchParams.get('next'));
  const body = ctx.deps.canLogin
    ? html`<div class="narrow"><h1>${t.t('login.title')}</h1>
${error ? html`<div class="error-box" role="alert">${error}</div>` : ''}
<form class="stack" method="post" action="${ctx.href('/ui/login')}">${csrfField(ctx)}<input type="hidden" name="next" value="${next}">
<div class="field"><label for="login-user">${t.t('login.user')}</label><input id="login-user" name="username" autocomplete="username" required value="${user ?? ''}" autofocus></div>
<div class="field"><label for="login-password">${t.t('login.password')}</label><input id="login-password" name="password" type="password" autocomplete="current-password" required></div>
<p class="hint">${t.t('login.hint')}</p>
<div><button type="submit" class="btn btn-primary">${t.t('user.signIn')}</button></div></form></div>`
    : html`<h1>${t.t('login.title')}</h1><p>${t.t('login.unavailable')}</p>`;
  return layout(ctx, { title: t.t('login.title') }, body);
}

export type LoginOutcome = { ok: true; cookie: string; location: string } | { ok: false; status: number; error: string; user: string };

export async function login(ctx: PageContext, form: URLSearchParams): Promise<LoginOutcome> {
  const { t, deps } = ctx;
  const user = (form.get('username') ?? '').trim();
  const password = form.get('password') ?? '';
  if (!deps.login) return { ok: false, status: 404, error: t.t('login.unavailable'), user };
  try {
    const principal = deps.liftAdmin(await deps.login(user, password, ctx.req.socket.remoteAddress ?? ''));
    const { cookie } = await deps.sessions.create(ctx.req, principal, ctx.secure);
    deps.access?.audit.recordBy(principal, { action: 'login', outcome: 'success', clientAddress: ctx.req.socket.remoteAddress ?? null, details: { via: 'console' } });
    return { ok: true, cookie, location: safeNext(ctx, form.get('next')) };
  } catch (e) {
    if (!(e instanceof LoginError)) throw e;
    deps.access?.audit.record({ actor: user.slice(0, 256), actorKind: 'user', action: 'login_failed', outcome: 'denied', clientAddress: ctx.req.socket.remoteAddress ?? null, details: { via: 'console' } });
    const f = e.failure;
    if (f.kind === 'locked') return { ok: false, status: 429, error: t.t('login.locked', { seconds: f.retryAfterS }), user };
    if (f.kind === 'unavailable') return { ok: false, status: 503, error: t.t('login.backendDown'), user };
    return { ok: false, status: 401, error: t.t('login.invalid'), user };
  }
}
