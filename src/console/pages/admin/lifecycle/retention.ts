// Retention (/ui/admin/retention): berth.retention's settings and policies from config.yml (read
// only), and the per-namespace policies of the admin API: list, create, edit, delete, and preview
// what a policy would delete, a saved one or one still in the form. The same validation as
// PUT /api/v1/retention/<namespace> (namespacePolicyBody), the same store calls, the same preview.
import { html, type Html } from '../../../html.ts';
import { csrfField, type Flash, type PageContext } from '../../../page.ts';
import { NotFound } from '../../../errors.ts';
import { manifestHref, repoHref, shortDigest, timeCell, timeText } from '../../fragments.ts';
import type { AdminOutcome } from '../index.ts';
import { parseDuration } from '../../../../config/durations.ts';
import { namespacePolicyBody, policyFromJson, policyToJson, type PolicyJson } from '../../../../lifecycle/retention-rules.ts';
import type { RetentionReport } from '../../../../lifecycle/retention.ts';
import { previewCandidatePolicy, RETENTION_RULE_KIND } from '../../../../lifecycle/retention-candidate.ts';
import { createRetention } from '../../../../lifecycle/retention-runner.ts';
import type { ManifestDeletionKind } from '../../../../lifecycle/retention-policy.ts';
import { adminHref, alertBox, checked, confirmLink, confirmPage, crumbs, duration, errorBox, field, lifecyclePage, parseNamespace, yesNo } from './shared.ts';
import { triggerText } from './gc.ts';

/** Rows of each list a preview shows per repository (its counts are complete). */
const SHOWN = 200;
const MAX_ENTRIES = 20;

interface EntryValues {
  patterns: string;
  pushedCount: string;
  pushedWithin: string;
  pulledCount: string;
  pulledWithin: string;
}

interface PolicyForm {
  namespace: string;
  deleteUntagged: boolean;
  deleteReferrers: boolean;
  entries: EntryValues[];
}

interface FormProblems {
  errors: string[];
  /** Field id -> message. */
  fields: Record<string, string>;
}

const ENTRY_FIELDS = ['patterns', 'pushedCount', 'pushedWithin', 'pulledCount', 'pulledWithin'] as const;
const BLANK: EntryValues = { patterns: '', pushedCount: '', pushedWithin: '', pulledCount: '', pulledWithin: '' };

export async function retentionAdmin(ctx: PageContext, rest: string, form: URLSearchParams | undefined, flash: Flash | undefined): Promise<AdminOutcome> {
  if (rest === '') {
    if (form) throw new NotFound();
    return { html: await listPage(ctx, flash) };
  }
  if (rest === '/-/new') return form ? submit(ctx, form, undefined) : { html: await formPage(ctx, { namespace: '', deleteUntagged: false, deleteReferrers: false, entries: [{ ...BLANK }] }, undefined) };
  if (rest === '/-/preview' && !form) return { html: await previewPage(ctx, undefined) };
  const m = /^\/(.+?)(?:\/-\/(preview|delete))?$/.exec(rest);
  const namespace = m ? parseNamespace(m[1]) : undefined;
  if (!m || !namespace || namespace !== m[1]) throw new NotFound();
  const action = m[2];
  if (action === 'preview') {
    if (form) throw new NotFound();
    return { html: await previewPage(ctx, namespace) };
  }
  if (action === 'delete') return remove(ctx, namespace, form);
  if (form) return submit(ctx, form, namespace);
  const rule = await storedRule(ctx, namespace);
  if (!rule) throw new NotFound();
  return { html: await formPage(ctx, rule.values, namespace, undefined, undefined, flash, rule.invalid) };
}

async function storedRules(ctx: PageContext) {
  return ctx.deps.services.metadata.lifecycle.rules(RETENTION_RULE_KIND);
}

