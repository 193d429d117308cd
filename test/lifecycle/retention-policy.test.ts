// Retention's decisions as a pure function (src/lifecycle/retention-policy.ts): zot's semantics for
// tags, berth's rules for what untagged manifests, index children and referrers become.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateRetention, selectPolicy, type RetentionInput } from '../../src/lifecycle/retention-policy.ts';
import type { RetentionPolicy } from '../../src/lifecycle/config-types.ts';
import type { RetentionGraph, RetentionManifest, RetentionTag } from '../../src/metadata/lifecycle/retention-queries.ts';
import { compileGlobs } from '../../src/lifecycle/globs.ts';

const H = 3_600_000;
const D = 24 * H;
const NOW = 1_000 * D;

function m(digest: string, o: Partial<RetentionManifest> = {}): RetentionManifest {
  return { digest, size: 100, subject: null, children: [], pushedAt: NOW - 30 * D, pulledAt: null, ...o };
}

function t(name: string, digest: string, pushedDaysAgo: number, pulledDaysAgo: number | null = null): RetentionTag {
  return { name, digest, pushedAt: NOW - pushedDaysAgo * D, pulledAt: pulledDaysAgo === null ? null : NOW - pulledDaysAgo * D };
}

function policy(o: Partial<RetentionPolicy> = {}): RetentionPolicy {
  return { repositories: ['**'], deleteUntagged: false, deleteReferrers: false, ...o };
}

function run(graph: RetentionGraph, p: RetentionPolicy | undefined, extra: Partial<RetentionInput> = {}) {
  const plan = evaluateRetention({ repository: 'r', graph, policy: p, now: NOW, untaggedCutoff: NOW - H, ...extra });
  return { plan, tags: plan.tags.map((x) => x.tag).sort(), manifests: plan.manifests.map((x) => x.digest) };
}

/** One manifest per tag, digests named after the tags. */
function tagged(...tags: RetentionTag[]): RetentionGraph {
  return { manifests: tags.map((x) => m(x.digest)), tags };
}

describe('selectPolicy', () => {
  const config = [policy({ repositories: ['ci/**'], deleteUntagged: true }), policy({ repositories: ['ci/app', 'tmp/*'] })].map((p) => ({ policy: p, matches: compileGlobs(p.repositories) }));

  it('the first config policy whose globs match applies', () => {
    assert.equal(selectPolicy('ci/app', [], config)?.source, 'berth.retention.policies[0]');
    assert.equal(selectPolicy('tmp/x', [], config)?.source, 'berth.retention.policies[1]');
    assert.equal(selectPolicy('prod/app', [], config), undefined);
    assert.equal(selectPolicy('tmp/x/y', [], config), undefined);
  });

  it('a namespace policy wins over config policies, the deepest namespace over its parents', () => {
    const ns = [
      { namespace: 'ci', policy: policy() },
      { namespace: 'ci/team', policy: policy() },
    ];
    assert.equal(selectPolicy('ci/app', ns, config)?.source, 'namespace ci');
    assert.equal(selectPolicy('ci/team/app', ns, config)?.source, 'namespace ci/team');
    assert.equal(selectPolicy('ci', ns, config)?.source, 'namespace ci');
    assert.equal(selectPolicy('cix/app', ns, config), undefined);
  });
});

