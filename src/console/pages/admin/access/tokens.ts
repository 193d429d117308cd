// /ui/admin/tokens: personal access tokens of every user (list, filter, revoke), and a form to
// create one for yourself: its secret is in the answer to that POST only, never stored or shown
// again. Same operations as the admin API's /tokens and /users/<name>/tokens.
import { html, type Html } from '../../../html.ts';
import { csrfField, type Flash, type PageContext } from '../../../page.ts';
import { NotFound } from '../../../errors.ts';
import { timeCell } from '../../fragments.ts';
import { createToken as createTokenSchema, userName } from '../../../../auth/access/admin/schemas.ts';
import { createAccessToken, mayCreateCredentials, revokeAccessToken } from '../../../../auth/access/admin/operations.ts';
import type { TokenRecord } from '../../../../metadata/access/store.ts';
import { registryHost } from '../../../pull-commands.ts';
import {
  accessOf,
  actorOf,
  adminHref,
  adminLayout,
  alertBox,
  check,
  confirmDialog,
  confirmLink,
  confirmPage,
  endOfDay,
  fieldMessages,
  formAlert,
  inputField,
  pager,
  query,
  ruleMessage,
  safeBack,
  secretPanel,
  selectField,
  seg,
  submitRow,
  text,
  textareaField,
  valueOf,
  type AdminOutcome,
  type FormState,
} from './shared.ts';

/** Users looked at per page of the all-users list, and how many tokens are enough for a page. */
const USER_BATCH = 100;
const MAX_USERS = 1000;
const ENOUGH = 100;

const FIELDS = {
  name: 'adminAccess.tokens.invalid.name',
  scopes: 'adminAccess.tokens.invalid.scopes',
  actions: 'adminAccess.tokens.invalid.actions',
  expires: 'adminAccess.invalid.expiry',
} as const;

type State = 'active' | 'expired' | 'revoked';

export async function tokensArea(ctx: PageContext, rest: string[], form: URLSearchParams | undefined, flash: Flash | undefined): Promise<AdminOutcome> {
  if (rest.length === 0) return form ? createToken(ctx, form) : { html: await tokensPage(ctx, flash) };
  if (rest.length === 2 && rest[1] === 'revoke') {
    const id = Number(rest[0]);
    if (!Number.isSafeInteger(id) || id <= 0) throw new NotFound();
    return form ? revoke(ctx, id, form) : { html: await confirmRevoke(ctx, id) };
  }
  throw new NotFound();
}

function stateOf(tk: TokenRecord, now = Date.now()): State {
  return tk.revokedAt ? 'revoked' : tk.expiresAt && tk.expiresAt.getTime() <= now ? 'expired' : 'active';
}

function stateBadge(ctx: PageContext, s: State): Html {
  const { t } = ctx;
  if (s === 'active') return html`<span class="badge badge-ok">${t.t('adminAccess.tokens.state.active')}</span>`;
  if (s === 'expired') return html`<span class="badge badge-warn">${t.t('adminAccess.tokens.state.expired')}</span>`;
  return html`<span class="badge badge-danger">${t.t('adminAccess.tokens.state.revoked')}</span>`;
}

function scopesText(tk: TokenRecord): string {
  return tk.scopes.map((s) => `${s.name}:${s.actions.join(',')}`).join(' ');
}

function revokeConfirmation(ctx: PageContext, tk: TokenRecord, id: string, back: string) {
  const { t } = ctx;
  return {
    id,
    href: adminHref(ctx, `/tokens/${tk.id}/revoke`),
    label: t.t('adminAccess.tokens.revoke'),
    target: `${tk.user} ${tk.name}`,
    title: t.t('adminAccess.tokens.revokeTitle', { name: tk.name, user: tk.user }),
    body: html`<p>${t.t('adminAccess.tokens.revokeBody')}</p>`,
    confirm: t.t('adminAccess.tokens.revoke'),
    hidden: { back },
  };
}