/** A namespace's stored policy as the form shows it. */
async function storedRule(ctx: PageContext, namespace: string): Promise<{ values: PolicyForm; invalid: boolean } | undefined> {
  const rule = (await storedRules(ctx)).find((r) => r.namespace === namespace);
  if (!rule) return undefined;
  const policy = policyFromJson(rule.body, namespace);
  if (!policy) return { values: { namespace, deleteUntagged: false, deleteReferrers: false, entries: [{ ...BLANK }] }, invalid: true };
  return { values: toForm(namespace, policyToJson(policy)), invalid: false };
}

function toForm(namespace: string, p: PolicyJson): PolicyForm {
  const str = (v: number | string | undefined) => (v === undefined ? '' : String(v));
  return {
    namespace,
    deleteUntagged: p.deleteUntagged,
    deleteReferrers: p.deleteReferrers,
    entries: (p.keepTags ?? []).map((k) => ({
      patterns: k.patterns.join('\n'),
      pushedCount: str(k.mostRecentlyPushedCount),
      pushedWithin: str(k.pushedWithin),
      pulledCount: str(k.mostRecentlyPulledCount),
      pulledWithin: str(k.pulledWithin),
    })),
  };
}

function readForm(form: URLSearchParams, fixedNamespace: string | undefined): PolicyForm {
  const n = Math.min(MAX_ENTRIES, Math.max(1, Number.parseInt(form.get('entries') ?? '1', 10) || 1));
  const entries: EntryValues[] = [];
  for (let i = 0; i < n; i++) {
    const e = { ...BLANK };
    for (const f of ENTRY_FIELDS) e[f] = (form.get(`keep-${i}-${f}`) ?? '').slice(0, f === 'patterns' ? 10_000 : 40);
    entries.push(e);
  }
  return {
    namespace: fixedNamespace ?? (form.get('namespace') ?? '').trim().slice(0, 255),
    deleteUntagged: checked(form, 'deleteUntagged'),
    deleteReferrers: checked(form, 'deleteReferrers'),
    entries,
  };
}

function isBlank(e: EntryValues): boolean {
  return ENTRY_FIELDS.every((f) => e[f].trim() === '');
}

function patternLines(text: string): string[] {
  return [...new Set(text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean))];
}

/** The form's values as the API's body, validated by the API's schema; or what is wrong, per field. */
function validate(ctx: PageContext, v: PolicyForm): { policy: PolicyJson; namespace: string } | FormProblems {
  const { t } = ctx;
  const problems: FormProblems = { errors: [], fields: {} };
  const fail = (id: string, message: string) => {
    problems.fields[id] ??= message;
    problems.errors.push(message);
  };
  const namespace = parseNamespace(v.namespace);
  if (!namespace) fail('ret-namespace', t.t('adminLifecycle.namespaceInvalid'));
  const keepTags: Record<string, unknown>[] = [];
  v.entries.forEach((e, i) => {
    if (isBlank(e)) return;
    const n = i + 1;
    const entry: Record<string, unknown> = {};
    const patterns = patternLines(e.patterns);
    const bad = patterns.find((p) => {
      try {
        new RegExp(p);
        return false;
      } catch {
        return true;
      }
    });
    if (bad !== undefined) fail(`keep-${i}-patterns`, t.t('adminLifecycle.retention.patternInvalid', { n, pattern: bad }));
    if (patterns.length) entry.patterns = patterns;
    const count = (f: 'pushedCount' | 'pulledCount', key: string) => {
      const s = e[f].trim();
      if (!s) return;
      if (!/^\d{1,9}$/.test(s)) fail(`keep-${i}-${f}`, t.t('adminLifecycle.retention.countInvalid', { n }));
      else entry[key] = Number(s);
    };
    const within = (f: 'pushedWithin' | 'pulledWithin', key: string) => {
      const s = e[f].trim();
      if (!s) return;
      let ok = true;
      try {
        ok = parseDuration(s) >= 0;
      } catch {
        ok = false;
      }
      if (!ok) fail(`keep-${i}-${f}`, t.t('adminLifecycle.retention.durationInvalid', { n }));
      else entry[key] = s;
    };
    count('pushedCount', 'mostRecentlyPushedCount');
    within('pushedWithin', 'pushedWithin');
    count('pulledCount', 'mostRecentlyPulledCount');
    within('pulledWithin', 'pulledWithin');
    keepTags.push(entry);
  });
  if (problems.errors.length) return problems;
  // The API's own schema decides (PUT /api/v1/retention/<namespace>).
  const parsed = namespacePolicyBody.safeParse({ deleteUntagged: v.deleteUntagged, deleteReferrers: v.deleteReferrers, ...(keepTags.length && { keepTags }) });
  if (!parsed.success) {
    const detail = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.')}: ${i.message}`)
      .join('; ');
    return { errors: [t.t('adminLifecycle.retention.invalid', { detail })], fields: {} };
  }
  return { policy: policyToJson(parsed.data), namespace: namespace! };
}

