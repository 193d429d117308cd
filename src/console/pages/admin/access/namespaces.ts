// /ui/admin/namespaces: namespace visibility (a public namespace lets anyone pull, anonymous
// visitors included; nothing else). The longest namespace with a setting decides, so a private
// namespace may sit inside a public one. Same operation as the admin API's PUT /namespaces/<name>.
import { html } from '../../../html.ts';
import { csrfField, type Flash, type PageContext } from '../../../page.ts';
import { NotFound } from '../../../errors.ts';
import { timeCell, visibilityBadge } from '../../fragments.ts';
import { namespaceName, visibility as visibilitySchema } from '../../../../auth/access/admin/schemas.ts';
import { setNamespaceVisibility } from '../../../../auth/access/admin/operations.ts';
import { accessOf, actorOf, adminHref, adminLayout, check, fieldMessages, formAlert, inputField, query, submitRow, text, type AdminOutcome, type FormState } from './shared.ts';

export async function namespacesArea(ctx: PageContext, rest: string[], form: URLSearchParams | undefined, flash: Flash | undefined): Promise<AdminOutcome> {
  if (rest.length !== 0) throw new NotFound();
  return form ? setVisibility(ctx, form) : namespacesPage(ctx, flash);
}

async function namespacesPage(ctx: PageContext, flash?: Flash, state?: FormState): Promise<AdminOutcome> {
  const { t } = ctx;
  const rows = await accessOf(ctx).store.namespaces.list();
  const action = adminHref(ctx, '/namespaces');
  const body = html`<div class="page-head"><h1>${t.t('adminAccess.namespaces.title')}</h1><p class="muted">${t.t('adminAccess.namespaces.intro')}</p></div>
${
  rows.length === 0
    ? html`<p class="empty">${t.t('adminAccess.namespaces.none')}</p>`
    : html`<div class="table-wrap"><table class="data" id="namespaces" data-sortable>
<caption class="visually-hidden">${t.t('adminAccess.namespaces.title')}</caption>
<thead><tr><th scope="col" data-sort="text" aria-sort="ascending">${t.t('adminAccess.namespaces.col.name')}</th><th scope="col" data-sort="text" aria-sort="none">${t.t('adminAccess.namespaces.col.visibility')}</th><th scope="col" data-sort="date" aria-sort="none">${t.t('adminAccess.updated')}</th><th scope="col">${t.t('adminAccess.namespaces.col.by')}</th><th scope="col"><span class="visually-hidden">${t.t('adminAccess.col.actions')}</span></th></tr></thead>
<tbody>${rows.map(
        (n) => html`<tr><th scope="row" class="mono">${n.name}</th><td>${visibilityBadge(ctx, n.public ? 'public' : 'private')}</td>${timeCell(ctx, n.updatedAt.getTime())}<td>${n.updatedBy ?? ''}</td>
<td class="nowrap"><form method="post" action="${action}">${csrfField(ctx)}<input type="hidden" name="name" value="${n.name}"><input type="hidden" name="visibility" value="${n.public ? 'private' : 'public'}"><button type="submit" class="btn btn-small">${n.public ? t.t('adminAccess.namespaces.makePrivate') : t.t('adminAccess.namespaces.makePublic')}<span class="visually-hidden"> ${n.name}</span></button></form>
<a class="btn btn-small" href="${adminHref(ctx, `/permissions${query({ scopeKind: 'namespace', scope: n.name, nested: 'on' })}`)}">${t.t('adminAccess.namespaces.grants')}<span class="visually-hidden"> ${n.name}</span></a></td></tr>`,
      )}</tbody></table></div>`
}
<section class="card" aria-labelledby="set-title"><h2 id="set-title">${t.t('adminAccess.namespaces.set')}</h2>
${formAlert(ctx, state, 'set')}
<form class="stack" method="post" action="${action}">${csrfField(ctx)}
${inputField({ id: 'ns-name', name: 'name', label: t.t('adminAccess.namespaces.field.name'), hint: t.t('adminAccess.namespaces.hint.name'), required: true, maxlength: 255, state, form: 'set' })}
<fieldset><legend>${t.t('adminAccess.namespaces.col.visibility')}</legend>
<label><input type="radio" name="visibility" value="private"${state?.values?.get('visibility') === 'public' ? '' : html` checked`}> ${t.t('adminAccess.namespaces.private')}</label>
<label><input type="radio" name="visibility" value="public"${state?.values?.get('visibility') === 'public' ? html` checked` : ''}> ${t.t('adminAccess.namespaces.public')}</label></fieldset>
${submitRow(t.t('action.save'))}</form></section>`;
  return { html: await adminLayout(ctx, t.t('adminAccess.namespaces.title'), body, { flash }) };
}

async function setVisibility(ctx: PageContext, form: URLSearchParams): Promise<AdminOutcome> {
  const { t } = ctx;
  const name = text(form, 'name', 300) ?? '';
  const fields: string[] = [];
  if (!namespaceName.safeParse(name).success) fields.push('name');
  const parsed = check(visibilitySchema, { visibility: form.get('visibility') ?? '' });
  if (!parsed.ok) fields.push('visibility');
  if (fields.length || !parsed.ok) {
    const out = await namespacesPage(ctx, undefined, { form: 'set', values: form, fields: fieldMessages(ctx, fields, { name: 'adminAccess.namespaces.invalid.name' }) });
    return { ...out, status: 400 } as AdminOutcome;
  }
  const v = parsed.data.visibility;
  await setNamespaceVisibility(actorOf(ctx), name, v);
  return { location: adminHref(ctx, '/namespaces'), notice: t.t(v === 'public' ? 'adminAccess.namespaces.nowPublic' : 'adminAccess.namespaces.nowPrivate', { name }) };
}