/** Tokens as a table with a revoke action on the active ones (here and on a user's page). */
export function tokensTable(ctx: PageContext, tokens: TokenRecord[], o: { caption: string; back: string; showUser: boolean }): Html {
  const { t } = ctx;
  if (tokens.length === 0) return html`<p class="empty">${t.t('adminAccess.tokens.none')}</p>`;
  const now = Date.now();
  const rows = tokens.map((tk, i) => ({ tk, state: stateOf(tk, now), c: revokeConfirmation(ctx, tk, `tok-revoke-${i}`, o.back) }));
  return html`<div class="table-wrap"><table class="data" id="tokens" data-sortable>
<caption class="visually-hidden">${o.caption}</caption>
<thead><tr>${o.showUser ? html`<th scope="col" data-sort="text" aria-sort="none">${t.t('adminAccess.tokens.col.user')}</th>` : ''}<th scope="col" data-sort="text" aria-sort="none">${t.t('adminAccess.tokens.col.name')}</th><th scope="col">${t.t('adminAccess.tokens.col.hint')}</th><th scope="col">${t.t('adminAccess.tokens.col.scopes')}</th><th scope="col" data-sort="text" aria-sort="none">${t.t('adminAccess.tokens.col.state')}</th><th scope="col" data-sort="date" aria-sort="none">${t.t('adminAccess.tokens.col.expires')}</th><th scope="col" data-sort="date" aria-sort="none">${t.t('adminAccess.tokens.col.lastUsed')}</th><th scope="col" data-sort="date" aria-sort="descending">${t.t('adminAccess.created')}</th><th scope="col"><span class="visually-hidden">${t.t('adminAccess.col.actions')}</span></th></tr></thead>
<tbody>${rows.map(
    ({ tk, state, c }) => html`<tr>${o.showUser ? html`<td><a class="mono" href="${adminHref(ctx, `/users/${seg(tk.user)}`)}">${tk.user}</a></td>` : ''}<th scope="row">${tk.name}</th><td class="mono">${tk.hint}…</td><td class="mono">${scopesText(tk)}</td><td data-value="${state}">${stateBadge(ctx, state)}</td>${tk.expiresAt ? timeCell(ctx, tk.expiresAt.getTime()) : html`<td data-value=""><span class="muted">${t.t('adminAccess.neverExpires')}</span></td>`}${timeCell(ctx, tk.lastUsedAt?.getTime())}${timeCell(ctx, tk.createdAt.getTime())}<td>${state === 'active' ? confirmLink(c) : ''}</td></tr>`,
  )}</tbody></table></div>${rows.filter((r) => r.state === 'active').map((r) => confirmDialog(ctx, r.c))}`;
}

/** Tokens of one user, or of every user in name order from `after` until enough were found. */
async function loadTokens(ctx: PageContext, user: string | undefined, after: string | undefined): Promise<{ tokens: TokenRecord[]; nextAfter?: string }> {
  const store = accessOf(ctx).store;
  if (user) return { tokens: await store.tokens.list(user) };
  const tokens: TokenRecord[] = [];
  let cursor = after;
  for (let seen = 0; seen < MAX_USERS && tokens.length < ENOUGH; ) {
    const users = await store.users.list({ limit: USER_BATCH, ...(cursor && { after: cursor }) });
    for (const u of users) tokens.push(...(await store.tokens.list(u.name)));
    seen += users.length;
    const last = users[users.length - 1];
    if (users.length < USER_BATCH || !last) return { tokens };
    cursor = last.name;
  }
  return { tokens, ...(cursor && { nextAfter: cursor }) };
}

