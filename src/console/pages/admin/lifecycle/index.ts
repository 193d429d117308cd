// Administration: the lifecycle areas, one small file each: garbage collection (gc.ts), retention
// policies (retention.ts), immutable tags (immutable.ts), quotas and usage (quotas.ts). This one
// lists them for the overview and routes the paths below /ui/admin to them.
import type { Flash, PageContext } from '../../../page.ts';
import type { AdminArea, AdminOutcome } from '../index.ts';
import { gcAdmin } from './gc.ts';
import { retentionAdmin } from './retention.ts';
import { immutableAdmin } from './immutable.ts';
import { quotasAdmin } from './quotas.ts';

type AreaHandler = (ctx: PageContext, rest: string, form: URLSearchParams | undefined, flash: Flash | undefined) => Promise<AdminOutcome>;

const HANDLERS: [string, AreaHandler][] = [
  ['/gc', gcAdmin],
  ['/retention', retentionAdmin],
  ['/immutable', immutableAdmin],
  ['/quotas', quotasAdmin],
];

export const LIFECYCLE_AREAS = (_ctx: PageContext): AdminArea[] => [
  { path: '/gc', title: 'adminLifecycle.gc.title', description: 'adminLifecycle.gc.description' },
  { path: '/retention', title: 'adminLifecycle.retention.title', description: 'adminLifecycle.retention.description' },
  { path: '/immutable', title: 'adminLifecycle.immutable.title', description: 'adminLifecycle.immutable.description' },
  { path: '/quotas', title: 'adminLifecycle.quotas.title', description: 'adminLifecycle.quotas.description' },
];

/** The outcome for a path below /ui/admin that belongs here, or undefined. */
export async function lifecycleAdmin(ctx: PageContext, sub: string, form: URLSearchParams | undefined, flash: Flash | undefined): Promise<AdminOutcome | undefined> {
  const path = sub.length > 1 ? sub.replace(/\/+$/, '') : sub;
  for (const [prefix, handler] of HANDLERS) {
    if (path === prefix || path.startsWith(`${prefix}/`)) return handler(ctx, path.slice(prefix.length), form, flash);
  }
  return undefined;
}
