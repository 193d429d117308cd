// Garbage collection (/ui/admin/gc): berth.gc's settings, "run now" (dry run, untagged manifests,
// grace period) and the recent runs; /ui/admin/gc/runs/<id> one run. A dry run holds the request
// until its report is ready and shows what a collection would remove; a real run is started (as
// POST /api/v1/gc?wait=false does) and the browser goes to the run's page.
import { html, type Html } from '../../../html.ts';
import { csrfField, type Flash, type PageContext } from '../../../page.ts';
import { NotFound } from '../../../errors.ts';
import { manifestHref, shortDigest, timeText } from '../../fragments.ts';
import type { AdminOutcome } from '../index.ts';
import type { GcRunRecord } from '../../../../metadata/lifecycle/lifecycle-store.ts';
import type { GcReport } from '../../../../lifecycle/gc.ts';
import { LeaseBusyError } from '../../../../lifecycle/jobs.ts';
import { GcRequestError, gcRunBody, startGc, type StartedGc } from '../../../../lifecycle/gc-start.ts';
import { adminHref, alertBox, checked, crumbs, duration, errorBox, field, lifecyclePage, yesNo } from './shared.ts';

/** Items of each kind a dry run's page lists (the counts are complete). */
const SHOWN = 100;
const RECENT_RUNS = 50;

interface RunForm {
  dryRun: boolean;
  deleteUntagged: boolean;
  delay: string;
}

interface FormState {
  values?: RunForm;
  /** Wrong input. */
  errors?: string[];
  delayError?: string;
  /** Why the run did not start (busy, unavailable). */
  refused?: string;
}

export async function gcAdmin(ctx: PageContext, rest: string, form: URLSearchParams | undefined, flash: Flash | undefined): Promise<AdminOutcome> {
  if (rest === '' && !form) return { html: await gcPage(ctx, flash) };
  if (rest === '/run' && form) return runNow(ctx, form);
  const m = /^\/runs\/([A-Za-z0-9-]{1,100})$/.exec(rest);
  if (m && !form) return { html: await runPage(ctx, m[1], flash) };
  throw new NotFound();
}

function statusBadge(ctx: PageContext, status: string): Html {
  const { t } = ctx;
  switch (status) {
    case 'running':
      return html`<span class="badge badge-warn">${t.t('adminLifecycle.status.running')}</span>`;
    case 'succeeded':
      return html`<span class="badge badge-ok">${t.t('adminLifecycle.status.succeeded')}</span>`;
    case 'failed':
      return html`<span class="badge badge-danger">${t.t('adminLifecycle.status.failed')}</span>`;
    case 'skipped':
      return html`<span class="badge badge-muted">${t.t('adminLifecycle.status.skipped')}</span>`;
    default:
      return html`<span class="badge badge-muted">${status}</span>`;
  }
}

export function triggerText(ctx: PageContext, trigger: string): string {
  const { t } = ctx;
  if (trigger === 'schedule') return t.t('adminLifecycle.trigger.schedule');
  if (trigger === 'api') return t.t('adminLifecycle.trigger.api');
  if (trigger === 'cli') return t.t('adminLifecycle.trigger.cli');
  if (trigger === 'preview') return t.t('adminLifecycle.trigger.preview');
  return trigger;
}

function modeBadge(ctx: PageContext, dryRun: boolean): Html {
  return dryRun ? html`<span class="badge badge-muted">${ctx.t.t('adminLifecycle.gc.mode.dryRun')}</span>` : html`<span>${ctx.t.t('adminLifecycle.gc.mode.delete')}</span>`;
}

