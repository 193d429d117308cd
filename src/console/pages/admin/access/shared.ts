// Pieces the access-control administration pages share: links and breadcrumbs, the change actor
// (audit record by the signed-in administrator, caches dropped), form fields with their errors,
// zod validation into per-field messages, confirmation dialogs with their no-JS pages, and the
// one-time display of a new secret.
import type { z } from 'zod';
import { attrs, html, type Html, type HtmlValue } from '../../../html.ts';
import { csrfField, layout, type Flash, type PageContext } from '../../../page.ts';
import type { MessageKey } from '../../../i18n/index.ts';
import type { AccessServices } from '../../../../auth/access/index.ts';
import { AccessRuleError, type AccessRuleReason, type ChangeActor } from '../../../../auth/access/admin/operations.ts';
import { ROBOT_PREFIX } from '../../../../auth/access/controller.ts';
import type { Role } from '../../../../auth/types.ts';
import type { Subject } from '../../../../metadata/access/store.ts';
import { icon } from '../../../icons.ts';
import type { AdminOutcome } from '../index.ts';

export type { AdminOutcome };

/** A path below /ui/admin, under the registry's prefix. */
export function adminHref(ctx: PageContext, sub: string): string {
  return ctx.href(`/ui/admin${sub}`);
}

/** One path segment (user, team and robot names have no '/'). */
export const seg = encodeURIComponent;