async function tokensPage(ctx: PageContext, flash?: Flash, state?: FormState, created?: Html): Promise<Html> {
  const { t, viewer } = ctx;
  const params = ctx.url.searchParams;
  const userParam = params.get('user')?.trim() || undefined;
  const badUser = userParam !== undefined && !userName.safeParse(userParam).success;
  const stateParam = params.get('state');
  const only: State | undefined = stateParam === 'active' || stateParam === 'expired' || stateParam === 'revoked' ? stateParam : undefined;
  const after = params.get('after')?.slice(0, 255) || undefined;
  const { tokens, nextAfter } = badUser ? { tokens: [] as TokenRecord[], nextAfter: undefined } : await loadTokens(ctx, userParam, after);
  const now = Date.now();
  const shown = (only ? tokens.filter((tk) => stateOf(tk, now) === only) : tokens).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const filterState: FormState = { form: 'filter', values: params };
  const mayCreate = viewer.principal.kind === 'user' && mayCreateCredentials(viewer.principal);
  const back = ctx.url.pathname + ctx.url.search;
  const body = html`<div class="page-head"><h1>${t.t('adminAccess.tokens.title')}</h1><p class="muted">${t.t('adminAccess.tokens.intro')}</p></div>
${created ?? ''}
<form class="toolbar" method="get" action="${adminHref(ctx, '/tokens')}" role="search">
<label for="tok-user">${t.t('adminAccess.tokens.col.user')}</label><input id="tok-user" name="user" value="${valueOf(filterState, 'filter', 'user')}" autocomplete="off"${badUser ? html` aria-invalid="true"` : ''}>
<label for="tok-state">${t.t('adminAccess.tokens.col.state')}</label><select id="tok-state" name="state">${(
    [
      ['', t.t('adminAccess.tokens.state.any')],
      ['active', t.t('adminAccess.tokens.state.active')],
      ['expired', t.t('adminAccess.tokens.state.expired')],
      ['revoked', t.t('adminAccess.tokens.state.revoked')],
    ] as const
  ).map(([v, label]) => html`<option value="${v}"${(only ?? '') === v ? html` selected` : ''}>${label}</option>`)}</select>
<button type="submit" class="btn">${t.t('adminAccess.applyFilter')}</button></form>
${badUser ? alertBox(t.t('adminAccess.users.invalid.name')) : ''}
<section aria-labelledby="list-title"><h2 id="list-title">${userParam && !badUser ? t.t('adminAccess.tokens.of', { user: userParam }) : t.t('adminAccess.tokens.all')}</h2>
${tokensTable(ctx, shown, { caption: t.t('adminAccess.tokens.title'), back, showUser: true })}
${pager(ctx, { first: after ? adminHref(ctx, `/tokens${query({ user: userParam, state: only })}`) : undefined, next: nextAfter ? adminHref(ctx, `/tokens${query({ state: only, after: nextAfter })}`) : undefined })}
</section>
<section class="card" aria-labelledby="new-token-title"><h2 id="new-token-title">${t.t('adminAccess.tokens.new')}</h2>
${
  mayCreate
    ? html`<p>${t.t('adminAccess.tokens.newFor', { user: viewer.principal.name })}</p>
${formAlert(ctx, state, 'new')}
<form class="stack" method="post" action="${adminHref(ctx, '/tokens')}">${csrfField(ctx)}
${inputField({ id: 'nt-name', name: 'name', label: t.t('adminAccess.tokens.field.name'), hint: t.t('adminAccess.tokens.hint.name'), required: true, maxlength: 100, state, form: 'new' })}
${textareaField({ id: 'nt-scopes', name: 'scopes', label: t.t('adminAccess.tokens.field.scopes'), hint: t.t('adminAccess.tokens.hint.scopes'), rows: 3, value: '*', state, form: 'new' })}
<fieldset><legend>${t.t('adminAccess.tokens.field.actions')}</legend>
${(['pull', 'push', 'delete'] as const).map((a) => {
  const checked = state?.form === 'new' && state.values ? state.values.getAll('actions').includes(a) : a === 'pull';
  return html`<label><input type="checkbox" name="actions" value="${a}"${checked ? html` checked` : ''}> ${t.t(a === 'pull' ? 'adminAccess.action.pull' : a === 'push' ? 'adminAccess.action.push' : 'adminAccess.action.delete')}</label> `;
})}
${state?.form === 'new' && state.fields?.actions ? html`<p class="field-error">${state.fields.actions}</p>` : ''}</fieldset>
${inputField({ id: 'nt-expires', name: 'expires', type: 'date', label: t.t('adminAccess.field.expires'), hint: t.t('adminAccess.hint.expires'), state, form: 'new' })}
${submitRow(t.t('adminAccess.tokens.create'))}</form>`
    : html`<p class="muted">${t.t('adminAccess.tokens.cannotCreate')}</p>`
}</section>`;
  return adminLayout(ctx, t.t('adminAccess.tokens.title'), body, { flash });
}

