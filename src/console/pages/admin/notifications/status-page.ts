// GET /ui/admin/notifications[?endpoint=<name>&last=<id>]: each endpoint's delivery state (what
// waits, failures in a row, the last error, dead letters), then the dead letters, oldest first, a
// page at a time (keyset on their id, as GET /api/v1/notifications/deadletters), of one endpoint
// or all. Every action is a form that works without JavaScript.
import { html, type Html } from '../../../html.ts';
import { csrfField, type Flash, type PageContext } from '../../../page.ts';
import { timeCell } from '../../fragments.ts';
import type { AdminOutcome } from '../index.ts';
import type { DeadLetter } from '../../../../metadata/events/store.ts';
import { deadLetterPage, endpointStatuses, type EndpointStatus } from '../../../../events/admin.ts';
import { buildNotifications } from '../../../../config/notifications.ts';
import { adminHref, alertBox, confirmLink, duration, lifecyclePage } from '../lifecycle/shared.ts';
import { actionLabel, letterEvent, listHref, targetCell, targetText, viewOf, viewQuery, type ListView } from './shared.ts';

/** Dead letters per page. */
const PAGE = 50;

export async function statusPage(ctx: PageContext, flash: Flash | undefined): Promise<AdminOutcome> {
  const { t, deps } = ctx;
  const services = deps.services;
  const view = viewOf(ctx.url);
  const rawLast = ctx.url.searchParams.get('last');
  const badCursor = rawLast !== null && view.last === undefined;
  const endpoints = await endpointStatuses(services);
  const unknown = view.endpoint !== undefined && !endpoints.some((e) => e.name === view.endpoint);
  const page = unknown ? { letters: [] } : await deadLetterPage(services, { ...(view.endpoint && { endpoint: view.endpoint }), ...(view.last !== undefined && { after: view.last }), limit: PAGE });
  const maxAge = (services.config.notifications ?? buildNotifications(undefined, undefined, [])).maxAgeMs;
  const selected = unknown ? undefined : endpoints.find((e) => e.name === view.endpoint);
  const confirmations = page.letters.map((d) => deleteConfirmation(ctx, d, view));

  const body = html`<div class="page-head"><h1>${t.t('adminNotifications.title')}</h1><p class="muted">${t.t('adminNotifications.intro', { maxAge: duration(maxAge) })}</p></div>
<section aria-labelledby="nt-endpoints-title"><h2 id="nt-endpoints-title">${t.t('adminNotifications.endpoints')}</h2>
${
  endpoints.length === 0
    ? html`<p class="empty">${t.t('adminNotifications.noEndpoints')}</p>`
    : html`<div class="table-wrap"><table class="data" id="nt-endpoints"><caption class="visually-hidden">${t.t('adminNotifications.endpoints')}</caption>
<thead><tr><th scope="col">${t.t('adminNotifications.col.endpoint')}</th><th scope="col">${t.t('adminNotifications.col.state')}</th><th scope="col" class="num">${t.t('adminNotifications.col.backlog')}</th><th scope="col" class="num">${t.t('adminNotifications.col.failures')}</th><th scope="col">${t.t('adminNotifications.col.lastError')}</th><th scope="col">${t.t('adminNotifications.col.lastSuccess')}</th><th scope="col" class="num">${t.t('adminNotifications.col.deadLetters')}</th><th scope="col"><span class="visually-hidden">${t.t('adminLifecycle.col.actions')}</span></th></tr></thead>
<tbody>${endpoints.map((e) => endpointRow(ctx, e))}</tbody></table></div>`
}</section>
<section aria-labelledby="nt-letters-title"><h2 id="nt-letters-title">${selected ? t.t('adminNotifications.deadLettersOf', { endpoint: selected.name }) : t.t('adminNotifications.deadLetters')}</h2>
${unknown ? alertBox([t.t('adminNotifications.unknownEndpoint', { endpoint: view.endpoint! })], 'nt-filter-error') : ''}${badCursor ? alertBox([t.t('adminNotifications.badCursor')], 'nt-cursor-error') : ''}
${endpoints.length ? filterForm(ctx, endpoints, view, selected) : ''}
${
  page.letters.length === 0
    ? html`<p class="empty">${t.t(selected ? 'adminNotifications.noDeadLettersOf' : 'adminNotifications.noDeadLetters')}</p>`
    : html`<div class="table-wrap"><table class="data" id="nt-letters"><caption class="visually-hidden">${selected ? t.t('adminNotifications.deadLettersOf', { endpoint: selected.name }) : t.t('adminNotifications.deadLetters')}</caption>
<thead><tr><th scope="col" aria-sort="ascending">${t.t('adminNotifications.col.time')}</th><th scope="col">${t.t('adminNotifications.col.action')}</th><th scope="col">${t.t('adminNotifications.col.target')}</th><th scope="col">${t.t('adminNotifications.col.endpoint')}</th><th scope="col">${t.t('adminNotifications.col.failed')}</th><th scope="col" class="num">${t.t('adminNotifications.col.attempts')}</th><th scope="col">${t.t('adminNotifications.col.lastError')}</th><th scope="col"><span class="visually-hidden">${t.t('adminLifecycle.col.actions')}</span></th></tr></thead>
<tbody>${page.letters.map((d, i) => letterRow(ctx, d, view, confirmations[i]!.link))}</tbody></table></div>`
}
${pager(ctx, view, page.next)}
</section>
${confirmations.map((c) => c.dialog)}`;
  return { html: await lifecyclePage(ctx, { title: t.t('adminNotifications.title'), ...(flash && { flash }) }, body), status: unknown ? 404 : badCursor ? 400 : 200 };
}