export function query(params: Record<string, string | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The AccessServices; every caller has checked that access control is on. */
export function accessOf(ctx: PageContext): AccessServices {
  const access = ctx.deps.access;
  if (!access) throw new Error('access control is off');
  return access;
}

/** The signed-in administrator as the operations' actor: changes are recorded as theirs, via the console. */
export function actorOf(ctx: PageContext): ChangeActor {
  const access = accessOf(ctx);
  const principal = ctx.viewer.principal;
  return {
    principal,
    store: access.store,
    changed(event) {
      access.audit.recordBy(principal, { outcome: 'success', ...event, clientAddress: ctx.req.socket.remoteAddress ?? null, details: { ...event.details, via: 'console' } });
      access.invalidate();
    },
  };
}

export async function adminLayout(ctx: PageContext, title: string, body: HtmlValue, o: { flash?: Flash | undefined; crumbs?: [string, string][] } = {}): Promise<Html> {
  const crumbs: [string, string][] = [[ctx.t.t('admin.title'), adminHref(ctx, '/')], ...(o.crumbs ?? [])];
  return layout(ctx, { title, nav: 'admin', flash: o.flash, crumbs }, body);
}

/** A `back` field that stays inside the administration pages, else the fallback. */
export function safeBack(ctx: PageContext, back: string | null | undefined, fallback: string): string {
  const base = adminHref(ctx, '/');
  if (!back || !back.startsWith(base) || back.includes('//') || back.includes('\\')) return fallback;
  return back;
}

/** The page's own address, for forms that come back here. */
export function here(ctx: PageContext): string {
  return ctx.url.pathname + ctx.url.search;
}

const REASONS: Record<AccessRuleReason, MessageKey> = {
  'password-not-local': 'adminAccess.error.passwordNotLocal',
  'user-exists': 'adminAccess.error.userExists',
  'user-not-found': 'adminAccess.error.userNotFound',
  'self-lockout': 'adminAccess.error.selfLockout',
  'self-disable': 'adminAccess.error.selfLockout',
  'self-delete': 'adminAccess.error.selfDelete',
  'team-exists': 'adminAccess.error.teamExists',
  'team-not-found': 'adminAccess.error.teamNotFound',
  'membership-not-found': 'adminAccess.error.membershipNotFound',
  'membership-ldap': 'adminAccess.error.membershipLdap',
  'subject-not-found': 'adminAccess.error.subjectNotFound',
  'robot-exists': 'adminAccess.error.robotExists',
  'robot-not-found': 'adminAccess.error.robotNotFound',
  'robot-outside-namespace': 'adminAccess.error.robotOutsideNamespace',
  'robot-admin-role': 'adminAccess.error.robotAdminRole',
  'token-not-found': 'adminAccess.error.tokenNotFound',
};

/** The translated message of a refused operation; anything else is rethrown. */
export function ruleMessage(ctx: PageContext, e: unknown): { message: string; status: number } {
  if (e instanceof AccessRuleError) return { message: ctx.t.t(REASONS[e.reason]), status: e.status };
  throw e;
}

// ---- forms

/** What a form page shows again after a refused POST: which form, its values, its errors. */
export interface FormState {
  form: string;
  values?: URLSearchParams;
  /** Field name -> message. */
  fields?: Record<string, string>;
  /** A message for the whole form. */
  error?: string;
}

/** The value to show in a field: what was posted (after an error in that form), else the default. */
export function valueOf(state: FormState | undefined, form: string, name: string, fallback = ''): string {
  return state?.form === form && state.values ? (state.values.get(name) ?? '') : fallback;
}

export function checkedOf(state: FormState | undefined, form: string, name: string, fallback: boolean): boolean {
  return state?.form === form && state.values ? state.values.has(name) : fallback;
}

/** The error summary at the top of a form, announced (role=alert). */
export function formAlert(ctx: PageContext, state: FormState | undefined, form: string): Html {
  if (state?.form !== form || (!state.error && !state.fields)) return html``;
  return html`<div class="error-box" role="alert">${state.error ?? ctx.t.t('adminAccess.form.invalid')}</div>`;
}

export function alertBox(text: string): Html {
  return html`<div class="error-box" role="alert">${text}</div>`;
}

interface FieldBase {
  id: string;
  name: string;
  label: string;
  hint?: string | undefined;
  state?: FormState | undefined;
  form: string;
}

function described(o: FieldBase, error: string | undefined): Html {
  const ids = [o.hint ? `${o.id}-hint` : '', error ? `${o.id}-error` : ''].filter(Boolean).join(' ');
  return attrs({ 'aria-describedby': ids || undefined, 'aria-invalid': error ? 'true' : undefined });
}

function fieldError(o: FieldBase): string | undefined {
  return o.state?.form === o.form ? o.state.fields?.[o.name] : undefined;
}

function helpTexts(o: FieldBase, error: string | undefined): Html {
  return html`${o.hint ? html`<p class="hint" id="${o.id}-hint">${o.hint}</p>` : ''}${error ? html`<p class="field-error" id="${o.id}-error">${error}</p>` : ''}`;
}

export function inputField(
  o: FieldBase & { value?: string; type?: string; required?: boolean; maxlength?: number; autocomplete?: string; list?: string; placeholder?: string },
): Html {
  const error = fieldError(o);
  const value = o.type === 'password' ? undefined : valueOf(o.state, o.form, o.name, o.value ?? '');
  return html`<div class="field"><label for="${o.id}">${o.label}</label><input${attrs({
    id: o.id,
    name: o.name,
    type: o.type ?? 'text',
    value: value || undefined,
    required: o.required,
    maxlength: o.maxlength,
    autocomplete: o.autocomplete ?? 'off',
    list: o.list,
    placeholder: o.placeholder,
  })}${described(o, error)}>${helpTexts(o, error)}</div>`;
}

export function textareaField(o: FieldBase & { value?: string; rows?: number; maxlength?: number }): Html {
  const error = fieldError(o);
  return html`<div class="field"><label for="${o.id}">${o.label}</label><textarea${attrs({ id: o.id, name: o.name, rows: o.rows ?? 3, maxlength: o.maxlength })}${described(o, error)}>${valueOf(o.state, o.form, o.name, o.value ?? '')}</textarea>${helpTexts(o, error)}</div>`;
}

export function selectField(o: FieldBase & { value?: string; options: [string, string][] }): Html {
  const error = fieldError(o);
  const current = valueOf(o.state, o.form, o.name, o.value ?? '');
  return html`<div class="field"><label for="${o.id}">${o.label}</label><select${attrs({ id: o.id, name: o.name })}${described(o, error)}>${o.options.map(
    ([v, label]) => html`<option value="${v}"${current === v ? html` selected` : ''}>${label}</option>`,
  )}</select>${helpTexts(o, error)}</div>`;
}

export function checkField(o: FieldBase & { checked: boolean; value?: string }): Html {
  const checked = checkedOf(o.state, o.form, o.name, o.checked);
  return html`<div class="field"><label class="check"><input${attrs({ type: 'checkbox', id: o.id, name: o.name, value: o.value ?? 'on', checked, 'aria-describedby': o.hint ? `${o.id}-hint` : undefined })}> ${o.label}</label>${o.hint ? html`<p class="hint" id="${o.id}-hint">${o.hint}</p>` : ''}</div>`;
}

export function submitRow(label: string, danger = false): Html {
  return html`<div class="actions"><button type="submit" class="btn ${danger ? 'btn-danger' : 'btn-primary'}">${label}</button></div>`;
}

/** Zod validation into field names (the first element of each issue's path). */
export function check<S extends z.ZodType>(schema: S, value: unknown): { ok: true; data: z.output<S> } | { ok: false; fields: string[] } {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, data: parsed.data };
  return { ok: false, fields: [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? '')))] };
}