describe('evaluateRetention: tags', () => {
  it('no policy deletes nothing; a policy without keeptags, or with an empty list, keeps every tag', () => {
    const g = tagged(t('a', 'a', 400), t('b', 'b', 1));
    assert.deepEqual(run(g, undefined).tags, []);
    assert.deepEqual(run(g, policy({ deleteUntagged: true })).tags, []);
    assert.deepEqual(run(g, policy({ keepTags: [] })).tags, []);
  });

  it('a count of 0 is no rule, as in zot: an entry with only zero counts keeps what it matches', () => {
    const g = tagged(t('a', 'a', 400), t('b', 'b', 1));
    assert.deepEqual(run(g, policy({ keepTags: [{ patterns: ['.*'], mostRecentlyPushedCount: 0, mostRecentlyPulledCount: 0 }] })).tags, []);
    assert.deepEqual(run(g, policy({ keepTags: [{ patterns: ['.*'], mostRecentlyPushedCount: 0, pushedWithinMs: D }] })).tags, ['a']);
  });

  it('a tag that matches no keeptags entry is deleted, and its manifest with it', () => {
    const g = tagged(t('v1.0', 'a', 400), t('feature-x', 'b', 1));
    const { plan, tags, manifests } = run(g, policy({ keepTags: [{ patterns: ['^v[0-9]+\\.'] }] }));
    assert.deepEqual(tags, ['feature-x']);
    assert.match(plan.tags[0]!.reason, /matches no keeptags pattern/);
    assert.deepEqual(manifests, ['b']);
    assert.equal(plan.manifests[0]!.kind, 'tags-deleted');
  });

  it('only the FIRST entry whose patterns match a tag decides (an entry without rules keeps all it matches)', () => {
    const g = tagged(t('release-1', 'a', 400), t('release-2', 'b', 300), t('dev-1', 'c', 200), t('dev-2', 'd', 1));
    const keepTags = [{ patterns: ['^release-'] }, { patterns: ['.*'], mostRecentlyPushedCount: 1 }];
    // release-* also match '.*', but the first entry keeps them; the count ranks dev-* only.
    assert.deepEqual(run(g, policy({ keepTags })).tags, ['dev-1']);
  });

  it('mostRecentlyPushedCount keeps the N newest tags the entry matched', () => {
    const g = tagged(t('a', 'a', 5), t('b', 'b', 4), t('c', 'c', 3), t('d', 'd', 2), t('v1', 'v', 100));
    const { plan, tags } = run(g, policy({ keepTags: [{ patterns: ['^v'] }, { patterns: ['^[a-z]$'], mostRecentlyPushedCount: 2 }] }));
    assert.deepEqual(tags, ['a', 'b']);
    assert.match(plan.tags[0]!.reason, /not among the 2 most recently pushed/);
  });

  it('pushedWithin keeps tags pushed within the duration', () => {
    const g = tagged(t('old', 'a', 31), t('new', 'b', 29));
    const { plan, tags } = run(g, policy({ keepTags: [{ patterns: ['.*'], pushedWithinMs: 30 * D }] }));
    assert.deepEqual(tags, ['old']);
    assert.match(plan.tags[0]!.reason, /pushed 31d ago, not within 720h/);
  });

  it('pulledWithin counts a pull by tag or of the manifest the tag points at; never pulled is not within', () => {
    const g: RetentionGraph = {
      manifests: [m('a'), m('b', { pulledAt: NOW - 2 * D }), m('c'), m('d')],
      tags: [t('by-tag', 'a', 100, 3), t('by-digest', 'b', 100), t('never', 'c', 100), t('long-ago', 'd', 100, 30)],
    };
    const { plan, tags } = run(g, policy({ keepTags: [{ patterns: ['.*'], pulledWithinMs: 7 * D }] }));
    assert.deepEqual(tags, ['long-ago', 'never']);
    assert.match(plan.tags.find((x) => x.tag === 'never')!.reason, /never pulled/);
  });

  it('mostRecentlyPulledCount ranks pulled tags only: a never-pulled tag is not among them', () => {
    const g = tagged(t('a', 'a', 1, 10), t('b', 'b', 1, 5), t('c', 'c', 1, 1), t('d', 'd', 1));
    assert.deepEqual(run(g, policy({ keepTags: [{ patterns: ['.*'], mostRecentlyPulledCount: 2 }] })).tags, ['a', 'd']);
    assert.deepEqual(run(g, policy({ keepTags: [{ patterns: ['.*'], mostRecentlyPulledCount: 10 }] })).tags, ['d']);
  });

  it('a tag is kept when ANY rule of its entry holds', () => {
    const g = tagged(t('a', 'a', 50, 1), t('b', 'b', 1), t('c', 'c', 50), t('d', 'd', 40));
    const rule = { patterns: ['.*'], mostRecentlyPushedCount: 1, pushedWithinMs: 2 * D, pulledWithinMs: 7 * D };
    assert.deepEqual(run(g, policy({ keepTags: [rule] })).tags, ['c', 'd']);
  });

  it('patterns are unanchored regular expressions, as in zot', () => {
    const g = tagged(t('1.2-rc', 'a', 100), t('x', 'b', 100));
    assert.deepEqual(run(g, policy({ keepTags: [{ patterns: ['rc'] }] })).tags, ['x']);
  });

  it('an immutable tag is never deleted, and keeps its manifest', () => {
    const g = tagged(t('v1', 'a', 400), t('tmp', 'b', 400));
    const { plan, tags, manifests } = run(g, policy({ keepTags: [{ patterns: ['^nothing$'] }] }), { isImmutable: (tag) => tag === 'v1' });
    assert.deepEqual(tags, ['tmp']);
    assert.deepEqual(manifests, ['b']);
    assert.deepEqual(
      plan.protectedTags.map((p) => p.tag),
      ['v1'],
    );
    assert.match(plan.protectedTags[0]!.reason, /immutable/);
  });

  it('a manifest keeps living while any of its tags is kept', () => {
    const g: RetentionGraph = { manifests: [m('a')], tags: [t('v1', 'a', 400), t('tmp', 'a', 400)] };
    const { tags, manifests } = run(g, policy({ keepTags: [{ patterns: ['^v'] }] }));
    assert.deepEqual(tags, ['tmp']);
    assert.deepEqual(manifests, []);
  });
});

