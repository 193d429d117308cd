// A repository's page (/ui/repo/<name>): tags newest first with digest, platforms, size, push and
// pull times, signed and immutable marks; signatures/SBOMs under their subject; pull commands;
// delete a tag by name (saying which tags share its digest), bulk delete, and for administrators
// the description, visibility and deleting the whole repository.
import { html, type Html } from '../html.ts';
import { csrfField, layout, type PageContext } from '../page.ts';
import type { RepositoryDetail, TagRow } from '../../metadata/console/console-store.ts';
import { copyRow, manifestHref, repoHref, repositoryCrumbs, shortDigest, timeCell, visibilityBadge } from './fragments.ts';
import { pullCommands, registryHost } from '../pull-commands.ts';
import { renderMarkdown } from '../markdown.ts';
import { icon } from '../icons.ts';
import { loadRepository, loadRepositoryView } from '../data/repository-view.ts';
import { trustBadge } from './signatures.ts';

export { loadRepository };

export async function repositoryPage(ctx: PageContext, name: string, flash?: { kind: 'notice' | 'error'; text: string }): Promise<Html> {
  const { t, viewer, deps } = ctx;
  const { detail, visibility, immutable, trust: trustStates } = await loadRepositoryView(ctx, name);
  const [canDelete, canAdmin, canPush] = await Promise.all([viewer.can(name, 'delete'), viewer.canAdminister(name), viewer.can(name, 'push')]);
  const deletesEnabled = deps.services.config.storage.delete.enabled;
  const host = registryHost(ctx);
  const first = detail.tags.items[0];
  const sort = ctx.url.searchParams.get('sort') === 'name' ? 'name' : 'pushed';
  const sortLink = (s: string) => repoHref(ctx, name, s === 'pushed' ? '' : `?sort=${s}`);
  const pageLink = (cursor: string) => repoHref(ctx, name, `?${new URLSearchParams({ ...(sort === 'name' && { sort }), cursor }).toString()}`);
  const mayDelete = canDelete && deletesEnabled;

  const row = (tag: TagRow, i: number) => {
    const isImmutable = immutable[i];
    const others = tag.sameDigest;
    return html`<tr data-row="${tag.name}">
${mayDelete ? html`<td><input type="checkbox" name="tag" value="${tag.name}" data-bulk="tags" form="bulk-delete" aria-label="${t.t('repo.selectTag', { tag: tag.name })}"${isImmutable ? html` disabled` : ''}></td>` : ''}
<th scope="row"><a class="mono" href="${manifestHref(ctx, name, tag.digest)}">${tag.name}</a>
${trustBadge(ctx, trustStates[i])}${isImmutable ? html` <span class="badge badge-immutable">${icon('pin')} ${t.t('repo.immutable')}</span>` : ''}</th>
<td class="mono nowrap" data-value="${tag.digest}"><a href="${manifestHref(ctx, name, tag.digest)}" title="${tag.digest}">${shortDigest(tag.digest)}</a>${others.length ? html`<div class="muted">${t.t('repo.sameDigest', { n: others.length })}</div>` : ''}</td>
<td>${runnable(tag).length ? html`<ul class="platforms">${runnable(tag).map((p) => html`<li><a href="${manifestHref(ctx, name, p.digest)}">${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}</a> <span class="muted">${t.bytes(p.size)}</span></li>`)}</ul>` : html`<span class="muted">${mediaKind(ctx, tag)}</span>`}</td>
<td class="num" data-value="${tag.size}">${t.bytes(tag.size)}</td>
${timeCell(ctx, tag.pushedAt)}${timeCell(ctx, tag.pulledAt)}
<td class="nowrap"><button type="button" class="btn btn-small copy" data-copy="docker pull ${host}/${name}:${tag.name}" data-copied-label="${t.t('action.copied')}" aria-label="${t.t('repo.copyPull', { tag: tag.name })}" hidden>${icon('copy')} ${t.t('action.copy')}</button>
${mayDelete && !isImmutable ? html`<a class="btn btn-small btn-danger" href="${repoHref(ctx, name, `/-/delete-tags?tag=${encodeURIComponent(tag.name)}`)}" data-dialog="del-${i}">${t.t('action.delete')}<span class="visually-hidden"> ${tag.name}</span></a>` : ''}</td>
</tr>${
      tag.accessories.length
        ? html`<tr class="sub" data-parent="${tag.name}"><td colspan="${mayDelete ? 9 : 8}"><span class="muted">${t.t('repo.accessories')}</span> <ul class="tree inline">${tag.accessories.map(
            (a) => html`<li><span class="badge badge-muted">${t.t(`accessory.${a.kind}`)}</span> <a class="mono" href="${manifestHref(ctx, name, a.digest)}">${a.tag ?? shortDigest(a.digest)}</a>${a.artifactType ? html` <span class="muted">${a.artifactType}</span>` : ''}</li>`,
          )}</ul></td></tr>`
        : ''
    }`;
  };

  const dialogs = mayDelete
    ? detail.tags.items.map((tag, i) =>
        immutable[i]
          ? ''
          : html`<dialog id="del-${i}" aria-labelledby="del-${i}-title"><form method="post" action="${repoHref(ctx, name, '/-/delete-tags')}">
${csrfField(ctx)}<input type="hidden" name="tag" value="${tag.name}">
<h2 id="del-${i}-title">${t.t('repo.deleteTagTitle', { tag: tag.name })}</h2>
<p>${t.t('repo.deleteTagBody', { digest: shortDigest(tag.digest) })}</p>
${tag.sameDigest.length ? html`<p>${t.t('repo.deleteTagOthers')}</p><ul>${tag.sameDigest.map((o) => html`<li class="mono">${o}</li>`)}</ul>` : html`<p>${t.t('repo.deleteTagLast')}</p>`}
<div class="actions"><button type="button" class="btn" data-close>${t.t('action.cancel')}</button> <button type="submit" class="btn btn-danger">${t.t('repo.deleteTagConfirm', { tag: tag.name })}</button></div>
</form></dialog>`,
      )
    : '';

  const description = detail.summary.description;
  const body = html`
<div class="page-head"><h1>${name}</h1><div class="actions">${visibilityBadge(ctx, visibility)}</div></div>
${description ? html`<section class="markdown card" aria-label="${t.t('repo.description')}">${renderMarkdown(description)}</section>` : ''}
<div class="grid">
<section class="card card-wide"><h2>${t.t('repo.pull')}</h2>${
    first
      ? pullCommands(host, name, `:${first.name}`).map((c) => copyRow(ctx, c.client, c.command))
      : html`<p class="muted">${t.t('repo.noTags')}</p>`
  }${first ? html`<h3>${t.t('repo.byDigest')}</h3>${copyRow(ctx, 'docker', `docker pull ${host}/${name}@${first.digest}`)}` : ''}</section>
${canPush ? html`<section class="card card-wide"><h2>${t.t('repo.push')}</h2>${copyRow(ctx, 'docker', `docker push ${host}/${name}:TAG`)}${copyRow(ctx, 'podman', `podman push IMAGE ${host}/${name}:TAG`)}${copyRow(ctx, 'berth', `berth push IMAGE.tar ${host}/${name}:TAG`)}</section>` : ''}
<section class="card"><h2>${t.t('repo.about')}</h2><dl class="props">
<dt>${t.t('repos.col.tags')}</dt><dd>${t.number(detail.tagCount)}</dd>
<dt>${t.t('repo.untagged')}</dt><dd>${t.number(detail.untaggedCount)}</dd>
<dt>${t.t('repos.col.size')}</dt><dd>${t.bytes(detail.summary.size)}</dd>
<dt>${t.t('repo.storage.unique')}</dt><dd>${t.bytes(detail.storage.unique)} <span class="muted">${t.t('repo.storage.uniqueHint')}</span></dd>
<dt>${t.t('repo.storage.shared')}</dt><dd>${t.bytes(detail.storage.shared)} <span class="muted">${t.t('repo.storage.sharedHint')}</span></dd>
<dt>${t.t('repos.col.pushed')}</dt><dd>${detail.summary.pushedAt ? html`<time datetime="${new Date(detail.summary.pushedAt).toISOString()}">${t.dateTime(detail.summary.pushedAt)}</time>` : t.t('time.never')}</dd>
</dl></section>
</div>
<section aria-labelledby="tags-title">
<div class="page-head"><h2 id="tags-title">${t.t('repo.tags')}</h2>
<div class="actions"><label class="visually-hidden" for="tag-filter">${t.t('repo.filterTags')}</label><input type="search" id="tag-filter" data-filter="tags" data-filter-status="${t.t('repo.filterStatus')}" placeholder="${t.t('repo.filterTags')}">
<span class="muted">${t.t('repo.sortBy')}</span> ${sort === 'pushed' ? html`<strong>${t.t('repo.sort.pushed')}</strong>` : html`<a href="${sortLink('pushed')}">${t.t('repo.sort.pushed')}</a>`} · ${sort === 'name' ? html`<strong>${t.t('repo.sort.name')}</strong>` : html`<a href="${sortLink('name')}">${t.t('repo.sort.name')}</a>`}</div></div>
${
  detail.tags.items.length === 0
    ? html`<p class="empty">${t.t('repo.noTags')}</p>`
    : html`${mayDelete ? html`<form id="bulk-delete" method="get" action="${repoHref(ctx, name, '/-/delete-tags')}" class="toolbar"><span data-bulk-count="tags" data-template="${t.t('repo.selected')}"></span> <button type="submit" class="btn btn-danger btn-small" data-bulk-submit="tags">${t.t('repo.deleteSelected')}</button></form>` : ''}
<table class="data" id="tags" data-sortable>
<caption class="visually-hidden">${t.t('repo.tags')}</caption>
<thead><tr>${mayDelete ? html`<th scope="col"><input type="checkbox" data-bulk-all="tags" aria-label="${t.t('repo.selectAll')}" hidden></th>` : ''}<th scope="col" data-sort="text" aria-sort="${sort === 'name' ? 'ascending' : 'none'}">${t.t('repo.col.tag')}</th><th scope="col">${t.t('repo.col.digest')}</th><th scope="col">${t.t('repo.col.platforms')}</th><th scope="col" class="num" data-sort="number" aria-sort="none">${t.t('repos.col.size')}</th><th scope="col" data-sort="date" aria-sort="${sort === 'pushed' ? 'descending' : 'none'}">${t.t('repo.col.pushed')}</th><th scope="col" data-sort="date" aria-sort="none">${t.t('repo.col.pulled')}</th><th scope="col"><span class="visually-hidden">${t.t('repo.col.actions')}</span></th></tr></thead>
<tbody>${detail.tags.items.map(row)}</tbody></table>`
}
<nav class="pager" aria-label="${t.t('pager.label')}">${detail.tags.prev ? html`<a rel="prev" href="${pageLink(detail.tags.prev)}">${t.t('pager.prev')}</a>` : ''}${detail.tags.next ? html`<a rel="next" href="${pageLink(detail.tags.next)}">${t.t('pager.next')}</a>` : ''}</nav>
${!deletesEnabled && canDelete ? html`<p class="muted">${t.t('repo.deletesDisabled')}</p>` : ''}
</section>
${dialogs}
${canAdmin ? await adminSection(ctx, name, detail, visibility) : ''}`;
  return layout(ctx, { title: name, nav: 'repositories', flash, crumbs: repositoryCrumbs(ctx, name) }, body);
}

