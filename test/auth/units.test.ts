// The small pure parts of auth: scope grammar, grant matching, htpasswd parsing, challenges,
// libtrust key IDs, the brute-force throttle, and required access per route.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { basicChallenge, bearerChallenge } from '../../src/auth/challenge.ts';
import { readCredentials } from '../../src/auth/credentials.ts';
import { parseHtpasswd } from '../../src/auth/htpasswd-format.ts';
import { requiredAccess } from '../../src/auth/required-access.ts';
import { accessFromClaim, covers, formatScope, parseScope, parseScopes } from '../../src/auth/scope.ts';
import { LoginThrottle } from '../../src/auth/throttle.ts';
import { libtrustKeyID } from '../../src/auth/trust.ts';
import type { IncomingMessage } from 'node:http';

const BCRYPT = '$2y$05$c4WoMPo3SXsafkva.HHa6uXQZWr7oboPiC2bT/r7q1BB8I2s0BRqC';

describe('scopes', () => {
  it('parses the Docker scope grammar, dropping what it cannot use', () => {
    assert.deepEqual(parseScope('repository:team/app:pull,push'), { type: 'repository', name: 'team/app', actions: ['pull', 'push'] });
    assert.deepEqual(parseScope('repository(plugin):team/app:pull'), { type: 'repository', name: 'team/app', actions: ['pull'] });
    assert.deepEqual(parseScope('registry:catalog:*'), { type: 'registry', name: 'catalog', actions: ['*'] });
    assert.deepEqual(parseScope('repository:a:push,bogus,push,pull'), { type: 'repository', name: 'a', actions: ['push', 'pull'] });
    for (const bad of ['', 'repository', 'repository:a', 'repository:a:', 'repository:a:bogus', 'repository:../etc:pull', 'repository:A/B:pull', 'registry:other:*', 'Repository:a:pull', 'x:a:pull']) {
      assert.equal(parseScope(bad), undefined, bad);
    }
    // several parameters, space-separated lists, duplicates merged
    assert.deepEqual(parseScopes(['repository:a:pull repository:b:push', 'repository:a:push']), [
      { type: 'repository', name: 'a', actions: ['pull', 'push'] },
      { type: 'repository', name: 'b', actions: ['push'] },
    ]);
    assert.equal(parseScopes([Array.from({ length: 500 }, (_, i) => `repository:r${i}:pull`).join(' ')]).length, 64);
    assert.equal(formatScope({ type: 'repository', name: 'a', actions: ['push', 'pull'] }), 'repository:a:pull,push');
  });

  it('matches grants exactly for tokens and by pattern for credential limits', () => {
    const g = accessFromClaim([
      { type: 'repository', name: 'team/app', actions: ['pull'] },
      { type: 'repository(plugin)', name: 'plug', actions: ['*'] },
      { type: 'repository', name: 'team/*', actions: ['push'] },
      { type: 'weird', name: 'x', actions: ['pull'] },
      'garbage',
      { type: 'repository', name: 'bad', actions: 'pull' },
    ]);
    assert.equal(covers(g, 'repository', 'team/app', 'pull'), true);
    assert.equal(covers(g, 'repository', 'team/app', 'push'), false);
    assert.equal(covers(g, 'repository', 'plug', 'delete'), true, '* covers every action');
    assert.equal(covers(g, 'repository', 'team/other', 'push'), false, 'no patterns in tokens');
    assert.equal(covers(g, 'repository', 'team/other', 'push', true), true);
    assert.equal(covers(g, 'repository', 'teams/other', 'push', true), false);
    assert.equal(covers(g, 'registry', 'x', 'pull'), false);
    assert.equal(covers([{ type: 'repository', name: '*', actions: ['pull'] }], 'repository', 'any/thing', 'pull', true), true);
  });

  it('maps every route and method to what distribution requires', () => {
    const url = (q = '') => new URL(`http://x/${q}`);
    const need = (route: Parameters<typeof requiredAccess>[0], method: string, q = '') => requiredAccess(route, method, url(q));
    assert.deepEqual(need({ kind: 'base' }, 'GET'), { needs: [] });
    assert.deepEqual(need({ kind: 'catalog' }, 'GET').needs, [{ type: 'registry', name: 'catalog', actions: ['*'] }]);
    assert.deepEqual(need({ kind: 'manifest', name: 'a', reference: 't' }, 'HEAD').needs[0].actions, ['pull']);
    assert.deepEqual(need({ kind: 'manifest', name: 'a', reference: 't' }, 'PUT').needs[0].actions, ['pull', 'push']);
    assert.deepEqual(need({ kind: 'manifest', name: 'a', reference: 't' }, 'DELETE').needs[0].actions, ['delete']);
    assert.deepEqual(need({ kind: 'manifest', name: 'a', reference: 't' }, 'PATCH').needs[0].actions, ['pull', 'push']);
    assert.deepEqual(need({ kind: 'blob', name: 'a', digest: 'd' }, 'DELETE').needs[0].actions, ['delete']);
    assert.deepEqual(need({ kind: 'upload', name: 'a', uuid: 'u' }, 'DELETE').needs[0].actions, ['pull', 'push']);
    assert.deepEqual(need({ kind: 'upload', name: 'a', uuid: 'u' }, 'GET').needs[0].actions, ['pull', 'push']);
    assert.deepEqual(need({ kind: 'tags', name: 'a' }, 'GET').needs[0].actions, ['pull']);
    assert.deepEqual(need({ kind: 'referrers', name: 'a', digest: 'd' }, 'GET').needs[0].actions, ['pull']);
    assert.equal(need({ kind: 'uploads', name: 'a' }, 'POST', '?mount=sha256:x&from=b/c').mountFrom, 'b/c');
    assert.equal(need({ kind: 'uploads', name: 'a' }, 'POST', '?from=b/c').mountFrom, undefined);
  });
});

