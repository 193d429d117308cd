// /ui/admin/ldap: the LDAP settings as configured (read-only: they live in the configuration file;
// the bind password is only ever "set" or "not set"), and a "test login" form that checks a user
// name and password exactly as `docker login` would (the same throttle and verifier chain), then
// says whether it worked, which verifier answered and which teams came with it. The password is
// never shown again, logged or recorded; the test itself is recorded in the audit log.
import { html, type Html } from '../../../html.ts';
import { csrfField, type Flash, type PageContext } from '../../../page.ts';
import { NotFound } from '../../../errors.ts';
import { LoginError } from '../../../../auth/password-login.ts';
import type { Principal } from '../../../../auth/types.ts';
import { adminHref, adminLayout, alertBox, inputField, submitRow, yesNo, type AdminOutcome } from './shared.ts';

export async function ldapArea(ctx: PageContext, rest: string[], form: URLSearchParams | undefined, flash: Flash | undefined): Promise<AdminOutcome> {
  if (rest.length === 0 && !form) return { html: await ldapPage(ctx, flash) };
  if (rest.length === 1 && rest[0] === 'test') return form ? testLogin(ctx, form) : { location: adminHref(ctx, '/ldap') };
  throw new NotFound();
}

function ms(ctx: PageContext, v: number): string {
  return ctx.t.t('adminAccess.ldap.ms', { n: ctx.t.number(v) });
}

function list(values: string[] | undefined): Html {
  if (!values?.length) return html`<span class="muted">-</span>`;
  return html`<ul>${values.map((v) => html`<li class="mono">${v}</li>`)}</ul>`;
}

function settings(ctx: PageContext): Html {
  const { t } = ctx;
  const ldap = ctx.deps.services.config.berth.auth.ldap;
  if (!ldap) {
    return html`<section class="card" aria-labelledby="ldap-title"><h2 id="ldap-title">${t.t('adminAccess.ldap.settings')}</h2><p>${t.t('adminAccess.ldap.notConfigured')}</p>
<pre class="code" tabindex="0" aria-label="${t.t('adminAccess.ldap.exampleLabel')}">${EXAMPLE}</pre><p class="hint">${t.t('adminAccess.ldap.exampleHint')}</p></section>`;
  }
  const none = html`<span class="muted">-</span>`;
  const mapping = Object.entries(ldap.teamMapping);
  return html`<section class="card" aria-labelledby="ldap-title"><h2 id="ldap-title">${t.t('adminAccess.ldap.settings')}</h2><p class="hint">${t.t('adminAccess.ldap.readOnly')}</p>
<h3>${t.t('adminAccess.ldap.connection')}</h3><dl class="props">
<dt>${t.t('adminAccess.ldap.urls')}</dt><dd>${list(ldap.urls)}</dd>
<dt>${t.t('adminAccess.ldap.startTls')}</dt><dd>${yesNo(ctx, ldap.startTls)}</dd>
<dt>${t.t('adminAccess.ldap.caFile')}</dt><dd class="mono">${ldap.caFile ?? none}</dd>
<dt>${t.t('adminAccess.ldap.insecureSkipVerify')}</dt><dd>${ldap.insecureSkipVerify ? html`<span class="badge badge-danger">${t.t('adminAccess.yes')}</span>` : t.t('adminAccess.no')}</dd>
<dt>${t.t('adminAccess.ldap.bindDn')}</dt><dd class="mono">${ldap.bindDn ?? html`<span class="muted">${t.t('adminAccess.ldap.anonymousBind')}</span>`}</dd>
<dt>${t.t('adminAccess.ldap.bindPassword')}</dt><dd>${ldap.bindPassword ? html`<span class="badge badge-ok">${t.t('adminAccess.ldap.set')}</span>` : html`<span class="badge badge-muted">${t.t('adminAccess.ldap.notSet')}</span>`}</dd>
<dt>${t.t('adminAccess.ldap.connectTimeout')}</dt><dd>${ms(ctx, ldap.connectTimeoutMs)}</dd>
<dt>${t.t('adminAccess.ldap.timeout')}</dt><dd>${ms(ctx, ldap.timeoutMs)}</dd>
<dt>${t.t('adminAccess.ldap.cacheTtl')}</dt><dd>${ldap.cacheTtlMs ? ms(ctx, ldap.cacheTtlMs) : t.t('adminAccess.ldap.noCache')}</dd>
</dl>
<h3>${t.t('adminAccess.ldap.users')}</h3><dl class="props">
<dt>${t.t('adminAccess.ldap.baseDn')}</dt><dd class="mono">${ldap.baseDn}</dd>
<dt>${t.t('adminAccess.ldap.userFilter')}</dt><dd class="mono">${ldap.userFilter}</dd>
<dt>${t.t('adminAccess.ldap.usernameAttribute')}</dt><dd class="mono">${ldap.usernameAttribute}</dd>
<dt>${t.t('adminAccess.ldap.displayNameAttribute')}</dt><dd class="mono">${ldap.displayNameAttribute || none}</dd>
<dt>${t.t('adminAccess.ldap.emailAttribute')}</dt><dd class="mono">${ldap.emailAttribute || none}</dd>
</dl>
<h3>${t.t('adminAccess.ldap.groups')}</h3><dl class="props">
<dt>${t.t('adminAccess.ldap.groupAttribute')}</dt><dd class="mono">${ldap.groupAttribute || none}</dd>
<dt>${t.t('adminAccess.ldap.groupBaseDn')}</dt><dd class="mono">${ldap.groupBaseDn}</dd>
<dt>${t.t('adminAccess.ldap.groupFilter')}</dt><dd class="mono">${ldap.groupFilter ?? none}</dd>
<dt>${t.t('adminAccess.ldap.adminGroups')}</dt><dd>${list(ldap.adminGroups)}</dd>
</dl>
<h3>${t.t('adminAccess.ldap.teamMapping')}</h3>
${
  mapping.length
    ? html`<div class="table-wrap"><table class="data"><caption class="visually-hidden">${t.t('adminAccess.ldap.teamMapping')}</caption>
<thead><tr><th scope="col">${t.t('adminAccess.ldap.group')}</th><th scope="col">${t.t('adminAccess.ldap.team')}</th></tr></thead>
<tbody>${mapping.map(([group, team]) => html`<tr><th scope="row" class="mono">${group}</th><td><a class="mono" href="${adminHref(ctx, `/teams/${encodeURIComponent(team)}`)}">${team}</a></td></tr>`)}</tbody></table></div>`
    : html`<p class="empty">${t.t('adminAccess.ldap.noMapping')}</p>`
}</section>`;
}