async function gcPage(ctx: PageContext, flash: Flash | undefined, state: FormState = {}): Promise<Html> {
  const { t, deps } = ctx;
  const settings = deps.services.config.berth.lifecycle.gc;
  const gc = deps.jobs.gc;
  const runs = await deps.services.metadata.lifecycle.gcRuns(RECENT_RUNS);
  const values: RunForm = state.values ?? { dryRun: true, deleteUntagged: false, delay: '' };
  const row = (r: GcRunRecord) => html`<tr>
<th scope="row" data-value="${new Date(r.startedAt).toISOString()}"><a href="${adminHref(ctx, `/gc/runs/${r.id}`)}"><time datetime="${new Date(r.startedAt).toISOString()}">${t.dateTime(r.startedAt)}</time></a></th>
<td>${statusBadge(ctx, r.status)}</td><td>${triggerText(ctx, r.trigger)}</td><td>${modeBadge(ctx, r.dryRun)}</td><td>${yesNo(ctx, r.deleteUntagged)}</td>
<td class="num" data-value="${r.manifestsRemoved}">${t.number(r.manifestsRemoved)}</td><td class="num" data-value="${r.blobsRemoved}">${t.number(r.blobsRemoved)}</td><td class="num" data-value="${r.bytesRemoved}">${t.bytes(r.bytesRemoved)}</td>
<td class="num" data-value="${r.finishedAt === null ? '' : r.finishedAt - r.startedAt}">${r.finishedAt === null ? html`<span class="muted">-</span>` : seconds(ctx, r.finishedAt - r.startedAt)}</td></tr>`;

  const body = html`<div class="page-head"><h1>${t.t('adminLifecycle.gc.title')}</h1><p class="muted">${t.t('adminLifecycle.gc.intro')}</p></div>
<div class="grid grid-start">
<section class="card" aria-labelledby="gc-settings-title"><h2 id="gc-settings-title">${t.t('adminLifecycle.gc.settings')}</h2>
<dl class="props">
<dt>${t.t('adminLifecycle.gc.enabled')}</dt><dd>${settings.enabled ? html`<span class="badge badge-ok">${t.t('adminLifecycle.on')}</span>` : html`<span class="badge badge-muted">${t.t('adminLifecycle.off')}</span>`}</dd>
<dt>${t.t('adminLifecycle.gc.interval')}</dt><dd>${duration(settings.intervalMs)}</dd>
<dt>${t.t('adminLifecycle.gc.delay')}</dt><dd>${duration(settings.delayMs)}</dd>
<dt>${t.t('adminLifecycle.gc.pace')}</dt><dd>${t.t('adminLifecycle.gc.paceValue', { n: t.number(settings.pace * 100) })}</dd>
</dl><p class="hint">${t.t('adminLifecycle.gc.settingsHint')}</p></section>
<section class="card" aria-labelledby="gc-run-title"><h2 id="gc-run-title">${t.t('adminLifecycle.gc.runNow')}</h2>
${
  gc
    ? html`${errorBox(ctx, state.errors ?? [])}${alertBox(state.refused ? [state.refused] : [])}<form class="stack" method="post" action="${adminHref(ctx, '/gc/run')}">${csrfField(ctx)}
<label class="check"><input type="checkbox" name="dryRun" value="on"${values.dryRun ? html` checked` : ''} aria-describedby="gc-dry-hint"> ${t.t('adminLifecycle.gc.dryRun')}</label>
<p class="hint" id="gc-dry-hint">${t.t('adminLifecycle.gc.dryRunHint')}</p>
<label class="check"><input type="checkbox" name="deleteUntagged" value="on"${values.deleteUntagged ? html` checked` : ''} aria-describedby="gc-untagged-hint"> ${t.t('adminLifecycle.gc.deleteUntagged')}</label>
<p class="hint" id="gc-untagged-hint">${t.t('adminLifecycle.gc.deleteUntaggedHint')}</p>
${field('gc-delay', t.t('adminLifecycle.gc.runDelay'), (a) => html`<input${a} name="delay" value="${values.delay}" maxlength="40" autocomplete="off">`, t.t('adminLifecycle.gc.runDelayHint', { delay: duration(gc.delayMs) }), state.delayError)}
<div class="actions"><button type="submit" class="btn btn-primary">${t.t('adminLifecycle.gc.run')}</button></div>
</form>`
    : html`<p class="muted">${t.t('adminLifecycle.gc.unavailable')}</p>`
}</section>
</div>
<section aria-labelledby="gc-runs-title"><h2 id="gc-runs-title">${t.t('adminLifecycle.gc.recent')}</h2>
${
  runs.length === 0
    ? html`<p class="empty">${t.t('adminLifecycle.gc.noRuns')}</p>`
    : html`<div class="table-wrap"><table class="data" id="gc-runs" data-sortable><caption class="visually-hidden">${t.t('adminLifecycle.gc.recent')}</caption>
<thead><tr><th scope="col" data-sort="date" aria-sort="descending">${t.t('adminLifecycle.gc.col.started')}</th><th scope="col">${t.t('adminLifecycle.col.status')}</th><th scope="col">${t.t('adminLifecycle.gc.col.trigger')}</th><th scope="col">${t.t('adminLifecycle.gc.col.mode')}</th><th scope="col">${t.t('adminLifecycle.gc.col.untagged')}</th><th scope="col" class="num" data-sort="number" aria-sort="none">${t.t('adminLifecycle.gc.col.manifests')}</th><th scope="col" class="num" data-sort="number" aria-sort="none">${t.t('adminLifecycle.gc.col.blobs')}</th><th scope="col" class="num" data-sort="number" aria-sort="none">${t.t('adminLifecycle.gc.col.bytes')}</th><th scope="col" class="num" data-sort="number" aria-sort="none">${t.t('adminLifecycle.gc.col.duration')}</th></tr></thead>
<tbody>${runs.map(row)}</tbody></table></div>`
}</section>`;
  return lifecyclePage(ctx, { title: t.t('adminLifecycle.gc.title'), flash, crumbs: crumbs(ctx) }, body);
}

