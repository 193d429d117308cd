// Pieces several pages share: links to repositories and manifests, time cells, badges that carry
// their meaning in text (never colour alone), copyable commands.
import { html, type Html } from '../html.ts';
import type { PageContext } from '../page.ts';
import { icon } from '../icons.ts';

/** Repository names have slashes; each component is URL-safe by the distribution grammar. */
export function repoHref(ctx: PageContext, name: string, rest = ''): string {
  return ctx.href(`/ui/repo/${name}${rest}`);
}

/** The repositories page narrowed to a namespace. */
export function namespaceHref(ctx: PageContext, namespace: string): string {
  return ctx.href(`/ui/?${new URLSearchParams({ namespace }).toString()}`);
}

/** Breadcrumbs down to a repository: the repositories page, then each namespace around it. */
export function repositoryCrumbs(ctx: PageContext, name: string): [string, string][] {
  const crumbs: [string, string][] = [[ctx.t.t('repos.title'), ctx.href('/ui/')]];
  const parts = name.split('/');
  for (let i = 1; i < parts.length; i++) crumbs.push([parts[i - 1]!, namespaceHref(ctx, parts.slice(0, i).join('/'))]);
  return crumbs;
}

export function manifestHref(ctx: PageContext, name: string, digest: string): string {
  return repoHref(ctx, name, `/-/manifest/${digest}`);
}

export function timeCell(ctx: PageContext, ms: number | null | undefined): Html {
  if (!ms) return html`<td data-value="0"><span class="muted">${ctx.t.t('time.never')}</span></td>`;
  const iso = new Date(ms).toISOString();
  return html`<td data-value="${iso}"><time datetime="${iso}" title="${ctx.t.dateTime(ms)}">${ctx.t.ago(ms)}</time></td>`;
}

export function timeText(ctx: PageContext, ms: number | null | undefined): Html {
  if (!ms) return html`<span class="muted">${ctx.t.t('time.never')}</span>`;
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}">${ctx.t.dateTime(ms)}</time> <span class="muted">(${ctx.t.ago(ms)})</span>`;
}

/** Effective visibility: the repository's own setting, else its namespaces' (no setting = private). */
export function visibilityBadge(ctx: PageContext, visibility: 'public' | 'private' | null | undefined): Html {
  if (visibility === 'public') return html`<span class="badge badge-public">${icon('globe')} ${ctx.t.t('visibility.public')}</span>`;
  if (visibility === 'private') return html`<span class="badge badge-private">${icon('lock')} ${ctx.t.t('visibility.private')}</span>`;
  return html`<span class="muted">-</span>`;
}

/** A command in a code box with a copy button (the button appears with JavaScript). */
export function copyRow(ctx: PageContext, label: string, command: string): Html {
  return html`<div class="copy-row"><span class="copy-label">${label}</span><code tabindex="0">${command}</code><button type="button" class="btn btn-small copy" data-copy="${command}" data-copied-label="${ctx.t.t('action.copied')}" aria-label="${ctx.t.t('action.copyWhat', { what: label })}" hidden>${icon('copy')} ${ctx.t.t('action.copy')}</button></div>`;
}

export function shortDigest(digest: string): string {
  const i = digest.indexOf(':');
  return i > 0 ? `${digest.slice(0, i + 1)}${digest.slice(i + 1, i + 13)}` : digest;
}