describe('evaluateRetention: untagged manifests, indexes, referrers', () => {
  const keepV = [{ patterns: ['^v'] }];

  it('deleteuntagged removes untagged manifests pushed before the cutoff, and only with the flag', () => {
    const g: RetentionGraph = { manifests: [m('tagged'), m('old'), m('in-flight', { pushedAt: NOW - 10 * 60_000 })], tags: [t('v1', 'tagged', 1)] };
    const on = run(g, policy({ deleteUntagged: true }));
    assert.deepEqual(on.manifests, ['old']);
    assert.equal(on.plan.manifests[0]!.kind, 'untagged');
    assert.deepEqual(run(g, policy({ deleteUntagged: false })).manifests, []);
  });

  it('never deletes the untagged children of a kept index', () => {
    const g: RetentionGraph = {
      manifests: [m('index', { children: ['amd64', 'arm64'] }), m('amd64'), m('arm64'), m('stray')],
      tags: [t('v1', 'index', 100)],
    };
    assert.deepEqual(run(g, policy({ deleteUntagged: true, keepTags: keepV })).manifests, ['stray']);
  });

  it('a deleted index takes its untagged children along, parents first, but not a child another kept index lists', () => {
    const g: RetentionGraph = {
      manifests: [m('amd64'), m('arm64'), m('shared'), m('old-index', { children: ['amd64', 'arm64', 'shared'] }), m('new-index', { children: ['shared'] })],
      tags: [t('tmp', 'old-index', 100), t('v2', 'new-index', 1)],
    };
    const { plan, manifests } = run(g, policy({ deleteUntagged: false, keepTags: keepV }));
    assert.deepEqual(manifests, ['old-index', 'amd64', 'arm64']);
    assert.deepEqual(
      plan.manifests.map((x) => x.kind),
      ['tags-deleted', 'index-child', 'index-child'],
    );
  });

  it('a child with a kept tag of its own stays when its index goes', () => {
    const g: RetentionGraph = { manifests: [m('index', { children: ['amd64'] }), m('amd64')], tags: [t('tmp', 'index', 100), t('v1-amd64', 'amd64', 100)] };
    assert.deepEqual(run(g, policy({ keepTags: keepV })).manifests, ['index']);
  });

  it('referrers of a kept manifest stay, even untagged with deleteuntagged and deletereferrers', () => {
    const g: RetentionGraph = { manifests: [m('image'), m('sig', { subject: 'image' }), m('sig-of-sig', { subject: 'sig' })], tags: [t('v1', 'image', 100)] };
    assert.deepEqual(run(g, policy({ deleteUntagged: true, deleteReferrers: true, keepTags: keepV })).manifests, []);
  });

  it('deletereferrers: referrers go with their deleted subject, after it; without it they stay', () => {
    const g: RetentionGraph = { manifests: [m('sig-of-sig', { subject: 'sig' }), m('sig', { subject: 'image' }), m('image')], tags: [t('tmp', 'image', 100)] };
    const withFlag = run(g, policy({ deleteReferrers: true, keepTags: keepV }));
    assert.deepEqual(withFlag.manifests, ['image', 'sig', 'sig-of-sig']);
    assert.equal(withFlag.plan.manifests[1]!.kind, 'referrer');
    assert.match(withFlag.plan.manifests[1]!.reason, /referrer of image, which is deleted/);
    assert.deepEqual(run(g, policy({ deleteReferrers: false, deleteUntagged: true, keepTags: keepV })).manifests, ['image']);
  });

  it('deletereferrers also removes referrers whose subject is already missing', () => {
    const g: RetentionGraph = { manifests: [m('sbom', { subject: 'sha256:gone' })], tags: [] };
    const { plan, manifests } = run(g, policy({ deleteReferrers: true }));
    assert.deepEqual(manifests, ['sbom']);
    assert.match(plan.manifests[0]!.reason, /not in the repository/);
    assert.deepEqual(run(g, policy({ deleteUntagged: true })).manifests, []);
  });

  it('an untagged index is a unit: deleteuntagged removes it and its children together', () => {
    const g: RetentionGraph = { manifests: [m('amd64'), m('index', { children: ['amd64'] })], tags: [] };
    assert.deepEqual(run(g, policy({ deleteUntagged: true })).manifests, ['index', 'amd64']);
    assert.deepEqual(run(g, policy({ deleteUntagged: false })).manifests, []);
  });

  it('an untagged manifest pushed after the cutoff stays with whatever it lists', () => {
    const g: RetentionGraph = { manifests: [m('amd64'), m('index', { children: ['amd64'], pushedAt: NOW - 60_000 })], tags: [] };
    assert.deepEqual(run(g, policy({ deleteUntagged: true })).manifests, []);
  });
});

