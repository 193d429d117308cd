// /ui/admin/permissions: role grants on namespaces and repositories: filter by scope (optionally
// with everything below it) and by subject, grant a role, revoke one. Same operations and rules
// as the admin API's /permissions (a robot only inside its namespace, never admin).
import { html, type Html } from '../../../html.ts';
import { csrfField, type Flash, type PageContext } from '../../../page.ts';
import { NotFound } from '../../../errors.ts';
import { timeCell } from '../../fragments.ts';
import { grant as grantSchema, repositoryName, robotName, teamName, userName } from '../../../../auth/access/admin/schemas.ts';
import { grantRole, revokeGrant } from '../../../../auth/access/admin/operations.ts';
import { ROBOT_PREFIX } from '../../../../auth/access/controller.ts';
import type { PermissionFilter, PermissionRecord, Subject } from '../../../../metadata/access/store.ts';
import {
  accessOf,
  actorOf,
  adminHref,
  adminLayout,
  alertBox,
  check,
  checkField,
  confirmDialog,
  confirmLink,
  confirmPage,
  fieldMessages,
  formAlert,
  inputField,
  query,
  roleBadge,
  roleLabel,
  roleOptions,
  ruleMessage,
  safeBack,
  selectField,
  subjectKindLabel,
  subjectLink,
  submitRow,
  text,
  type AdminOutcome,
  type FormState,
} from './shared.ts';

const FIELDS = {
  subject: 'adminAccess.permissions.invalid.subject',
  scope: 'adminAccess.permissions.invalid.scope',
  role: 'adminAccess.permissions.invalid.role',
} as const;

export async function permissionsArea(ctx: PageContext, rest: string[], form: URLSearchParams | undefined, flash: Flash | undefined): Promise<AdminOutcome> {
  if (rest.length === 0) return form ? grant(ctx, form) : permissionsPage(ctx, flash);
  if (rest.length === 2 && rest[1] === 'revoke') {
    const id = Number(rest[0]);
    if (!Number.isSafeInteger(id) || id <= 0) throw new NotFound();
    return form ? revoke(ctx, id, form) : { html: await confirmRevoke(ctx, id) };
  }
  throw new NotFound();
}

function scopeLabel(ctx: PageContext, kind: 'namespace' | 'repository'): string {
  return ctx.t.t(kind === 'namespace' ? 'adminAccess.scope.namespace' : 'adminAccess.scope.repository');
}

function revokeConfirmation(ctx: PageContext, p: PermissionRecord, id: string, back: string) {
  const { t } = ctx;
  const who = p.subject.kind === 'robot' ? `${ROBOT_PREFIX}${p.subject.name}` : p.subject.name;
  return {
    id,
    href: adminHref(ctx, `/permissions/${p.id}/revoke`),
    label: t.t('adminAccess.permissions.revoke'),
    target: `${who} ${p.scope.name}`,
    title: t.t('adminAccess.permissions.revokeTitle'),
    body: html`<p>${t.t('adminAccess.permissions.revokeBody', { subject: who, role: roleLabel(ctx, p.role), scope: p.scope.name })}</p>`,
    confirm: t.t('adminAccess.permissions.revoke'),
    hidden: { back },
  };
}

/** Grants as a table with a revoke action each (used here and on user, team and robot pages). */
export async function grantsTable(ctx: PageContext, grants: PermissionRecord[], o: { caption: string; back: string; idPrefix: string; readOnly?: boolean }): Promise<Html> {
  const { t } = ctx;
  if (grants.length === 0) return html`<p class="empty">${t.t('adminAccess.permissions.none')}</p>`;
  const confirmations = grants.map((p, i) => revokeConfirmation(ctx, p, `${o.idPrefix}-revoke-${i}`, o.back));
  return html`<div class="table-wrap"><table class="data" id="${o.idPrefix}-grants" data-sortable>
<caption class="visually-hidden">${o.caption}</caption>
<thead><tr><th scope="col" data-sort="text" aria-sort="none">${t.t('adminAccess.permissions.col.subject')}</th><th scope="col" data-sort="text" aria-sort="none">${t.t('adminAccess.permissions.col.scope')}</th><th scope="col" data-sort="text" aria-sort="none">${t.t('adminAccess.permissions.col.role')}</th><th scope="col" data-sort="date" aria-sort="none">${t.t('adminAccess.created')}</th><th scope="col">${t.t('adminAccess.permissions.col.by')}</th>${o.readOnly ? '' : html`<th scope="col"><span class="visually-hidden">${t.t('adminAccess.col.actions')}</span></th>`}</tr></thead>
<tbody>${grants.map(
    (p, i) => html`<tr><th scope="row">${subjectLink(ctx, p.subject)}</th><td><span class="badge badge-muted">${scopeLabel(ctx, p.scope.kind)}</span> <a class="mono" href="${adminHref(ctx, `/permissions${query({ scopeKind: p.scope.kind, scope: p.scope.name })}`)}">${p.scope.name}</a></td><td data-value="${p.role}">${roleBadge(ctx, p.role)}</td>${timeCell(ctx, p.createdAt.getTime())}<td>${p.createdBy ?? ''}</td>${o.readOnly ? '' : html`<td>${confirmLink(confirmations[i])}</td>`}</tr>`,
  )}</tbody></table></div>${o.readOnly ? '' : confirmations.map((c) => confirmDialog(ctx, c))}`;
}

