// The immutable-tag and quota examples mean what their comments say (that every file in
// examples/ loads is tested in config.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/index.ts';
import { isImmutableTag } from '../../src/lifecycle/immutable-tags.ts';

const dir = fileURLToPath(new URL('../../examples/', import.meta.url));
const load = (name: string) => loadConfig({ path: `${dir}${name}`, env: {} }).config;

describe('examples/', () => {
  it('immutable-tags.yml: release versions of prod/** and dated base images are immutable, moving tags are not', () => {
    const rules = load('immutable-tags.yml').berth.lifecycle.immutableTags;
    assert.equal(isImmutableTag(rules, 'prod/shop/api', 'v1.2.3'), true);
    assert.equal(isImmutableTag(rules, 'prod', 'v1.2.3'), true);
    assert.equal(isImmutableTag(rules, 'prod/shop/api', 'v1.2.3-rc1'), false);
    assert.equal(isImmutableTag(rules, 'prod/shop/api', 'latest'), false);
    assert.equal(isImmutableTag(rules, 'base/debian', '20240101'), true);
    assert.equal(isImmutableTag(rules, 'base/debian', 'stable'), false);
    assert.equal(isImmutableTag(rules, 'base/debian/slim', '20240101'), false);
  });

  it('quotas.yml: limits in bytes, globs as written', () => {
    const quotas = load('quotas.yml').berth.lifecycle.quotas;
    assert.deepEqual(
      quotas.map((q) => [q.repositories, q.limitBytes]),
      [
        [['team-a/**'], 50 * 1024 ** 3],
        [['ci/**', 'tmp/*'], 200 * 1024 ** 3],
        [['**'], 2 * 1024 ** 4],
      ],
    );
  });
});
