// Immutable tags (/ui/admin/immutable): the rules from config.yml (read only) and one rule per
// namespace set through the admin API: list, add (patterns join the namespace's rule), edit,
// delete. The same validation as PUT /api/v1/immutabletags/<namespace> and the same store calls
// (ImmutableTags.namespaceRules, which the push path reads).
import { html, type Html } from '../../../html.ts';
import { csrfField, type Flash, type PageContext } from '../../../page.ts';
import { NotFound } from '../../../errors.ts';
import { timeCell } from '../../fragments.ts';
import type { AdminOutcome } from '../index.ts';
import type { ImmutableRule } from '../../../../lifecycle/immutable-tags.ts';
import { immutableRuleBody, isValidTagPattern, MAX_TAG_PATTERNS } from '../../../../lifecycle/rule-bodies.ts';
import { adminHref, confirmLink, confirmPage, crumbs, errorBox, field, lifecyclePage, parseNamespace } from './shared.ts';

interface RuleForm {
  namespace: string;
  patterns: string;
}

interface Problems {
  errors: string[];
  fields: Record<string, string>;
}

export async function immutableAdmin(ctx: PageContext, rest: string, form: URLSearchParams | undefined, flash: Flash | undefined): Promise<AdminOutcome> {
  if (rest === '') {
    if (form) throw new NotFound();
    return { html: await listPage(ctx, flash) };
  }
  if (rest === '/-/new' && form) return add(ctx, form);
  const m = /^\/(.+?)(?:\/-\/(delete))?$/.exec(rest);
  const namespace = m ? parseNamespace(m[1]) : undefined;
  if (!m || !namespace || namespace !== m[1]) throw new NotFound();
  if (m[2] === 'delete') return remove(ctx, namespace, form);
  if (form) return save(ctx, namespace, form);
  const rule = await namespaceRule(ctx, namespace);
  if (!rule) throw new NotFound();
  return { html: await editPage(ctx, namespace, { namespace, patterns: rule.tags.join('\n') }, undefined, flash) };
}

async function namespaceRule(ctx: PageContext, namespace: string): Promise<ImmutableRule | undefined> {
  return (await ctx.deps.services.immutableTags.rules()).find((r) => r.source === 'api' && r.namespace === namespace);
}

function lines(text: string): string[] {
  return [...new Set(text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean))];
}

/** Patterns, each checked as the API checks it (then by the API's schema); or what is wrong. */
function validatePatterns(ctx: PageContext, patterns: string[], fieldId: string): { tags: string[] } | Problems {
  const { t } = ctx;
  const errors: string[] = [];
  if (patterns.length === 0) errors.push(t.t('adminLifecycle.immutable.patternsRequired'));
  if (patterns.length > MAX_TAG_PATTERNS) errors.push(t.t('adminLifecycle.immutable.tooMany', { max: MAX_TAG_PATTERNS }));
  for (const p of patterns) if (p.length > 1000 || !isValidTagPattern(p)) errors.push(t.t('adminLifecycle.immutable.patternInvalid', { pattern: p.slice(0, 100) }));
  if (errors.length) return { errors, fields: { [fieldId]: errors[0] } };
  const parsed = immutableRuleBody.safeParse({ tags: patterns });
  if (!parsed.success) return { errors: [t.t('adminLifecycle.immutable.invalid', { detail: parsed.error.issues.map((i) => i.message).join('; ') })], fields: {} };
  return { tags: parsed.data.tags };
}

/** POST /ui/admin/immutable/-/new: a namespace's rule, or more patterns for the rule it has. */
async function add(ctx: PageContext, form: URLSearchParams): Promise<AdminOutcome> {
  const { t } = ctx;
  const values: RuleForm = { namespace: (form.get('namespace') ?? '').trim().slice(0, 255), patterns: (form.get('patterns') ?? '').slice(0, 100_000) };
  const namespace = parseNamespace(values.namespace);
  const problems: Problems = { errors: [], fields: {} };
  if (!namespace) {
    problems.errors.push(t.t('adminLifecycle.namespaceInvalid'));
    problems.fields['imm-namespace'] = problems.errors[0];
  }
  const existing = namespace ? await namespaceRule(ctx, namespace) : undefined;
  const wanted = lines(values.patterns);
  const merged = [...new Set([...(existing?.tags ?? []), ...wanted])];
  // Nothing new to add is an error even when the namespace has patterns already.
  const checked = validatePatterns(ctx, wanted.length ? merged : [], 'imm-patterns');
  if ('errors' in checked) {
    problems.errors.push(...checked.errors);
    problems.fields['imm-patterns'] = checked.errors[0];
  }
  if ('errors' in checked || problems.errors.length) return { html: await listPage(ctx, undefined, values, problems), status: 400 };
  await ctx.deps.services.immutableTags.namespaceRules.put(namespace!, { tags: checked.tags }, ctx.viewer.name ?? null);
  return { location: adminHref(ctx, '/immutable'), notice: t.t(existing ? 'adminLifecycle.immutable.extended' : 'adminLifecycle.immutable.added', { namespace: namespace! }) };
}

