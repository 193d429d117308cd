// Administration: lifecycle areas. Each area is a small file here; this one routes to them.
import type { Flash, PageContext } from '../../../page.ts';
import type { AdminArea, AdminOutcome } from '../index.ts';

export const LIFECYCLE_AREAS = (_ctx: PageContext): AdminArea[] => [];

/** The outcome for a path below /ui/admin that belongs here, or undefined. */
export async function lifecycleAdmin(_ctx: PageContext, _sub: string, _form: URLSearchParams | undefined, _flash: Flash | undefined): Promise<AdminOutcome | undefined> {
  return undefined;
}
