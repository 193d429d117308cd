// Quotas and usage (/ui/admin/quotas): storage used per namespace against the quota that covers it,
// every quota (config.yml, read only, and per namespace from the admin API) with its usage, and a
// form to set a namespace's quota; /ui/admin/quotas/<namespace> its repositories, the quotas that
// concern it, and setting or removing its quota. The numbers are GET /api/v1/usage's (usageReport),
// the limit is parsed and stored as PUT /api/v1/quotas/<namespace> does.
import { html, type Html } from '../../../html.ts';
import { csrfField, type Flash, type PageContext } from '../../../page.ts';
import { NotFound } from '../../../errors.ts';
import { repoHref, timeText } from '../../fragments.ts';
import type { AdminOutcome } from '../index.ts';
import { compileGlobs } from '../../../../lifecycle/globs.ts';
import { formatBytes } from '../../../../lifecycle/quotas.ts';
import { usageReport, type QuotaEntry } from '../../../../lifecycle/usage-report.ts';
import { parseQuotaLimit, QuotaLimitError, quotaBody } from '../../../../lifecycle/rule-bodies.ts';
import { adminHref, confirmLink, confirmPage, crumbs, errorBox, field, lifecyclePage, parseNamespace, usageMeter } from './shared.ts';

interface QuotaForm {
  namespace: string;
  limit: string;
}

interface Problems {
  errors: string[];
  fields: Record<string, string>;
}

export async function quotasAdmin(ctx: PageContext, rest: string, form: URLSearchParams | undefined, flash: Flash | undefined): Promise<AdminOutcome> {
  if (rest === '') {
    if (form) throw new NotFound();
    return { html: await overviewPage(ctx, flash) };
  }
  if (rest === '/-/new' && form) return setQuota(ctx, form, undefined);
  const m = /^\/(.+?)(?:\/-\/(delete))?$/.exec(rest);
  const namespace = m ? parseNamespace(m[1]) : undefined;
  if (!m || !namespace || namespace !== m[1]) throw new NotFound();
  if (m[2] === 'delete') return removeQuota(ctx, namespace, form);
  if (form) return setQuota(ctx, form, namespace);
  return { html: await namespacePage(ctx, namespace, flash) };
}

function sourceText(ctx: PageContext, q: QuotaEntry): Html {
  return q.source === 'config' ? html`<span class="mono">berth.quotas[${q.index ?? 0}]</span>` : html`${ctx.t.t('adminLifecycle.quotas.sourceNamespace')}`;
}

/** The quota closest to (or furthest over) its limit among those covering `name`. */
function tightest(quotas: QuotaEntry[], name: string): QuotaEntry | undefined {
  let best: QuotaEntry | undefined;
  let bestRatio = -1;
  for (const q of quotas) {
    if (!compileGlobs(q.repositories)(name)) continue;
    const ratio = q.limitBytes > 0 ? q.usedBytes / q.limitBytes : Infinity;
    if (ratio > bestRatio) {
      best = q;
      bestRatio = ratio;
    }
  }
  return best;
}

/** Reads and checks the form as PUT /api/v1/quotas/<namespace> checks its body. */
function validate(ctx: PageContext, v: QuotaForm, fixedNamespace: string | undefined): { namespace: string; limitBytes: number } | Problems {
  const { t } = ctx;
  const problems: Problems = { errors: [], fields: {} };
  const namespace = fixedNamespace ?? parseNamespace(v.namespace);
  if (!namespace) {
    problems.errors.push(t.t('adminLifecycle.namespaceInvalid'));
    problems.fields['quota-namespace'] = t.t('adminLifecycle.namespaceInvalid');
  }
  let limitBytes = 0;
  const body = quotaBody.safeParse({ limit: v.limit.trim() });
  try {
    if (!body.success || !v.limit.trim()) throw new QuotaLimitError('limit');
    limitBytes = parseQuotaLimit(body.data.limit);
  } catch (e) {
    if (!(e instanceof QuotaLimitError)) throw e;
    problems.errors.push(t.t('adminLifecycle.quotas.limitInvalid'));
    problems.fields['quota-limit'] = t.t('adminLifecycle.quotas.limitInvalid');
  }
  if (problems.errors.length) return problems;
  return { namespace: namespace!, limitBytes };
}

