import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, compileGlobs, namespaceGlob } from '../../src/lifecycle/globs.ts';

function check(glob: string, yes: string[], no: string[]): void {
  const m = compileGlob(glob);
  for (const r of yes) assert.equal(m(r), true, `${glob} should match ${r}`);
  for (const r of no) assert.equal(m(r), false, `${glob} should not match ${r}`);
}

describe('repository globs', () => {
  it('* stays inside one segment', () => {
    check('tmp/*', ['tmp/a', 'tmp/build-1'], ['tmp', 'tmp/a/b', 'tmpx/a', 'other/tmp/a']);
    check('team-*/app', ['team-a/app', 'team-/app'], ['team-a/x/app', 'team-a/apps']);
  });
  it('** spans segments, zero or more', () => {
    check('team-a/**', ['team-a', 'team-a/x', 'team-a/x/y'], ['team-ab', 'team-b/x', 'x/team-a']);
    check('**/cache', ['cache', 'a/cache', 'a/b/cache'], ['a/cachex', 'cache/a']);
    check('a/**/b', ['a/b', 'a/x/b', 'a/x/y/b'], ['a/xb', 'ab', 'a/b/c']);
    check('**', ['a', 'a/b/c'], []);
    check('a/**/**', ['a', 'a/b'], ['b']);
  });
  it('? matches one character; other characters are literal', () => {
    check('v?/app', ['v1/app'], ['v10/app', 'v/app']);
    check('a.b/c+d', ['a.b/c+d'], ['axb/c+d', 'a.b/cd']);
    check('exact/name', ['exact/name'], ['exact/name2', 'exact']);
  });
  it('a list matches when any glob does', () => {
    const m = compileGlobs(['ci/**', 'tmp/*']);
    assert.equal(m('ci/x/y'), true);
    assert.equal(m('tmp/z'), true);
    assert.equal(m('prod/z'), false);
    assert.equal(compileGlobs([])('x'), false);
  });
  it('a namespace rule covers the namespace and below', () => {
    assert.equal(namespaceGlob('team-a'), 'team-a/**');
    assert.equal(namespaceGlob('team-a/sub/'), 'team-a/sub/**');
  });
});
