// The lifecycle settings as berth codes against them (berth.gc, berth.retention,
// berth.immutabletags, berth.quotas in config.yml; durations in milliseconds, sizes in bytes).

export interface GcSettings {
  /** The background collector in the server. */
  enabled: boolean;
  intervalMs: number;
  /** Grace period: nothing touched (uploaded, mounted, HEAD-checked, referenced) more recently is collected. */
  delayMs: number;
  /** Share of wall time a background or API-started run may work (src/lifecycle/pacer.ts). */
  pace: number;
}

/** One entry of a retention policy's keeptags: a tag matching `patterns` is kept when ANY rule holds (no rule = kept). */
export interface KeepTagsRule {
  patterns: string[];
  mostRecentlyPushedCount?: number;
  pushedWithinMs?: number;
  mostRecentlyPulledCount?: number;
  pulledWithinMs?: number;
}

export interface RetentionPolicy {
  /** Repository globs (`*` within one path segment, `**` across segments); the first matching policy applies. */
  repositories: string[];
  deleteUntagged: boolean;
  deleteReferrers: boolean;
  /** Undefined = every tag is kept (the policy only removes untagged manifests). */
  keepTags?: KeepTagsRule[];
}

export interface RetentionSettings {
  dryrun: boolean;
  intervalMs: number;
  policies: RetentionPolicy[];
}

export interface ImmutableTagRule {
  repositories: string[];
  /** Regular expressions matched against the whole tag. */
  tags: string[];
}

export interface QuotaRule {
  repositories: string[];
  limitBytes: number;
}

export interface LifecycleConfig {
  gc: GcSettings;
  retention: RetentionSettings;
  immutableTags: ImmutableTagRule[];
  quotas: QuotaRule[];
}
