import { html, type Html } from '../html.ts';
import { layout, type PageContext } from '../page.ts';

export async function errorPage(ctx: PageContext, status: number, message: string): Promise<Html> {
  const { t } = ctx;
  return layout(ctx, { title: `${status}` }, html`<h1>${status}</h1><p>${message}</p><p><a href="${ctx.href('/ui/')}">${t.t('error.back')}</a></p>`);
}
