// The pure rules under the access controller.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applicableScopes, enclosingNamespaces, isWithin, resolveRole, restrictionAllowsManaging, restrictionFor, scopeNameCovers } from '../../src/auth/access/roles.ts';

describe('access rules', () => {
  it('walks namespaces by path segment, longest first', () => {
    assert.deepEqual(enclosingNamespaces('a/b/c'), ['a/b', 'a']);
    assert.deepEqual(enclosingNamespaces('alpine'), []);
    assert.equal(isWithin('team/app', 'team'), true);
    assert.equal(isWithin('team', 'team'), true);
    assert.equal(isWithin('teamx/app', 'team'), false);
    assert.deepEqual(applicableScopes({ kind: 'repository', name: 'a/b/c' }), [
      { kind: 'repository', name: 'a/b/c' },
      { kind: 'namespace', name: 'a/b' },
      { kind: 'namespace', name: 'a' },
    ]);
  });

  it('resolves per subject by specificity, then the highest; admin above is never narrowed', () => {
    const scopes = applicableScopes({ kind: 'repository', name: 't/r' });
    const g = (subjectId: number, kind: 'namespace' | 'repository', name: string, role: 'read' | 'write' | 'delete' | 'admin') => ({ subjectKind: 'team', subjectId, scope: { kind, name }, role });
    assert.equal(resolveRole([g(1, 'namespace', 't', 'write'), g(1, 'repository', 't/r', 'read')], scopes), 'read');
    assert.equal(resolveRole([g(1, 'namespace', 't', 'write'), g(1, 'repository', 't/r', 'read'), g(2, 'namespace', 't', 'delete')], scopes), 'delete');
    assert.equal(resolveRole([g(1, 'namespace', 't', 'admin'), g(1, 'repository', 't/r', 'read')], scopes), 'admin');
    assert.equal(resolveRole([g(1, 'namespace', 'other', 'admin')], scopes), undefined);
    assert.equal(resolveRole([], scopes), undefined);
  });

  it('reads credential scopes: exact names, ns/* and *', () => {
    assert.equal(scopeNameCovers('*', 'a/b'), true);
    assert.equal(scopeNameCovers('a/*', 'a/b/c'), true);
    assert.equal(scopeNameCovers('a/*', 'ab/c'), false);
    assert.equal(scopeNameCovers('a/b', 'a/b'), true);
    assert.equal(restrictionFor(undefined, 'a/b'), undefined);
    assert.deepEqual([...restrictionFor([{ type: 'repository', name: 'a/*', actions: ['*'] }], 'a/b')!], ['pull', 'push', 'delete', '*']);
    assert.deepEqual([...restrictionFor([{ type: 'registry', name: 'catalog', actions: ['*'] }], 'a/b')!], []);
    assert.equal(restrictionAllowsManaging([{ type: 'repository', name: 'a/*', actions: ['*'] }], { kind: 'namespace', name: 'a/b' }), true);
    assert.equal(restrictionAllowsManaging([{ type: 'repository', name: 'a/b', actions: ['*'] }], { kind: 'namespace', name: 'a' }), false);
    assert.equal(restrictionAllowsManaging([{ type: 'repository', name: 'a/*', actions: ['push'] }], { kind: 'namespace', name: 'a' }), false);
  });
});