/** POST /ui/admin/retention/-/new and /ui/admin/retention/<namespace>: preview, save, or one more entry. */
async function submit(ctx: PageContext, form: URLSearchParams, fixedNamespace: string | undefined): Promise<AdminOutcome> {
  const { t } = ctx;
  const values = readForm(form, fixedNamespace);
  const action = form.get('action');
  if (action === 'more') {
    if (values.entries.length < MAX_ENTRIES) values.entries.push({ ...BLANK });
    return { html: await formPage(ctx, values, fixedNamespace, undefined, undefined, undefined, false, values.entries.length - 1) };
  }
  const result = validate(ctx, values);
  if ('errors' in result) return { html: await formPage(ctx, values, fixedNamespace, result), status: 400 };
  const { namespace, policy } = result;
  if (fixedNamespace === undefined && (await storedRules(ctx)).some((r) => r.namespace === namespace)) {
    const message = t.t('adminLifecycle.retention.exists', { namespace });
    return { html: await formPage(ctx, values, undefined, { errors: [message], fields: { 'ret-namespace': message } }), status: 409 };
  }
  if (action === 'preview') {
    const report = await previewCandidatePolicy(ctx.deps.services, ctx.deps.log, namespace, policy);
    return { html: await formPage(ctx, values, fixedNamespace, undefined, report) };
  }
  await ctx.deps.services.metadata.lifecycle.putRule(RETENTION_RULE_KIND, namespace, policy, ctx.viewer.name ?? null);
  return { location: adminHref(ctx, '/retention'), notice: t.t('adminLifecycle.retention.saved', { namespace }) };
}

/** GET|POST /ui/admin/retention/<namespace>/-/delete. */
async function remove(ctx: PageContext, namespace: string, form: URLSearchParams | undefined): Promise<AdminOutcome> {
  const { t } = ctx;
  if (!form) {
    if (!(await storedRules(ctx)).some((r) => r.namespace === namespace)) throw new NotFound();
    return {
      html: await confirmPage(ctx, {
        title: t.t('adminLifecycle.retention.deleteTitle', { namespace }),
        body: t.t('adminLifecycle.retention.deleteBody'),
        actionPath: `/retention/${namespace}/-/delete`,
        confirmLabel: t.t('adminLifecycle.retention.delete'),
        cancelPath: '/retention',
        crumbs: crumbs(ctx, [t.t('adminLifecycle.retention.title'), '/retention']),
      }),
    };
  }
  const deleted = await ctx.deps.services.metadata.lifecycle.deleteRule(RETENTION_RULE_KIND, namespace);
  return deleted
    ? { location: adminHref(ctx, '/retention'), notice: t.t('adminLifecycle.retention.deleted', { namespace }) }
    : { location: adminHref(ctx, '/retention'), notice: t.t('adminLifecycle.retention.noPolicy', { namespace }), error: true };
}

