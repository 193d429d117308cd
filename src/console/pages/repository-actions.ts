// What a repository's page changes: delete tags by name (through the same checks as the API's
// DELETE: storage.delete.enabled, immutable tags, the delete role), delete the whole repository,
// set its description and visibility, create one. Each POST answers with a redirect (303) so a
// reload never repeats it; each GET confirmation page is what a browser without JavaScript sees
// instead of the dialog.
import { html, type Html } from '../html.ts';
import { csrfField, layout, type PageContext } from '../page.ts';
import { Forbidden, NotFound } from '../errors.ts';
import { repoHref, repositoryCrumbs, shortDigest } from './fragments.ts';
import { loadRepository } from './repository.ts';
import { isValidName as validRepositoryName } from '../../oci/reference.ts';

export interface ActionResult {
  location: string;
  notice?: string;
}

/** Breadcrumbs of a page about a repository: its namespaces, then the repository (as the image page's). */
function repositoryTrail(ctx: PageContext, name: string): [string, string][] {
  return [...repositoryCrumbs(ctx, name), [name.slice(name.lastIndexOf('/') + 1), repoHref(ctx, name)]];
}

async function requireDelete(ctx: PageContext, name: string): Promise<void> {
  if (!(await ctx.viewer.can(name, 'pull'))) throw new NotFound();
  if (!(await ctx.viewer.can(name, 'delete'))) throw new Forbidden();
  if (!ctx.deps.services.config.storage.delete.enabled) throw new Forbidden();
}

/** GET /ui/repo/<name>/-/delete-tags?tag=a&tag=b: the confirmation, with what else points at each digest. */
export async function confirmDeleteTagsPage(ctx: PageContext, name: string): Promise<Html> {
  const { t } = ctx;
  await requireDelete(ctx, name);
  const wanted = [...new Set(ctx.url.searchParams.getAll('tag'))].slice(0, 500);
  const detail = await loadRepository(ctx, name);
  const byName = new Map(detail.tags.items.map((tag) => [tag.name, tag]));
  const resolved = await Promise.all(wanted.map(async (tag) => byName.get(tag) ?? { name: tag, digest: await ctx.deps.services.metadata.resolveTag(name, tag), sameDigest: [] as string[] }));
  const body = html`<h1>${t.t('repo.deleteTagsTitle', { n: wanted.length })}</h1>
${wanted.length === 0 ? html`<p class="empty">${t.t('repo.nothingSelected')}</p>` : html`<form method="post" action="${repoHref(ctx, name, '/-/delete-tags')}" class="stack">${csrfField(ctx)}
<ul>${resolved.map(
        (r) => html`<li><input type="hidden" name="tag" value="${r.name}"><strong class="mono">${r.name}</strong> ${r.digest ? html`<span class="mono muted">${shortDigest(r.digest)}</span>` : html`<span class="badge badge-warn">${t.t('repo.noSuchTag')}</span>`}${
          r.sameDigest.filter((o) => !wanted.includes(o)).length ? html` <span>${t.t('repo.stillTagged', { tags: r.sameDigest.filter((o) => !wanted.includes(o)).join(', ') })}</span>` : ''
        }</li>`,
      )}</ul>
<div class="actions"><a class="btn" href="${repoHref(ctx, name)}">${t.t('action.cancel')}</a> <button type="submit" class="btn btn-danger">${t.t('repo.deleteTagsConfirm', { n: wanted.length })}</button></div></form>`}`;
  return layout(ctx, { title: t.t('repo.deleteTagsTitle', { n: wanted.length }), nav: 'repositories', crumbs: repositoryTrail(ctx, name) }, body);
}