/** POST /ui/admin/immutable/<namespace>: replaces the namespace's patterns. */
async function save(ctx: PageContext, namespace: string, form: URLSearchParams): Promise<AdminOutcome> {
  const values: RuleForm = { namespace, patterns: (form.get('patterns') ?? '').slice(0, 100_000) };
  const checked = validatePatterns(ctx, lines(values.patterns), 'imm-edit-patterns');
  if ('errors' in checked) return { html: await editPage(ctx, namespace, values, checked), status: 400 };
  await ctx.deps.services.immutableTags.namespaceRules.put(namespace, { tags: checked.tags }, ctx.viewer.name ?? null);
  return { location: adminHref(ctx, '/immutable'), notice: ctx.t.t('adminLifecycle.immutable.saved', { namespace }) };
}

async function remove(ctx: PageContext, namespace: string, form: URLSearchParams | undefined): Promise<AdminOutcome> {
  const { t } = ctx;
  if (!form) {
    if (!(await namespaceRule(ctx, namespace))) throw new NotFound();
    return {
      html: await confirmPage(ctx, {
        title: t.t('adminLifecycle.immutable.deleteTitle', { namespace }),
        body: t.t('adminLifecycle.immutable.deleteBody'),
        actionPath: `/immutable/${namespace}/-/delete`,
        confirmLabel: t.t('adminLifecycle.immutable.delete'),
        cancelPath: '/immutable',
        crumbs: crumbs(ctx, [t.t('adminLifecycle.immutable.title'), '/immutable']),
      }),
    };
  }
  const deleted = await ctx.deps.services.immutableTags.namespaceRules.delete(namespace);
  return deleted
    ? { location: adminHref(ctx, '/immutable'), notice: t.t('adminLifecycle.immutable.deleted', { namespace }) }
    : { location: adminHref(ctx, '/immutable'), notice: t.t('adminLifecycle.immutable.noRule', { namespace }), error: true };
}

function patternList(tags: string[]): Html {
  return html`${tags.map((p, i) => html`${i ? ' ' : ''}<code>${p}</code>`)}`;
}

