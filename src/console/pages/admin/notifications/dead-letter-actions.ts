// The dead-letter actions of /ui/admin/notifications, each a POST with the CSRF field (the router
// checks it) answered with a redirect back to the list as it was (filter and page), as the API's
// POST /deadletters/:id/retry, POST /deadletters/retry {endpoint} and DELETE /deadletters/:id do:
//   POST /ui/admin/notifications/retry                       form: endpoint; all of its dead letters
//   POST /ui/admin/notifications/deadletters/<id>/retry
//   GET  /ui/admin/notifications/deadletters/<id>/delete     the confirmation page (without JavaScript)
//   POST /ui/admin/notifications/deadletters/<id>/delete
import type { PageContext } from '../../../page.ts';
import { NotFound } from '../../../errors.ts';
import type { AdminOutcome } from '../index.ts';
import { deleteDeadLetter, endpointStatuses, retryAllDeadLetters, retryDeadLetters } from '../../../../events/admin.ts';
import { confirmPage, crumbs } from '../lifecycle/shared.ts';
import { actionLabel, letterEvent, listHref, targetText, viewOf, viewQuery } from './shared.ts';

/** POST /ui/admin/notifications/retry: every dead letter of the endpoint named in the form. */
export async function retryEndpoint(ctx: PageContext, form: URLSearchParams): Promise<AdminOutcome> {
  const { t } = ctx;
  const back = listHref(ctx, viewOf(ctx.url));
  const endpoint = (form.get('endpoint') ?? '').slice(0, 500);
  if (!endpoint || !(await endpointStatuses(ctx.deps.services)).some((e) => e.name === endpoint)) {
    return { location: back, notice: t.t('adminNotifications.unknownEndpoint', { endpoint: endpoint || '-' }), error: true };
  }
  const n = await retryAllDeadLetters(ctx.deps.services, endpoint);
  if (n === 0) return { location: back, notice: t.t('adminNotifications.nothingToRetry', { endpoint }), error: true };
  // The list it came from has no dead letters of that endpoint left: back to the first page.
  return { location: listHref(ctx, { endpoint: viewOf(ctx.url).endpoint }), notice: t.t('adminNotifications.retriedAll', { n: t.number(n), endpoint }) };
}

/** POST /ui/admin/notifications/deadletters/<id>/retry. */
export async function retryLetter(ctx: PageContext, id: number): Promise<AdminOutcome> {
  const { t } = ctx;
  const back = listHref(ctx, viewOf(ctx.url));
  const letter = await ctx.deps.services.metadata.events.deadLetterById(id);
  if (!letter || (await retryDeadLetters(ctx.deps.services, [id])) === 0) return { location: back, notice: t.t('adminNotifications.gone', { id }), error: true };
  return { location: back, notice: t.t('adminNotifications.retried', { id, endpoint: letter.endpoint }) };
}

/** GET /ui/admin/notifications/deadletters/<id>/delete: what the dialog asks, as a page. */
export async function confirmDeletePage(ctx: PageContext, id: number): Promise<AdminOutcome> {
  const { t } = ctx;
  const letter = await ctx.deps.services.metadata.events.deadLetterById(id);
  if (!letter) throw new NotFound();
  const e = letterEvent(letter);
  const view = viewOf(ctx.url);
  return {
    html: await confirmPage(ctx, {
      title: t.t('adminNotifications.deleteTitle', { id }),
      body: t.t('adminNotifications.deleteBody', { action: actionLabel(ctx, e?.action), target: targetText(e), endpoint: letter.endpoint }),
      actionPath: `/notifications/deadletters/${id}/delete${viewQuery(view)}`,
      confirmLabel: t.t('adminNotifications.deleteConfirm'),
      cancelPath: `/notifications${viewQuery(view)}`,
      crumbs: crumbs(ctx, [t.t('adminNotifications.title'), '/notifications']),
    }),
  };
}

/** POST /ui/admin/notifications/deadletters/<id>/delete. */
export async function deleteLetter(ctx: PageContext, id: number): Promise<AdminOutcome> {
  const { t } = ctx;
  const back = listHref(ctx, viewOf(ctx.url));
  if (!(await deleteDeadLetter(ctx.deps.services, id))) return { location: back, notice: t.t('adminNotifications.gone', { id }), error: true };
  return { location: back, notice: t.t('adminNotifications.deleted', { id }) };
}
