// What the notifications pages share: the list's address (with its filter and page, so that an
// action returns the administrator to where they were) and a dead letter's event as words.
import { html, type Html } from '../../../html.ts';
import type { PageContext } from '../../../page.ts';
import type { MessageKey } from '../../../i18n/index.ts';
import { repoHref, shortDigest } from '../../fragments.ts';
import type { DeadLetter } from '../../../../metadata/events/store.ts';
import { deadLetterEvent } from '../../../../events/admin.ts';
import { EVENT_ACTIONS, type EventAction, type RegistryEvent } from '../../../../events/types.ts';
import { adminHref } from '../lifecycle/shared.ts';

/** Where the list was: an endpoint filter and a page cursor. */
export interface ListView {
  endpoint?: string | undefined;
  last?: number | undefined;
}

export function viewQuery(v: ListView): string {
  const q = new URLSearchParams();
  if (v.endpoint) q.set('endpoint', v.endpoint);
  if (v.last !== undefined) q.set('last', String(v.last));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The list's view named by a request's query string (anything unreadable is left out). */
export function viewOf(url: URL): ListView {
  const endpoint = url.searchParams.get('endpoint')?.slice(0, 500) || undefined;
  const raw = url.searchParams.get('last');
  const last = raw !== null && /^[0-9]{1,15}$/.test(raw) ? Number(raw) : undefined;
  return { endpoint, last };
}

export function listHref(ctx: PageContext, v: ListView = {}): string {
  return adminHref(ctx, `/notifications${viewQuery(v)}`);
}

/** The parts of a dead letter's event a page shows; undefined when the stored text is not an event. */
export interface LetterEvent {
  action: EventAction | undefined;
  repository?: string | undefined;
  fromRepository?: string | undefined;
  tag?: string | undefined;
  digest?: string | undefined;
  timestamp?: number | undefined;
  actor?: string | undefined;
}

const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

export function letterEvent(d: DeadLetter): LetterEvent | undefined {
  const e = deadLetterEvent(d);
  if (typeof e !== 'object' || e === null) return undefined;
  const ev = e as Partial<RegistryEvent>;
  const target = typeof ev.target === 'object' && ev.target !== null ? ev.target : {};
  const ts = text(ev.timestamp) ? Date.parse(ev.timestamp!) : NaN;
  return {
    action: EVENT_ACTIONS.find((a) => a === ev.action),
    repository: text(target.repository),
    fromRepository: text(target.fromRepository),
    tag: text(target.tag),
    digest: text(target.digest),
    timestamp: Number.isFinite(ts) ? ts : undefined,
    actor: text(ev.actor?.name),
  };
}

export function actionLabel(ctx: PageContext, action: EventAction | undefined): string {
  if (!action) return '?';
  return ctx.t.t(`adminNotifications.action.${action}` as MessageKey);
}

/** `repository:tag@sha256:abc…` in one line of text (confirmation dialogs). */
export function targetText(e: LetterEvent | undefined): string {
  if (!e) return '?';
  return `${e.repository ?? ''}${e.tag ? `:${e.tag}` : ''}${e.digest ? `@${shortDigest(e.digest)}` : ''}` || '?';
}

/** The event's target: the repository (a link), then its tag and digest, each labelled. */
export function targetCell(ctx: PageContext, e: LetterEvent): Html {
  const { t } = ctx;
  return html`${e.repository ? html`<a class="mono" href="${repoHref(ctx, e.repository)}">${e.repository}</a>` : html`<span class="muted">-</span>`}${
    e.tag ? html`<div><span class="muted">${t.t('adminNotifications.tagLabel')}</span> <span class="mono">${e.tag}</span></div>` : ''
  }${e.digest ? html`<div><span class="muted">${t.t('adminNotifications.digestLabel')}</span> <span class="mono" title="${e.digest}">${shortDigest(e.digest)}</span></div>` : ''}${
    e.fromRepository ? html`<div class="muted">${t.t('adminNotifications.from', { repository: e.fromRepository })}</div>` : ''
  }${e.actor ? html`<div class="muted">${t.t('adminNotifications.actor', { name: e.actor })}</div>` : ''}`;
}