interface Filter {
  scopeKind: 'namespace' | 'repository';
  scope?: string;
  nested: boolean;
  subjectKind: Subject['kind'];
  subject?: string;
}

function readFilter(params: URLSearchParams): { filter: Filter; invalid: string[] } {
  const invalid: string[] = [];
  const scopeKind = params.get('scopeKind') === 'repository' ? 'repository' : 'namespace';
  const scope = params.get('scope')?.trim() || undefined;
  if (scope !== undefined && !repositoryName.safeParse(scope).success) invalid.push('scope');
  const sk = params.get('subjectKind');
  const subjectKind: Subject['kind'] = sk === 'team' || sk === 'robot' ? sk : 'user';
  let subject = params.get('subject')?.trim() || undefined;
  if (subject !== undefined) {
    if (subjectKind === 'robot' && subject.startsWith(ROBOT_PREFIX)) subject = subject.slice(ROBOT_PREFIX.length);
    const schema = subjectKind === 'user' ? userName : subjectKind === 'team' ? teamName : robotName;
    if (!schema.safeParse(subject).success) invalid.push('subject');
  }
  return { filter: { scopeKind, ...(scope && { scope }), nested: params.get('nested') === 'on', subjectKind, ...(subject && { subject }) }, invalid };
}

async function permissionsPage(ctx: PageContext, flash?: Flash, state?: FormState): Promise<AdminOutcome> {
  const { t } = ctx;
  const store = accessOf(ctx).store;
  const { filter, invalid } = readFilter(ctx.url.searchParams);
  const storeFilter: PermissionFilter = {};
  if (!invalid.length) {
    if (filter.scope) storeFilter.scope = { kind: filter.scopeKind, name: filter.scope, nested: filter.nested };
    if (filter.subject) storeFilter.subject = { kind: filter.subjectKind, name: filter.subject };
  }
  const grants = invalid.length ? [] : await store.permissions.list(storeFilter);
  const filtered = !!(filter.scope || filter.subject);
  const f: FormState = { form: 'filter', values: ctx.url.searchParams };
  const subjectKinds: [string, string][] = (['user', 'team', 'robot'] as const).map((k) => [k, subjectKindLabel(ctx, k)]);
  const scopeKinds: [string, string][] = (['namespace', 'repository'] as const).map((k) => [k, scopeLabel(ctx, k)]);
  const back = ctx.url.pathname + ctx.url.search;
  const body = html`<div class="page-head"><h1>${t.t('adminAccess.permissions.title')}</h1><p class="muted">${t.t('adminAccess.permissions.intro')}</p></div>
<section class="card" aria-labelledby="filter-title"><h2 id="filter-title">${t.t('adminAccess.filter')}</h2>
${invalid.length ? alertBox(t.t('adminAccess.permissions.invalidFilter')) : ''}
<form class="stack" method="get" action="${adminHref(ctx, '/permissions')}" role="search">
<fieldset><legend>${t.t('adminAccess.permissions.where')}</legend>
${selectField({ id: 'f-scope-kind', name: 'scopeKind', label: t.t('adminAccess.permissions.field.scopeKind'), value: 'namespace', options: scopeKinds, state: f, form: 'filter' })}
${inputField({ id: 'f-scope', name: 'scope', label: t.t('adminAccess.permissions.field.scope'), maxlength: 255, state: invalid.includes('scope') ? { ...f, fields: { scope: t.t(FIELDS.scope) } } : f, form: 'filter' })}
${checkField({ id: 'f-nested', name: 'nested', label: t.t('adminAccess.permissions.field.nested'), checked: false, state: f, form: 'filter' })}</fieldset>
<fieldset><legend>${t.t('adminAccess.permissions.who')}</legend>
${selectField({ id: 'f-subject-kind', name: 'subjectKind', label: t.t('adminAccess.permissions.field.subjectKind'), value: 'user', options: subjectKinds, state: f, form: 'filter' })}
${inputField({ id: 'f-subject', name: 'subject', label: t.t('adminAccess.permissions.field.subject'), maxlength: 300, state: invalid.includes('subject') ? { ...f, fields: { subject: t.t(FIELDS.subject) } } : f, form: 'filter' })}</fieldset>
<div class="actions"><button type="submit" class="btn">${t.t('adminAccess.applyFilter')}</button>${filtered ? html` <a class="btn btn-link" href="${adminHref(ctx, '/permissions')}">${t.t('adminAccess.clearFilter')}</a>` : ''}</div>
</form></section>
<section aria-labelledby="grants-title"><h2 id="grants-title">${filtered ? t.t('adminAccess.permissions.matching', { n: grants.length }) : t.t('adminAccess.permissions.all', { n: grants.length })}</h2>
${await grantsTable(ctx, grants, { caption: t.t('adminAccess.permissions.title'), back, idPrefix: 'p' })}</section>
<section class="card" id="grant" aria-labelledby="grant-title"><h2 id="grant-title">${t.t('adminAccess.permissions.grant')}</h2>
${formAlert(ctx, state, 'grant')}
<form class="stack" method="post" action="${adminHref(ctx, '/permissions')}">${csrfField(ctx)}<input type="hidden" name="back" value="${back}">
<fieldset><legend>${t.t('adminAccess.permissions.who')}</legend>
${selectField({ id: 'g-subject-kind', name: 'subjectKind', label: t.t('adminAccess.permissions.field.subjectKind'), value: filter.subjectKind, options: subjectKinds, state, form: 'grant' })}
${inputField({ id: 'g-subject', name: 'subject', label: t.t('adminAccess.permissions.field.subject'), hint: t.t('adminAccess.permissions.hint.subject'), value: filter.subject ? (filter.subjectKind === 'robot' ? `${ROBOT_PREFIX}${filter.subject}` : filter.subject) : '', required: true, maxlength: 300, state, form: 'grant' })}</fieldset>
<fieldset><legend>${t.t('adminAccess.permissions.where')}</legend>
${selectField({ id: 'g-scope-kind', name: 'scopeKind', label: t.t('adminAccess.permissions.field.scopeKind'), value: filter.scopeKind, options: scopeKinds, state, form: 'grant' })}
${inputField({ id: 'g-scope', name: 'scope', label: t.t('adminAccess.permissions.field.scope'), hint: t.t('adminAccess.permissions.hint.scope'), value: filter.scope ?? '', required: true, maxlength: 255, state, form: 'grant' })}</fieldset>
${selectField({ id: 'g-role', name: 'role', label: t.t('adminAccess.permissions.field.role'), hint: t.t('adminAccess.permissions.hint.role'), value: 'read', options: roleOptions(ctx), state, form: 'grant' })}
${submitRow(t.t('adminAccess.permissions.grantSubmit'))}</form></section>`;
  return { html: await adminLayout(ctx, t.t('adminAccess.permissions.title'), body, { flash }), status: invalid.length ? 400 : 200 };
}