function stateCell(ctx: PageContext, e: EndpointStatus): Html {
  const { t } = ctx;
  const badges: Html[] = [];
  if (!e.configured) badges.push(html`<span class="badge badge-muted">${t.t('adminNotifications.state.removed')}</span>`);
  else if (e.disabled) badges.push(html`<span class="badge badge-muted">${t.t('adminNotifications.state.disabled')}</span>`);
  else if (e.nextAttemptAt !== null) badges.push(html`<span class="badge badge-warn">${t.t('adminNotifications.state.backingOff', { time: t.ago(e.nextAttemptAt) })}</span>`);
  else if (e.failures > 0) badges.push(html`<span class="badge badge-danger">${t.t('adminNotifications.state.failing')}</span>`);
  else if (e.backlog > 0) badges.push(html`<span class="badge badge-ok">${t.t('adminNotifications.state.active')}</span>`);
  else badges.push(html`<span class="badge badge-ok">${t.t('adminNotifications.state.upToDate')}</span>`);
  return html`<td>${badges}${e.deliveredBy ? html`<div class="muted mono">${t.t('adminNotifications.deliveredBy', { holder: e.deliveredBy })}</div>` : ''}</td>`;
}

function endpointRow(ctx: PageContext, e: EndpointStatus): Html {
  const { t } = ctx;
  return html`<tr><th scope="row"><span class="mono">${e.name}</span>${e.url ? html`<div class="muted mono">${e.url}</div>` : ''}</th>${stateCell(ctx, e)}
<td class="num">${t.number(e.backlog)}</td><td class="num">${t.number(e.failures)}</td>
<td>${e.lastError ? html`<span class="mono">${e.lastError}</span>` : html`<span class="muted">${t.t('adminNotifications.none')}</span>`}</td>${timeCell(ctx, e.lastSuccessAt)}
<td class="num">${e.deadLetters ? html`<a href="${listHref(ctx, { endpoint: e.name })}">${t.t('adminNotifications.showLetters', { n: t.number(e.deadLetters) })}</a>` : t.number(0)}</td>
<td class="nowrap">${e.deadLetters ? retryAllForm(ctx, e, {}) : ''}</td></tr>`;
}

/** "Retry all" of one endpoint: a form, so that it works without JavaScript. */
function retryAllForm(ctx: PageContext, e: EndpointStatus, back: ListView): Html {
  const { t } = ctx;
  return html`<form class="inline" method="post" action="${adminHref(ctx, `/notifications/retry${viewQuery(back)}`)}">${csrfField(ctx)}<input type="hidden" name="endpoint" value="${e.name}"><button type="submit" class="btn btn-small">${t.t('adminNotifications.retryAll', { n: t.number(e.deadLetters) })}<span class="visually-hidden"> ${t.t('adminNotifications.retryAllOf', { endpoint: e.name })}</span></button></form>`;
}

