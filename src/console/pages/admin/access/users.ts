// /ui/admin/users: accounts (search, create, edit, disable, delete), a user's teams, grants and
// personal access tokens. Changes go through the same operations as the admin API's /users.
import { html, type Html } from '../../../html.ts';
import { csrfField, type Flash, type PageContext } from '../../../page.ts';
import { NotFound } from '../../../errors.ts';
import { timeCell, timeText } from '../../fragments.ts';
import { createUser as createUserSchema, updateUser as updateUserSchema, userName, teamName } from '../../../../auth/access/admin/schemas.ts';
import { addTeamMember, createUserAccount, deleteUserAccount, updateUserAccount, type UserUpdateInput } from '../../../../auth/access/admin/operations.ts';
import type { UserRecord } from '../../../../metadata/access/store.ts';
import {
  accessOf,
  actorOf,
  adminHref,
  adminLayout,
  check,
  checkField,
  confirmDialog,
  confirmLink,
  confirmPage,
  fieldMessages,
  formAlert,
  inputField,
  query,
  ruleMessage,
  seg,
  selectField,
  submitRow,
  text,
  type AdminOutcome,
  type FormState,
} from './shared.ts';
import { loadNameList, nameSearchForm } from './name-list.ts';
import { grantsTable } from './permissions.ts';
import { tokensTable } from './tokens.ts';

const FIELDS = {
  name: 'adminAccess.users.invalid.name',
  email: 'adminAccess.users.invalid.email',
  password: 'adminAccess.users.invalid.password',
  displayName: 'adminAccess.users.invalid.displayName',
} as const;

export async function usersArea(ctx: PageContext, rest: string[], form: URLSearchParams | undefined, flash: Flash | undefined): Promise<AdminOutcome> {
  if (rest.length === 0) return form ? createUser(ctx, form) : { html: await usersPage(ctx, flash) };
  const name = rest[0];
  if (!userName.safeParse(name).success) throw new NotFound();
  if (rest.length === 1) return form ? updateUser(ctx, name, form) : { html: await userPage(ctx, name, flash) };
  if (rest.length === 2 && rest[1] === 'delete') return form ? deleteUser(ctx, name) : { html: await confirmDeleteUser(ctx, name) };
  if (rest.length === 2 && rest[1] === 'teams' && form) return addToTeam(ctx, name, form);
  throw new NotFound();
}

const userHref = (ctx: PageContext, name: string, rest = '') => adminHref(ctx, `/users/${seg(name)}${rest}`);

function sourceLabel(ctx: PageContext, source: UserRecord['source']): string {
  return ctx.t.t(source === 'local' ? 'adminAccess.users.source.local' : source === 'ldap' ? 'adminAccess.users.source.ldap' : 'adminAccess.users.source.htpasswd');
}

function statusBadges(ctx: PageContext, u: UserRecord): Html {
  const { t } = ctx;
  return html`${u.admin ? html`<span class="badge badge-warn">${t.t('adminAccess.users.badge.admin')}</span> ` : ''}${u.disabled ? html`<span class="badge badge-danger">${t.t('adminAccess.users.badge.disabled')}</span>` : html`<span class="badge badge-ok">${t.t('adminAccess.users.badge.active')}</span>`}`;
}

