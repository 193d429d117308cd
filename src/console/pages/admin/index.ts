// Administration (site administrators only; the router checks): an overview linking each area,
// and the areas themselves: access (users, teams, permissions, robots, tokens, LDAP, audit) in
// ./access/, lifecycle (garbage collection, retention, immutable tags, quotas) in ./lifecycle/,
// notifications (endpoints and dead letters) in ./notifications/.
import { html, type Html } from '../../html.ts';
import { layout, type Flash, type PageContext } from '../../page.ts';
import { NotFound } from '../../errors.ts';
import { accessAdmin, ACCESS_AREAS } from './access/index.ts';
import { lifecycleAdmin, LIFECYCLE_AREAS } from './lifecycle/index.ts';
import { notificationsAdmin, NOTIFICATIONS_AREAS } from './notifications/index.ts';
import type { MessageKey } from '../../i18n/index.ts';

/** A page to render, or a redirect after a POST (with a one-shot notice). */
export type AdminOutcome = { html: Html; status?: number } | { location: string; notice?: string; error?: boolean };

/** One entry of the overview: path below /ui/admin, title and one-line description keys. */
export interface AdminArea {
  path: string;
  title: MessageKey;
  description: MessageKey;
}

export async function adminPage(ctx: PageContext, sub: string, form: URLSearchParams | undefined, flash: Flash | undefined): Promise<AdminOutcome> {
  if (sub === '/' && !form) return { html: await overview(ctx, flash) };
  const out = (await accessAdmin(ctx, sub, form, flash)) ?? (await lifecycleAdmin(ctx, sub, form, flash)) ?? (await notificationsAdmin(ctx, sub, form, flash));
  if (!out) throw new NotFound();
  return out;
}

async function overview(ctx: PageContext, flash: Flash | undefined): Promise<Html> {
  const { t } = ctx;
  const areas = [...ACCESS_AREAS(ctx), ...LIFECYCLE_AREAS(ctx), ...NOTIFICATIONS_AREAS(ctx)];
  return layout(
    ctx,
    { title: t.t('admin.title'), nav: 'admin', flash },
    html`<h1>${t.t('admin.title')}</h1><div class="grid">${areas.map(
      (a) => html`<section class="card"><h2><a href="${ctx.href(`/ui/admin${a.path}`)}">${t.t(a.title)}</a></h2><p class="muted">${t.t(a.description)}</p></section>`,
    )}</div>`,
  );
}
