// /ui/admin/robots: robot accounts (`robot$<name>`) for CI and deployments. Each belongs to one
// namespace and holds roles inside it only (up to delete). The secret is in the answer to the
// creating (or rotating) POST only. Same operations as the admin API's /robots.
import { html, type Html } from '../../../html.ts';
import { csrfField, type Flash, type PageContext } from '../../../page.ts';
import { NotFound } from '../../../errors.ts';
import { timeCell, timeText } from '../../fragments.ts';
import { createRobot as createRobotSchema, namespaceName, robotName, updateRobot as updateRobotSchema } from '../../../../auth/access/admin/schemas.ts';
import { createRobotAccount, deleteRobotAccount, mayCreateCredentials, rotateRobotSecret, updateRobotAccount } from '../../../../auth/access/admin/operations.ts';
import { ROBOT_PREFIX } from '../../../../auth/access/controller.ts';
import type { RobotRecord } from '../../../../metadata/access/store.ts';
import { registryHost } from '../../../pull-commands.ts';
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
  dateInputValue,
  endOfDay,
  fieldMessages,
  formAlert,
  inputField,
  query,
  roleOptions,
  ruleMessage,
  secretPanel,
  seg,
  submitRow,
  text,
  textareaField,
  type AdminOutcome,
  type FormState,
} from './shared.ts';
import { grantsTable } from './permissions.ts';

/** Permission rows on the creation form (empty ones are ignored; more can be granted later). */
const PERMISSION_ROWS = 3;

const FIELDS = {
  name: 'adminAccess.robots.invalid.name',
  namespace: 'adminAccess.robots.invalid.namespace',
  description: 'adminAccess.robots.invalid.description',
  expires: 'adminAccess.invalid.expiry',
  permissions: 'adminAccess.robots.invalid.permissions',
} as const;

export async function robotsArea(ctx: PageContext, rest: string[], form: URLSearchParams | undefined, flash: Flash | undefined): Promise<AdminOutcome> {
  if (rest.length === 0) return form ? createRobot(ctx, form) : { html: await robotsPage(ctx, flash) };
  const raw = rest[0];
  const name = raw.startsWith(ROBOT_PREFIX) ? raw.slice(ROBOT_PREFIX.length) : raw;
  if (!robotName.safeParse(name).success) throw new NotFound();
  const robot = await accessOf(ctx).store.robots.get(name);
  if (!robot) throw new NotFound();
  if (rest.length === 1) return form ? updateRobot(ctx, robot, form) : { html: await robotPage(ctx, robot, flash) };
  if (rest.length === 2 && rest[1] === 'rotate') return form ? rotate(ctx, robot) : { html: await confirmRotate(ctx, robot) };
  if (rest.length === 2 && rest[1] === 'delete') return form ? deleteRobot(ctx, robot) : { html: await confirmDelete(ctx, robot) };
  throw new NotFound();
}

const robotHref = (ctx: PageContext, name: string, rest = '') => adminHref(ctx, `/robots/${seg(`${ROBOT_PREFIX}${name}`)}${rest}`);
const fullName = (r: RobotRecord) => `${ROBOT_PREFIX}${r.name}`;

function statusBadge(ctx: PageContext, r: RobotRecord, now = Date.now()): Html {
  const { t } = ctx;
  if (r.disabled) return html`<span class="badge badge-danger">${t.t('adminAccess.robots.state.disabled')}</span>`;
  if (r.expiresAt && r.expiresAt.getTime() <= now) return html`<span class="badge badge-warn">${t.t('adminAccess.robots.state.expired')}</span>`;
  return html`<span class="badge badge-ok">${t.t('adminAccess.robots.state.active')}</span>`;
}

function loginCommand(ctx: PageContext, r: RobotRecord): string {
  // Single quotes: the shell must not expand `$` in the name.
  return `docker login ${registryHost(ctx)} -u '${fullName(r)}' --password-stdin`;
}

