// A retention policy as JSON, for the admin API (PUT /api/v1/retention/<namespace>) and for
// showing the config's policies next to the namespaces' ones. Keys are the config's, in either
// spelling (`deleteUntagged` or `deleteuntagged`, as in config.yml), and durations are Go
// durations ("720h"); a namespace policy has no `repositories`: it covers `<namespace>/**`.
import { z } from 'zod';
import { parseDuration } from '../config/durations.ts';
import type { KeepTagsRule, RetentionPolicy } from './config-types.ts';
import { formatDuration } from './retention-policy.ts';

const duration = z.string().transform((s, ctx) => {
  try {
    const ms = parseDuration(s);
    if (ms < 0) throw new Error('must not be negative');
    return ms;
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

const pattern = z.string().refine(
  (p) => {
    try {
      new RegExp(p);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a valid regular expression' },
);

const count = z.number().int().min(0);

const keepTagsSchema = z
  .object({
    patterns: z.array(pattern).min(1).optional(),
    mostrecentlypushedcount: count.optional(),
    pushedwithin: duration.optional(),
    mostrecentlypulledcount: count.optional(),
    pulledwithin: duration.optional(),
  })
  .strict();

const policySchema = z
  .object({
    deleteuntagged: z.boolean().optional(),
    deletereferrers: z.boolean().optional(),
    keeptags: z.array(keepTagsSchema).optional(),
  })
  .strict();

/** Object keys in lower case (config.yml's spelling), so `deleteUntagged` and `deleteuntagged` are one key. */
function lowerKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(lowerKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toLowerCase(), k.toLowerCase() === 'patterns' ? v : lowerKeys(v)]));
}

/** The body of PUT /api/v1/retention/<namespace>, validated into the policy it sets. */
export const namespacePolicyBody = z.preprocess(
  lowerKeys,
  policySchema.transform(
    (p): Omit<RetentionPolicy, 'repositories'> => ({
      deleteUntagged: p.deleteuntagged ?? false,
      deleteReferrers: p.deletereferrers ?? false,
      ...(p.keeptags && {
        keepTags: p.keeptags.map((k) => {
          const rule: KeepTagsRule = { patterns: k.patterns ?? ['.*'] };
          if (k.mostrecentlypushedcount !== undefined) rule.mostRecentlyPushedCount = k.mostrecentlypushedcount;
          if (k.pushedwithin !== undefined) rule.pushedWithinMs = k.pushedwithin;
          if (k.mostrecentlypulledcount !== undefined) rule.mostRecentlyPulledCount = k.mostrecentlypulledcount;
          if (k.pulledwithin !== undefined) rule.pulledWithinMs = k.pulledwithin;
          return rule;
        }),
      }),
    }),
  ),
);

/** A policy as JSON: the admin API stores and shows this form. */
export interface PolicyJson {
  repositories?: string[];
  deleteUntagged: boolean;
  deleteReferrers: boolean;
  keepTags?: {
    patterns: string[];
    mostRecentlyPushedCount?: number;
    pushedWithin?: string;
    mostRecentlyPulledCount?: number;
    pulledWithin?: string;
  }[];
}

export function policyToJson(policy: RetentionPolicy | Omit<RetentionPolicy, 'repositories'>): PolicyJson {
  return {
    ...('repositories' in policy && { repositories: policy.repositories }),
    deleteUntagged: policy.deleteUntagged,
    deleteReferrers: policy.deleteReferrers,
    ...(policy.keepTags && {
      keepTags: policy.keepTags.map((k) => ({
        patterns: k.patterns,
        ...(k.mostRecentlyPushedCount !== undefined && { mostRecentlyPushedCount: k.mostRecentlyPushedCount }),
        ...(k.pushedWithinMs !== undefined && { pushedWithin: formatDuration(k.pushedWithinMs) }),
        ...(k.mostRecentlyPulledCount !== undefined && { mostRecentlyPulledCount: k.mostRecentlyPulledCount }),
        ...(k.pulledWithinMs !== undefined && { pulledWithin: formatDuration(k.pulledWithinMs) }),
      })),
    }),
  };
}

/** A stored namespace rule's body back into its policy; undefined when it no longer validates. */
export function policyFromJson(body: unknown, namespace: string): RetentionPolicy | undefined {
  const parsed = namespacePolicyBody.safeParse(body);
  if (!parsed.success) return undefined;
  return { repositories: [`${namespace.replace(/\/+$/, '')}/**`], ...parsed.data };
}