function keepTagsSummary(ctx: PageContext, p: PolicyJson): Html {
  const { t } = ctx;
  if (!p.keepTags || p.keepTags.length === 0) return html`<span>${t.t('adminLifecycle.retention.keepAll')}</span>`;
  return html`<ul>${p.keepTags.map((k) => {
    const rules: string[] = [];
    if (k.mostRecentlyPushedCount) rules.push(t.t('adminLifecycle.retention.rule.pushedCount', { n: k.mostRecentlyPushedCount }));
    if (k.pushedWithin) rules.push(t.t('adminLifecycle.retention.rule.pushedWithin', { d: k.pushedWithin }));
    if (k.mostRecentlyPulledCount) rules.push(t.t('adminLifecycle.retention.rule.pulledCount', { n: k.mostRecentlyPulledCount }));
    if (k.pulledWithin) rules.push(t.t('adminLifecycle.retention.rule.pulledWithin', { d: k.pulledWithin }));
    return html`<li>${k.patterns.map((p, i) => html`${i ? ' ' : ''}<code>${p}</code>`)}: ${rules.length ? t.t('adminLifecycle.retention.keepWhen', { rules: rules.join(t.t('adminLifecycle.retention.or')) }) : t.t('adminLifecycle.retention.keepMatching')}</li>`;
  })}</ul><p class="hint">${t.t('adminLifecycle.retention.unmatchedDeleted')}</p>`;
}

