// Pull policy rules: from config.yml (berth.trust.policies, key files) and per namespace through
// the admin API (PUT /api/v1/trust/policies/<namespace>, the keys in the body), stored in the
// metadata store's lifecycle_rules table with kind 'trust'. A namespace rule covers the namespace
// and everything below it (`<ns>/**`). Every rule that matches a repository must be satisfied: a
// namespace's admins can add requirements to what the site configures, never remove one.
import { z } from 'zod';
import type { TrustPolicyConfig } from '../../config/types.ts';
import { DEFAULT_NOTARY_ROLES } from '../../config/build.ts';
import { compileGlobs, namespaceGlob, type RepositoryMatcher } from '../../lifecycle/globs.ts';
import type { NamespaceRule } from '../../lifecycle/namespace-rules.ts';
import type { KeySet } from './keys.ts';

export const TRUST_RULE_KIND = 'trust';
export type Requirement = TrustPolicyConfig['require'];
export const REQUIREMENTS = ['any', 'notary', 'gpg', 'cosign'] as const;

export const MAX_POLICY_KEYS = 16;
const MAX_KEY_TEXT = 64 * 1024;
const NOTARY_ROLE = /^targets(?:\/[-a-z0-9_]+)*$/;

/** The body of PUT /api/v1/trust/policies/<namespace> (and what is stored). */
export const trustNamespaceBody = z.strictObject({
  require: z.enum(REQUIREMENTS),
  /** The keys themselves: PEM public keys or certificates, or armored GPG public keys (gpg --export --armor). */
  keys: z.array(z.string().min(1).max(MAX_KEY_TEXT)).max(MAX_POLICY_KEYS).default([]),
  notaryroles: z.array(z.string().regex(NOTARY_ROLE, 'must be targets or a delegation role such as targets/releases')).max(16).optional(),
});

export type TrustNamespaceBody = z.infer<typeof trustNamespaceBody>;

export function parseNamespaceBody(body: unknown): TrustNamespaceBody | undefined {
  const r = trustNamespaceBody.safeParse(body);
  return r.success ? r.data : undefined;
}

export interface PolicyRule {
  source: 'config' | 'api';
  /** Position in berth.trust.policies (config rules). */
  index?: number;
  /** The namespace (API rules). */
  namespace?: string;
  repositories: string[];
  require: Requirement;
  /** Config: key file paths; API: the key texts. */
  keys: string[];
  notaryRoles: string[];
  updatedAt?: number;
  updatedBy?: string | null;
}

export interface CompiledRule extends PolicyRule {
  matches: RepositoryMatcher;
  /** The rule's keys now (config files are re-read when they change). */
  keySet(): KeySet;
  /** Identifies the rule and its keys in the verdict cache. */
  id(): string;
}

export function configRule(p: TrustPolicyConfig, index: number): PolicyRule {
  return { source: 'config', index, repositories: p.repositories, require: p.require, keys: p.keys, notaryRoles: p.notaryRoles };
}

export function namespaceRule(r: NamespaceRule<TrustNamespaceBody>): PolicyRule {
  return {
    source: 'api',
    namespace: r.namespace,
    repositories: [namespaceGlob(r.namespace)],
    require: r.body.require,
    keys: r.body.keys,
    notaryRoles: r.body.notaryroles?.length ? r.body.notaryroles : [...DEFAULT_NOTARY_ROLES],
    updatedAt: r.updatedAt,
    updatedBy: r.updatedBy,
  };
}

export function compileRule(rule: PolicyRule, keys: () => KeySet): CompiledRule {
  const base = rule.source === 'config' ? `c${rule.index ?? 0}` : `n:${rule.namespace}:${rule.updatedAt ?? 0}`;
  return { ...rule, matches: compileGlobs(rule.repositories), keySet: keys, id: () => `${base}:${keys().version}` };
}

/** How messages and the API name a rule. */
export function describeRule(rule: PolicyRule): string {
  if (rule.source === 'api') return `namespace policy ${rule.namespace} (require ${rule.require})`;
  return `berth.trust.policies[${rule.index ?? 0}] (repositories ${rule.repositories.join(' ')}; require ${rule.require})`;
}

/** What a requirement needs among the keys; undefined when the keys serve it. */
export function missingKeys(require: Requirement, keys: KeySet): string | undefined {
  if (require === 'cosign' && keys.pem.length === 0) return 'require: cosign needs at least one PEM public key (cosign.pub)';
  if (require === 'gpg' && keys.gpg.length === 0) return 'require: gpg needs at least one GPG public key (gpg --export)';
  return undefined;
}
