// What every page handler gets (PageContext) and the shell every page is rendered in (layout):
// landmarks, a skip link, the navigation, search, language and theme switches, a live region.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { attrs, html, type Html, type HtmlValue } from './html.ts';
import type { Translator, MessageKey } from './i18n/index.ts';
import type { Viewer } from './viewer.ts';
import type { ConsoleDeps } from './deps.ts';
import { icon } from './icons.ts';

export type Theme = 'auto' | 'light' | 'dark';

export interface Flash {
  kind: 'notice' | 'error';
  text: string;
}

export interface PageContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Path below the http prefix, e.g. /ui/repo/team/app. */
  path: string;
  deps: ConsoleDeps;
  t: Translator;
  viewer: Viewer;
  csrf: string;
  /** Set-Cookie headers to send with the answer (visitor cookie, language, theme). */
  cookies: string[];
  theme: Theme;
  secure: boolean;
  startedAt: bigint;
  /** An absolute path under the registry's prefix. */
  href(path: string): string;
  /**
   * The one-shot message a redirect left for this page (the flash cookie), once per request: the
   * first call queues the cookie's deletion with the answer. layout() calls it, so every page that
   * renders shows the message and clears it.
   */
  takeFlash(): Flash | undefined;
}

export interface LayoutOptions {
  title: string;
  /** Which navigation entry is current. */
  nav?: 'repositories' | 'admin' | 'settings' | 'new';
  flash?: Flash;
  /** Breadcrumbs before the title: [label, href]. */
  crumbs?: [string, string][];
  /** The search box's value. */
  q?: string;
}

export async function layout(ctx: PageContext, o: LayoutOptions, body: HtmlValue): Promise<Html> {
  const { t, viewer } = ctx;
  const admin = await viewer.isSiteAdmin();
  const navLink = (key: LayoutOptions['nav'], href: string, label: MessageKey) =>
    html`<li><a href="${ctx.href(href)}"${attrs({ 'aria-current': o.nav === key ? 'page' : undefined })}>${t.t(label)}</a></li>`;
  const back = ctx.url.pathname + ctx.url.search;
  const nextTheme: Theme = ctx.theme === 'auto' ? 'dark' : ctx.theme === 'dark' ? 'light' : 'auto';
  const themeLabel = (th: Theme) => t.t(th === 'auto' ? 'theme.auto' : th === 'dark' ? 'theme.dark' : 'theme.light');
  const otherLocale = t.locale === 'en' ? 'zh-CN' : 'en';
  // The page's own message (a form's outcome) and the one a redirect left, once each.
  const left = ctx.takeFlash();
  const flashes = [o.flash, left].filter((f, i, all): f is Flash => !!f && all.findIndex((g) => g?.kind === f.kind && g.text === f.text) === i);
  return html`<html lang="${t.locale}" data-theme="${ctx.theme}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${o.title} · berth</title>
<link rel="stylesheet" href="${ctx.href(ctx.deps.assets.stylePath)}">
<link rel="icon" href="data:,">
<script type="module" src="${ctx.href(ctx.deps.assets.scriptPath)}"></script>
</head>
<body>
<a class="skip-link" href="#main">${t.t('nav.skip')}</a>
<header class="top">
<a class="brand" href="${ctx.href('/ui/')}">${icon('logo')}<span>berth</span></a>
<nav class="main" aria-label="${t.t('nav.label')}"><ul>
${navLink('repositories', '/ui/', 'nav.repositories')}
${admin ? navLink('admin', '/ui/admin/', 'nav.admin') : ''}
${navLink('settings', '/ui/settings', 'nav.settings')}
</ul></nav>
<form class="search" role="search" method="get" action="${ctx.href('/ui/')}">
<label class="visually-hidden" for="site-search">${t.t('search.label')}</label>
<input type="search" id="site-search" name="q" value="${o.q ?? ''}" placeholder="${t.t('search.placeholder')}" data-search autocomplete="off">
</form>
<form class="prefs" method="post" action="${ctx.href('/ui/prefs')}">
<input type="hidden" name="_csrf" value="${ctx.csrf}">
<input type="hidden" name="back" value="${back}">
<button type="submit" class="btn btn-small lang-switch" name="lang" value="${otherLocale}" lang="${otherLocale}">${t.t('lang.switch')}</button>
<button type="submit" class="btn btn-small theme-toggle js-hide" name="theme" value="${nextTheme}" aria-label="${t.t('theme.label', { theme: themeLabel(ctx.theme) })}">${icon('theme')}<span>${themeLabel(ctx.theme)}</span></button>
</form>
<button type="button" class="btn btn-small theme-toggle" data-theme-toggle hidden data-label-auto="${t.t('theme.short', { theme: themeLabel('auto') })}" data-label-dark="${t.t('theme.short', { theme: themeLabel('dark') })}" data-label-light="${t.t('theme.short', { theme: themeLabel('light') })}" aria-label="${t.t('theme.label', { theme: themeLabel(ctx.theme) })}">${icon('theme')}<span>${themeLabel(ctx.theme)}</span></button>
<div class="user">${
    viewer.mode === 'signed-in'
      ? html`<span class="muted">${t.t('user.signedInAs')}</span> <strong>${viewer.principal.name}</strong>
${viewer.session ? html`<form method="post" action="${ctx.href('/ui/logout')}" class="inline"><input type="hidden" name="_csrf" value="${ctx.csrf}"><button type="submit" class="btn btn-small btn-link">${t.t('user.signOut')}</button></form>` : ''}`
      : viewer.mode === 'anonymous' && ctx.deps.canLogin
        ? html`<a class="btn btn-small btn-primary" href="${ctx.href(`/ui/login?next=${encodeURIComponent(back)}`)}">${t.t('user.signIn')}</a>`
        : ''
  }</div>
</header>
<main id="main" tabindex="-1">
${o.crumbs?.length ? html`<nav class="breadcrumbs" aria-label="${t.t('nav.breadcrumbs')}"><ol>${o.crumbs.map(([label, href]) => html`<li><a href="${href}">${label}</a></li>`)}</ol></nav>` : ''}
${flashes.map((f) => html`<div class="${f.kind === 'error' ? 'error-box' : 'notice'}" role="${f.kind === 'error' ? 'alert' : 'status'}">${f.text}</div>`)}
${body}
</main>
<footer class="foot"><span>berth ${ctx.deps.version}</span> · <a href="${ctx.href('/ui/settings')}">${t.t('nav.settings')}</a> · <span class="muted">${t.t('footer.shortcuts')}</span></footer>
<dialog id="shortcuts" aria-labelledby="shortcuts-title"><h2 id="shortcuts-title">${t.t('shortcuts.title')}</h2>
<dl class="props"><dt><kbd>/</kbd></dt><dd>${t.t('shortcuts.search')}</dd><dt><kbd>?</kbd></dt><dd>${t.t('shortcuts.help')}</dd><dt><kbd>Esc</kbd></dt><dd>${t.t('shortcuts.close')}</dd></dl>
<form method="dialog"><button class="btn" data-close>${t.t('action.close')}</button></form></dialog>
<div id="status" role="status" aria-live="polite" class="visually-hidden"></div>
</body>
</html>`;
}

/** A hidden CSRF field for a form. */
export function csrfField(ctx: PageContext): Html {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;
}