/** GET /ui/admin/retention. */
async function listPage(ctx: PageContext, flash: Flash | undefined): Promise<Html> {
  const { t, deps } = ctx;
  const settings = deps.services.config.berth.lifecycle.retention;
  const rules = await storedRules(ctx);
  const last = deps.jobs.retention?.lastRun;
  const confirmations = rules.map((r, i) =>
    confirmLink(ctx, {
      id: `del-ret-${i}`,
      label: t.t('action.delete'),
      what: r.namespace,
      confirmPath: `/retention/${r.namespace}/-/delete`,
      actionPath: `/retention/${r.namespace}/-/delete`,
      title: t.t('adminLifecycle.retention.deleteTitle', { namespace: r.namespace }),
      body: t.t('adminLifecycle.retention.deleteBody'),
      confirmLabel: t.t('adminLifecycle.retention.delete'),
    }),
  );
  const nsRow = (r: (typeof rules)[number], i: number) => {
    const policy = policyFromJson(r.body, r.namespace);
    const json = policy && policyToJson(policy);
    return html`<tr>
<th scope="row" class="mono"><a href="${adminHref(ctx, `/retention/${r.namespace}`)}">${r.namespace}</a></th>
${json ? html`<td>${yesNo(ctx, json.deleteUntagged)}</td><td>${yesNo(ctx, json.deleteReferrers)}</td><td>${keepTagsSummary(ctx, json)}</td>` : html`<td colspan="3"><span class="badge badge-warn">${t.t('adminLifecycle.retention.storedInvalid')}</span></td>`}
${timeCell(ctx, r.updatedAt)}<td>${r.updatedBy ?? html`<span class="muted">-</span>`}</td>
<td class="nowrap"><a class="btn btn-small" href="${adminHref(ctx, `/retention/${r.namespace}/-/preview`)}">${t.t('adminLifecycle.retention.preview')}<span class="visually-hidden"> ${r.namespace}</span></a> <a class="btn btn-small" href="${adminHref(ctx, `/retention/${r.namespace}`)}">${t.t('adminLifecycle.edit')}<span class="visually-hidden"> ${r.namespace}</span></a> ${confirmations[i].link}</td></tr>`;
  };
  const body = html`<div class="page-head"><h1>${t.t('adminLifecycle.retention.title')}</h1><div class="actions"><a class="btn btn-primary" href="${adminHref(ctx, '/retention/-/new')}">${t.t('adminLifecycle.retention.new')}</a> <a class="btn" href="${adminHref(ctx, '/retention/-/preview')}">${t.t('adminLifecycle.retention.previewAll')}</a></div><p class="muted">${t.t('adminLifecycle.retention.intro')}</p></div>
<section class="card" aria-labelledby="ret-settings-title"><h2 id="ret-settings-title">${t.t('adminLifecycle.retention.settings')}</h2><dl class="props">
<dt>${t.t('adminLifecycle.retention.dryrun')}</dt><dd>${settings.dryrun ? html`<span class="badge badge-warn">${t.t('adminLifecycle.retention.dryrunOn')}</span>` : t.t('adminLifecycle.retention.dryrunOff')}</dd>
<dt>${t.t('adminLifecycle.retention.interval')}</dt><dd>${duration(settings.intervalMs)}</dd>
<dt>${t.t('adminLifecycle.retention.lastRun')}</dt><dd>${
    last
      ? html`${timeText(ctx, Date.parse(last.startedAt))} · ${triggerText(ctx, last.trigger)} · ${t.t(last.status === 'succeeded' ? 'adminLifecycle.status.succeeded' : 'adminLifecycle.status.failed')} · ${t.t(last.dryRun ? 'adminLifecycle.retention.lastRunDry' : 'adminLifecycle.retention.lastRunDeleted', { tags: t.number(last.tagsDeleted), manifests: t.number(last.manifestsDeleted) })}`
      : html`<span class="muted">${t.t('adminLifecycle.retention.noRunYet')}</span>`
  }</dd></dl></section>
<section aria-labelledby="ret-ns-title"><h2 id="ret-ns-title">${t.t('adminLifecycle.retention.namespaces')}</h2>
<p class="muted">${t.t('adminLifecycle.retention.namespacesHint')}</p>
${
  rules.length === 0
    ? html`<p class="empty">${t.t('adminLifecycle.retention.noNamespaces')}</p>`
    : html`<div class="table-wrap"><table class="data"><caption class="visually-hidden">${t.t('adminLifecycle.retention.namespaces')}</caption>
<thead><tr><th scope="col">${t.t('adminLifecycle.col.namespace')}</th><th scope="col">${t.t('adminLifecycle.retention.col.untagged')}</th><th scope="col">${t.t('adminLifecycle.retention.col.referrers')}</th><th scope="col">${t.t('adminLifecycle.retention.col.keepTags')}</th><th scope="col">${t.t('adminLifecycle.col.updated')}</th><th scope="col">${t.t('adminLifecycle.col.updatedBy')}</th><th scope="col"><span class="visually-hidden">${t.t('adminLifecycle.col.actions')}</span></th></tr></thead>
<tbody>${rules.map(nsRow)}</tbody></table></div>`
}</section>
<section aria-labelledby="ret-config-title"><h2 id="ret-config-title">${t.t('adminLifecycle.retention.config')}</h2>
<p class="muted">${t.t('adminLifecycle.retention.configHint')}</p>
${
  settings.policies.length === 0
    ? html`<p class="empty">${t.t('adminLifecycle.retention.noConfig')}</p>`
    : html`<div class="table-wrap"><table class="data"><caption class="visually-hidden">${t.t('adminLifecycle.retention.config')}</caption>
<thead><tr><th scope="col">${t.t('adminLifecycle.col.entry')}</th><th scope="col">${t.t('adminLifecycle.col.repositories')}</th><th scope="col">${t.t('adminLifecycle.retention.col.untagged')}</th><th scope="col">${t.t('adminLifecycle.retention.col.referrers')}</th><th scope="col">${t.t('adminLifecycle.retention.col.keepTags')}</th></tr></thead>
<tbody>${settings.policies.map((p, i) => {
        const json = policyToJson(p);
        return html`<tr><th scope="row" class="mono">berth.retention.policies[${i}]</th><td>${p.repositories.map((g, j) => html`${j ? ' ' : ''}<code>${g}</code>`)}</td><td>${yesNo(ctx, json.deleteUntagged)}</td><td>${yesNo(ctx, json.deleteReferrers)}</td><td>${keepTagsSummary(ctx, json)}</td></tr>`;
      })}</tbody></table></div>`
}</section>
${confirmations.map((c) => c.dialog)}`;
  return lifecyclePage(ctx, { title: t.t('adminLifecycle.retention.title'), flash }, body);
}