/** POST /ui/admin/quotas/-/new and /ui/admin/quotas/<namespace>. */
async function setQuota(ctx: PageContext, form: URLSearchParams, fixedNamespace: string | undefined): Promise<AdminOutcome> {
  const values: QuotaForm = { namespace: fixedNamespace ?? (form.get('namespace') ?? '').trim().slice(0, 255), limit: (form.get('limit') ?? '').slice(0, 100) };
  const result = validate(ctx, values, fixedNamespace);
  if ('errors' in result) {
    return fixedNamespace === undefined
      ? { html: await overviewPage(ctx, undefined, values, result), status: 400 }
      : { html: await namespacePage(ctx, fixedNamespace, undefined, values, result), status: 400 };
  }
  await ctx.deps.services.quotas.namespaceRules.put(result.namespace, { limitBytes: result.limitBytes }, ctx.viewer.name ?? null);
  return { location: adminHref(ctx, `/quotas/${result.namespace}`), notice: ctx.t.t('adminLifecycle.quotas.saved', { namespace: result.namespace, limit: formatBytes(result.limitBytes) }) };
}

async function removeQuota(ctx: PageContext, namespace: string, form: URLSearchParams | undefined): Promise<AdminOutcome> {
  const { t } = ctx;
  if (!form) {
    if (!(await apiQuota(ctx, namespace))) throw new NotFound();
    return {
      html: await confirmPage(ctx, {
        title: t.t('adminLifecycle.quotas.deleteTitle', { namespace }),
        body: t.t('adminLifecycle.quotas.deleteBody'),
        actionPath: `/quotas/${namespace}/-/delete`,
        confirmLabel: t.t('adminLifecycle.quotas.delete'),
        cancelPath: `/quotas/${namespace}`,
        crumbs: crumbs(ctx, [t.t('adminLifecycle.quotas.title'), '/quotas']),
      }),
    };
  }
  const deleted = await ctx.deps.services.quotas.namespaceRules.delete(namespace);
  return deleted
    ? { location: adminHref(ctx, '/quotas'), notice: t.t('adminLifecycle.quotas.deleted', { namespace }) }
    : { location: adminHref(ctx, `/quotas/${namespace}`), notice: t.t('adminLifecycle.quotas.noQuota', { namespace }), error: true };
}

/** A limit as the form shows it: `50GiB` when that reads back exactly, else the bytes. */
function limitText(bytes: number): string {
  const text = formatBytes(bytes).replace(' ', '');
  try {
    return parseQuotaLimit(text) === bytes ? text : String(bytes);
  } catch {
    return String(bytes);
  }
}

async function apiQuota(ctx: PageContext, namespace: string) {
  return (await ctx.deps.services.quotas.scopes()).find((s) => s.source === 'api' && s.namespace === namespace);
}

function quotaDeleteLink(ctx: PageContext, namespace: string, i: number) {
  const { t } = ctx;
  return confirmLink(ctx, {
    id: `del-quota-${i}`,
    label: t.t('adminLifecycle.quotas.remove'),
    what: namespace,
    confirmPath: `/quotas/${namespace}/-/delete`,
    actionPath: `/quotas/${namespace}/-/delete`,
    title: t.t('adminLifecycle.quotas.deleteTitle', { namespace }),
    body: t.t('adminLifecycle.quotas.deleteBody'),
    confirmLabel: t.t('adminLifecycle.quotas.delete'),
  });
}