/** An index's platforms without buildx's attestation entries (unknown/unknown), which run nowhere. */
function runnable(tag: TagRow): TagRow['platforms'] {
  return tag.platforms.filter((p) => !(p.os === 'unknown' && p.architecture === 'unknown'));
}

function mediaKind(ctx: PageContext, tag: TagRow): string {
  if (tag.artifactType) return tag.artifactType;
  return tag.mediaType.includes('index') || tag.mediaType.includes('list') ? ctx.t.t('repo.index') : ctx.t.t('repo.image');
}

async function adminSection(ctx: PageContext, name: string, detail: RepositoryDetail, effective: 'public' | 'private' | undefined): Promise<Html> {
  const { t, deps } = ctx;
  const own = detail.summary.visibility;
  const radio = (value: string, label: string, checked: boolean) =>
    html`<label><input type="radio" name="visibility" value="${value}"${checked ? html` checked` : ''}> ${label}</label>`;
  return html`<section class="card" aria-labelledby="repo-settings-title"><h2 id="repo-settings-title">${t.t('repo.settings')}</h2>
<form class="stack" method="post" action="${repoHref(ctx, name, '/-/settings')}">${csrfField(ctx)}
${
  deps.access
    ? html`<fieldset><legend>${t.t('repo.visibility')}</legend>
${radio('inherit', t.t('repo.visibility.inherit', { current: effective === 'public' && !own ? t.t('visibility.public') : t.t('visibility.private') }), !own)}
${radio('public', t.t('repo.visibility.public'), own === 'public')}
${radio('private', t.t('repo.visibility.private'), own === 'private')}</fieldset>`
    : html`<p class="hint">${t.t('repo.visibility.noAccessControl')}</p>`
}
<div class="field"><label for="repo-description">${t.t('repo.description')}</label>
<textarea id="repo-description" name="description" rows="5" maxlength="10000">${detail.summary.description ?? ''}</textarea>
<p class="hint">${t.t('repo.descriptionHint')}</p></div>
<div><button type="submit" class="btn btn-primary">${t.t('action.save')}</button></div>
</form>
${deps.services.config.storage.delete.enabled ? html`<h3>${t.t('repo.dangerZone')}</h3><p>${t.t('repo.deleteRepoHint')}</p><a class="btn btn-danger" href="${repoHref(ctx, name, '/-/delete')}" data-dialog="del-repo">${t.t('repo.deleteRepo')}</a>
<dialog id="del-repo" aria-labelledby="del-repo-title"><form method="post" action="${repoHref(ctx, name, '/-/delete')}">${csrfField(ctx)}
<h2 id="del-repo-title">${t.t('repo.deleteRepoTitle', { name })}</h2><p>${t.t('repo.deleteRepoBody', { tags: detail.tagCount })}</p>
<div class="actions"><button type="button" class="btn" data-close>${t.t('action.cancel')}</button> <button type="submit" class="btn btn-danger">${t.t('repo.deleteRepo')}</button></div></form></dialog>` : ''}
</section>`;
}