/** The form for a new policy (namespace undefined) or a namespace's; with errors or a preview below. */
async function formPage(
  ctx: PageContext,
  v: PolicyForm,
  namespace: string | undefined,
  problems?: FormProblems,
  preview?: RetentionReport,
  flash?: Flash,
  storedInvalid = false,
  focusEntry?: number,
): Promise<Html> {
  const { t } = ctx;
  const title = namespace === undefined ? t.t('adminLifecycle.retention.newTitle') : t.t('adminLifecycle.retention.editTitle', { namespace });
  const action = adminHref(ctx, namespace === undefined ? '/retention/-/new' : `/retention/${namespace}`);
  const err = (id: string) => problems?.fields[id];
  const entries = v.entries.length ? v.entries : [{ ...BLANK }];
  const entry = (e: EntryValues, i: number) => {
    const id = (f: string) => `keep-${i}-${f}`;
    return html`<fieldset><legend>${t.t('adminLifecycle.retention.entry', { n: i + 1 })}</legend>
${field(id('patterns'), t.t('adminLifecycle.retention.patterns'), (a) => html`<textarea${a} name="${id('patterns')}" rows="2"${focusEntry === i ? html` autofocus` : ''}>${e.patterns}</textarea>`, t.t('adminLifecycle.retention.patternsHint'), err(id('patterns')))}
${field(id('pushedCount'), t.t('adminLifecycle.retention.pushedCount'), (a) => html`<input${a} name="${id('pushedCount')}" type="number" min="0" step="1" inputmode="numeric" value="${e.pushedCount}">`, undefined, err(id('pushedCount')))}
${field(id('pushedWithin'), t.t('adminLifecycle.retention.pushedWithin'), (a) => html`<input${a} name="${id('pushedWithin')}" value="${e.pushedWithin}" autocomplete="off">`, t.t('adminLifecycle.retention.durationHint'), err(id('pushedWithin')))}
${field(id('pulledCount'), t.t('adminLifecycle.retention.pulledCount'), (a) => html`<input${a} name="${id('pulledCount')}" type="number" min="0" step="1" inputmode="numeric" value="${e.pulledCount}">`, undefined, err(id('pulledCount')))}
${field(id('pulledWithin'), t.t('adminLifecycle.retention.pulledWithin'), (a) => html`<input${a} name="${id('pulledWithin')}" value="${e.pulledWithin}" autocomplete="off">`, t.t('adminLifecycle.retention.durationHint'), err(id('pulledWithin')))}
</fieldset>`;
  };
  const remove =
    namespace === undefined
      ? undefined
      : confirmLink(ctx, {
          id: 'del-ret',
          label: t.t('adminLifecycle.retention.delete'),
          what: namespace,
          confirmPath: `/retention/${namespace}/-/delete`,
          actionPath: `/retention/${namespace}/-/delete`,
          title: t.t('adminLifecycle.retention.deleteTitle', { namespace }),
          body: t.t('adminLifecycle.retention.deleteBody'),
          confirmLabel: t.t('adminLifecycle.retention.delete'),
        });
  const body = html`<div class="page-head"><h1>${title}</h1>${remove ? html`<div class="actions"><a class="btn btn-small" href="${adminHref(ctx, `/retention/${namespace}/-/preview`)}">${t.t('adminLifecycle.retention.previewSaved')}</a> ${remove.link}</div>` : ''}</div>
${storedInvalid ? alertBox([t.t('adminLifecycle.retention.storedInvalid')], 'stored-invalid') : ''}
${errorBox(ctx, problems?.errors ?? [])}
<form class="stack" method="post" action="${action}">${csrfField(ctx)}
<input type="hidden" name="entries" value="${entries.length}">
${
  namespace === undefined
    ? field('ret-namespace', t.t('adminLifecycle.namespace'), (a) => html`<input${a} name="namespace" required maxlength="255" value="${v.namespace}" autocomplete="off" spellcheck="false">`, t.t('adminLifecycle.retention.namespaceHint'), err('ret-namespace'))
    : html`<p class="hint">${t.t('adminLifecycle.retention.namespaceHint')}</p>`
}
<label class="check"><input type="checkbox" name="deleteUntagged" value="on"${v.deleteUntagged ? html` checked` : ''} aria-describedby="ret-untagged-hint"> ${t.t('adminLifecycle.retention.deleteUntagged')}</label>
<p class="hint" id="ret-untagged-hint">${t.t('adminLifecycle.retention.deleteUntaggedHint')}</p>
<label class="check"><input type="checkbox" name="deleteReferrers" value="on"${v.deleteReferrers ? html` checked` : ''} aria-describedby="ret-referrers-hint"> ${t.t('adminLifecycle.retention.deleteReferrers')}</label>
<p class="hint" id="ret-referrers-hint">${t.t('adminLifecycle.retention.deleteReferrersHint')}</p>
<h2>${t.t('adminLifecycle.retention.col.keepTags')}</h2>
<p class="hint">${t.t('adminLifecycle.retention.keepTagsHint')}</p>
${entries.map(entry)}
<div class="actions"><button type="submit" class="btn" name="action" value="preview" formaction="${action}#preview">${t.t('adminLifecycle.retention.preview')}</button> <button type="submit" class="btn btn-primary" name="action" value="save">${t.t('action.save')}</button> ${entries.length < MAX_ENTRIES ? html`<button type="submit" class="btn btn-link" name="action" value="more">${t.t('adminLifecycle.retention.addEntry')}</button>` : ''} <a class="btn btn-link" href="${adminHref(ctx, '/retention')}">${t.t('action.cancel')}</a></div>
</form>
${preview ? previewSection(ctx, preview, true) : ''}
${remove ? remove.dialog : ''}`;
  const trail = crumbs(ctx, [t.t('adminLifecycle.retention.title'), '/retention']);
  return lifecyclePage(ctx, { title, flash, crumbs: trail }, body);
}