describe('htpasswd format', () => {
  it('reads user:bcrypt lines as distribution does, and names bad entries by line and user only', () => {
    const text = ['# comment', '', `alice:${BCRYPT}`, `  bob:${BCRYPT}  `, 'no-colon-here', `carol:$apr1$abc$def`, `alice:${BCRYPT.replace('$2y$', '$2b$')}`, `dave:{SHA}xyz=`, 'dave:' + BCRYPT].join('\r\n');
    const { entries, problems } = parseHtpasswd(text);
    assert.deepEqual([...entries.keys()], ['alice', 'bob', 'dave']);
    assert.equal(entries.get('alice'), BCRYPT.replace('$2y$', '$2b$'), 'the last entry of a user wins');
    assert.equal(problems.length, 3);
    assert.equal(problems[0], 'line 5: expected "user:bcrypt-hash"');
    assert.match(problems[1], /^line 6: user "carol" has an unsupported password hash: Apache MD5/);
    assert.match(problems[2], /^line 8: user "dave" has an unsupported password hash: SHA-1/);
    for (const p of problems) assert.ok(!p.includes('no-colon-here') && !p.includes('$apr1$abc') && !p.includes('xyz='), p);
    // a bad entry after a good one removes the good one: the user cannot log in with a stale password
    assert.equal(parseHtpasswd(`eve:${BCRYPT}\neve:{SHA}x=\n`).entries.has('eve'), false);
    // malformed bcrypt and absurd costs are refused too
    assert.equal(parseHtpasswd(`x:${BCRYPT.slice(0, -1)}\n`).entries.size, 0);
    assert.equal(parseHtpasswd(`x:${BCRYPT.replace('$05$', '$03$')}\n`).entries.size, 0);
  });
});