const EXAMPLE = `berth:
  auth:
    ldap:
      url: ldaps://ldap.example.com
      binddn: cn=berth,ou=services,dc=example,dc=com
      basedn: ou=people,dc=example,dc=com
      userfilter: (&(objectClass=person)(uid={username}))
      usernameattribute: uid
      groupbasedn: ou=groups,dc=example,dc=com
      admingroups: [registry-admins]`;

type TestResult = { ok: true; user: string; principal: Principal; admin: boolean; teams: string[] } | { ok: false; user: string; message: string; failure?: string };

async function ldapPage(ctx: PageContext, flash?: Flash, result?: TestResult): Promise<Html> {
  const { t } = ctx;
  const body = html`<div class="page-head"><h1>${t.t('adminAccess.ldap.title')}</h1><p class="muted">${t.t('adminAccess.ldap.intro')}</p></div>
${settings(ctx)}
<section class="card" aria-labelledby="test-title"><h2 id="test-title">${t.t('adminAccess.ldap.test')}</h2>
<p>${t.t('adminAccess.ldap.testIntro')}</p>
${result ? testResult(ctx, result) : ''}
${
  ctx.deps.login
    ? html`<form class="stack" method="post" action="${adminHref(ctx, '/ldap/test')}" autocomplete="off">${csrfField(ctx)}
${inputField({ id: 'test-user', name: 'username', label: t.t('adminAccess.ldap.testUser'), required: true, maxlength: 256, value: result?.user ?? '', form: 'test' })}
${inputField({ id: 'test-password', name: 'password', type: 'password', autocomplete: 'off', label: t.t('adminAccess.ldap.testPassword'), hint: t.t('adminAccess.ldap.testPasswordHint'), required: true, form: 'test' })}
${submitRow(t.t('adminAccess.ldap.testSubmit'))}</form>`
    : html`<p class="muted">${t.t('login.unavailable')}</p>`
}</section>`;
  return adminLayout(ctx, t.t('adminAccess.ldap.title'), body, { flash });
}