function seconds(ctx: PageContext, ms: number): string {
  return ctx.t.t('adminLifecycle.seconds', { n: ctx.t.number(Math.round(ms / 100) / 10) });
}

/** POST /ui/admin/gc/run. */
async function runNow(ctx: PageContext, form: URLSearchParams): Promise<AdminOutcome> {
  const { t } = ctx;
  const values: RunForm = { dryRun: checked(form, 'dryRun'), deleteUntagged: checked(form, 'deleteUntagged'), delay: (form.get('delay') ?? '').trim().slice(0, 40) };
  const gc = ctx.deps.jobs.gc;
  if (!gc) return { html: await gcPage(ctx, undefined, { values, refused: t.t('adminLifecycle.gc.unavailable') }), status: 503 };
  // The API's body, so the console asks for exactly what POST /api/v1/gc would.
  const request = gcRunBody.parse({ dryRun: values.dryRun, deleteUntagged: values.deleteUntagged, ...(values.delay && { delay: values.delay }) });
  let started: StartedGc;
  try {
    started = startGc(gc, request);
  } catch (e) {
    if (!(e instanceof GcRequestError)) throw e;
    const message = t.t('adminLifecycle.gc.delayInvalid');
    return { html: await gcPage(ctx, undefined, { values, errors: [message], delayError: message }), status: 400 };
  }
  const busy = async () => ({ html: await gcPage(ctx, undefined, { values, refused: t.t('adminLifecycle.gc.busy') }), status: 409 });
  if (values.dryRun) {
    let report: GcReport;
    try {
      report = await started.report;
    } catch (e) {
      if (e instanceof LeaseBusyError) return busy();
      throw e;
    }
    return { html: await dryRunPage(ctx, report) };
  }
  started.report.catch(() => undefined); // its outcome is recorded in gc_runs
  let id: string;
  try {
    id = await started.id();
  } catch (e) {
    if (e instanceof LeaseBusyError) return busy();
    throw e;
  }
  return { location: adminHref(ctx, `/gc/runs/${id}`), notice: t.t('adminLifecycle.gc.started') };
}