/** Every quota given, with its usage. */
function quotaTable(ctx: PageContext, quotas: QuotaEntry[], caption: string): { table: Html; dialogs: Html[] } {
  const { t } = ctx;
  const confirmations = quotas.map((q, i) => (q.source === 'api' && q.namespace ? quotaDeleteLink(ctx, q.namespace, i) : undefined));
  const table = html`<div class="table-wrap"><table class="data"><caption class="visually-hidden">${caption}</caption>
<thead><tr><th scope="col">${t.t('adminLifecycle.quotas.col.scope')}</th><th scope="col">${t.t('adminLifecycle.quotas.col.source')}</th><th scope="col" class="num">${t.t('adminLifecycle.quotas.col.limit')}</th><th scope="col" class="num">${t.t('adminLifecycle.quotas.col.used')}</th><th scope="col">${t.t('adminLifecycle.quotas.col.usage')}</th><th scope="col"><span class="visually-hidden">${t.t('adminLifecycle.col.actions')}</span></th></tr></thead>
<tbody>${quotas.map(
    (q, i) => html`<tr><th scope="row">${q.repositories.map((g, j) => html`${j ? ' ' : ''}<code>${g}</code>`)}</th><td>${sourceText(ctx, q)}${q.updatedAt ? html`<div class="muted">${timeText(ctx, Date.parse(q.updatedAt))}${q.updatedBy ? ` · ${q.updatedBy}` : ''}</div>` : ''}</td>
<td class="num">${t.bytes(q.limitBytes)}</td><td class="num">${t.bytes(q.usedBytes)}</td><td>${usageMeter(ctx, q.usedBytes, q.limitBytes, q.scope)}</td>
<td class="nowrap">${q.source === 'api' && q.namespace ? html`<a class="btn btn-small" href="${adminHref(ctx, `/quotas/${q.namespace}`)}">${t.t('adminLifecycle.edit')}<span class="visually-hidden"> ${q.namespace}</span></a> ${confirmations[i]!.link}` : html`<span class="muted">${t.t('adminLifecycle.quotas.readOnly')}</span>`}</td></tr>`,
  )}</tbody></table></div>`;
  return { table, dialogs: confirmations.flatMap((c) => (c ? [c.dialog] : [])) };
}