/** POST /ui/repo/<name>/-/delete-tags: each tag by name (never its digest: other tags keep it). */
export async function deleteTags(ctx: PageContext, name: string, form: URLSearchParams): Promise<ActionResult> {
  await requireDelete(ctx, name);
  const tags = [...new Set(form.getAll('tag'))].slice(0, 500);
  const { metadata, immutableTags } = ctx.deps.services;
  const deleted: string[] = [];
  const refused: string[] = [];
  for (const tag of tags) {
    try {
      await immutableTags.checkDelete(name, { kind: 'tag', tag });
    } catch {
      refused.push(tag);
      continue;
    }
    if (await metadata.deleteTag(name, tag)) {
      deleted.push(tag);
      await ctx.deps.services.events?.tagDeleted({ req: ctx.req, principal: ctx.viewer.principal }, name, tag);
    }
  }
  // As for a DELETE through the registry API: a cached pull-policy verdict may have relied on a
  // deleted signature tag (or a signed index), and must not outlive it.
  if (deleted.length) ctx.deps.services.trust?.manifestChanged(name);
  ctx.deps.access?.audit.recordBy(ctx.viewer.principal, {
    action: 'delete',
    repository: name,
    reference: deleted.join(','),
    outcome: deleted.length ? 'success' : 'failure',
    clientAddress: ctx.req.socket.remoteAddress ?? null,
    details: { via: 'console', refused },
  });
  const { t } = ctx;
  const parts = [deleted.length ? t.t('repo.tagsDeleted', { tags: deleted.join(', ') }) : t.t('repo.noTagDeleted')];
  if (refused.length) parts.push(t.t('repo.tagsImmutable', { tags: refused.join(', ') }));
  return { location: repoHref(ctx, name), notice: parts.join(' ') };
}

export async function confirmDeleteRepositoryPage(ctx: PageContext, name: string): Promise<Html> {
  const { t } = ctx;
  await requireAdminDelete(ctx, name);
  const detail = await loadRepository(ctx, name);
  const body = html`<h1>${t.t('repo.deleteRepoTitle', { name })}</h1><p>${t.t('repo.deleteRepoBody', { tags: detail.tagCount })}</p>
<form method="post" action="${repoHref(ctx, name, '/-/delete')}">${csrfField(ctx)}<div class="actions"><a class="btn" href="${repoHref(ctx, name)}">${t.t('action.cancel')}</a> <button type="submit" class="btn btn-danger">${t.t('repo.deleteRepo')}</button></div></form>`;
  return layout(ctx, { title: t.t('repo.deleteRepoTitle', { name }), nav: 'repositories', crumbs: repositoryTrail(ctx, name) }, body);
}

async function requireAdminDelete(ctx: PageContext, name: string): Promise<void> {
  if (!(await ctx.viewer.can(name, 'pull'))) throw new NotFound();
  if (!(await ctx.viewer.canAdminister(name)) || !(await ctx.viewer.can(name, 'delete'))) throw new Forbidden();
  if (!ctx.deps.services.config.storage.delete.enabled) throw new Forbidden();
}

/** POST /ui/repo/<name>/-/delete: everything in it; immutable tags make it refuse. */
export async function deleteRepository(ctx: PageContext, name: string): Promise<ActionResult> {
  await requireAdminDelete(ctx, name);
  const { metadata, immutableTags } = ctx.deps.services;
  const detail = await metadata.console.repository(name, { sort: 'name', limit: 200 });
  for (let page = detail?.tags; page; ) {
    for (const tag of page.items) {
      if (await immutableTags.isImmutable(name, tag.name)) return { location: repoHref(ctx, name), notice: ctx.t.t('repo.tagsImmutable', { tags: tag.name }) };
    }
    page = page.next ? (await metadata.console.repository(name, { sort: 'name', limit: 200, cursor: page.next }))?.tags : undefined;
  }
  const removed = await metadata.console.deleteRepository(name);
  await metadata.invalidateRepositories?.([name]);
  if (removed) await ctx.deps.services.events?.repositoryDeleted({ req: ctx.req, principal: ctx.viewer.principal }, name, removed.manifests);
  await metadata.console.settings.delete(name);
  ctx.deps.access?.audit.recordBy(ctx.viewer.principal, {
    action: 'delete',
    repository: name,
    reference: '*',
    outcome: removed ? 'success' : 'failure',
    clientAddress: ctx.req.socket.remoteAddress ?? null,
    details: { via: 'console', manifests: removed?.manifests.length ?? 0, tags: removed?.tags ?? 0 },
  });
  return { location: ctx.href('/ui/'), notice: ctx.t.t('repo.repoDeleted', { name }) };
}

