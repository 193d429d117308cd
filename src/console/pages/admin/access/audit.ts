// /ui/admin/audit: the audit log, newest first, filtered by actor, action, repository (or
// namespace), outcome and time range, all GET parameters, so a filtered view is a link. Pages are
// keyset pages over (time, id) with the log's opaque cursor. The store filters everything but the
// outcome; for that, older events are read in batches until a page is full (or a bound is reached,
// then the "older" link continues the search from where it stopped).
import { html, type Html } from '../../../html.ts';
import type { Flash, PageContext } from '../../../page.ts';
import { NotFound } from '../../../errors.ts';
import { encodeCursor, type AuditPage } from '../../../../auth/access/audit-log.ts';
import { namespaceName, repositoryName } from '../../../../auth/access/admin/schemas.ts';
import type { AuditEventRecord, AuditFilter } from '../../../../metadata/access/store.ts';
import { repoHref } from '../../fragments.ts';
import { accessOf, adminHref, adminLayout, alertBox, query, type AdminOutcome } from './shared.ts';

const LIMITS = [25, 50, 100, 200] as const;
const BATCH = 500;
/** Events read per page when filtering by outcome, at most. */
const MAX_SCAN = 5000;
const OUTCOMES = ['success', 'failure', 'denied'] as const;
type Outcome = (typeof OUTCOMES)[number];

/** Actions berth records (the field also takes any other value). */
const KNOWN_ACTIONS = [
  'login',
  'login_failed',
  'login_test',
  'push',
  'pull',
  'delete',
  'denied',
  'repository_created',
  'visibility_change',
  'permission_change',
  'membership_change',
  'user_created',
  'user_updated',
  'user_deleted',
  'team_created',
  'team_updated',
  'team_deleted',
  'token_created',
  'token_revoked',
  'robot_created',
  'robot_updated',
  'robot_rotated',
  'robot_deleted',
];

export async function auditArea(ctx: PageContext, rest: string[], form: URLSearchParams | undefined, flash: Flash | undefined): Promise<AdminOutcome> {
  if (rest.length !== 0 || form) throw new NotFound();
  return auditPage(ctx, flash);
}

interface Filters {
  actor?: string;
  action?: string;
  repository?: string;
  namespace?: string;
  outcome?: Outcome;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

/** A datetime-local value (no zone: the console shows UTC) as a Date; undefined when empty; null when malformed. */
function utc(value: string | undefined): Date | undefined | null {
  if (!value) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$/.test(value)) return null;
  const d = new Date(value.length === 10 ? `${value}T00:00:00Z` : `${value}Z`);
  return Number.isNaN(d.getTime()) ? null : d;
}

function readFilters(params: URLSearchParams): { f: Filters; invalid: string[] } {
  const get = (k: string, max: number) => params.get(k)?.trim().slice(0, max) || undefined;
  const invalid: string[] = [];
  const f: Filters = { limit: 50 };
  const actor = get('actor', 255);
  if (actor) f.actor = actor;
  const action = get('action', 32);
  if (action) f.action = action;
  const repository = get('repository', 255);
  if (repository) {
    if (repositoryName.safeParse(repository).success) f.repository = repository;
    else invalid.push('repository');
  }
  const namespace = get('namespace', 255);
  if (namespace) {
    if (namespaceName.safeParse(namespace).success) f.namespace = namespace;
    else invalid.push('namespace');
  }
  const outcome = get('outcome', 20);
  if (outcome) {
    if ((OUTCOMES as readonly string[]).includes(outcome)) f.outcome = outcome as Outcome;
    else invalid.push('outcome');
  }
  for (const k of ['from', 'to'] as const) {
    const v = get(k, 30);
    const d = utc(v);
    if (d === null) invalid.push(k);
    else if (d) f[k] = v;
  }
  const limit = Number(params.get('limit'));
  if ((LIMITS as readonly number[]).includes(limit)) f.limit = limit;
  const cursor = get('cursor', 100);
  if (cursor) f.cursor = cursor;
  return { f, invalid };
}

async function load(ctx: PageContext, f: Filters): Promise<AuditPage & { scanned?: number }> {
  const audit = accessOf(ctx).audit;
  const filter: AuditFilter = {
    ...(f.actor && { actor: f.actor }),
    ...(f.action && { action: f.action }),
    ...(f.repository && { repository: f.repository }),
    ...(f.namespace && { namespace: f.namespace }),
    ...(f.from && { from: utc(f.from)! }),
    ...(f.to && { to: utc(f.to)! }),
  };
  // Events recorded a moment ago are still buffered; the reader expects to see them.
  await audit.flush();
  if (!f.outcome) return audit.query(filter, { limit: f.limit, ...(f.cursor && { cursor: f.cursor }) });
  const events: AuditEventRecord[] = [];
  let cursor = f.cursor;
  let scanned = 0;
  while (scanned < MAX_SCAN) {
    const page = await audit.query(filter, { limit: BATCH, ...(cursor && { cursor }) });
    for (let i = 0; i < page.events.length; i++) {
      const e = page.events[i];
      scanned++;
      if (e.outcome !== f.outcome) continue;
      events.push(e);
      if (events.length === f.limit) {
        const more = i < page.events.length - 1 || page.next !== null;
        return { events, next: more ? encodeCursor(e) : null, scanned };
      }
    }
    if (!page.next) return { events, next: null, scanned };
    cursor = page.next;
  }
  return { events, next: cursor ?? null, scanned };
}

