// What the lifecycle administration pages share: links and breadcrumbs, the page frame, error
// boxes, usage meters, namespace and checkbox parsing from forms.
import { html, type Html, type HtmlValue } from '../../../html.ts';
import { csrfField, layout, type Flash, type PageContext } from '../../../page.ts';
import { isValidName } from '../../../../oci/reference.ts';
import { formatDuration } from '../../../../lifecycle/retention-policy.ts';

/** Paths below /ui/admin. */
export function adminHref(ctx: PageContext, path: string): string {
  return ctx.href(`/ui/admin${path}`);
}

/** The administration overview, then the area, then any deeper pages. */
export function crumbs(ctx: PageContext, ...more: [string, string][]): [string, string][] {
  return [[ctx.t.t('admin.title'), adminHref(ctx, '/')], ...more.map(([label, path]): [string, string] => [label, adminHref(ctx, path)])];
}

export interface PageOptions {
  title: string;
  flash?: Flash;
  crumbs?: [string, string][];
}

export function lifecyclePage(ctx: PageContext, o: PageOptions, body: HtmlValue): Promise<Html> {
  return layout(ctx, { title: o.title, nav: 'admin', ...(o.flash && { flash: o.flash }), crumbs: o.crumbs ?? crumbs(ctx) }, body);
}

/** What was wrong with a form, announced at once. */
export function errorBox(ctx: PageContext, errors: readonly string[], id = 'form-errors'): Html {
  if (errors.length === 0) return html``;
  return html`<div class="error-box" role="alert" id="${id}"><p>${ctx.t.t('adminLifecycle.errors.title', { n: errors.length })}</p><ul>${errors.map((e) => html`<li>${e}</li>`)}</ul></div>`;
}

/** Why an action did not happen (or what went wrong in a run), announced at once. */
export function alertBox(errors: readonly string[], id = 'action-errors'): Html {
  if (errors.length === 0) return html``;
  return html`<div class="error-box" role="alert" id="${id}">${errors.length === 1 ? html`<p>${errors[0]}</p>` : html`<ul>${errors.map((e) => html`<li>${e}</li>`)}</ul>`}</div>`;
}

export function yesNo(ctx: PageContext, value: boolean): string {
  return ctx.t.t(value ? 'adminLifecycle.yes' : 'adminLifecycle.no');
}

export function duration(ms: number): string {
  return ms === 0 ? '0s' : formatDuration(ms);
}

/** A checkbox's value in a posted form. */
export function checked(form: URLSearchParams, name: string): boolean {
  const v = form.get(name);
  return v === 'on' || v === 'true' || v === '1';
}

/** A namespace typed into a form or taken from the path; undefined when it is not a valid name. */
export function parseNamespace(raw: string | null | undefined): string | undefined {
  const ns = (raw ?? '').trim().replace(/\/+$/, '');
  return ns && ns.length <= 255 && isValidName(ns) ? ns : undefined;
}

/** A percentage, for text next to a meter. */
export function percentText(ctx: PageContext, used: number, limit: number): string {
  if (limit <= 0) return ctx.t.t('adminLifecycle.percent', { n: used > 0 ? '∞' : ctx.t.number(0) });
  return ctx.t.t('adminLifecycle.percent', { n: ctx.t.number(Math.round((used / limit) * 1000) / 10) });
}

/** Usage against a limit: a meter (labelled) and the same in text, with a word when it is near or over. */
export function usageMeter(ctx: PageContext, used: number, limit: number, what: string): Html {
  const { t } = ctx;
  const pct = percentText(ctx, used, limit);
  const ratio = limit > 0 ? used / limit : used > 0 ? Infinity : 0;
  const state =
    ratio > 1
      ? html` <span class="badge badge-danger">${t.t('adminLifecycle.quotas.over')}</span>`
      : ratio >= 0.9
        ? html` <span class="badge badge-warn">${t.t('adminLifecycle.quotas.near')}</span>`
        : '';
  return html`<meter min="0" max="${Math.max(limit, 1)}" low="${Math.floor(limit * 0.8)}" high="${Math.floor(limit * 0.9)}" optimum="0" value="${Math.min(used, Math.max(limit, 1))}" aria-label="${t.t('adminLifecycle.quotas.meterLabel', { what })}">${pct}</meter> <span>${t.t('adminLifecycle.quotas.usedOf', { used: t.bytes(used), limit: t.bytes(limit), percent: pct })}</span>${state}`;
}

/**
 * A labelled form field: `control` gets the attributes (id, aria-describedby for the hint and the
 * error, aria-invalid) to put on the input.
 */
export function field(id: string, label: string, control: (attributes: Html) => Html, hint?: string, error?: string): Html {
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  const attributes = html` id="${id}"${described ? html` aria-describedby="${described}"` : ''}${error ? html` aria-invalid="true"` : ''}`;
  return html`<div class="field"><label for="${id}">${label}</label>${control(attributes)}${hint ? html`<p class="hint" id="${id}-hint">${hint}</p>` : ''}${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}</div>`;
}

export interface Confirmation {
  /** The dialog's id (unique in the page). */
  id: string;
  /** The link's text, and the hidden words that say what it acts on. */
  label: string;
  what: string;
  /** GET: the confirmation page a browser without JavaScript follows. */
  confirmPath: string;
  /** POST: the action. */
  actionPath: string;
  title: string;
  body: string;
  confirmLabel: string;
}

/** A danger link that opens a confirmation dialog (with JavaScript) or the confirmation page (without). */
export function confirmLink(ctx: PageContext, c: Confirmation): { link: Html; dialog: Html } {
  const { t } = ctx;
  return {
    link: html`<a class="btn btn-small btn-danger" href="${adminHref(ctx, c.confirmPath)}" data-dialog="${c.id}">${c.label}<span class="visually-hidden"> ${c.what}</span></a>`,
    dialog: html`<dialog id="${c.id}" aria-labelledby="${c.id}-title"><form method="post" action="${adminHref(ctx, c.actionPath)}">${csrfField(ctx)}
<h2 id="${c.id}-title">${c.title}</h2><p>${c.body}</p>
<div class="actions"><button type="button" class="btn" data-close>${t.t('action.cancel')}</button> <button type="submit" class="btn btn-danger">${c.confirmLabel}</button></div></form></dialog>`,
  };
}

/** The same confirmation as a page. */
export function confirmPage(ctx: PageContext, c: Omit<Confirmation, 'id' | 'label' | 'what' | 'confirmPath'> & { cancelPath: string; crumbs: [string, string][] }): Promise<Html> {
  const { t } = ctx;
  return lifecyclePage(
    ctx,
    { title: c.title, crumbs: c.crumbs },
    html`<h1>${c.title}</h1><p>${c.body}</p>
<form method="post" action="${adminHref(ctx, c.actionPath)}">${csrfField(ctx)}<div class="actions"><a class="btn" href="${adminHref(ctx, c.cancelPath)}">${t.t('action.cancel')}</a> <button type="submit" class="btn btn-danger">${c.confirmLabel}</button></div></form>`,
  );
}