/** POST /ui/repo/<name>/-/settings: description (Markdown) and visibility. */
export async function saveRepositorySettings(ctx: PageContext, name: string, form: URLSearchParams): Promise<ActionResult> {
  if (!(await ctx.viewer.can(name, 'pull'))) throw new NotFound();
  if (!(await ctx.viewer.canAdminister(name))) throw new Forbidden();
  const store = ctx.deps.services.metadata.console.settings;
  const old = await store.get(name);
  const v = form.get('visibility');
  const visibility = !ctx.deps.access ? null : v === 'public' || v === 'private' ? v : null;
  const description = (form.get('description') ?? '').slice(0, 10_000).trim() || null;
  await store.put({ repository: name, description, visibility, updatedAt: Date.now(), updatedBy: ctx.viewer.name ?? null });
  if (ctx.deps.access && (old?.visibility ?? null) !== visibility) {
    ctx.deps.access.invalidate();
    ctx.deps.access.audit.recordBy(ctx.viewer.principal, {
      action: 'visibility_change',
      repository: name,
      outcome: 'success',
      clientAddress: ctx.req.socket.remoteAddress ?? null,
      details: { from: old?.visibility ?? 'inherit', to: visibility ?? 'inherit', via: 'console' },
    });
  }
  return { location: repoHref(ctx, name), notice: ctx.t.t('repo.settingsSaved') };
}

/** GET /ui/new: the "new repository" form. */
export async function newRepositoryPage(ctx: PageContext, error?: string, values?: URLSearchParams): Promise<Html> {
  const { t } = ctx;
  const body = html`<h1>${t.t('new.title')}</h1>
<form class="stack" method="post" action="${ctx.href('/ui/new')}">${csrfField(ctx)}
<div class="field"><label for="new-name">${t.t('new.name')}</label><input id="new-name" name="name" required maxlength="255" pattern="[a-z0-9]+([._\\-][a-z0-9]+)*(/[a-z0-9]+([._\\-][a-z0-9]+)*)*" value="${values?.get('name') ?? ''}" aria-describedby="new-name-hint${error ? ' new-name-error' : ''}"${error ? html` aria-invalid="true"` : ''}>
<p class="hint" id="new-name-hint">${t.t('new.nameHint')}</p>${error ? html`<p class="field-error" id="new-name-error">${error}</p>` : ''}</div>
${ctx.deps.access ? html`<fieldset><legend>${t.t('repo.visibility')}</legend>
<label><input type="radio" name="visibility" value="private" checked> ${t.t('repo.visibility.private')}</label>
<label><input type="radio" name="visibility" value="public"> ${t.t('repo.visibility.public')}</label></fieldset>` : ''}
<div class="field"><label for="new-description">${t.t('repo.description')}</label><textarea id="new-description" name="description" rows="4" maxlength="10000">${values?.get('description') ?? ''}</textarea><p class="hint">${t.t('repo.descriptionHint')}</p></div>
<div><button type="submit" class="btn btn-primary">${t.t('new.create')}</button></div></form>`;
  return layout(ctx, { title: t.t('new.title'), nav: 'repositories', crumbs: [[t.t('repos.title'), ctx.href('/ui/')]] }, body);
}

/** POST /ui/new: needs push on the name (creating is what a first push would do) and admin to set visibility. */
export async function createRepository(ctx: PageContext, form: URLSearchParams): Promise<ActionResult | { error: string }> {
  const { t } = ctx;
  const name = (form.get('name') ?? '').trim();
  if (!validRepositoryName(name)) return { error: t.t('new.invalidName') };
  if (!(await ctx.viewer.can(name, 'push'))) return { error: t.t('new.notAllowed') };
  const store = ctx.deps.services.metadata.console;
  if (!(await store.createRepository(name, Date.now()))) return { error: t.t('new.exists') };
  const v = form.get('visibility');
  const visibility = ctx.deps.access && (v === 'public' || v === 'private') && (await ctx.viewer.canAdminister(name)) ? v : null;
  const description = (form.get('description') ?? '').slice(0, 10_000).trim() || null;
  if (visibility || description) await store.settings.put({ repository: name, description, visibility, updatedAt: Date.now(), updatedBy: ctx.viewer.name ?? null });
  if (visibility) ctx.deps.access?.invalidate();
  ctx.deps.access?.audit.recordBy(ctx.viewer.principal, { action: 'repository_created', repository: name, outcome: 'success', clientAddress: ctx.req.socket.remoteAddress ?? null, details: { via: 'console', visibility: visibility ?? 'inherit' } });
  return { location: repoHref(ctx, name), notice: t.t('new.created', { name }) };
}