function outcomeBadge(ctx: PageContext, outcome: string): Html {
  const { t } = ctx;
  if (outcome === 'success') return html`<span class="badge badge-ok">${t.t('adminAccess.audit.outcome.success')}</span>`;
  if (outcome === 'denied') return html`<span class="badge badge-danger">${t.t('adminAccess.audit.outcome.denied')}</span>`;
  if (outcome === 'failure') return html`<span class="badge badge-warn">${t.t('adminAccess.audit.outcome.failure')}</span>`;
  return html`<span class="badge badge-muted">${outcome}</span>`;
}

function actorLink(ctx: PageContext, e: AuditEventRecord, f: Filters): Html {
  const href = adminHref(ctx, `/audit${query({ ...filterParams(f), actor: e.actor, cursor: undefined })}`);
  return html`<a class="mono" href="${href}">${e.actor}</a>${e.actorKind !== 'user' ? html` <span class="badge badge-muted">${e.actorKind}</span>` : ''}`;
}

function filterParams(f: Filters): Record<string, string | undefined> {
  return { actor: f.actor, action: f.action, repository: f.repository, namespace: f.namespace, outcome: f.outcome, from: f.from, to: f.to, limit: f.limit === 50 ? undefined : String(f.limit) };
}

async function auditPage(ctx: PageContext, flash?: Flash): Promise<AdminOutcome> {
  const { t } = ctx;
  const { f, invalid } = readFilters(ctx.url.searchParams);
  let page: (AuditPage & { scanned?: number }) | undefined;
  let badCursor = false;
  if (!invalid.length) {
    try {
      page = await load(ctx, f);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      badCursor = true;
    }
  }
  const params = filterParams(f);
  const filtered = Object.entries(params).some(([k, v]) => k !== 'limit' && v !== undefined);
  const input = (name: keyof Filters, label: string, o: { type?: string; list?: string; hint?: string } = {}) => {
    const bad = invalid.includes(name);
    const describedBy = [o.hint ? `af-${name}-hint` : '', bad ? `af-${name}-error` : ''].filter(Boolean).join(' ');
    return html`<div class="field"><label for="af-${name}">${label}</label><input id="af-${name}" name="${name}" type="${o.type ?? 'text'}" value="${ctx.url.searchParams.get(name) ?? ''}" autocomplete="off"${o.list ? html` list="${o.list}"` : ''}${describedBy ? html` aria-describedby="${describedBy}"` : ''}${bad ? html` aria-invalid="true"` : ''}>${o.hint ? html`<p class="hint" id="af-${name}-hint">${o.hint}</p>` : ''}${bad ? html`<p class="field-error" id="af-${name}-error">${t.t('adminAccess.form.invalidField')}</p>` : ''}</div>`;
  };
  const outcomeLabel = (o: Outcome) => t.t(o === 'success' ? 'adminAccess.audit.outcome.success' : o === 'failure' ? 'adminAccess.audit.outcome.failure' : 'adminAccess.audit.outcome.denied');
  const events = page?.events ?? [];
  const body = html`<div class="page-head"><h1>${t.t('adminAccess.audit.title')}</h1><p class="muted">${t.t('adminAccess.audit.intro')}</p></div>
<section class="card" aria-labelledby="filter-title"><h2 id="filter-title">${t.t('adminAccess.filter')}</h2>
${invalid.length ? alertBox(t.t('adminAccess.audit.invalidFilter')) : ''}${badCursor ? alertBox(t.t('adminAccess.audit.badCursor')) : ''}
<form class="stack" method="get" action="${adminHref(ctx, '/audit')}" role="search">
<fieldset><legend>${t.t('adminAccess.audit.what')}</legend>
${input('actor', t.t('adminAccess.audit.col.actor'))}
${input('action', t.t('adminAccess.audit.col.action'), { list: 'audit-actions', hint: t.t('adminAccess.audit.hint.action') })}
<datalist id="audit-actions">${KNOWN_ACTIONS.map((a) => html`<option value="${a}"></option>`)}</datalist>
${input('repository', t.t('adminAccess.audit.col.repository'))}
${input('namespace', t.t('adminAccess.audit.field.namespace'), { hint: t.t('adminAccess.audit.hint.namespace') })}
<div class="field"><label for="af-outcome">${t.t('adminAccess.audit.col.outcome')}</label><select id="af-outcome" name="outcome"${invalid.includes('outcome') ? html` aria-invalid="true"` : ''}><option value="">${t.t('adminAccess.audit.outcome.any')}</option>${OUTCOMES.map((o) => html`<option value="${o}"${f.outcome === o ? html` selected` : ''}>${outcomeLabel(o)}</option>`)}</select></div>
</fieldset>
<fieldset><legend>${t.t('adminAccess.audit.when')}</legend>
${input('from', t.t('adminAccess.audit.field.from'), { type: 'datetime-local', hint: t.t('adminAccess.audit.hint.utc') })}
${input('to', t.t('adminAccess.audit.field.to'), { type: 'datetime-local', hint: t.t('adminAccess.audit.hint.to') })}
</fieldset>
<div class="field"><label for="af-limit">${t.t('adminAccess.audit.field.limit')}</label><select id="af-limit" name="limit">${LIMITS.map((n) => html`<option value="${n}"${f.limit === n ? html` selected` : ''}>${n}</option>`)}</select></div>
<div class="actions"><button type="submit" class="btn btn-primary">${t.t('adminAccess.applyFilter')}</button>${filtered ? html` <a class="btn btn-link" href="${adminHref(ctx, '/audit')}">${t.t('adminAccess.clearFilter')}</a>` : ''}</div>
</form></section>
<section aria-labelledby="events-title"><h2 id="events-title">${t.t('adminAccess.audit.events')}</h2>
${
  events.length === 0
    ? html`<p class="empty">${filtered ? t.t('adminAccess.audit.noMatch') : t.t('adminAccess.audit.none')}</p>`
    : html`<div class="table-wrap"><table class="data" id="audit">
<caption class="visually-hidden">${t.t('adminAccess.audit.events')}</caption>
<thead><tr><th scope="col" aria-sort="descending">${t.t('adminAccess.audit.col.time')}</th><th scope="col">${t.t('adminAccess.audit.col.actor')}</th><th scope="col">${t.t('adminAccess.audit.col.action')}</th><th scope="col">${t.t('adminAccess.audit.col.repository')}</th><th scope="col">${t.t('adminAccess.audit.col.outcome')}</th><th scope="col">${t.t('adminAccess.audit.col.address')}</th><th scope="col">${t.t('adminAccess.audit.col.details')}</th></tr></thead>
<tbody>${events.map((e) => row(ctx, e, f))}</tbody></table></div>`
}
${page?.scanned !== undefined && page.next && events.length < f.limit ? html`<p class="hint">${t.t('adminAccess.audit.scanned', { n: t.number(page.scanned) })}</p>` : ''}
<nav class="pager" aria-label="${t.t('pager.label')}">${f.cursor ? html`<a href="${adminHref(ctx, `/audit${query(params)}`)}">${t.t('adminAccess.audit.newest')}</a>` : ''}${
    page?.next ? html`<a rel="next" href="${adminHref(ctx, `/audit${query({ ...params, cursor: page.next })}`)}">${t.t('adminAccess.audit.older')}</a>` : ''
  }</nav>
</section>`;
  return { html: await adminLayout(ctx, t.t('adminAccess.audit.title'), body, { flash }), status: invalid.length || badCursor ? 400 : 200 };
}

