// Administration: notifications (/ui/admin/notifications). The endpoints with what waits for them
// and the dead-letter list (status-page.ts); retrying and deleting dead letters as plain forms
// (dead-letter-actions.ts). Both ask the store what the admin API asks (src/events/admin.ts).
import type { Flash, PageContext } from '../../../page.ts';
import { NotFound } from '../../../errors.ts';
import type { AdminArea, AdminOutcome } from '../index.ts';
import { statusPage } from './status-page.ts';
import { confirmDeletePage, deleteLetter, retryEndpoint, retryLetter } from './dead-letter-actions.ts';

export const NOTIFICATIONS_AREAS = (_ctx: PageContext): AdminArea[] => [{ path: '/notifications', title: 'adminNotifications.title', description: 'adminNotifications.description' }];

const LETTER = /^\/deadletters\/([1-9][0-9]{0,15})\/(retry|delete)$/;

/** The outcome for a path below /ui/admin that belongs here, or undefined. */
export async function notificationsAdmin(ctx: PageContext, sub: string, form: URLSearchParams | undefined, flash: Flash | undefined): Promise<AdminOutcome | undefined> {
  const path = sub.replace(/\/+$/, '');
  if (path !== '/notifications' && !path.startsWith('/notifications/')) return undefined;
  const rest = path.slice('/notifications'.length);
  if (rest === '') {
    if (form) throw new NotFound();
    return statusPage(ctx, flash);
  }
  if (rest === '/retry' && form) return retryEndpoint(ctx, form);
  const m = LETTER.exec(rest);
  if (!m) throw new NotFound();
  const id = Number(m[1]);
  if (!Number.isSafeInteger(id)) throw new NotFound();
  if (m[2] === 'retry') {
    if (!form) throw new NotFound();
    return retryLetter(ctx, id);
  }
  return form ? deleteLetter(ctx, id) : confirmDeletePage(ctx, id);
}