/** GET /ui/admin/retention/-/preview (every policy) and /ui/admin/retention/<namespace>/-/preview (the saved one). */
async function previewPage(ctx: PageContext, namespace: string | undefined): Promise<Html> {
  const { t, deps } = ctx;
  const options = namespace === undefined ? {} : { namespace };
  const runner = deps.jobs.retention;
  // The same preview as POST /api/v1/retention/preview.
  const report = runner ? await runner.preview(options) : await createRetention(deps.services, deps.log).preview(options);
  const title = namespace === undefined ? t.t('adminLifecycle.retention.previewAllTitle') : t.t('adminLifecycle.retention.previewTitle', { namespace });
  const body = html`<div class="page-head"><h1>${title}</h1><div class="actions">${namespace !== undefined ? html`<a class="btn" href="${adminHref(ctx, `/retention/${namespace}`)}">${t.t('adminLifecycle.edit')}</a> ` : ''}<a class="btn" href="${adminHref(ctx, '/retention')}">${t.t('adminLifecycle.retention.back')}</a></div></div>
${previewSection(ctx, report, false)}`;
  return lifecyclePage(ctx, { title, crumbs: crumbs(ctx, [t.t('adminLifecycle.retention.title'), '/retention']) }, body);
}

function kindText(ctx: PageContext, kind: ManifestDeletionKind): string {
  const { t } = ctx;
  switch (kind) {
    case 'tags-deleted':
      return t.t('adminLifecycle.retention.kind.tagsDeleted');
    case 'untagged':
      return t.t('adminLifecycle.retention.kind.untagged');
    case 'index-child':
      return t.t('adminLifecycle.retention.kind.indexChild');
    case 'referrer':
      return t.t('adminLifecycle.retention.kind.referrer');
  }
  return kind;
}

