// What a namespace's immutable tag rule and quota accept, shared by the admin API
// (src/lifecycle/http/immutable-routes.ts, quota-routes.ts) and the console's lifecycle pages
// (src/console/pages/admin/lifecycle/): the same validation in both.
import { z } from 'zod';
import { parseSize } from '../config/sizes.ts';
import { compileTagPattern } from './immutable-tags.ts';

/** Whether a tag pattern compiles as immutable tag rules compile it (anchored to the whole tag). */
export function isValidTagPattern(pattern: string): boolean {
  try {
    compileTagPattern(pattern);
    return true;
  } catch {
    return false;
  }
}

export const MAX_TAG_PATTERNS = 100;

export const immutableTagPattern = z.string().min(1).max(1000).refine(isValidTagPattern, 'not a valid regular expression');

/** The body of PUT /api/v1/immutabletags/<namespace>. */
export const immutableRuleBody = z.strictObject({ tags: z.array(immutableTagPattern).min(1, 'name at least one tag pattern').max(MAX_TAG_PATTERNS) });

/** The body of PUT /api/v1/quotas/<namespace>. */
export const quotaBody = z.strictObject({ limit: z.union([z.string().max(100), z.number()]) });

/** A limit the quota can take is not one (its message names the field: `limit: ...`). */
export class QuotaLimitError extends Error {}

/** A quota's limit ("50GiB", "10GB", a number of bytes) in bytes; throws QuotaLimitError. */
export function parseQuotaLimit(limit: string | number): number {
  let limitBytes: number;
  try {
    limitBytes = parseSize(limit);
  } catch (e) {
    throw new QuotaLimitError(`limit: ${(e as Error).message}`);
  }
  if (!Number.isSafeInteger(limitBytes)) throw new QuotaLimitError('limit: too large');
  return limitBytes;
}
