// Immutable tags (docs/immutable-tags-and-quotas.md): once a tag matching a rule exists, it keeps
// pointing at the same manifest. Pushing it again with another digest, deleting it, or deleting
// the manifest it points at is refused with 403 DENIED naming the rule; pushing the same digest
// again succeeds (a CI job that retries must pass), and a new tag matching the rule may be pushed
// (immutability starts once it exists). Retention asks isImmutable() and skips such tags.
//
// Rules come from config.yml (berth.immutabletags: repository globs and tag regexps, each matched
// against the whole name) and from the admin API, one per namespace (PUT /api/v1/immutabletags/<ns>
// {"tags": [...]}) covering `<ns>/**`, i.e. the namespace and every repository below it.
//
// Not closed against races: two first pushes of the same new immutable tag at once both pass and
// the later one wins, as the check reads the tag before the manifest transaction writes it.
import type { MetadataStore } from '../metadata/store.ts';
import type { LifecycleStore } from '../metadata/lifecycle/lifecycle-store.ts';
import type { TagQueries } from '../metadata/lifecycle/tag-queries.ts';
import { RegistryError } from '../registry/errors.ts';
import type { ImmutableTagRule } from './config-types.ts';
import { compileGlobs, namespaceGlob, type RepositoryMatcher } from './globs.ts';
import { NamespaceRules, type NamespaceRule } from './namespace-rules.ts';

export const IMMUTABLE_RULE_KIND = 'immutable';

/** The body of a namespace rule set through the admin API. */
export interface ImmutableNamespaceBody {
  tags: string[];
}

export interface ImmutableRule extends ImmutableTagRule {
  source: 'config' | 'api';
  /** Position in berth.immutabletags (config rules). */
  index?: number;
  /** The namespace (API rules). */
  namespace?: string;
  updatedAt?: number;
  updatedBy?: string | null;
}

export interface CompiledImmutableRule extends ImmutableRule {
  matchesRepository: RepositoryMatcher;
  matchesTag(tag: string): boolean;
}

/** A tag pattern matches the whole tag: `v1` does not make `v10` or `xv1` immutable. */
export function compileTagPattern(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

export function compileImmutableRule(rule: ImmutableRule): CompiledImmutableRule {
  const patterns = rule.tags.map(compileTagPattern);
  return { ...rule, matchesRepository: compileGlobs(rule.repositories), matchesTag: (tag) => patterns.some((p) => p.test(tag)) };
}

/** How messages name a rule: where it is set and what it matches. */
export function describeImmutableRule(rule: ImmutableRule): string {
  const tags = rule.tags.join(' ');
  if (rule.source === 'api') return `namespace rule ${rule.namespace} (tags ${tags})`;
  return `berth.immutabletags[${rule.index ?? 0}] (repositories ${rule.repositories.join(' ')}; tags ${tags})`;
}

/** The first rule making `repository:tag` immutable. */
export function findImmutableRule<R extends CompiledImmutableRule>(rules: readonly R[], repository: string, tag: string): R | undefined {
  return rules.find((r) => r.matchesRepository(repository) && r.matchesTag(tag));
}

/** Whether config rules alone make `repository:tag` immutable (no namespace rules: see ImmutableTags.isImmutable). */
export function isImmutableTag(rules: readonly ImmutableTagRule[], repository: string, tag: string): boolean {
  return findImmutableRule(rules.map((r, index) => compileImmutableRule({ ...r, source: 'config', index })), repository, tag) !== undefined;
}

function parseBody(body: unknown): ImmutableNamespaceBody | undefined {
  const tags = (body as { tags?: unknown } | null)?.tags;
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) return undefined;
  try {
    tags.forEach(compileTagPattern);
  } catch {
    return undefined;
  }
  return { tags };
}

function fromNamespaceRule(r: NamespaceRule<ImmutableNamespaceBody>): ImmutableRule {
  return { source: 'api', namespace: r.namespace, repositories: [namespaceGlob(r.namespace)], tags: r.body.tags, updatedAt: r.updatedAt, updatedBy: r.updatedBy };
}

function denied(message: string, detail: Record<string, string>): RegistryError {
  return new RegistryError('DENIED', { message, detail });
}

/** The rules from config and the admin API, and the checks the registry's handlers call. */
export class ImmutableTags {
  readonly namespaceRules: NamespaceRules<ImmutableNamespaceBody>;
  private readonly configRules: CompiledImmutableRule[];
  private readonly tags: TagQueries;
  private compiledApi?: { from: NamespaceRule<ImmutableNamespaceBody>[]; rules: CompiledImmutableRule[] };

  constructor(configRules: readonly ImmutableTagRule[], store: LifecycleStore, ttlMs?: number) {
    this.configRules = configRules.map((r, index) => compileImmutableRule({ ...r, source: 'config', index }));
    this.namespaceRules = new NamespaceRules(store, IMMUTABLE_RULE_KIND, parseBody, ttlMs);
    this.tags = store.tags;
  }

  /** Config rules first (in file order), then namespace rules by namespace. */
  async rules(): Promise<CompiledImmutableRule[]> {
    const from = await this.namespaceRules.list();
    if (this.compiledApi?.from !== from) this.compiledApi = { from, rules: from.map((r) => compileImmutableRule(fromNamespaceRule(r))) };
    return [...this.configRules, ...this.compiledApi.rules];
  }

  /** The rule that makes `repository:tag` immutable, if any. */
  async ruleFor(repository: string, tag: string): Promise<CompiledImmutableRule | undefined> {
    return findImmutableRule(await this.rules(), repository, tag);
  }

  /** What retention asks before deleting a tag (config and namespace rules). */
  async isImmutable(repository: string, tag: string): Promise<boolean> {
    return (await this.ruleFor(repository, tag)) !== undefined;
  }

  /** Manifest PUT: refuses moving an existing immutable tag to another manifest. */
  async checkPut(metadata: MetadataStore, repository: string, tag: string | undefined, digest: string): Promise<void> {
    if (tag === undefined) return;
    const rule = await this.ruleFor(repository, tag);
    if (!rule) return;
    const current = await metadata.resolveTag(repository, tag);
    if (current === undefined || current === digest) return;
    throw denied(`tag ${tag} of ${repository} is immutable by ${describeImmutableRule(rule)}: it points at ${current} and cannot be pushed again with ${digest}`, {
      repository,
      tag,
      current,
      rule: describeImmutableRule(rule),
    });
  }

  /** Manifest DELETE, by tag or by digest (which would delete every tag pointing at it). */
  async checkDelete(repository: string, reference: { kind: 'tag'; tag: string } | { kind: 'digest'; digest: string }): Promise<void> {
    if (reference.kind === 'tag') {
      const rule = await this.ruleFor(repository, reference.tag);
      if (rule) throw denied(`tag ${reference.tag} of ${repository} is immutable by ${describeImmutableRule(rule)}: it cannot be deleted`, { repository, tag: reference.tag, rule: describeImmutableRule(rule) });
      return;
    }
    const rules = (await this.rules()).filter((r) => r.matchesRepository(repository));
    if (rules.length === 0) return;
    for (const tag of await this.tags.tagsOf(repository, reference.digest)) {
      const rule = findImmutableRule(rules, repository, tag);
      if (rule) {
        throw denied(`manifest ${reference.digest} of ${repository} carries the immutable tag ${tag} (${describeImmutableRule(rule)}): it cannot be deleted`, {
          repository,
          digest: reference.digest,
          tag,
          rule: describeImmutableRule(rule),
        });
      }
    }
  }
}