/** What a preview found, per repository: tags, manifests, and immutable tags spared. */
function previewSection(ctx: PageContext, report: RetentionReport, withHeading: boolean): Html {
  const { t } = ctx;
  const more = (shown: number, total: number) => (total > shown ? html`<p class="muted">${t.t('adminLifecycle.gc.firstOf', { shown: t.number(shown), total: t.number(total) })}</p>` : '');
  const repo = (r: RetentionReport['repositories'][number], i: number) => {
    const tags = r.tags.slice(0, SHOWN);
    const manifests = r.manifests.slice(0, SHOWN);
    const kept = r.protectedTags.slice(0, SHOWN);
    return html`<section aria-labelledby="prev-repo-${i}"><h3 id="prev-repo-${i}"><a class="mono" href="${repoHref(ctx, r.repository)}">${r.repository}</a> <span class="muted">${t.t('adminLifecycle.retention.policyFrom', { policy: r.policy })}</span></h3>
<p>${t.t('adminLifecycle.retention.repoSummary', { tags: t.number(r.tags.length), manifests: t.number(r.manifests.length) })}</p>
${
  tags.length
    ? html`<div class="table-wrap"><table class="data"><caption>${t.t('adminLifecycle.retention.tagsCaption', { repository: r.repository })}</caption>
<thead><tr><th scope="col">${t.t('adminLifecycle.col.tag')}</th><th scope="col">${t.t('adminLifecycle.col.digest')}</th><th scope="col">${t.t('adminLifecycle.col.pushed')}</th><th scope="col">${t.t('adminLifecycle.col.pulled')}</th><th scope="col">${t.t('adminLifecycle.col.reason')}</th></tr></thead>
<tbody>${tags.map((d) => html`<tr><th scope="row" class="mono">${d.tag}</th><td class="mono"><a href="${manifestHref(ctx, r.repository, d.digest)}" title="${d.digest}">${shortDigest(d.digest)}</a></td>${timeCell(ctx, d.pushedAt)}${timeCell(ctx, d.pulledAt)}<td>${d.reason}</td></tr>`)}</tbody></table></div>${more(tags.length, r.tags.length)}`
    : ''
}
${
  manifests.length
    ? html`<div class="table-wrap"><table class="data"><caption>${t.t('adminLifecycle.retention.manifestsCaption', { repository: r.repository })}</caption>
<thead><tr><th scope="col">${t.t('adminLifecycle.col.digest')}</th><th scope="col" class="num">${t.t('adminLifecycle.col.size')}</th><th scope="col">${t.t('adminLifecycle.col.kind')}</th><th scope="col">${t.t('adminLifecycle.col.reason')}</th></tr></thead>
<tbody>${manifests.map((m) => html`<tr><th scope="row" class="mono" title="${m.digest}">${shortDigest(m.digest)}</th><td class="num">${t.bytes(m.size)}</td><td>${kindText(ctx, m.kind)}</td><td>${m.reason}</td></tr>`)}</tbody></table></div>${more(manifests.length, r.manifests.length)}`
    : ''
}
${
  kept.length
    ? html`<div class="table-wrap"><table class="data"><caption>${t.t('adminLifecycle.retention.protectedCaption', { repository: r.repository })}</caption>
<thead><tr><th scope="col">${t.t('adminLifecycle.col.tag')}</th><th scope="col">${t.t('adminLifecycle.col.digest')}</th><th scope="col">${t.t('adminLifecycle.retention.col.wouldHave')}</th></tr></thead>
<tbody>${kept.map((p) => html`<tr><th scope="row" class="mono">${p.tag} <span class="badge badge-immutable">${t.t('adminLifecycle.immutable.badge')}</span></th><td class="mono" title="${p.digest}">${shortDigest(p.digest)}</td><td>${p.reason}</td></tr>`)}</tbody></table></div>${more(kept.length, r.protectedTags.length)}`
    : ''
}</section>`;
  };
  return html`<section aria-labelledby="preview-title" id="preview">${withHeading ? html`<h2 id="preview-title">${t.t('adminLifecycle.retention.previewHeading')}</h2>` : html`<h2 id="preview-title" class="visually-hidden">${t.t('adminLifecycle.retention.previewHeading')}</h2>`}
${report.status === 'failed' ? alertBox(report.errors, 'preview-errors') : ''}
<p role="status">${t.t('adminLifecycle.retention.previewSummary', {
    tags: t.number(report.tagsDeleted),
    manifests: t.number(report.manifestsDeleted),
    repositories: t.number(report.repositories.filter((r) => r.tags.length || r.manifests.length).length),
    evaluated: t.number(report.repositoriesEvaluated),
  })}</p>
${report.repositories.length === 0 ? html`<p class="empty">${t.t('adminLifecycle.retention.nothing')}</p>` : report.repositories.map(repo)}
</section>`;
}