/** GET /ui/admin/quotas. */
async function overviewPage(ctx: PageContext, flash: Flash | undefined, values?: QuotaForm, problems?: Problems): Promise<Html> {
  const { t, deps } = ctx;
  const report = await usageReport(deps.services.quotas, deps.services.metadata.lifecycle.usage);
  const quotas = quotaTable(ctx, report.quotas, t.t('adminLifecycle.quotas.all'));
  const body = html`<div class="page-head"><h1>${t.t('adminLifecycle.quotas.title')}</h1><p class="muted">${t.t('adminLifecycle.quotas.intro')}</p></div>
<section aria-labelledby="usage-title"><h2 id="usage-title">${t.t('adminLifecycle.quotas.byNamespace')}</h2>
<p class="hint">${t.t('adminLifecycle.quotas.byNamespaceHint')}</p>
${
  report.namespaces.length === 0
    ? html`<p class="empty">${t.t('adminLifecycle.quotas.noUsage')}</p>`
    : html`<div class="table-wrap"><table class="data" id="usage" data-sortable><caption class="visually-hidden">${t.t('adminLifecycle.quotas.byNamespace')}</caption>
<thead><tr><th scope="col" data-sort="text" aria-sort="none">${t.t('adminLifecycle.col.namespace')}</th><th scope="col" class="num" data-sort="number" aria-sort="descending">${t.t('adminLifecycle.quotas.col.used')}</th><th scope="col" class="num" data-sort="number" aria-sort="none">${t.t('adminLifecycle.quotas.col.blobs')}</th><th scope="col" class="num" data-sort="number" aria-sort="none">${t.t('adminLifecycle.col.repositories')}</th><th scope="col" class="num">${t.t('adminLifecycle.quotas.col.limit')}</th><th scope="col">${t.t('adminLifecycle.quotas.col.usage')}</th></tr></thead>
<tbody>${[...report.namespaces]
        .sort((a, b) => b.usedBytes - a.usedBytes || a.name.localeCompare(b.name))
        .map((n) => {
          const q = tightest(report.quotas, n.name);
          return html`<tr><th scope="row" class="mono"><a href="${adminHref(ctx, `/quotas/${n.name}`)}">${n.name}</a></th><td class="num" data-value="${n.usedBytes}">${t.bytes(n.usedBytes)}</td><td class="num" data-value="${n.blobs}">${t.number(n.blobs)}</td><td class="num" data-value="${n.repositories.length}">${t.number(n.repositories.length)}</td>
<td class="num">${q ? t.bytes(q.limitBytes) : html`<span class="muted">${t.t('adminLifecycle.quotas.noLimit')}</span>`}</td><td>${q ? usageMeter(ctx, q.usedBytes, q.limitBytes, n.name) : html`<span class="muted">-</span>`}</td></tr>`;
        })}</tbody></table></div>`
}</section>
<section aria-labelledby="quotas-title"><h2 id="quotas-title">${t.t('adminLifecycle.quotas.all')}</h2>
${report.quotas.length === 0 ? html`<p class="empty">${t.t('adminLifecycle.quotas.none')}</p>` : quotas.table}</section>
<section class="card" aria-labelledby="quota-set-title"><h2 id="quota-set-title">${t.t('adminLifecycle.quotas.set')}</h2>
${errorBox(ctx, problems?.errors ?? [])}
<form class="stack" method="post" action="${adminHref(ctx, '/quotas/-/new')}">${csrfField(ctx)}
${field('quota-namespace', t.t('adminLifecycle.namespace'), (a) => html`<input${a} name="namespace" required maxlength="255" value="${values?.namespace ?? ''}" autocomplete="off" spellcheck="false">`, t.t('adminLifecycle.quotas.namespaceHint'), problems?.fields['quota-namespace'])}
${field('quota-limit', t.t('adminLifecycle.quotas.limit'), (a) => html`<input${a} name="limit" required maxlength="100" value="${values?.limit ?? ''}" autocomplete="off">`, t.t('adminLifecycle.quotas.limitHint'), problems?.fields['quota-limit'])}
<div class="actions"><button type="submit" class="btn btn-primary">${t.t('adminLifecycle.quotas.setButton')}</button></div>
</form></section>
${quotas.dialogs}`;
  return lifecyclePage(ctx, { title: t.t('adminLifecycle.quotas.title'), flash }, body);
}

