// An image's page (/ui/repo/<name>/-/manifest/<digest>): the manifest (pretty-printed, and its
// exact bytes for download), the config (env, entrypoint, labels, created), layers with sizes and
// the history that made them, an index's platforms, what is attached to it (signatures, SBOMs,
// attestations: OCI referrers and cosign-style tags, the same list as the repository page's), and
// its signatures of every kind with the pull policy's verdict (signatures.ts).
import { html, type Html } from '../html.ts';
import { layout, type PageContext } from '../page.ts';
import { loadImageView, type ImageView } from '../data/image-view.ts';
import { copyRow, manifestHref, repoHref, repositoryCrumbs, shortDigest, timeText } from './fragments.ts';
import { pullCommands, registryHost } from '../pull-commands.ts';
import { NotFound } from '../errors.ts';
import { signaturesSection, trustBadge } from './signatures.ts';
import { trustStates } from '../data/trust-state.ts';
import { accessoryTagTarget } from '../../metadata/console/accessories.ts';
import type { ManifestDetail } from '../../metadata/console/console-store.ts';

export async function imagePage(ctx: PageContext, name: string, digest: string): Promise<Html> {
  const { t } = ctx;
  if (!(await ctx.viewer.can(name, 'pull'))) throw new NotFound();
  const view = await loadImageView(ctx.deps.services, name, digest);
  if (!view) throw new NotFound();
  const d = view.detail;
  const host = registryHost(ctx);
  const pretty = view.manifest ? JSON.stringify(view.manifest, null, 2) : view.raw;
  const c = view.config;
  const annotations = Object.entries(d.annotations ?? {});
  // The same badge as the repository page's for a tag on this digest (trust-state.ts), by digest.
  const [trust] = await trustStates(ctx.deps, host, name, [{ digest: d.digest, tags: d.tags, signed: d.signed }]);
  // A cosign-style accessory tag names what it is attached to (it has no subject field).
  const attachedTo = d.subject ? undefined : d.tags.map((tag) => accessoryTagTarget(tag)?.subject).find((s) => s !== undefined);
  const body = html`
<div class="page-head"><h1 class="heading-mono">${name} <span class="muted">@${shortDigest(d.digest)}</span></h1>
<div class="actions"><a class="btn" href="${manifestHref(ctx, name, d.digest)}/raw" download="${d.digest.replace(':', '_')}.json">${t.t('image.download')}</a></div></div>
<div class="grid">
<section class="card card-wide"><h2>${t.t('image.summary')}</h2><dl class="props">
<dt>${t.t('image.digest')}</dt><dd class="mono">${d.digest}</dd>
<dt>${t.t('image.mediaType')}</dt><dd class="mono">${d.mediaType}</dd>
${d.artifactType ? html`<dt>${t.t('image.artifactType')}</dt><dd class="mono">${d.artifactType}</dd>` : ''}
<dt>${t.t('repos.col.size')}</dt><dd>${t.bytes(d.size)} <span class="muted">(${t.t('image.manifestOnly')})</span></dd>
<dt>${t.t('repo.tags')}</dt><dd>${d.tags.length ? d.tags.map((tag) => html`<span class="badge badge-muted mono">${tag}</span> `) : html`<span class="muted">${t.t('image.untagged')}</span>`}</dd>
<dt>${t.t('image.signature')}</dt><dd>${trust ? trustBadge(ctx, trust) : html`<span class="muted">${t.t('image.unsigned')}</span>`}</dd>
${d.subject ? html`<dt>${t.t('image.subject')}</dt><dd><a class="mono" href="${manifestHref(ctx, name, d.subject)}">${d.subject}</a></dd>` : ''}
${attachedTo ? html`<dt>${t.t('image.attachedTo')}</dt><dd><a class="mono" href="${manifestHref(ctx, name, attachedTo)}">${attachedTo}</a></dd>` : ''}
<dt>${t.t('repo.col.pushed')}</dt><dd>${timeText(ctx, d.pushedAt)}</dd>
<dt>${t.t('repo.col.pulled')}</dt><dd>${timeText(ctx, d.pulledAt)}</dd>
</dl></section>
<section class="card card-wide"><h2>${t.t('repo.pull')}</h2>${pullCommands(host, name, `@${d.digest}`).map((p) => copyRow(ctx, p.client, p.command))}</section>
</div>
${
  view.platforms.length
    ? html`<section class="card" aria-labelledby="platforms-title"><h2 id="platforms-title">${t.t('image.platforms')}</h2>
<table class="data"><thead><tr><th scope="col">${t.t('image.platform')}</th><th scope="col">${t.t('image.digest')}</th><th scope="col" class="num">${t.t('image.manifestSize')}</th></tr></thead><tbody>
${view.platforms.map((p) => html`<tr><th scope="row">${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}</th><td class="mono"><a href="${manifestHref(ctx, name, p.digest)}">${p.digest}</a></td><td class="num">${t.bytes(p.size)}</td></tr>`)}
</tbody></table></section>`
    : ''
}
${configCard(ctx, view)}
${view.layers.length ? (d.artifactType ? filesCard(ctx, view) : layersCard(ctx, view)) : ''}
${
  c?.history.length
    ? html`<details class="card"><summary>${t.t('image.history', { n: c.history.length })}</summary><ol class="plain mono">${c.history.map((h) => html`<li>${h.emptyLayer ? html`<span class="badge badge-muted">${t.t('image.emptyLayer')}</span> ` : ''}${h.createdBy ?? h.comment ?? ''}</li>`)}</ol></details>`
    : ''
}
${annotations.length ? html`<section class="card"><h2>${t.t('image.annotations')}</h2><dl class="props">${annotations.map(([k, v]) => html`<dt class="mono">${k}</dt><dd class="mono">${v}</dd>`)}</dl></section>` : ''}
<section class="card" aria-labelledby="referrers-title"><h2 id="referrers-title">${t.t('image.referrers')}</h2>${referrersTree(ctx, name, d)}</section>
${await signaturesSection(ctx, name, d.digest, d.tags, d.accessories)}
<section class="card" aria-labelledby="manifest-title"><h2 id="manifest-title">${t.t('image.manifest')}</h2>
${copyRow(ctx, t.t('image.digest'), d.digest)}
<pre class="code" tabindex="0" aria-label="${t.t('image.manifest')}"><code>${pretty ?? ''}</code></pre></section>`;
  return layout(ctx, { title: `${name}@${shortDigest(d.digest)}`, nav: 'repositories', crumbs: [...repositoryCrumbs(ctx, name), [name.slice(name.lastIndexOf('/') + 1), repoHref(ctx, name)]] }, body);
}

