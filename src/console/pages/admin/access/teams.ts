// /ui/admin/teams: teams (organizations), their members and grants. A team may be tied to an LDAP
// group: the group sync owns those memberships, so removing one needs an explicit "force" (the
// next sync would add it back otherwise). Same operations as the admin API's /teams.
import { html, type Html } from '../../../html.ts';
import { csrfField, type Flash, type PageContext } from '../../../page.ts';
import { NotFound } from '../../../errors.ts';
import { timeCell, timeText } from '../../fragments.ts';
import { createTeam as createTeamSchema, teamName, updateTeam as updateTeamSchema, userName } from '../../../../auth/access/admin/schemas.ts';
import { addTeamMember, createTeamRecord, deleteTeamRecord, removeTeamMember, updateTeamRecord } from '../../../../auth/access/admin/operations.ts';
import type { MemberRecord } from '../../../../metadata/access/store.ts';
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
  safeBack,
  seg,
  submitRow,
  text,
  textareaField,
  type AdminOutcome,
  type FormState,
} from './shared.ts';
import { loadNameList, nameSearchForm } from './name-list.ts';
import { grantsTable } from './permissions.ts';

const FIELDS = {
  name: 'adminAccess.teams.invalid.name',
  description: 'adminAccess.teams.invalid.description',
  ldapGroup: 'adminAccess.teams.invalid.ldapGroup',
} as const;

export async function teamsArea(ctx: PageContext, rest: string[], form: URLSearchParams | undefined, flash: Flash | undefined): Promise<AdminOutcome> {
  if (rest.length === 0) return form ? createTeam(ctx, form) : { html: await teamsPage(ctx, flash) };
  const name = rest[0];
  if (!teamName.safeParse(name).success) throw new NotFound();
  if (rest.length === 1) return form ? updateTeam(ctx, name, form) : { html: await teamPage(ctx, name, flash) };
  if (rest.length === 2 && rest[1] === 'delete') return form ? deleteTeam(ctx, name) : { html: await confirmDeleteTeam(ctx, name) };
  if (rest.length === 2 && rest[1] === 'members' && form) return addMember(ctx, name, form);
  if (rest.length === 4 && rest[1] === 'members' && rest[3] === 'remove') {
    const user = rest[2];
    if (!userName.safeParse(user).success) throw new NotFound();
    return form ? removeMember(ctx, name, user, form) : { html: await confirmRemoveMember(ctx, name, user) };
  }
  throw new NotFound();
}

const teamHref = (ctx: PageContext, name: string, rest = '') => adminHref(ctx, `/teams/${seg(name)}${rest}`);

export async function teamsPage(ctx: PageContext, flash?: Flash, state?: FormState): Promise<Html> {
  const { t } = ctx;
  const store = accessOf(ctx).store;
  const { q, rows, pager } = await loadNameList(ctx, '/teams', (o) => store.teams.list(o));
  const body = html`<div class="page-head"><h1>${t.t('adminAccess.teams.title')}</h1><p class="muted">${t.t('adminAccess.teams.intro')}</p></div>
${nameSearchForm(ctx, { path: '/teams', id: 'team-q', label: t.t('adminAccess.teams.search'), filter: 'teams', q })}
${
  rows.length === 0
    ? html`<p class="empty">${q ? t.t('adminAccess.teams.noMatch') : t.t('adminAccess.teams.none')}</p>`
    : html`<div class="table-wrap"><table class="data" id="teams" data-sortable>
<caption class="visually-hidden">${t.t('adminAccess.teams.title')}</caption>
<thead><tr><th scope="col" data-sort="text" aria-sort="ascending">${t.t('adminAccess.teams.col.name')}</th><th scope="col" data-sort="text" aria-sort="none">${t.t('adminAccess.teams.col.description')}</th><th scope="col" data-sort="text" aria-sort="none">${t.t('adminAccess.teams.col.ldapGroup')}</th><th scope="col" data-sort="date" aria-sort="none">${t.t('adminAccess.created')}</th></tr></thead>
<tbody>${rows.map(
        (tm) => html`<tr><th scope="row"><a class="mono" href="${teamHref(ctx, tm.name)}">${tm.name}</a></th><td class="truncate">${tm.description ?? ''}</td><td class="mono">${tm.ldapGroup ?? ''}</td>${timeCell(ctx, tm.createdAt.getTime())}</tr>`,
      )}</tbody></table></div>`
}
${pager}
<section class="card" aria-labelledby="new-team-title"><h2 id="new-team-title">${t.t('adminAccess.teams.new')}</h2>
${formAlert(ctx, state, 'new')}
<form class="stack" method="post" action="${adminHref(ctx, '/teams')}">${csrfField(ctx)}
${inputField({ id: 'nt-name', name: 'name', label: t.t('adminAccess.teams.field.name'), hint: t.t('adminAccess.teams.hint.name'), required: true, maxlength: 64, state, form: 'new' })}
${textareaField({ id: 'nt-description', name: 'description', label: t.t('adminAccess.teams.field.description'), maxlength: 1000, state, form: 'new' })}
${inputField({ id: 'nt-ldap', name: 'ldapGroup', label: t.t('adminAccess.teams.field.ldapGroup'), hint: t.t('adminAccess.teams.hint.ldapGroup'), maxlength: 1000, state, form: 'new' })}
${submitRow(t.t('adminAccess.teams.create'))}</form></section>`;
  return adminLayout(ctx, t.t('adminAccess.teams.title'), body, { flash });
}