function testResult(ctx: PageContext, r: TestResult): Html {
  const { t } = ctx;
  if (!r.ok) return alertBox(t.t('adminAccess.ldap.testFailed', { user: r.user, reason: r.message }));
  return html`<div class="notice" role="status">${t.t('adminAccess.ldap.testOk', { user: r.principal.name })}</div>
<dl class="props">
<dt>${t.t('adminAccess.ldap.via')}</dt><dd><span class="badge badge-muted">${r.principal.via}</span> ${viaText(ctx, r.principal.via)}</dd>
<dt>${t.t('adminAccess.ldap.kind')}</dt><dd>${r.principal.kind === 'robot' ? t.t('adminAccess.subject.robot') : t.t('adminAccess.subject.user')}</dd>
<dt>${t.t('adminAccess.ldap.siteAdmin')}</dt><dd>${yesNo(ctx, r.admin)}</dd>
<dt>${t.t('adminAccess.ldap.teams')}</dt><dd>${
    r.teams.length ? html`<ul>${r.teams.map((tm) => html`<li><a class="mono" href="${adminHref(ctx, `/teams/${encodeURIComponent(tm)}`)}">${tm}</a></li>`)}</ul>` : html`<span class="muted">${t.t('adminAccess.ldap.noTeams')}</span>`
  }</dd>
${r.principal.restrictedTo ? html`<dt>${t.t('adminAccess.ldap.restricted')}</dt><dd class="mono">${r.principal.restrictedTo.map((s) => `${s.name}:${s.actions.join(',')}`).join(' ')}</dd>` : ''}
</dl>`;
}

function viaText(ctx: PageContext, via: string): string {
  const { t } = ctx;
  switch (via) {
    case 'ldap':
      return t.t('adminAccess.ldap.via.ldap');
    case 'htpasswd':
      return t.t('adminAccess.ldap.via.htpasswd');
    case 'local':
      return t.t('adminAccess.ldap.via.local');
    case 'pat':
      return t.t('adminAccess.ldap.via.pat');
    case 'robot':
      return t.t('adminAccess.ldap.via.robot');
    default:
      return '';
  }
}

async function testLogin(ctx: PageContext, form: URLSearchParams): Promise<AdminOutcome> {
  const { t, deps } = ctx;
  const user = (form.get('username') ?? '').trim().slice(0, 256);
  const password = form.get('password') ?? '';
  if (!deps.login) return { html: await ldapPage(ctx, undefined, { ok: false, user, message: t.t('login.unavailable') }), status: 404 };
  const address = ctx.req.socket.remoteAddress ?? '';
  let result: TestResult;
  let outcome: 'success' | 'failure';
  let status = 200;
  try {
    const principal = deps.liftAdmin(await deps.login(user, password, address));
    const admin = deps.access ? await deps.access.controller.isSiteAdmin(principal) : principal.admin;
    const stored = deps.access && principal.kind === 'user' ? await deps.access.store.teams.teamsOf(principal.name) : [];
    result = { ok: true, user, principal, admin, teams: [...new Set([...principal.teams, ...stored])].sort() };
    outcome = 'success';
  } catch (e) {
    if (!(e instanceof LoginError)) throw e;
    const f = e.failure;
    const message = f.kind === 'locked' ? t.t('login.locked', { seconds: f.retryAfterS }) : f.kind === 'unavailable' ? t.t('login.backendDown') : t.t('login.invalid');
    result = { ok: false, user, message, failure: f.kind };
    outcome = 'failure';
    status = f.kind === 'unavailable' ? 503 : f.kind === 'locked' ? 429 : 200;
  }
  // What was tested and how it went; never the password.
  deps.access?.audit.recordBy(ctx.viewer.principal, {
    action: 'login_test',
    outcome,
    clientAddress: address || null,
    details: { via: 'console', user, ...(result.ok ? { verifier: result.principal.via, teams: result.teams } : { failure: result.failure }) },
  });
  return { html: await ldapPage(ctx, undefined, result), status };
}