async function robotsPage(ctx: PageContext, flash?: Flash, state?: FormState, created?: Html): Promise<Html> {
  const { t } = ctx;
  const store = accessOf(ctx).store;
  const ns = ctx.url.searchParams.get('namespace')?.trim() || undefined;
  const badNs = ns !== undefined && !namespaceName.safeParse(ns).success;
  const rows = badNs ? [] : await store.robots.list(ns ? { namespace: ns } : {});
  const now = Date.now();
  const roleRows = Array.from({ length: PERMISSION_ROWS }, (_, i) => i);
  const permValue = (field: string, i: number, fallback: string) => (state?.form === 'new' && state.values ? (state.values.getAll(field)[i] ?? '') : fallback);
  const body = html`<div class="page-head"><h1>${t.t('adminAccess.robots.title')}</h1><p class="muted">${t.t('adminAccess.robots.intro')}</p></div>
${created ?? ''}
<form class="toolbar" method="get" action="${adminHref(ctx, '/robots')}" role="search">
<label for="robot-ns">${t.t('adminAccess.robots.field.namespace')}</label><input id="robot-ns" name="namespace" value="${ns ?? ''}" autocomplete="off"${badNs ? html` aria-invalid="true"` : ''}>
<button type="submit" class="btn">${t.t('adminAccess.applyFilter')}</button>${ns ? html` <a class="btn btn-link" href="${adminHref(ctx, '/robots')}">${t.t('adminAccess.clearFilter')}</a>` : ''}</form>
${badNs ? alertBox(t.t(FIELDS.namespace)) : ''}
${
  rows.length === 0
    ? html`<p class="empty">${t.t('adminAccess.robots.none')}</p>`
    : html`<div class="table-wrap"><table class="data" id="robots" data-sortable>
<caption class="visually-hidden">${t.t('adminAccess.robots.title')}</caption>
<thead><tr><th scope="col" data-sort="text" aria-sort="ascending">${t.t('adminAccess.robots.col.name')}</th><th scope="col" data-sort="text" aria-sort="none">${t.t('adminAccess.robots.field.namespace')}</th><th scope="col">${t.t('adminAccess.robots.field.description')}</th><th scope="col" data-sort="text" aria-sort="none">${t.t('adminAccess.robots.col.state')}</th><th scope="col" data-sort="date" aria-sort="none">${t.t('adminAccess.field.expires')}</th><th scope="col" data-sort="date" aria-sort="none">${t.t('adminAccess.robots.col.lastUsed')}</th><th scope="col">${t.t('adminAccess.robots.col.createdBy')}</th></tr></thead>
<tbody>${rows.map(
        (r) => html`<tr><th scope="row"><a class="mono" href="${robotHref(ctx, r.name)}">${fullName(r)}</a></th><td class="mono">${r.namespace}</td><td class="truncate">${r.description ?? ''}</td><td>${statusBadge(ctx, r, now)}</td>${r.expiresAt ? timeCell(ctx, r.expiresAt.getTime()) : html`<td data-value=""><span class="muted">${t.t('adminAccess.neverExpires')}</span></td>`}${timeCell(ctx, r.lastUsedAt?.getTime())}<td>${r.createdBy ?? ''}</td></tr>`,
      )}</tbody></table></div>`
}
<section class="card" aria-labelledby="new-robot-title"><h2 id="new-robot-title">${t.t('adminAccess.robots.new')}</h2>
${
  mayCreateCredentials(ctx.viewer.principal)
    ? html`${formAlert(ctx, state, 'new')}
<form class="stack" method="post" action="${adminHref(ctx, '/robots')}">${csrfField(ctx)}
${inputField({ id: 'nr-name', name: 'name', label: t.t('adminAccess.robots.field.name'), hint: t.t('adminAccess.robots.hint.name'), required: true, maxlength: 70, state, form: 'new' })}
${inputField({ id: 'nr-namespace', name: 'namespace', label: t.t('adminAccess.robots.field.namespace'), hint: t.t('adminAccess.robots.hint.namespace'), value: ns ?? '', required: true, maxlength: 255, state, form: 'new' })}
${textareaField({ id: 'nr-description', name: 'description', label: t.t('adminAccess.robots.field.description'), maxlength: 1000, state, form: 'new' })}
${inputField({ id: 'nr-expires', name: 'expires', type: 'date', label: t.t('adminAccess.field.expires'), hint: t.t('adminAccess.hint.expires'), state, form: 'new' })}
<fieldset><legend>${t.t('adminAccess.robots.permissions')}</legend><p class="hint">${t.t('adminAccess.robots.hint.permissions')}</p>
${state?.form === 'new' && state.fields?.permissions ? html`<p class="field-error">${state.fields.permissions}</p>` : ''}
<div class="table-wrap"><table class="data"><caption class="visually-hidden">${t.t('adminAccess.robots.permissions')}</caption>
<thead><tr><th scope="col">${t.t('adminAccess.permissions.field.scopeKind')}</th><th scope="col">${t.t('adminAccess.robots.field.scopeName')}</th><th scope="col">${t.t('adminAccess.permissions.field.role')}</th></tr></thead>
<tbody>${roleRows.map((i) => {
        const kind = permValue('permKind', i, 'namespace');
        const role = permValue('permRole', i, i === 0 ? 'read' : '');
        return html`<tr><td><label class="visually-hidden" for="pk-${i}">${t.t('adminAccess.robots.rowKind', { n: i + 1 })}</label><select id="pk-${i}" name="permKind"><option value="namespace"${kind === 'namespace' ? html` selected` : ''}>${t.t('adminAccess.scope.namespace')}</option><option value="repository"${kind === 'repository' ? html` selected` : ''}>${t.t('adminAccess.scope.repository')}</option></select></td>
<td><label class="visually-hidden" for="pn-${i}">${t.t('adminAccess.robots.rowName', { n: i + 1 })}</label><input id="pn-${i}" name="permName" maxlength="255" autocomplete="off" value="${permValue('permName', i, '')}" placeholder="${t.t('adminAccess.robots.scopePlaceholder')}"></td>
<td><label class="visually-hidden" for="pr-${i}">${t.t('adminAccess.robots.rowRole', { n: i + 1 })}</label><select id="pr-${i}" name="permRole"><option value=""${role === '' ? html` selected` : ''}>${t.t('adminAccess.robots.noRole')}</option>${roleOptions(ctx, ['read', 'write', 'delete']).map(
          ([v, label]) => html`<option value="${v}"${role === v ? html` selected` : ''}>${label}</option>`,
        )}</select></td></tr>`;
      })}</tbody></table></div></fieldset>
${submitRow(t.t('adminAccess.robots.create'))}</form>`
    : html`<p class="muted">${t.t('adminAccess.tokens.cannotCreate')}</p>`
}</section>`;
  return adminLayout(ctx, t.t('adminAccess.robots.title'), body, { flash });
}