/** What a dry run found: the counts, then the first items of each kind. */
async function dryRunPage(ctx: PageContext, report: GcReport): Promise<Html> {
  const { t } = ctx;
  const manifests = report.manifests.slice(0, SHOWN);
  const blobs = report.blobs.slice(0, SHOWN);
  const more = (shown: number, total: number) => (total > shown ? html`<p class="muted">${t.t('adminLifecycle.gc.firstOf', { shown: t.number(shown), total: t.number(total) })}</p>` : '');
  const body = html`<div class="page-head"><h1>${t.t('adminLifecycle.gc.dryRunTitle')}</h1><div class="actions"><a class="btn" href="${adminHref(ctx, `/gc/runs/${report.id}`)}">${t.t('adminLifecycle.gc.runDetails')}</a> <a class="btn" href="${adminHref(ctx, '/gc')}">${t.t('adminLifecycle.gc.back')}</a></div></div>
<p>${t.t('adminLifecycle.gc.dryRunIntro', { delay: duration(report.delayMs) })}</p>
${report.status === 'failed' ? alertBox(report.errors) : ''}
${reportCounts(ctx, report.dryRun, {
  manifests: report.manifests.length,
  blobs: report.blobs.length,
  bytes: report.bytesRemoved,
  links: report.linksRemoved,
  orphans: report.orphansRemoved,
  uploads: report.uploadsPurged,
})}
<section aria-labelledby="dry-manifests-title"><h2 id="dry-manifests-title">${t.t('adminLifecycle.gc.manifests')}</h2>
${
  manifests.length === 0
    ? html`<p class="empty">${t.t('adminLifecycle.gc.noManifests')}</p>`
    : html`<div class="table-wrap"><table class="data"><caption class="visually-hidden">${t.t('adminLifecycle.gc.manifests')}</caption>
<thead><tr><th scope="col">${t.t('adminLifecycle.col.repository')}</th><th scope="col">${t.t('adminLifecycle.col.digest')}</th><th scope="col" class="num">${t.t('adminLifecycle.col.size')}</th></tr></thead>
<tbody>${manifests.map((m) => html`<tr><th scope="row" class="mono">${m.repository}</th><td class="mono"><a href="${manifestHref(ctx, m.repository, m.digest)}" title="${m.digest}">${shortDigest(m.digest)}</a></td><td class="num">${t.bytes(m.size)}</td></tr>`)}</tbody></table></div>${more(manifests.length, report.manifests.length)}`
}</section>
<section aria-labelledby="dry-blobs-title"><h2 id="dry-blobs-title">${t.t('adminLifecycle.gc.blobs')}</h2>
${
  blobs.length === 0
    ? html`<p class="empty">${t.t('adminLifecycle.gc.noBlobs')}</p>`
    : html`<div class="table-wrap"><table class="data"><caption class="visually-hidden">${t.t('adminLifecycle.gc.blobs')}</caption>
<thead><tr><th scope="col">${t.t('adminLifecycle.col.digest')}</th><th scope="col" class="num">${t.t('adminLifecycle.col.size')}</th></tr></thead>
<tbody>${blobs.map((b) => html`<tr><th scope="row" class="mono">${b.digest}</th><td class="num">${t.bytes(b.size)}</td></tr>`)}</tbody></table></div>${more(blobs.length, report.blobs.length)}`
}</section>`;
  return lifecyclePage(ctx, { title: t.t('adminLifecycle.gc.dryRunTitle'), crumbs: crumbs(ctx, [t.t('adminLifecycle.gc.title'), '/gc']) }, body);
}

interface Counts {
  manifests: number;
  blobs: number;
  bytes: number;
  links: number;
  orphans: number;
  uploads: number;
}

function reportCounts(ctx: PageContext, dryRun: boolean, c: Counts): Html {
  const { t } = ctx;
  return html`<section class="card" aria-labelledby="gc-counts-title"><h2 id="gc-counts-title">${t.t(dryRun ? 'adminLifecycle.gc.wouldRemove' : 'adminLifecycle.gc.removed')}</h2><dl class="props">
<dt>${t.t('adminLifecycle.gc.manifests')}</dt><dd>${t.number(c.manifests)}</dd>
<dt>${t.t('adminLifecycle.gc.blobs')}</dt><dd>${t.number(c.blobs)}</dd>
<dt>${t.t('adminLifecycle.gc.bytes')}</dt><dd>${t.bytes(c.bytes)}</dd>
<dt>${t.t('adminLifecycle.gc.links')}</dt><dd>${t.number(c.links)}</dd>
<dt>${t.t('adminLifecycle.gc.orphans')}</dt><dd>${t.number(c.orphans)}</dd>
<dt>${t.t('adminLifecycle.gc.uploads')}</dt><dd>${t.number(c.uploads)}</dd>
</dl></section>`;
}