export async function usersPage(ctx: PageContext, flash?: Flash, state?: FormState): Promise<Html> {
  const { t } = ctx;
  const store = accessOf(ctx).store;
  const { q, rows, pager } = await loadNameList(ctx, '/users', (o) => store.users.list(o));
  const body = html`<div class="page-head"><h1>${t.t('adminAccess.users.title')}</h1><p class="muted">${t.t('adminAccess.users.intro')}</p></div>
${nameSearchForm(ctx, { path: '/users', id: 'user-q', label: t.t('adminAccess.users.search'), filter: 'users', q })}
${
  rows.length === 0
    ? html`<p class="empty">${q ? t.t('adminAccess.users.noMatch') : t.t('adminAccess.users.none')}</p>`
    : html`<div class="table-wrap"><table class="data" id="users" data-sortable>
<caption class="visually-hidden">${t.t('adminAccess.users.title')}</caption>
<thead><tr><th scope="col" data-sort="text" aria-sort="ascending">${t.t('adminAccess.users.col.name')}</th><th scope="col" data-sort="text" aria-sort="none">${t.t('adminAccess.users.col.displayName')}</th><th scope="col" data-sort="text" aria-sort="none">${t.t('adminAccess.users.col.email')}</th><th scope="col" data-sort="text" aria-sort="none">${t.t('adminAccess.users.col.source')}</th><th scope="col">${t.t('adminAccess.users.col.status')}</th><th scope="col" data-sort="date" aria-sort="none">${t.t('adminAccess.users.col.lastLogin')}</th></tr></thead>
<tbody>${rows.map(
        (u) => html`<tr><th scope="row"><a class="mono" href="${userHref(ctx, u.name)}">${u.name}</a></th><td>${u.displayName ?? ''}</td><td>${u.email ?? ''}</td><td>${sourceLabel(ctx, u.source)}</td><td>${statusBadges(ctx, u)}</td>${timeCell(ctx, u.lastLoginAt?.getTime())}</tr>`,
      )}</tbody></table></div>`
}
${pager}
<section class="card" aria-labelledby="new-user-title"><h2 id="new-user-title">${t.t('adminAccess.users.new')}</h2>
${formAlert(ctx, state, 'new')}
<form class="stack" method="post" action="${adminHref(ctx, '/users')}">${csrfField(ctx)}
${inputField({ id: 'nu-name', name: 'name', label: t.t('adminAccess.users.field.name'), hint: t.t('adminAccess.users.hint.name'), required: true, maxlength: 128, state, form: 'new' })}
${inputField({ id: 'nu-display', name: 'displayName', label: t.t('adminAccess.users.field.displayName'), maxlength: 255, state, form: 'new' })}
${inputField({ id: 'nu-email', name: 'email', type: 'email', label: t.t('adminAccess.users.field.email'), maxlength: 320, state, form: 'new' })}
${selectField({ id: 'nu-source', name: 'source', label: t.t('adminAccess.users.field.source'), hint: t.t('adminAccess.users.hint.source'), value: 'local', options: [['local', sourceLabel(ctx, 'local')], ['ldap', sourceLabel(ctx, 'ldap')], ['htpasswd', sourceLabel(ctx, 'htpasswd')]], state, form: 'new' })}
${inputField({ id: 'nu-password', name: 'password', type: 'password', autocomplete: 'new-password', label: t.t('adminAccess.users.field.password'), hint: t.t('adminAccess.users.hint.password'), state, form: 'new' })}
${checkField({ id: 'nu-admin', name: 'admin', label: t.t('adminAccess.users.field.admin'), hint: t.t('adminAccess.users.hint.admin'), checked: false, state, form: 'new' })}
${submitRow(t.t('adminAccess.users.create'))}</form></section>`;
  return adminLayout(ctx, t.t('adminAccess.users.title'), body, { flash });
}

async function createUser(ctx: PageContext, form: URLSearchParams): Promise<AdminOutcome> {
  const { t } = ctx;
  const password = form.get('password') ?? '';
  const input = {
    name: text(form, 'name', 200) ?? '',
    displayName: text(form, 'displayName') ?? null,
    email: text(form, 'email') ?? null,
    source: form.get('source') ?? 'local',
    admin: form.has('admin'),
    disabled: false,
    ...(password !== '' && { password }),
  };
  const fail = async (s: Omit<FormState, 'form' | 'values'>, status = 400): Promise<AdminOutcome> => ({ html: await usersPage(ctx, undefined, { form: 'new', values: withoutPassword(form), ...s }), status });
  const parsed = check(createUserSchema, input);
  if (!parsed.ok) return fail({ fields: fieldMessages(ctx, parsed.fields, FIELDS) });
  try {
    const user = await createUserAccount(actorOf(ctx), parsed.data);
    return { location: userHref(ctx, user.name), notice: t.t('adminAccess.users.created', { name: user.name }) };
  } catch (e) {
    const r = ruleMessage(ctx, e);
    return fail({ error: r.message }, r.status);
  }
}