async function createTeam(ctx: PageContext, form: URLSearchParams): Promise<AdminOutcome> {
  const { t } = ctx;
  const input = { name: text(form, 'name', 200) ?? '', description: text(form, 'description', 2000) ?? null, ldapGroup: text(form, 'ldapGroup', 2000) ?? null };
  const fail = async (s: Omit<FormState, 'form' | 'values'>, status = 400): Promise<AdminOutcome> => ({ html: await teamsPage(ctx, undefined, { form: 'new', values: form, ...s }), status });
  const parsed = check(createTeamSchema, input);
  if (!parsed.ok) return fail({ fields: fieldMessages(ctx, parsed.fields, FIELDS) });
  try {
    const team = await createTeamRecord(actorOf(ctx), parsed.data);
    return { location: teamHref(ctx, team.name), notice: t.t('adminAccess.teams.created', { name: team.name }) };
  } catch (e) {
    const r = ruleMessage(ctx, e);
    return fail({ error: r.message }, r.status);
  }
}

function removeConfirmation(ctx: PageContext, team: string, m: MemberRecord, id: string, back: string) {
  const { t } = ctx;
  return {
    id,
    href: teamHref(ctx, team, `/members/${seg(m.user)}/remove`),
    label: t.t('adminAccess.teams.removeMember'),
    target: m.user,
    title: t.t('adminAccess.teams.removeTitle', { user: m.user, team }),
    body: m.ldapSync
      ? html`<p>${t.t('adminAccess.teams.removeLdapBody')}</p>${checkField({ id: `${id}-force`, name: 'force', label: t.t('adminAccess.teams.force'), checked: false, form: 'remove' })}`
      : html`<p>${t.t('adminAccess.teams.removeBody')}</p>`,
    confirm: t.t('adminAccess.teams.removeConfirm'),
    hidden: { back },
  };
}