describe('challenges and credentials', () => {
  it('quotes realm and service values safely', () => {
    assert.equal(basicChallenge('my "realm"\\'), 'Basic realm="my \\"realm\\"\\\\"');
    assert.equal(basicChallenge('a\r\nSet-Cookie: x'), 'Basic realm="aSet-Cookie: x"');
    assert.equal(
      bearerChallenge('https://r/token', 'svc', [{ type: 'repository', name: 'a', actions: ['push', 'pull'] }, { type: 'repository', name: 'b', actions: ['pull'] }], 'insufficient_scope'),
      'Bearer realm="https://r/token",service="svc",scope="repository:a:pull,push repository:b:pull",error="insufficient_scope"',
    );
  });

  it('reads Basic and Bearer headers and nothing else', () => {
    const read = (authorization?: string) => readCredentials({ headers: authorization === undefined ? {} : { authorization } } as IncomingMessage);
    assert.deepEqual(read(), { kind: 'none' });
    assert.deepEqual(read(`Basic ${Buffer.from('u:p:q').toString('base64')}`), { kind: 'basic', username: 'u', password: 'p:q' });
    assert.deepEqual(read(`basic ${Buffer.from('ü:ß').toString('base64')}`), { kind: 'basic', username: 'ü', password: 'ß' });
    assert.deepEqual(read('Bearer abc.def.ghi'), { kind: 'bearer', token: 'abc.def.ghi' });
    for (const bad of ['Basic', 'Basic ***', `Basic ${Buffer.from('nocolon').toString('base64')}`, 'Bearer a b', 'Negotiate x', `Bearer ${'a'.repeat(9000)}`]) {
      assert.equal(read(bad).kind, 'invalid', bad);
    }
  });
});

describe('libtrust key IDs', () => {
  it('match the key ID of the example in distribution\'s JWT spec', () => {
    const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: 'm7zUpx3b-zmVE5cymSs64POG9QcyEpJaYCD82-549_Q', y: 'dU3biz8sZ_8GPB-odm8Wxz3lNDr1xcAQQPQaOcr1fmc' }, format: 'jwk' });
    assert.equal(libtrustKeyID(key), 'PYYO:TEWU:V7JH:26JV:AQTZ:LJC3:SXVJ:XGHA:34F2:2LAQ:ZRMK:Z7Q6');
  });
});

describe('LoginThrottle', () => {
  it('delays, locks per user and per address, forgets old failures, and resets on success', () => {
    let t = 1_000_000;
    const th = new LoginThrottle({ maxFailures: 4, lockoutMs: 60_000, windowMs: 600_000, now: () => t });
    assert.equal(th.check('alice', '10.0.0.1'), undefined);
    assert.deepEqual(th.failure('alice', '10.0.0.1'), { delayMs: 0 });
    assert.deepEqual(th.failure('Alice', '10.0.0.2'), { delayMs: 250 });
    assert.deepEqual(th.failure('alice', '10.0.0.3'), { delayMs: 500 });
    assert.deepEqual(th.failure('ALICE', '10.0.0.4'), { delayMs: 0, locked: { retryAfterS: 60 } }); // refused at once: no point holding it back
    assert.deepEqual(th.check('alice', '10.0.0.9'), { retryAfterS: 60 });
    assert.equal(th.check('bob', '10.0.0.1'), undefined);
    t += 30_000;
    assert.deepEqual(th.check('alice', '10.0.0.9'), { retryAfterS: 30 });
    t += 30_001;
    assert.equal(th.check('alice', '10.0.0.9'), undefined);
    // success resets
    th.failure('bob', '10.0.0.5');
    th.failure('bob', '10.0.0.5');
    th.success('bob', '10.0.0.5');
    assert.deepEqual(th.failure('bob', '10.0.0.5'), { delayMs: 0 });
    // failures older than the window are forgotten
    th.failure('carol', '10.0.0.6');
    th.failure('carol', '10.0.0.6');
    t += 600_001;
    assert.deepEqual(th.failure('carol', '10.0.0.6'), { delayMs: 0 });
    // an address locks at 4x the per-user limit
    for (let i = 0; i < 15; i++) assert.equal(th.failure(`user${i}`, '10.9.9.9').locked, undefined);
    assert.ok(th.failure('user15', '10.9.9.9').locked, 'the 16th failure locks the address');
    assert.ok(th.check('anyone', '10.9.9.9'), 'the address is locked for every user');
  });

  it('stays bounded whatever names it is fed', () => {
    const th = new LoginThrottle({ maxFailures: 3, lockoutMs: 1000, maxEntries: 100 });
    for (let i = 0; i < 10_000; i++) th.failure(`u${i}-${'x'.repeat(1000)}`, `a${i}`);
    assert.ok((th as unknown as { entries: Map<string, unknown> }).entries.size <= 100, 'bounded');
  });
});