function row(ctx: PageContext, e: AuditEventRecord, f: Filters): Html {
  const { t } = ctx;
  const iso = e.time.toISOString();
  const details = e.details && Object.keys(e.details).length ? JSON.stringify(e.details, null, 2) : '';
  return html`<tr><th scope="row" class="nowrap"><time datetime="${iso}">${t.dateTime(e.time.getTime())}</time></th><td>${actorLink(ctx, e, f)}</td>
<td><a class="mono" href="${adminHref(ctx, `/audit${query({ ...filterParams(f), action: e.action })}`)}">${e.action}</a></td>
<td>${e.repository ? html`<a class="mono" href="${repoHref(ctx, e.repository)}">${e.repository}</a>${e.reference ? html`<div class="mono muted">${e.reference}</div>` : ''}` : e.reference ? html`<span class="mono muted">${e.reference}</span>` : ''}</td>
<td>${outcomeBadge(ctx, e.outcome)}</td><td class="mono">${e.clientAddress ?? ''}</td>
<td>${details ? html`<details><summary>${t.t('adminAccess.audit.showDetails')}</summary><pre class="code" tabindex="0" aria-label="${t.t('adminAccess.audit.detailsOf', { id: e.id })}">${details}</pre></details>` : ''}</td></tr>`;
}