async function createToken(ctx: PageContext, form: URLSearchParams): Promise<AdminOutcome> {
  const { t, viewer } = ctx;
  const principal = viewer.principal;
  const fail = async (s: Omit<FormState, 'form' | 'values'>, status = 400): Promise<AdminOutcome> => ({ html: await tokensPage(ctx, undefined, { form: 'new', values: form, ...s }), status });
  if (principal.kind !== 'user' || !mayCreateCredentials(principal)) return fail({ error: t.t('adminAccess.tokens.cannotCreate') }, 403);
  const actions = [...new Set(form.getAll('actions'))];
  const names = (form.get('scopes') ?? '')
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  const expires = endOfDay(text(form, 'expires', 20));
  const input = {
    name: text(form, 'name', 200) ?? '',
    // Without actions, the scopes are still checked (the missing actions get their own message).
    scopes: names.map((name) => ({ type: 'repository', name, actions: actions.length ? actions : ['pull'] })),
    ...(expires !== undefined && expires !== false && { expiresAt: expires }),
  };
  const parsed = check(createTokenSchema, input);
  const fields = parsed.ok ? [] : parsed.fields.map((f) => (f === 'expiresAt' ? 'expires' : f));
  if (expires === false) fields.push('expires');
  if (actions.length === 0) fields.push('actions');
  if (!parsed.ok || fields.length) return fail({ fields: fieldMessages(ctx, [...new Set(fields)], FIELDS) });
  let outcome: Awaited<ReturnType<typeof createAccessToken>>;
  try {
    outcome = await createAccessToken(actorOf(ctx), principal.name, parsed.data);
  } catch (e) {
    const r = ruleMessage(ctx, e);
    return fail({ error: r.message }, r.status);
  }
  // The secret goes into this answer only (no redirect, no flash cookie): it is never shown again.
  const panel = secretPanel(ctx, {
    title: t.t('adminAccess.tokens.createdTitle', { name: outcome.token.name }),
    user: principal.name,
    secret: outcome.secret,
    login: `docker login ${registryHost(ctx)} -u ${principal.name} --password-stdin`,
  });
  return { html: await tokensPage(ctx, { kind: 'notice', text: t.t('adminAccess.tokens.created', { name: outcome.token.name }) }, undefined, panel), status: 200 };
}

async function confirmRevoke(ctx: PageContext, id: number): Promise<Html> {
  const { t } = ctx;
  const tk = await accessOf(ctx).store.tokens.get(id);
  if (!tk) throw new NotFound();
  const back = safeBack(ctx, ctx.url.searchParams.get('back'), adminHref(ctx, '/tokens'));
  const c = revokeConfirmation(ctx, tk, 'revoke', back);
  return confirmPage(ctx, { ...c, cancel: back, crumbs: [[t.t('adminAccess.tokens.title'), adminHref(ctx, '/tokens')]] });
}

async function revoke(ctx: PageContext, id: number, form: URLSearchParams): Promise<AdminOutcome> {
  const { t } = ctx;
  const back = safeBack(ctx, form.get('back'), adminHref(ctx, '/tokens'));
  const tk = await accessOf(ctx).store.tokens.get(id);
  if (!tk) return { location: back, notice: t.t('adminAccess.error.tokenNotFound'), error: true };
  try {
    await revokeAccessToken(actorOf(ctx), tk.user, id);
  } catch (e) {
    return { location: back, notice: ruleMessage(ctx, e).message, error: true };
  }
  return { location: back, notice: t.t('adminAccess.tokens.revoked', { name: tk.name, user: tk.user }) };
}