async function grant(ctx: PageContext, form: URLSearchParams): Promise<AdminOutcome> {
  const { t } = ctx;
  const input = {
    subject: { kind: form.get('subjectKind') ?? '', name: text(form, 'subject', 300) ?? '' },
    scope: { kind: form.get('scopeKind') ?? '', name: text(form, 'scope', 300) ?? '' },
    role: form.get('role') ?? '',
  };
  const fail = async (s: Omit<FormState, 'form' | 'values'>, status = 400): Promise<AdminOutcome> => {
    const out = await permissionsPage(ctx, undefined, { form: 'grant', values: form, ...s });
    return { ...out, status } as AdminOutcome;
  };
  const parsed = check(grantSchema, input);
  if (!parsed.ok) return fail({ fields: fieldMessages(ctx, parsed.fields, FIELDS) });
  const g = parsed.data;
  try {
    await grantRole(actorOf(ctx), g);
  } catch (e) {
    const r = ruleMessage(ctx, e);
    return fail({ error: r.message }, r.status);
  }
  const fallback = adminHref(ctx, `/permissions${query({ scopeKind: g.scope.kind, scope: g.scope.name })}`);
  const who = g.subject.kind === 'robot' ? `${ROBOT_PREFIX}${g.subject.name}` : g.subject.name;
  return { location: safeBack(ctx, form.get('back'), fallback), notice: t.t('adminAccess.permissions.granted', { subject: who, role: roleLabel(ctx, g.role), scope: g.scope.name }) };
}

async function confirmRevoke(ctx: PageContext, id: number): Promise<Html> {
  const { t } = ctx;
  const p = await accessOf(ctx).store.permissions.get(id);
  if (!p) throw new NotFound();
  const back = safeBack(ctx, ctx.url.searchParams.get('back'), adminHref(ctx, '/permissions'));
  const c = revokeConfirmation(ctx, p, 'revoke', back);
  return confirmPage(ctx, { ...c, cancel: back, crumbs: [[t.t('adminAccess.permissions.title'), adminHref(ctx, '/permissions')]] });
}

async function revoke(ctx: PageContext, id: number, form: URLSearchParams): Promise<AdminOutcome> {
  const { t } = ctx;
  const back = safeBack(ctx, form.get('back'), adminHref(ctx, '/permissions'));
  const p = await accessOf(ctx).store.permissions.get(id);
  if (!p) return { location: back, notice: t.t('adminAccess.permissions.gone'), error: true };
  await revokeGrant(actorOf(ctx), p);
  const who = p.subject.kind === 'robot' ? `${ROBOT_PREFIX}${p.subject.name}` : p.subject.name;
  return { location: back, notice: t.t('adminAccess.permissions.revoked', { subject: who, role: roleLabel(ctx, p.role), scope: p.scope.name }) };
}