describe("evaluateRetention: cosign's accessory tags (sha256-<hex>.sig/.att/.sbom)", () => {
  const hex = (c: string) => c.repeat(64);
  const image = (c: string) => `sha256:${hex(c)}`;
  const sig = (c: string, kind = 'sig') => `sha256-${hex(c)}.${kind}`;
  /** v1 (kept by "^v"), build-7 (deleted), each signed; build-7 also has an SBOM. */
  const graph = (): RetentionGraph => ({
    manifests: [m(image('a')), m(image('b')), m('sig-a'), m('sig-b'), m('sbom-b')],
    tags: [t('v1', image('a'), 400), t('build-7', image('b'), 1), t(sig('a'), 'sig-a', 400), t(sig('b'), 'sig-b', 1), t(sig('b', 'sbom'), 'sbom-b', 1)],
  });
  const keepReleases = { keepTags: [{ patterns: ['^v'] }] };

  it('keeptags never deletes them: a kept image keeps its signature, a deleted one too without deletereferrers', () => {
    const { tags, manifests } = run(graph(), policy(keepReleases));
    assert.deepEqual(tags, ['build-7']);
    assert.deepEqual(manifests, [image('b')]);
  });

  it('deletereferrers: they go with their deleted subject, and their manifests with them; a kept image keeps its own', () => {
    const { plan, tags, manifests } = run(graph(), policy({ ...keepReleases, deleteReferrers: true }));
    assert.deepEqual(tags, ['build-7', sig('b'), sig('b', 'sbom')].sort());
    assert.match(plan.tags.find((x) => x.tag === sig('b'))!.reason, new RegExp(`^cosign accessory tag of ${image('b')}, which is deleted \\(deletereferrers\\)$`));
    assert.deepEqual(manifests.sort(), [image('b'), 'sbom-b', 'sig-b'].sort());
  });

  it('they take no place among the most recently pushed', () => {
    const g: RetentionGraph = {
      manifests: [m(image('a')), m(image('b')), m('sig-b')],
      tags: [t('old', image('a'), 10), t('new', image('b'), 5), t(sig('b'), 'sig-b', 1)],
    };
    assert.deepEqual(run(g, policy({ deleteReferrers: true, keepTags: [{ patterns: ['.*'], mostRecentlyPushedCount: 1 }] })).tags, ['old']);
  });

  it('deletereferrers: one whose subject is not in the repository goes, unless pushed within the grace period', () => {
    const g: RetentionGraph = { manifests: [m('sig-c'), m('sig-d')], tags: [t(sig('c'), 'sig-c', 3), { name: sig('d'), digest: 'sig-d', pushedAt: NOW - 60_000, pulledAt: null }] };
    const { plan, tags, manifests } = run(g, policy({ deleteReferrers: true }));
    assert.deepEqual(tags, [sig('c')]);
    assert.match(plan.tags[0]!.reason, /which is not in the repository/);
    assert.deepEqual(manifests, ['sig-c']);
  });

  it('an immutable one stays, with its manifest, and is listed as protected', () => {
    const { plan, tags, manifests } = run(graph(), policy({ ...keepReleases, deleteReferrers: true }), { isImmutable: (tag) => tag === sig('b') });
    assert.deepEqual(tags, ['build-7', sig('b', 'sbom')].sort());
    assert.deepEqual(manifests.sort(), [image('b'), 'sbom-b'].sort());
    assert.deepEqual(plan.protectedTags.map((x) => x.tag), [sig('b')]);
  });

  it('a tag that only looks like one (not 64 hex digits) is an ordinary tag', () => {
    const g = tagged(t('v1', 'a', 1), t('sha256-abc.sig', 'x', 1));
    assert.deepEqual(run(g, policy(keepReleases)).tags, ['sha256-abc.sig']);
  });
});