/** Field names to their translated messages (fields without their own message get a generic one). */
export function fieldMessages(ctx: PageContext, fields: string[], messages: Partial<Record<string, MessageKey>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) out[f] = ctx.t.t(messages[f] ?? 'adminAccess.form.invalidField');
  return out;
}

/** A trimmed form value; '' and missing are undefined. */
export function text(form: URLSearchParams, name: string, max = 10_000): string | undefined {
  const v = (form.get(name) ?? '').trim().slice(0, max);
  return v === '' ? undefined : v;
}

/** A date field (YYYY-MM-DD) as the end of that day in UTC, ISO 8601; undefined when empty; false when malformed. */
export function endOfDay(value: string | undefined): string | undefined | false {
  if (value === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T23:59:59Z`))) return false;
  return `${value}T23:59:59Z`;
}

export function dateInputValue(d: Date | null | undefined): string {
  return d ? d.toISOString().slice(0, 10) : '';
}

// ---- confirmations

export interface Confirmation {
  /** Dialog id, unique on the page. */
  id: string;
  /** GET: the confirmation page for browsers without JavaScript; POST: the action. */
  href: string;
  /** The link's text, and its extra text for screen readers (what it applies to). */
  label: string;
  target?: string;
  title: string;
  body: HtmlValue;
  confirm: string;
  hidden?: Record<string, string>;
  small?: boolean;
  danger?: boolean;
}

/** The link that opens a confirmation dialog (or leads to the confirmation page without JS). */
export function confirmLink(c: Confirmation): Html {
  const cls = `btn${c.small === false ? '' : ' btn-small'}${c.danger === false ? '' : ' btn-danger'}`;
  const back = c.hidden?.back;
  const href = back ? `${c.href}${c.href.includes('?') ? '&' : '?'}back=${encodeURIComponent(back)}` : c.href;
  return html`<a class="${cls}" href="${href}" data-dialog="${c.id}">${c.label}${c.target ? html`<span class="visually-hidden"> ${c.target}</span>` : ''}</a>`;
}

export function confirmDialog(ctx: PageContext, c: Confirmation): Html {
  return html`<dialog id="${c.id}" aria-labelledby="${c.id}-title"><form method="post" action="${c.href}">${csrfField(ctx)}${hiddenFields(c.hidden)}
<h2 id="${c.id}-title">${c.title}</h2>${c.body}
<div class="actions"><button type="button" class="btn" data-close>${ctx.t.t('action.cancel')}</button> <button type="submit" class="btn ${c.danger === false ? 'btn-primary' : 'btn-danger'}">${c.confirm}</button></div></form></dialog>`;
}

function hiddenFields(hidden: Record<string, string> | undefined): Html[] {
  return Object.entries(hidden ?? {}).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`);
}

/** The page a browser without JavaScript sees instead of the dialog. */
export async function confirmPage(ctx: PageContext, c: Omit<Confirmation, 'id' | 'label'> & { cancel: string; crumbs?: [string, string][] }): Promise<Html> {
  const body = html`<h1>${c.title}</h1>${c.body}
<form method="post" action="${c.href}">${csrfField(ctx)}${hiddenFields(c.hidden)}<div class="actions"><a class="btn" href="${c.cancel}">${ctx.t.t('action.cancel')}</a> <button type="submit" class="btn ${c.danger === false ? 'btn-primary' : 'btn-danger'}">${c.confirm}</button></div></form>`;
  return adminLayout(ctx, c.title, body, { crumbs: c.crumbs ?? [] });
}