/** The image config's settings; nothing at all when it has none to show (an artifact has no image config). */
function configCard(ctx: PageContext, view: ImageView): Html | '' {
  const { t } = ctx;
  const c = view.config;
  if (!c) return '';
  const rows = [
    c.created ? html`<dt>${t.t('image.created')}</dt><dd>${createdTime(ctx, c.created)}</dd>` : '',
    c.os ? html`<dt>${t.t('image.platform')}</dt><dd>${c.os}/${c.architecture ?? '?'}</dd>` : '',
    c.entrypoint.length ? html`<dt>${t.t('image.entrypoint')}</dt><dd class="mono">${JSON.stringify(c.entrypoint)}</dd>` : '',
    c.cmd.length ? html`<dt>${t.t('image.cmd')}</dt><dd class="mono">${JSON.stringify(c.cmd)}</dd>` : '',
    c.workingDir ? html`<dt>${t.t('image.workingDir')}</dt><dd class="mono">${c.workingDir}</dd>` : '',
    c.user ? html`<dt>${t.t('image.user')}</dt><dd class="mono">${c.user}</dd>` : '',
    c.exposedPorts.length ? html`<dt>${t.t('image.ports')}</dt><dd class="mono">${c.exposedPorts.join(', ')}</dd>` : '',
    c.env.length ? html`<dt>${t.t('image.env')}</dt><dd><ul class="plain mono">${c.env.map((e) => html`<li>${e}</li>`)}</ul></dd>` : '',
    c.labels.length ? html`<dt>${t.t('image.labels')}</dt><dd><ul class="plain mono">${c.labels.map(([k, v]) => html`<li>${k}=${v}</li>`)}</ul></dd>` : '',
  ].filter((r) => r !== '');
  if (!rows.length) return '';
  return html`<section class="card" aria-labelledby="config-title"><h2 id="config-title">${t.t('image.config')}</h2><dl class="props">
${rows}
</dl></section>`;
}