function withoutPassword(form: URLSearchParams): URLSearchParams {
  const copy = new URLSearchParams(form);
  copy.delete('password');
  copy.delete('_csrf');
  return copy;
}

export async function userPage(ctx: PageContext, name: string, flash?: Flash, state?: FormState): Promise<Html> {
  const { t } = ctx;
  const store = accessOf(ctx).store;
  const user = await store.users.get(name);
  if (!user) throw new NotFound();
  const [teams, grants, tokens, allTeams] = await Promise.all([
    store.teams.teamsOf(name),
    store.permissions.list({ subject: { kind: 'user', name } }),
    store.tokens.list(name),
    store.teams.list({ limit: 500 }),
  ]);
  const self = userHref(ctx, name);
  const isSelf = ctx.viewer.name === name;
  const memberships = teams.map((team, i) => {
    const c = {
      id: `leave-${i}`,
      href: adminHref(ctx, `/teams/${seg(team)}/members/${seg(name)}/remove`),
      label: t.t('adminAccess.teams.removeMember'),
      target: team,
      title: t.t('adminAccess.teams.removeTitle', { user: name, team }),
      body: html`<p>${t.t('adminAccess.teams.removeBody')}</p>`,
      confirm: t.t('adminAccess.teams.removeConfirm'),
      hidden: { back: self },
    };
    return { team, link: confirmLink(c), dialog: confirmDialog(ctx, c) };
  });
  const del = {
    id: 'delete-user',
    href: userHref(ctx, name, '/delete'),
    label: t.t('adminAccess.users.delete'),
    title: t.t('adminAccess.users.deleteTitle', { name }),
    body: html`<p>${t.t('adminAccess.users.deleteBody')}</p>`,
    confirm: t.t('adminAccess.users.delete'),
    small: false,
  };
  const grantsPart = await grantsTable(ctx, grants, { caption: t.t('adminAccess.users.grants'), back: self, idPrefix: 'ug' });
  const tokensPart = tokensTable(ctx, tokens, { caption: t.t('adminAccess.users.tokens'), back: self, showUser: false });
  const body = html`<div class="page-head"><h1 class="heading-mono">${user.name}</h1><div class="actions">${statusBadges(ctx, user)}</div></div>
<div class="grid grid-start">
<section class="card" aria-labelledby="profile-title"><h2 id="profile-title">${t.t('adminAccess.users.profile')}</h2><dl class="props">
<dt>${t.t('adminAccess.users.field.displayName')}</dt><dd>${user.displayName ?? html`<span class="muted">-</span>`}</dd>
<dt>${t.t('adminAccess.users.field.email')}</dt><dd>${user.email ?? html`<span class="muted">-</span>`}</dd>
<dt>${t.t('adminAccess.users.field.source')}</dt><dd>${sourceLabel(ctx, user.source)}</dd>
<dt>${t.t('adminAccess.users.field.admin')}</dt><dd>${user.admin ? t.t('adminAccess.yes') : t.t('adminAccess.no')}</dd>
<dt>${t.t('adminAccess.users.hasPassword')}</dt><dd>${user.hasPassword ? t.t('adminAccess.yes') : t.t('adminAccess.no')}</dd>
<dt>${t.t('adminAccess.created')}</dt><dd>${timeText(ctx, user.createdAt.getTime())}</dd>
<dt>${t.t('adminAccess.users.col.lastLogin')}</dt><dd>${timeText(ctx, user.lastLoginAt?.getTime())}</dd>
</dl></section>
<section class="card" aria-labelledby="edit-title"><h2 id="edit-title">${t.t('adminAccess.users.edit')}</h2>
${formAlert(ctx, state, 'edit')}
<form class="stack" method="post" action="${self}">${csrfField(ctx)}
${inputField({ id: 'eu-display', name: 'displayName', label: t.t('adminAccess.users.field.displayName'), value: user.displayName ?? '', maxlength: 255, state, form: 'edit' })}
${inputField({ id: 'eu-email', name: 'email', type: 'email', label: t.t('adminAccess.users.field.email'), value: user.email ?? '', maxlength: 320, state, form: 'edit' })}
${checkField({ id: 'eu-admin', name: 'admin', label: t.t('adminAccess.users.field.admin'), hint: isSelf ? t.t('adminAccess.users.hint.self') : t.t('adminAccess.users.hint.admin'), checked: user.admin, state, form: 'edit' })}
${checkField({ id: 'eu-disabled', name: 'disabled', label: t.t('adminAccess.users.field.disabled'), hint: t.t('adminAccess.users.hint.disabled'), checked: user.disabled, state, form: 'edit' })}
${
  user.source === 'local'
    ? html`${inputField({ id: 'eu-password', name: 'password', type: 'password', autocomplete: 'new-password', label: t.t('adminAccess.users.field.newPassword'), hint: t.t('adminAccess.users.hint.newPassword'), state, form: 'edit' })}
${user.hasPassword ? checkField({ id: 'eu-nopassword', name: 'removePassword', label: t.t('adminAccess.users.field.removePassword'), hint: t.t('adminAccess.users.hint.removePassword'), checked: false, state, form: 'edit' }) : ''}`
    : html`<p class="hint">${t.t('adminAccess.users.hint.externalPassword')}</p>`
}
${submitRow(t.t('action.save'))}</form></section>
</div>
<section aria-labelledby="teams-title"><h2 id="teams-title">${t.t('adminAccess.users.teams')}</h2>
${
  memberships.length
    ? html`<ul>${memberships.map((m) => html`<li><a class="mono" href="${adminHref(ctx, `/teams/${seg(m.team)}`)}">${m.team}</a> ${m.link}</li>`)}</ul>`
    : html`<p class="empty">${t.t('adminAccess.users.noTeams')}</p>`
}
${formAlert(ctx, state, 'team')}
<form class="toolbar" method="post" action="${userHref(ctx, name, '/teams')}">${csrfField(ctx)}
<label for="add-team">${t.t('adminAccess.users.addToTeam')}</label>
<input id="add-team" name="team" required list="team-names" autocomplete="off" value="${state?.form === 'team' ? (state.values?.get('team') ?? '') : ''}"${state?.form === 'team' ? html` aria-invalid="true"` : ''}>
<datalist id="team-names">${allTeams.map((tm) => html`<option value="${tm.name}"></option>`)}</datalist>
<button type="submit" class="btn">${t.t('adminAccess.users.addToTeamSubmit')}</button></form>
</section>
<section aria-labelledby="grants-title"><div class="page-head"><h2 id="grants-title">${t.t('adminAccess.users.grants')}</h2><div class="actions"><a class="btn btn-small" href="${adminHref(ctx, `/permissions${query({ subjectKind: 'user', subject: name })}#grant`)}">${t.t('adminAccess.permissions.grantFor')}</a></div></div>
${grantsPart}</section>
<section aria-labelledby="tokens-title"><h2 id="tokens-title">${t.t('adminAccess.users.tokens')}</h2>${tokensPart}</section>
${
  isSelf
    ? ''
    : html`<section class="card" aria-labelledby="danger-title"><h2 id="danger-title">${t.t('adminAccess.dangerZone')}</h2><p>${t.t('adminAccess.users.deleteHint')}</p>${confirmLink(del)}</section>${confirmDialog(ctx, del)}`
}
${memberships.map((m) => m.dialog)}`;
  return adminLayout(ctx, user.name, body, { flash, crumbs: [[t.t('adminAccess.users.title'), adminHref(ctx, '/users')]] });
}

async function updateUser(ctx: PageContext, name: string, form: URLSearchParams): Promise<AdminOutcome> {
  const { t } = ctx;
  const store = accessOf(ctx).store;
  const user = await store.users.get(name);
  if (!user) throw new NotFound();
  // Only what changed: an unchanged checkbox must not count as a change (e.g. an administrator
  // from the configuration whose row does not say admin).
  const changes: UserUpdateInput = {};
  const displayName = text(form, 'displayName') ?? null;
  if (displayName !== user.displayName) changes.displayName = displayName;
  const email = text(form, 'email') ?? null;
  if (email !== user.email) changes.email = email;
  if (form.has('admin') !== user.admin) changes.admin = form.has('admin');
  if (form.has('disabled') !== user.disabled) changes.disabled = form.has('disabled');
  const password = form.get('password') ?? '';
  if (password !== '') changes.password = password;
  else if (form.has('removePassword') && user.hasPassword) changes.password = null;
  const self = userHref(ctx, name);
  if (Object.keys(changes).length === 0) return { location: self, notice: t.t('adminAccess.nothingChanged') };
  const fail = async (s: Omit<FormState, 'form' | 'values'>, status = 400): Promise<AdminOutcome> => ({ html: await userPage(ctx, name, undefined, { form: 'edit', values: withoutPassword(form), ...s }), status });
  const parsed = check(updateUserSchema, changes);
  if (!parsed.ok) return fail({ fields: fieldMessages(ctx, parsed.fields, FIELDS) });
  try {
    await updateUserAccount(actorOf(ctx), name, parsed.data);
  } catch (e) {
    const r = ruleMessage(ctx, e);
    return fail({ error: r.message }, r.status);
  }
  return { location: self, notice: t.t('adminAccess.users.saved', { name }) };
}

async function addToTeam(ctx: PageContext, name: string, form: URLSearchParams): Promise<AdminOutcome> {
  const { t } = ctx;
  const team = text(form, 'team', 100) ?? '';
  const fail = async (error: string, status = 400): Promise<AdminOutcome> => ({ html: await userPage(ctx, name, undefined, { form: 'team', values: form, error }), status });
  if (!teamName.safeParse(team).success) return fail(t.t('adminAccess.teams.invalid.name'));
  try {
    const result = await addTeamMember(actorOf(ctx), team, name);
    return { location: userHref(ctx, name), notice: t.t(result === 'added' ? 'adminAccess.teams.memberAdded' : 'adminAccess.teams.memberExists', { user: name, team }) };
  } catch (e) {
    const r = ruleMessage(ctx, e);
    return fail(r.message, r.status);
  }
}

async function confirmDeleteUser(ctx: PageContext, name: string): Promise<Html> {
  const { t } = ctx;
  if (!(await accessOf(ctx).store.users.get(name))) throw new NotFound();
  return confirmPage(ctx, {
    href: userHref(ctx, name, '/delete'),
    title: t.t('adminAccess.users.deleteTitle', { name }),
    body: html`<p>${t.t('adminAccess.users.deleteBody')}</p>`,
    confirm: t.t('adminAccess.users.delete'),
    cancel: userHref(ctx, name),
    crumbs: [[t.t('adminAccess.users.title'), adminHref(ctx, '/users')]],
  });
}

async function deleteUser(ctx: PageContext, name: string): Promise<AdminOutcome> {
  const { t } = ctx;
  try {
    await deleteUserAccount(actorOf(ctx), name);
  } catch (e) {
    return { location: userHref(ctx, name), notice: ruleMessage(ctx, e).message, error: true };
  }
  return { location: adminHref(ctx, '/users'), notice: t.t('adminAccess.users.deleted', { name }) };
}