async function createRobot(ctx: PageContext, form: URLSearchParams): Promise<AdminOutcome> {
  const { t } = ctx;
  const fail = async (s: Omit<FormState, 'form' | 'values'>, status = 400): Promise<AdminOutcome> => ({ html: await robotsPage(ctx, undefined, { form: 'new', values: form, ...s }), status });
  if (!mayCreateCredentials(ctx.viewer.principal)) return fail({ error: t.t('adminAccess.tokens.cannotCreate') }, 403);
  const namespace = text(form, 'namespace', 300) ?? '';
  const kinds = form.getAll('permKind');
  const names = form.getAll('permName');
  const roles = form.getAll('permRole');
  const permissions: { namespace?: string; repository?: string; role: string }[] = [];
  for (let i = 0; i < Math.min(roles.length, PERMISSION_ROWS); i++) {
    const role = roles[i] ?? '';
    if (!role) continue;
    // An empty name is the robot's whole namespace, whatever the row's kind says.
    const name = (names[i] ?? '').trim();
    permissions.push(name && kinds[i] === 'repository' ? { repository: name, role } : { namespace: name || namespace, role });
  }
  const expires = endOfDay(text(form, 'expires', 20));
  const input = {
    name: text(form, 'name', 200) ?? '',
    namespace,
    description: text(form, 'description', 2000) ?? null,
    ...(expires !== undefined && expires !== false && { expiresAt: expires }),
    permissions,
  };
  const parsed = check(createRobotSchema, input);
  const fields = parsed.ok ? [] : parsed.fields.map((f) => (f === 'expiresAt' ? 'expires' : f));
  if (expires === false) fields.push('expires');
  if (!parsed.ok || fields.length) return fail({ fields: fieldMessages(ctx, [...new Set(fields)], FIELDS) });
  let outcome: Awaited<ReturnType<typeof createRobotAccount>>;
  try {
    outcome = await createRobotAccount(actorOf(ctx), parsed.data);
  } catch (e) {
    const r = ruleMessage(ctx, e);
    return fail({ error: r.message }, r.status);
  }
  const { robot, secret } = outcome;
  const panel = secretPanel(ctx, { title: t.t('adminAccess.robots.createdTitle', { name: fullName(robot) }), user: fullName(robot), secret, login: loginCommand(ctx, robot) });
  return { html: await robotsPage(ctx, { kind: 'notice', text: t.t('adminAccess.robots.created', { name: fullName(robot) }) }, undefined, panel), status: 200 };
}