/** GET /ui/admin/immutable (and the add form again when it had errors). */
async function listPage(ctx: PageContext, flash: Flash | undefined, values?: RuleForm, problems?: Problems): Promise<Html> {
  const { t } = ctx;
  const rules = await ctx.deps.services.immutableTags.rules();
  const fromConfig = rules.filter((r) => r.source === 'config');
  const fromApi = rules.filter((r) => r.source === 'api');
  const confirmations = fromApi.map((r, i) =>
    confirmLink(ctx, {
      id: `del-imm-${i}`,
      label: t.t('action.delete'),
      what: r.namespace!,
      confirmPath: `/immutable/${r.namespace}/-/delete`,
      actionPath: `/immutable/${r.namespace}/-/delete`,
      title: t.t('adminLifecycle.immutable.deleteTitle', { namespace: r.namespace! }),
      body: t.t('adminLifecycle.immutable.deleteBody'),
      confirmLabel: t.t('adminLifecycle.immutable.delete'),
    }),
  );
  const body = html`<div class="page-head"><h1>${t.t('adminLifecycle.immutable.title')}</h1><p class="muted">${t.t('adminLifecycle.immutable.intro')}</p></div>
<section aria-labelledby="imm-ns-title"><h2 id="imm-ns-title">${t.t('adminLifecycle.immutable.namespaces')}</h2>
${
  fromApi.length === 0
    ? html`<p class="empty">${t.t('adminLifecycle.immutable.noNamespaces')}</p>`
    : html`<div class="table-wrap"><table class="data"><caption class="visually-hidden">${t.t('adminLifecycle.immutable.namespaces')}</caption>
<thead><tr><th scope="col">${t.t('adminLifecycle.col.namespace')}</th><th scope="col">${t.t('adminLifecycle.immutable.col.patterns')}</th><th scope="col">${t.t('adminLifecycle.col.updated')}</th><th scope="col">${t.t('adminLifecycle.col.updatedBy')}</th><th scope="col"><span class="visually-hidden">${t.t('adminLifecycle.col.actions')}</span></th></tr></thead>
<tbody>${fromApi.map(
        (r, i) => html`<tr><th scope="row" class="mono"><a href="${adminHref(ctx, `/immutable/${r.namespace}`)}">${r.namespace}</a></th><td>${patternList(r.tags)}</td>${timeCell(ctx, r.updatedAt)}<td>${r.updatedBy ?? html`<span class="muted">-</span>`}</td>
<td class="nowrap"><a class="btn btn-small" href="${adminHref(ctx, `/immutable/${r.namespace}`)}">${t.t('adminLifecycle.edit')}<span class="visually-hidden"> ${r.namespace}</span></a> ${confirmations[i].link}</td></tr>`,
      )}</tbody></table></div>`
}</section>
<section class="card" aria-labelledby="imm-add-title"><h2 id="imm-add-title">${t.t('adminLifecycle.immutable.add')}</h2>
${errorBox(ctx, problems?.errors ?? [])}
<form class="stack" method="post" action="${adminHref(ctx, '/immutable/-/new')}">${csrfField(ctx)}
${field('imm-namespace', t.t('adminLifecycle.namespace'), (a) => html`<input${a} name="namespace" required maxlength="255" value="${values?.namespace ?? ''}" autocomplete="off" spellcheck="false">`, t.t('adminLifecycle.immutable.namespaceHint'), problems?.fields['imm-namespace'])}
${field('imm-patterns', t.t('adminLifecycle.immutable.patterns'), (a) => html`<textarea${a} name="patterns" rows="3" required spellcheck="false">${values?.patterns ?? ''}</textarea>`, t.t('adminLifecycle.immutable.patternsHint'), problems?.fields['imm-patterns'])}
<div class="actions"><button type="submit" class="btn btn-primary">${t.t('adminLifecycle.immutable.addButton')}</button></div>
</form></section>
<section aria-labelledby="imm-config-title"><h2 id="imm-config-title">${t.t('adminLifecycle.immutable.config')}</h2>
<p class="muted">${t.t('adminLifecycle.configReadOnly')}</p>
${
  fromConfig.length === 0
    ? html`<p class="empty">${t.t('adminLifecycle.immutable.noConfig')}</p>`
    : html`<div class="table-wrap"><table class="data"><caption class="visually-hidden">${t.t('adminLifecycle.immutable.config')}</caption>
<thead><tr><th scope="col">${t.t('adminLifecycle.col.entry')}</th><th scope="col">${t.t('adminLifecycle.col.repositories')}</th><th scope="col">${t.t('adminLifecycle.immutable.col.patterns')}</th></tr></thead>
<tbody>${fromConfig.map((r) => html`<tr><th scope="row" class="mono">berth.immutabletags[${r.index ?? 0}]</th><td>${patternList(r.repositories)}</td><td>${patternList(r.tags)}</td></tr>`)}</tbody></table></div>`
}</section>
${confirmations.map((c) => c.dialog)}`;
  return lifecyclePage(ctx, { title: t.t('adminLifecycle.immutable.title'), flash }, body);
}

/** GET /ui/admin/immutable/<namespace>: its patterns, to change. */
async function editPage(ctx: PageContext, namespace: string, values: RuleForm, problems?: Problems, flash?: Flash): Promise<Html> {
  const { t } = ctx;
  const title = t.t('adminLifecycle.immutable.editTitle', { namespace });
  const remove = confirmLink(ctx, {
    id: 'del-imm',
    label: t.t('adminLifecycle.immutable.delete'),
    what: namespace,
    confirmPath: `/immutable/${namespace}/-/delete`,
    actionPath: `/immutable/${namespace}/-/delete`,
    title: t.t('adminLifecycle.immutable.deleteTitle', { namespace }),
    body: t.t('adminLifecycle.immutable.deleteBody'),
    confirmLabel: t.t('adminLifecycle.immutable.delete'),
  });
  const body = html`<div class="page-head"><h1>${title}</h1><div class="actions">${remove.link}</div></div>
${errorBox(ctx, problems?.errors ?? [])}
<form class="stack" method="post" action="${adminHref(ctx, `/immutable/${namespace}`)}">${csrfField(ctx)}
${field('imm-edit-patterns', t.t('adminLifecycle.immutable.patterns'), (a) => html`<textarea${a} name="patterns" rows="5" required spellcheck="false">${values.patterns}</textarea>`, t.t('adminLifecycle.immutable.patternsHint'), problems?.fields['imm-edit-patterns'])}
<div class="actions"><button type="submit" class="btn btn-primary">${t.t('action.save')}</button> <a class="btn btn-link" href="${adminHref(ctx, '/immutable')}">${t.t('action.cancel')}</a></div>
</form>
${remove.dialog}`;
  return lifecyclePage(ctx, { title, flash, crumbs: crumbs(ctx, [t.t('adminLifecycle.immutable.title'), '/immutable']) }, body);
}