function filterForm(ctx: PageContext, endpoints: EndpointStatus[], view: ListView, selected: EndpointStatus | undefined): Html {
  const { t } = ctx;
  // Two forms side by side (a form cannot hold another): the filter, and "retry all" of the endpoint shown.
  return html`<div class="toolbar"><form method="get" action="${adminHref(ctx, '/notifications')}" role="search">
<label for="nt-endpoint">${t.t('adminNotifications.filter')}</label><select id="nt-endpoint" name="endpoint"><option value="">${t.t('adminNotifications.filterAll')}</option>${endpoints.map(
    (e) => html`<option value="${e.name}"${e.name === view.endpoint ? html` selected` : ''}>${e.name} (${t.number(e.deadLetters)})</option>`,
  )}</select>
<button type="submit" class="btn">${t.t('adminNotifications.filterApply')}</button></form>
${selected && selected.deadLetters ? html`<div class="actions">${retryAllForm(ctx, selected, { endpoint: selected.name })}</div>` : ''}</div>`;
}

function deleteConfirmation(ctx: PageContext, d: DeadLetter, view: ListView) {
  const { t } = ctx;
  const e = letterEvent(d);
  const path = `/notifications/deadletters/${d.id}/delete${viewQuery(view)}`;
  return confirmLink(ctx, {
    id: `nt-del-${d.id}`,
    label: t.t('action.delete'),
    what: t.t('adminNotifications.letterWhat', { id: d.id }),
    confirmPath: path,
    actionPath: path,
    title: t.t('adminNotifications.deleteTitle', { id: d.id }),
    body: t.t('adminNotifications.deleteBody', { action: actionLabel(ctx, e?.action), target: targetText(e), endpoint: d.endpoint }),
    confirmLabel: t.t('adminNotifications.deleteConfirm'),
  });
}

function letterRow(ctx: PageContext, d: DeadLetter, view: ListView, deleteLink: Html): Html {
  const { t } = ctx;
  const e = letterEvent(d);
  const when = e?.timestamp ?? d.createdAt;
  const iso = new Date(when).toISOString();
  return html`<tr id="nt-letter-${d.id}"><th scope="row" class="nowrap"><time datetime="${iso}">${t.dateTime(when)}</time><div class="muted mono" title="${d.eventId}">#${d.id}</div></th>
<td>${e ? html`<span class="badge badge-muted">${actionLabel(ctx, e.action)}</span>` : ''}</td>
<td>${e ? targetCell(ctx, e) : html`<span class="muted">${t.t('adminNotifications.unreadable')}</span>`}</td>
<td><a class="mono" href="${listHref(ctx, { endpoint: d.endpoint })}">${d.endpoint}</a></td>
${timeCell(ctx, d.failedAt)}<td class="num">${t.number(d.attempts)}</td>
<td>${d.lastError ? html`<span class="mono">${d.lastError}</span>` : html`<span class="muted">${t.t('adminNotifications.none')}</span>`}</td>
<td><div class="actions nowrap"><form method="post" action="${adminHref(ctx, `/notifications/deadletters/${d.id}/retry${viewQuery(view)}`)}">${csrfField(ctx)}<button type="submit" class="btn btn-small">${t.t('adminNotifications.retry')}<span class="visually-hidden"> ${t.t('adminNotifications.letterWhat', { id: d.id })}</span></button></form>${deleteLink}</div></td></tr>`;
}

function pager(ctx: PageContext, view: ListView, next: number | undefined): Html {
  const { t } = ctx;
  if (view.last === undefined && next === undefined) return html``;
  return html`<nav class="pager" aria-label="${t.t('pager.label')}">${view.last !== undefined ? html`<a href="${listHref(ctx, { endpoint: view.endpoint })}">${t.t('adminNotifications.firstPage')}</a>` : ''}${
    next !== undefined ? html`<a rel="next" href="${listHref(ctx, { endpoint: view.endpoint, last: next })}">${t.t('pager.next')}</a>` : ''
  }</nav>`;
}