async function robotPage(ctx: PageContext, robot: RobotRecord, flash?: Flash, state?: FormState, created?: Html): Promise<Html> {
  const { t } = ctx;
  const grants = await accessOf(ctx).store.permissions.list({ subject: { kind: 'robot', name: robot.name } });
  const self = robotHref(ctx, robot.name);
  const rotateC = {
    id: 'rotate-robot',
    href: robotHref(ctx, robot.name, '/rotate'),
    label: t.t('adminAccess.robots.rotate'),
    title: t.t('adminAccess.robots.rotateTitle', { name: fullName(robot) }),
    body: html`<p>${t.t('adminAccess.robots.rotateBody')}</p>`,
    confirm: t.t('adminAccess.robots.rotate'),
    small: false,
  };
  const deleteC = {
    id: 'delete-robot',
    href: robotHref(ctx, robot.name, '/delete'),
    label: t.t('adminAccess.robots.delete'),
    title: t.t('adminAccess.robots.deleteTitle', { name: fullName(robot) }),
    body: html`<p>${t.t('adminAccess.robots.deleteBody')}</p>`,
    confirm: t.t('adminAccess.robots.delete'),
    small: false,
  };
  const body = html`<div class="page-head"><h1 class="heading-mono">${fullName(robot)}</h1><div class="actions">${statusBadge(ctx, robot)}</div></div>
${created ?? ''}
<div class="grid grid-start">
<section class="card" aria-labelledby="about-title"><h2 id="about-title">${t.t('adminAccess.robots.about')}</h2><dl class="props">
<dt>${t.t('adminAccess.robots.field.namespace')}</dt><dd class="mono">${robot.namespace}</dd>
<dt>${t.t('adminAccess.robots.field.description')}</dt><dd>${robot.description ?? html`<span class="muted">-</span>`}</dd>
<dt>${t.t('adminAccess.robots.col.hint')}</dt><dd class="mono">${robot.hint}…</dd>
<dt>${t.t('adminAccess.field.expires')}</dt><dd>${robot.expiresAt ? timeText(ctx, robot.expiresAt.getTime()) : t.t('adminAccess.neverExpires')}</dd>
<dt>${t.t('adminAccess.robots.col.lastUsed')}</dt><dd>${timeText(ctx, robot.lastUsedAt?.getTime())}</dd>
<dt>${t.t('adminAccess.created')}</dt><dd>${timeText(ctx, robot.createdAt.getTime())}${robot.createdBy ? html` <span class="muted">${t.t('adminAccess.by', { name: robot.createdBy })}</span>` : ''}</dd>
<dt>${t.t('adminAccess.robots.rotated')}</dt><dd>${timeText(ctx, robot.rotatedAt?.getTime())}</dd>
</dl></section>
<section class="card" aria-labelledby="edit-title"><h2 id="edit-title">${t.t('adminAccess.robots.edit')}</h2>
${formAlert(ctx, state, 'edit')}
<form class="stack" method="post" action="${self}">${csrfField(ctx)}
${textareaField({ id: 'er-description', name: 'description', label: t.t('adminAccess.robots.field.description'), value: robot.description ?? '', maxlength: 1000, state, form: 'edit' })}
${inputField({ id: 'er-expires', name: 'expires', type: 'date', label: t.t('adminAccess.field.expires'), hint: t.t('adminAccess.hint.expires'), value: dateInputValue(robot.expiresAt), state, form: 'edit' })}
${checkField({ id: 'er-disabled', name: 'disabled', label: t.t('adminAccess.robots.field.disabled'), hint: t.t('adminAccess.robots.hint.disabled'), checked: robot.disabled, state, form: 'edit' })}
${submitRow(t.t('action.save'))}</form></section>
</div>
<section aria-labelledby="grants-title"><div class="page-head"><h2 id="grants-title">${t.t('adminAccess.robots.permissions')}</h2><div class="actions"><a class="btn btn-small" href="${adminHref(ctx, `/permissions${query({ subjectKind: 'robot', subject: fullName(robot), scopeKind: 'namespace', scope: robot.namespace })}#grant`)}">${t.t('adminAccess.permissions.grantFor')}</a></div></div>
${await grantsTable(ctx, grants, { caption: t.t('adminAccess.robots.permissions'), back: self, idPrefix: 'rg' })}</section>
<section class="card" aria-labelledby="secret-title"><h2 id="secret-title">${t.t('adminAccess.robots.secret')}</h2><p>${t.t('adminAccess.robots.rotateHint')}</p>${confirmLink({ ...rotateC, danger: false })}</section>
<section class="card" aria-labelledby="danger-title"><h2 id="danger-title">${t.t('adminAccess.dangerZone')}</h2><p>${t.t('adminAccess.robots.deleteHint')}</p>${confirmLink(deleteC)}</section>
${confirmDialog(ctx, rotateC)}${confirmDialog(ctx, deleteC)}`;
  return adminLayout(ctx, fullName(robot), body, { flash, crumbs: [[t.t('adminAccess.robots.title'), adminHref(ctx, '/robots')]] });
}

async function updateRobot(ctx: PageContext, robot: RobotRecord, form: URLSearchParams): Promise<AdminOutcome> {
  const { t } = ctx;
  const fail = async (s: Omit<FormState, 'form' | 'values'>, status = 400): Promise<AdminOutcome> => ({ html: await robotPage(ctx, robot, undefined, { form: 'edit', values: form, ...s }), status });
  // Only what changed: an expiry date in the past that is left alone must not be refused.
  const changes: { description?: string | null; disabled?: boolean; expiresAt?: string | null } = {};
  const description = text(form, 'description', 2000) ?? null;
  if (description !== robot.description) changes.description = description;
  if (form.has('disabled') !== robot.disabled) changes.disabled = form.has('disabled');
  const expiresText = text(form, 'expires', 20);
  if ((expiresText ?? '') !== dateInputValue(robot.expiresAt)) {
    const e = endOfDay(expiresText);
    if (e === false) return fail({ fields: fieldMessages(ctx, ['expires'], FIELDS) });
    changes.expiresAt = e ?? null;
  }
  if (Object.keys(changes).length === 0) return { location: robotHref(ctx, robot.name), notice: t.t('adminAccess.nothingChanged') };
  const parsed = check(updateRobotSchema, changes);
  if (!parsed.ok) return fail({ fields: fieldMessages(ctx, parsed.fields.map((f) => (f === 'expiresAt' ? 'expires' : f)), FIELDS) });
  try {
    await updateRobotAccount(actorOf(ctx), robot, parsed.data);
  } catch (e) {
    const r = ruleMessage(ctx, e);
    return fail({ error: r.message }, r.status);
  }
  return { location: robotHref(ctx, robot.name), notice: t.t('adminAccess.robots.saved', { name: fullName(robot) }) };
}

async function confirmRotate(ctx: PageContext, robot: RobotRecord): Promise<Html> {
  const { t } = ctx;
  return confirmPage(ctx, {
    href: robotHref(ctx, robot.name, '/rotate'),
    title: t.t('adminAccess.robots.rotateTitle', { name: fullName(robot) }),
    body: html`<p>${t.t('adminAccess.robots.rotateBody')}</p>`,
    confirm: t.t('adminAccess.robots.rotate'),
    danger: false,
    cancel: robotHref(ctx, robot.name),
    crumbs: [[t.t('adminAccess.robots.title'), adminHref(ctx, '/robots')], [fullName(robot), robotHref(ctx, robot.name)]],
  });
}

async function rotate(ctx: PageContext, robot: RobotRecord): Promise<AdminOutcome> {
  const { t } = ctx;
  if (!mayCreateCredentials(ctx.viewer.principal)) return { location: robotHref(ctx, robot.name), notice: t.t('adminAccess.tokens.cannotCreate'), error: true };
  let outcome: Awaited<ReturnType<typeof rotateRobotSecret>>;
  try {
    outcome = await rotateRobotSecret(actorOf(ctx), robot);
  } catch (e) {
    return { location: adminHref(ctx, '/robots'), notice: ruleMessage(ctx, e).message, error: true };
  }
  const panel = secretPanel(ctx, { title: t.t('adminAccess.robots.rotatedTitle', { name: fullName(robot) }), user: fullName(robot), secret: outcome.secret, login: loginCommand(ctx, robot) });
  // The secret goes into this answer only (no redirect, no flash cookie): it is never shown again.
  return { html: await robotPage(ctx, outcome.robot, { kind: 'notice', text: t.t('adminAccess.robots.rotatedNotice', { name: fullName(robot) }) }, undefined, panel), status: 200 };
}

async function confirmDelete(ctx: PageContext, robot: RobotRecord): Promise<Html> {
  const { t } = ctx;
  return confirmPage(ctx, {
    href: robotHref(ctx, robot.name, '/delete'),
    title: t.t('adminAccess.robots.deleteTitle', { name: fullName(robot) }),
    body: html`<p>${t.t('adminAccess.robots.deleteBody')}</p>`,
    confirm: t.t('adminAccess.robots.delete'),
    cancel: robotHref(ctx, robot.name),
    crumbs: [[t.t('adminAccess.robots.title'), adminHref(ctx, '/robots')]],
  });
}

async function deleteRobot(ctx: PageContext, robot: RobotRecord): Promise<AdminOutcome> {
  const { t } = ctx;
  await deleteRobotAccount(actorOf(ctx), robot);
  return { location: adminHref(ctx, `/robots${query({ namespace: robot.namespace })}`), notice: t.t('adminAccess.robots.deleted', { name: fullName(robot) }) };
}