/** GET /ui/admin/quotas/<namespace>. */
async function namespacePage(ctx: PageContext, namespace: string, flash: Flash | undefined, values?: QuotaForm, problems?: Problems): Promise<Html> {
  const { t, deps } = ctx;
  const report = await usageReport(deps.services.quotas, deps.services.metadata.lifecycle.usage, namespace);
  const ns = report.namespaces[0] ?? { name: namespace, usedBytes: 0, blobs: 0, repositories: [] };
  const own = report.quotas.find((q) => q.source === 'api' && q.namespace === namespace);
  const quotas = quotaTable(ctx, report.quotas, t.t('adminLifecycle.quotas.concerning', { namespace }));
  const repositories = [...ns.repositories].sort((a, b) => b.usedBytes - a.usedBytes || a.name.localeCompare(b.name));
  const remove = own ? quotaDeleteLink(ctx, namespace, report.quotas.length) : undefined;
  const title = t.t('adminLifecycle.quotas.namespaceTitle', { namespace });
  const body = html`<h1>${title}</h1>
<div class="grid grid-start">
<section class="card" aria-labelledby="ns-usage-title"><h2 id="ns-usage-title">${t.t('adminLifecycle.quotas.usage')}</h2><dl class="props">
<dt>${t.t('adminLifecycle.quotas.col.used')}</dt><dd>${t.bytes(ns.usedBytes)}</dd>
<dt>${t.t('adminLifecycle.quotas.col.blobs')}</dt><dd>${t.number(ns.blobs)}</dd>
<dt>${t.t('adminLifecycle.col.repositories')}</dt><dd>${t.number(ns.repositories.length)}</dd>
<dt>${t.t('adminLifecycle.quotas.col.limit')}</dt><dd>${own ? html`${usageMeter(ctx, own.usedBytes, own.limitBytes, namespace)}` : html`<span class="muted">${t.t('adminLifecycle.quotas.noOwnQuota')}</span>`}</dd>
</dl><p class="hint">${t.t('adminLifecycle.quotas.countedOnce')}</p></section>
<section class="card" aria-labelledby="ns-quota-title"><h2 id="ns-quota-title">${t.t(own ? 'adminLifecycle.quotas.change' : 'adminLifecycle.quotas.set')}</h2>
${errorBox(ctx, problems?.errors ?? [])}
<form class="stack" method="post" action="${adminHref(ctx, `/quotas/${namespace}`)}">${csrfField(ctx)}
${field('quota-limit', t.t('adminLifecycle.quotas.limit'), (a) => html`<input${a} name="limit" required maxlength="100" value="${values?.limit ?? (own ? limitText(own.limitBytes) : '')}" autocomplete="off">`, t.t('adminLifecycle.quotas.limitHint'), problems?.fields['quota-limit'])}
<div class="actions"><button type="submit" class="btn btn-primary">${t.t('adminLifecycle.quotas.setButton')}</button> ${remove ? remove.link : ''}</div>
</form></section>
</div>
<section aria-labelledby="ns-quotas-title"><h2 id="ns-quotas-title">${t.t('adminLifecycle.quotas.concerning', { namespace })}</h2>
${report.quotas.length === 0 ? html`<p class="empty">${t.t('adminLifecycle.quotas.noneHere')}</p>` : quotas.table}</section>
<section aria-labelledby="ns-repos-title"><h2 id="ns-repos-title">${t.t('adminLifecycle.quotas.repositories')}</h2>
${
  repositories.length === 0
    ? html`<p class="empty">${t.t('adminLifecycle.quotas.noRepositories')}</p>`
    : html`<div class="table-wrap"><table class="data" id="ns-repos" data-sortable><caption class="visually-hidden">${t.t('adminLifecycle.quotas.repositories')}</caption>
<thead><tr><th scope="col" data-sort="text" aria-sort="none">${t.t('adminLifecycle.col.repository')}</th><th scope="col" class="num" data-sort="number" aria-sort="descending">${t.t('adminLifecycle.quotas.col.used')}</th><th scope="col" class="num" data-sort="number" aria-sort="none">${t.t('adminLifecycle.quotas.col.blobs')}</th><th scope="col">${t.t('adminLifecycle.quotas.col.share')}</th></tr></thead>
<tbody>${repositories.map(
        (r) => html`<tr><th scope="row" class="mono"><a href="${repoHref(ctx, r.name)}">${r.name}</a></th><td class="num" data-value="${r.usedBytes}">${t.bytes(r.usedBytes)}</td><td class="num" data-value="${r.blobs}">${t.number(r.blobs)}</td>
<td>${own ? usageMeter(ctx, r.usedBytes, own.limitBytes, r.name) : html`<span class="muted">-</span>`}</td></tr>`,
      )}</tbody></table></div><p class="hint">${t.t('adminLifecycle.quotas.sharedBlobs')}</p>`
}</section>
${quotas.dialogs}${remove ? remove.dialog : ''}`;
  return lifecyclePage(ctx, { title, flash, crumbs: crumbs(ctx, [t.t('adminLifecycle.quotas.title'), '/quotas']) }, body);
}