function num(details: Record<string, unknown> | null, key: string): number {
  const v = details?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** GET /ui/admin/gc/runs/<id>: one run, as GET /api/v1/gc/runs/:id finds it. */
async function runPage(ctx: PageContext, id: string, flash: Flash | undefined): Promise<Html> {
  const { t } = ctx;
  const run = (await ctx.deps.services.metadata.lifecycle.gcRuns(1000)).find((r) => r.id === id);
  if (!run) throw new NotFound();
  const errors = Array.isArray(run.details?.errors) ? (run.details.errors as unknown[]).filter((e): e is string => typeof e === 'string') : [];
  const delayMs = run.details && typeof run.details.delayMs === 'number' ? run.details.delayMs : undefined;
  const title = t.t('adminLifecycle.gc.runTitle');
  const body = html`<div class="page-head"><h1>${title}</h1><div class="actions">${statusBadge(ctx, run.status)}${run.status === 'running' ? html` <a class="btn btn-small" href="${adminHref(ctx, `/gc/runs/${run.id}`)}">${t.t('adminLifecycle.refresh')}</a>` : ''}</div></div>
${run.status === 'running' ? html`<p class="notice" role="status">${t.t('adminLifecycle.gc.stillRunning')}</p>` : ''}
${run.status === 'failed' && errors.length ? alertBox(errors, 'run-errors') : ''}
<div class="grid grid-start">
<section class="card" aria-labelledby="gc-run-props"><h2 id="gc-run-props">${t.t('adminLifecycle.gc.runAbout')}</h2><dl class="props">
<dt>${t.t('adminLifecycle.gc.runId')}</dt><dd class="mono">${run.id}</dd>
<dt>${t.t('adminLifecycle.col.status')}</dt><dd>${statusBadge(ctx, run.status)}</dd>
<dt>${t.t('adminLifecycle.gc.col.trigger')}</dt><dd>${triggerText(ctx, run.trigger)}</dd>
<dt>${t.t('adminLifecycle.gc.col.mode')}</dt><dd>${modeBadge(ctx, run.dryRun)}</dd>
<dt>${t.t('adminLifecycle.gc.col.untagged')}</dt><dd>${yesNo(ctx, run.deleteUntagged)}</dd>
${delayMs !== undefined ? html`<dt>${t.t('adminLifecycle.gc.delay')}</dt><dd>${duration(delayMs)}</dd>` : ''}
<dt>${t.t('adminLifecycle.gc.col.started')}</dt><dd>${timeText(ctx, run.startedAt)}</dd>
<dt>${t.t('adminLifecycle.gc.finished')}</dt><dd>${run.finishedAt === null ? html`<span class="muted">${t.t('adminLifecycle.gc.notFinished')}</span>` : timeText(ctx, run.finishedAt)}</dd>
${run.finishedAt !== null ? html`<dt>${t.t('adminLifecycle.gc.col.duration')}</dt><dd>${seconds(ctx, run.finishedAt - run.startedAt)}</dd>` : ''}
</dl></section>
${reportCounts(ctx, run.dryRun, {
  manifests: run.manifestsRemoved,
  blobs: run.blobsRemoved,
  bytes: run.bytesRemoved,
  links: num(run.details, 'linksRemoved'),
  orphans: num(run.details, 'orphansRemoved'),
  uploads: num(run.details, 'uploadsPurged'),
})}
</div>
${run.status !== 'failed' && errors.length ? html`<section aria-labelledby="gc-run-errors"><h2 id="gc-run-errors">${t.t('adminLifecycle.gc.errors')}</h2><ul>${errors.map((e) => html`<li>${e}</li>`)}</ul></section>` : ''}
<p><a href="${adminHref(ctx, '/gc')}">${t.t('adminLifecycle.gc.back')}</a></p>`;
  return lifecyclePage(ctx, { title, flash, crumbs: crumbs(ctx, [t.t('adminLifecycle.gc.title'), '/gc']) }, body);
}