/** An image's layers, each with the history line that made it. */
function layersCard(ctx: PageContext, view: ImageView): Html {
  const { t } = ctx;
  return html`<section class="card" aria-labelledby="layers-title"><h2 id="layers-title">${t.t('image.layers', { n: view.layers.length })}</h2>
<div class="table-wrap"><table class="data" id="layers" data-sortable><thead><tr><th scope="col" class="num">#</th><th scope="col">${t.t('image.digest')}</th><th scope="col" class="num" data-sort="number" aria-sort="none">${t.t('repos.col.size')}</th><th scope="col">${t.t('image.createdBy')}</th></tr></thead><tbody>
${view.layers.map((l, i) => html`<tr><td class="num">${i + 1}</td><td class="mono" title="${l.mediaType}">${shortDigest(l.digest)}</td><td class="num" data-value="${l.size}">${t.bytes(l.size)}</td><td class="mono truncate">${l.createdBy ?? ''}</td></tr>`)}
</tbody><tfoot><tr><th scope="row" colspan="2">${t.t('image.total')}</th><td class="num">${t.bytes(view.layers.reduce((a, l) => a + l.size, 0))}</td><td></td></tr></tfoot></table></div></section>`;
}

/**
 * An artifact's blobs (an SBOM, a signature, oras push files): file name (the title annotation)
 * and media type instead of an image's build history, and the config's media type.
 */
function filesCard(ctx: PageContext, view: ImageView): Html {
  const { t } = ctx;
  return html`<section class="card" aria-labelledby="layers-title"><h2 id="layers-title">${t.t('image.files', { n: view.layers.length })}</h2>
<div class="table-wrap"><table class="data" id="layers" data-sortable><thead><tr><th scope="col" class="num">#</th><th scope="col" data-sort="text" aria-sort="none">${t.t('image.fileName')}</th><th scope="col">${t.t('image.mediaType')}</th><th scope="col">${t.t('image.digest')}</th><th scope="col" class="num" data-sort="number" aria-sort="none">${t.t('repos.col.size')}</th></tr></thead><tbody>
${view.layers.map((l, i) => html`<tr><td class="num">${i + 1}</td><td>${l.title ? html`<span class="mono">${l.title}</span>` : html`<span class="muted">-</span>`}</td><td class="mono">${l.mediaType}</td><td class="mono">${shortDigest(l.digest)}</td><td class="num" data-value="${l.size}">${t.bytes(l.size)}</td></tr>`)}
</tbody></table></div>
${view.configMediaType ? html`<p class="hint">${t.t('image.configType')} <span class="mono">${view.configMediaType}</span></p>` : ''}</section>`;
}

/**
 * The config's `created` in the page's language (UTC, as every time on the console), with the
 * exact value in datetime and title; a value that is not a date is shown as it is.
 */
function createdTime(ctx: PageContext, created: string): Html {
  const ms = Date.parse(created);
  if (!Number.isFinite(ms)) return html`<span class="mono">${created}</span>`;
  return html`<time datetime="${new Date(ms).toISOString()}" title="${created}">${ctx.t.dateTime(ms)}</time>`;
}

/**
 * Everything attached to the manifest: its accessories as the repository page lists them under
 * the tag (OCI referrers and cosign-style sha256-….sig/.att/.sbom tags), each with its kind,
 * artifact type and tags, and a referrer's own referrers one level deeper.
 */
function referrersTree(ctx: PageContext, name: string, d: ManifestDetail): Html {
  const { t } = ctx;
  if (!d.accessories.length) return html`<p class="muted">${t.t('image.noReferrers')}</p>`;
  const byDigest = new Map(d.referrers.map((r) => [r.digest, r]));
  return html`<ul class="tree" id="referrers">${d.accessories.map((a) => {
    const r = byDigest.get(a.digest);
    const tags = [...new Set([...(r?.tags ?? []), ...(a.tag ? [a.tag] : [])])];
    return html`<li><span class="badge badge-muted">${t.t(`accessory.${a.kind}`)}</span> <a class="mono" href="${manifestHref(ctx, name, a.digest)}">${shortDigest(a.digest)}</a>${a.artifactType ? html` <span class="muted mono">${a.artifactType}</span>` : ''}${
      tags.length ? html` <span class="muted mono">${tags.join(', ')}</span>` : ''
    }${r ? '' : html` <span class="muted">(${t.t('image.byTag')})</span>`}${
      r?.referrers.length ? html`<ul>${r.referrers.map((rr) => html`<li><a class="mono" href="${manifestHref(ctx, name, rr.digest)}">${shortDigest(rr.digest)}</a>${rr.artifactType ? html` <span class="muted mono">${rr.artifactType}</span>` : ''}</li>`)}</ul>` : ''
    }</li>`;
  })}</ul>`;
}