// ---- secrets shown once

/** A new secret in a copy row, with the warning that it will not be shown again. */
export function secretPanel(ctx: PageContext, o: { title: string; user: string; secret: string; login?: string }): Html {
  const { t } = ctx;
  return html`<section class="card" aria-labelledby="new-secret-title"><h2 id="new-secret-title">${o.title}</h2>
<div class="error-box" role="alert">${icon('lock')} ${t.t('adminAccess.secret.once')}</div>
<dl class="props"><dt>${t.t('adminAccess.secret.user')}</dt><dd class="mono">${o.user}</dd></dl>
<div class="copy-row"><span class="copy-label">${t.t('adminAccess.secret.label')}</span><code>${o.secret}</code><button type="button" class="btn btn-small copy" data-copy="${o.secret}" data-copied-label="${t.t('action.copied')}" aria-label="${t.t('adminAccess.secret.copy')}" hidden>${icon('copy')} ${t.t('action.copy')}</button></div>
${o.login ? html`<p>${t.t('adminAccess.secret.loginHint')}</p><div class="copy-row"><span class="copy-label">docker</span><code>${o.login}</code><button type="button" class="btn btn-small copy" data-copy="${o.login}" data-copied-label="${t.t('action.copied')}" aria-label="${t.t('action.copyWhat', { what: 'docker login' })}" hidden>${icon('copy')} ${t.t('action.copy')}</button></div>` : ''}
</section>`;
}

// ---- small renderings

export function roleLabel(ctx: PageContext, role: Role): string {
  const keys: Record<Role, MessageKey> = { read: 'adminAccess.role.read', write: 'adminAccess.role.write', delete: 'adminAccess.role.delete', admin: 'adminAccess.role.admin' };
  return ctx.t.t(keys[role]);
}

export function roleBadge(ctx: PageContext, role: Role): Html {
  return html`<span class="badge ${role === 'admin' ? 'badge-warn' : 'badge-muted'}">${roleLabel(ctx, role)}</span>`;
}

export function roleOptions(ctx: PageContext, roles: readonly Role[] = ['read', 'write', 'delete', 'admin']): [string, string][] {
  return roles.map((r) => [r, roleLabel(ctx, r)]);
}

export function subjectKindLabel(ctx: PageContext, kind: Subject['kind']): string {
  return ctx.t.t(kind === 'user' ? 'adminAccess.subject.user' : kind === 'team' ? 'adminAccess.subject.team' : 'adminAccess.subject.robot');
}

/** A link to the user's, team's or robot's page. */
export function subjectLink(ctx: PageContext, s: Subject): Html {
  const area = s.kind === 'user' ? 'users' : s.kind === 'team' ? 'teams' : 'robots';
  const shown = s.kind === 'robot' ? `${ROBOT_PREFIX}${s.name}` : s.name;
  return html`<span class="badge badge-muted">${subjectKindLabel(ctx, s.kind)}</span> <a class="mono" href="${adminHref(ctx, `/${area}/${seg(s.name)}`)}">${shown}</a>`;
}

export function yesNo(ctx: PageContext, v: boolean): string {
  return ctx.t.t(v ? 'adminAccess.yes' : 'adminAccess.no');
}

/** Keyset pager: a "first page" link when not on it, a "next" link when there is more. */
export function pager(ctx: PageContext, o: { first?: string | undefined; next?: string | undefined }): Html {
  if (!o.first && !o.next) return html``;
  return html`<nav class="pager" aria-label="${ctx.t.t('pager.label')}">${o.first ? html`<a href="${o.first}">${ctx.t.t('adminAccess.pager.first')}</a>` : ''}${o.next ? html`<a rel="next" href="${o.next}">${ctx.t.t('pager.next')}</a>` : ''}</nav>`;
}