export async function teamPage(ctx: PageContext, name: string, flash?: Flash, state?: FormState): Promise<Html> {
  const { t } = ctx;
  const store = accessOf(ctx).store;
  const team = await store.teams.get(name);
  if (!team) throw new NotFound();
  const [members, grants, users] = await Promise.all([store.teams.members(name), store.permissions.list({ subject: { kind: 'team', name } }), store.users.list({ limit: 500 })]);
  const self = teamHref(ctx, name);
  const removals = (members ?? []).map((m, i) => removeConfirmation(ctx, name, m, `remove-${i}`, self));
  const del = {
    id: 'delete-team',
    href: teamHref(ctx, name, '/delete'),
    label: t.t('adminAccess.teams.delete'),
    title: t.t('adminAccess.teams.deleteTitle', { name }),
    body: html`<p>${t.t('adminAccess.teams.deleteBody')}</p>`,
    confirm: t.t('adminAccess.teams.delete'),
    small: false,
  };
  const body = html`<div class="page-head"><h1 class="heading-mono">${team.name}</h1>${team.ldapGroup ? html`<div class="actions"><span class="badge badge-muted">${t.t('adminAccess.teams.ldapLinked')}</span></div>` : ''}</div>
<div class="grid grid-start">
<section class="card" aria-labelledby="about-title"><h2 id="about-title">${t.t('adminAccess.teams.about')}</h2><dl class="props">
<dt>${t.t('adminAccess.teams.field.description')}</dt><dd>${team.description ?? html`<span class="muted">-</span>`}</dd>
<dt>${t.t('adminAccess.teams.field.ldapGroup')}</dt><dd class="mono">${team.ldapGroup ?? html`<span class="muted">-</span>`}</dd>
<dt>${t.t('adminAccess.created')}</dt><dd>${timeText(ctx, team.createdAt.getTime())}</dd>
<dt>${t.t('adminAccess.updated')}</dt><dd>${timeText(ctx, team.updatedAt.getTime())}</dd>
</dl></section>
<section class="card" aria-labelledby="edit-title"><h2 id="edit-title">${t.t('adminAccess.teams.edit')}</h2>
${formAlert(ctx, state, 'edit')}
<form class="stack" method="post" action="${self}">${csrfField(ctx)}
${textareaField({ id: 'et-description', name: 'description', label: t.t('adminAccess.teams.field.description'), value: team.description ?? '', maxlength: 1000, state, form: 'edit' })}
${inputField({ id: 'et-ldap', name: 'ldapGroup', label: t.t('adminAccess.teams.field.ldapGroup'), hint: t.t('adminAccess.teams.hint.ldapGroup'), value: team.ldapGroup ?? '', maxlength: 1000, state, form: 'edit' })}
${submitRow(t.t('action.save'))}</form></section>
</div>
<section aria-labelledby="members-title"><h2 id="members-title">${t.t('adminAccess.teams.members', { n: members?.length ?? 0 })}</h2>
${
  members?.length
    ? html`<div class="table-wrap"><table class="data" id="members" data-sortable>
<caption class="visually-hidden">${t.t('adminAccess.teams.membersCaption', { team: name })}</caption>
<thead><tr><th scope="col" data-sort="text" aria-sort="ascending">${t.t('adminAccess.teams.col.user')}</th><th scope="col" data-sort="text" aria-sort="none">${t.t('adminAccess.users.col.displayName')}</th><th scope="col">${t.t('adminAccess.teams.col.managedBy')}</th><th scope="col" data-sort="date" aria-sort="none">${t.t('adminAccess.teams.col.added')}</th><th scope="col"><span class="visually-hidden">${t.t('adminAccess.col.actions')}</span></th></tr></thead>
<tbody>${members.map(
        (m, i) => html`<tr><th scope="row"><a class="mono" href="${adminHref(ctx, `/users/${seg(m.user)}`)}">${m.user}</a></th><td>${m.displayName ?? ''}</td><td>${m.ldapSync ? html`<span class="badge badge-muted">${t.t('adminAccess.teams.byLdap')}</span>` : t.t('adminAccess.teams.byHand')}</td>${timeCell(ctx, m.addedAt.getTime())}<td>${confirmLink(removals[i])}</td></tr>`,
      )}</tbody></table></div>`
    : html`<p class="empty">${t.t('adminAccess.teams.noMembers')}</p>`
}
${formAlert(ctx, state, 'member')}
<form class="toolbar" method="post" action="${teamHref(ctx, name, '/members')}">${csrfField(ctx)}
<label for="add-member">${t.t('adminAccess.teams.addMember')}</label>
<input id="add-member" name="user" required list="user-names" autocomplete="off" value="${state?.form === 'member' ? (state.values?.get('user') ?? '') : ''}"${state?.form === 'member' ? html` aria-invalid="true"` : ''}>
<datalist id="user-names">${users.map((u) => html`<option value="${u.name}"></option>`)}</datalist>
<button type="submit" class="btn">${t.t('adminAccess.teams.addMemberSubmit')}</button></form>
</section>
<section aria-labelledby="grants-title"><div class="page-head"><h2 id="grants-title">${t.t('adminAccess.teams.grants')}</h2><div class="actions"><a class="btn btn-small" href="${adminHref(ctx, `/permissions${query({ subjectKind: 'team', subject: name })}#grant`)}">${t.t('adminAccess.permissions.grantFor')}</a></div></div>
${await grantsTable(ctx, grants, { caption: t.t('adminAccess.teams.grants'), back: self, idPrefix: 'tg' })}</section>
<section class="card" aria-labelledby="danger-title"><h2 id="danger-title">${t.t('adminAccess.dangerZone')}</h2><p>${t.t('adminAccess.teams.deleteHint')}</p>${confirmLink(del)}</section>
${confirmDialog(ctx, del)}${removals.map((c) => confirmDialog(ctx, c))}`;
  return adminLayout(ctx, team.name, body, { flash, crumbs: [[t.t('adminAccess.teams.title'), adminHref(ctx, '/teams')]] });
}

async function updateTeam(ctx: PageContext, name: string, form: URLSearchParams): Promise<AdminOutcome> {
  const { t } = ctx;
  const input = { description: text(form, 'description', 2000) ?? null, ldapGroup: text(form, 'ldapGroup', 2000) ?? null };
  const fail = async (s: Omit<FormState, 'form' | 'values'>, status = 400): Promise<AdminOutcome> => ({ html: await teamPage(ctx, name, undefined, { form: 'edit', values: form, ...s }), status });
  const parsed = check(updateTeamSchema, input);
  if (!parsed.ok) return fail({ fields: fieldMessages(ctx, parsed.fields, FIELDS) });
  try {
    await updateTeamRecord(actorOf(ctx), name, parsed.data);
  } catch (e) {
    const r = ruleMessage(ctx, e);
    return fail({ error: r.message }, r.status);
  }
  return { location: teamHref(ctx, name), notice: t.t('adminAccess.teams.saved', { name }) };
}

async function addMember(ctx: PageContext, name: string, form: URLSearchParams): Promise<AdminOutcome> {
  const { t } = ctx;
  const user = text(form, 'user', 200) ?? '';
  const fail = async (error: string, status = 400): Promise<AdminOutcome> => ({ html: await teamPage(ctx, name, undefined, { form: 'member', values: form, error }), status });
  if (!userName.safeParse(user).success) return fail(t.t('adminAccess.users.invalid.name'));
  try {
    const result = await addTeamMember(actorOf(ctx), name, user);
    return { location: teamHref(ctx, name), notice: t.t(result === 'added' ? 'adminAccess.teams.memberAdded' : 'adminAccess.teams.memberExists', { user, team: name }) };
  } catch (e) {
    const r = ruleMessage(ctx, e);
    return fail(r.message, r.status);
  }
}

async function confirmRemoveMember(ctx: PageContext, team: string, user: string): Promise<Html> {
  const { t } = ctx;
  const members = await accessOf(ctx).store.teams.members(team);
  const m = members?.find((x) => x.user === user);
  if (!m) throw new NotFound();
  const back = safeBack(ctx, ctx.url.searchParams.get('back'), teamHref(ctx, team));
  const c = removeConfirmation(ctx, team, m, 'remove', back);
  return confirmPage(ctx, { ...c, cancel: back, crumbs: [[t.t('adminAccess.teams.title'), adminHref(ctx, '/teams')], [team, teamHref(ctx, team)]] });
}

async function removeMember(ctx: PageContext, team: string, user: string, form: URLSearchParams): Promise<AdminOutcome> {
  const { t } = ctx;
  const back = safeBack(ctx, form.get('back'), teamHref(ctx, team));
  try {
    await removeTeamMember(actorOf(ctx), team, user, form.has('force'));
  } catch (e) {
    return { location: back, notice: ruleMessage(ctx, e).message, error: true };
  }
  return { location: back, notice: t.t('adminAccess.teams.memberRemoved', { user, team }) };
}

async function confirmDeleteTeam(ctx: PageContext, name: string): Promise<Html> {
  const { t } = ctx;
  if (!(await accessOf(ctx).store.teams.get(name))) throw new NotFound();
  return confirmPage(ctx, {
    href: teamHref(ctx, name, '/delete'),
    title: t.t('adminAccess.teams.deleteTitle', { name }),
    body: html`<p>${t.t('adminAccess.teams.deleteBody')}</p>`,
    confirm: t.t('adminAccess.teams.delete'),
    cancel: teamHref(ctx, name),
    crumbs: [[t.t('adminAccess.teams.title'), adminHref(ctx, '/teams')]],
  });
}

async function deleteTeam(ctx: PageContext, name: string): Promise<AdminOutcome> {
  const { t } = ctx;
  try {
    await deleteTeamRecord(actorOf(ctx), name);
  } catch (e) {
    return { location: adminHref(ctx, '/teams'), notice: ruleMessage(ctx, e).message, error: true };
  }
  return { location: adminHref(ctx, '/teams'), notice: t.t('adminAccess.teams.deleted', { name }) };
}
