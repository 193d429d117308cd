// The notifications: section read as distribution reads it (defaults, 0 = default, headers as
// lists, ignoredmediatypes merged with ignore.mediatypes), berth.notifications, the errors and
// warnings, the environment, and examples/notifications.yml meaning what its comments say.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { backoffDelay, ignores } from '../../src/events/delivery.ts';

const V = 'version: 0.1\n';
const load = (text: string, env: NodeJS.ProcessEnv = {}) => loadConfig({ text: `${V}${text}`, env });

describe('notifications config', () => {
  it('takes distribution defaults and treats 0 as "the default"', () => {
    const { config, warnings } = load('notifications:\n  endpoints:\n    - {name: a, url: "http://h/x"}\n    - {name: b, url: "https://h/y", timeout: 0, threshold: 0, backoff: 0}\n');
    assert.deepEqual(warnings, []);
    const n = config.notifications!;
    assert.equal(n.includeReferences, false);
    assert.equal(n.maxAgeMs, 24 * 3_600_000);
    assert.equal(n.maxBackoffMs, 300_000);
    assert.equal(n.signingKey, undefined);
    for (const e of n.endpoints) {
      assert.equal(e.timeoutMs, 1000);
      assert.equal(e.threshold, 10);
      assert.equal(e.backoffMs, 1000);
      assert.equal(e.disabled, false);
    }
    assert.equal(load('').config.notifications, undefined, 'no section: nothing set');
  });

  it('reads every key, merges the two ways of ignoring media types, and takes headers as lists', () => {
    const { config } = load(
      [
        'notifications:',
        '  events: {includereferences: true}',
        '  endpoints:',
        '    - name: hook',
        '      url: https://hooks.example.com/r',
        '      headers: {Authorization: [Bearer x], X-One: single}',
        '      timeout: 3s',
        '      threshold: 4',
        '      backoff: 250ms',
        '      ignoredmediatypes: [application/octet-stream]',
        '      ignore: {mediatypes: [application/vnd.oci.image.index.v1+json, application/octet-stream], actions: [pull]}',
        'berth:',
        '  notifications: {maxage: 2h, maxbackoff: 30s, maxbatch: 50, signingkey: k3y}',
      ].join('\n'),
    );
    const n = config.notifications!;
    assert.equal(n.includeReferences, true);
    assert.deepEqual(n.endpoints[0], {
      name: 'hook',
      url: 'https://hooks.example.com/r',
      headers: { Authorization: ['Bearer x'], 'X-One': ['single'] },
      timeoutMs: 3000,
      threshold: 4,
      backoffMs: 250,
      ignoredMediaTypes: ['application/octet-stream', 'application/vnd.oci.image.index.v1+json'],
      ignoredActions: ['pull'],
      disabled: false,
    });
    assert.equal(n.maxAgeMs, 7_200_000);
    assert.equal(n.maxBackoffMs, 30_000);
    assert.equal(n.signingKey, 'k3y');
    assert.equal(n.maxBatch, 50);
    assert.ok(ignores(n.endpoints[0]!, { action: 'pull', target: {} }));
    assert.ok(ignores(n.endpoints[0]!, { action: 'push', target: { mediaType: 'application/octet-stream' } }));
    assert.ok(!ignores(n.endpoints[0]!, { action: 'delete', target: {} }));
  });

  it('refuses what cannot work and warns about what matches nothing, without quoting values', () => {
    const err = (text: string, re: RegExp) =>
      assert.throws(
        () => load(text),
        (e: unknown) => e instanceof ConfigError && re.test(e.message),
      );
    err('notifications:\n  endpoints: [{name: a}]\n', /notifications\.endpoints\.0\.url: required/);
    err('notifications:\n  endpoints: [{name: a, url: "ftp://x/y"}]\n', /notifications\.endpoints\.0\.url/);
    err('notifications:\n  endpoints: [{name: a, url: "http://x/1"}, {name: a, url: "http://x/2"}]\n', /notifications\.endpoints\.1\.name: a names two endpoints/);
    err('berth:\n  notifications: {maxage: 0s}\n', /berth\.notifications\.maxage/);
    err('berth:\n  notifications: {maxbatch: 0}\n', /berth\.notifications\.maxbatch: must be at least 1/);
    err('berth:\n  notifications: {signingkey: ""}\n', /berth\.notifications\.signingkey: must not be empty/);
    // A disabled endpoint needs no URL; an endpoint without a name is known by its URL.
    const { config, warnings } = load('notifications:\n  endpoints: [{name: off, disabled: true}, {url: "http://x/hook", ignore: {actions: [pul]}}]\n');
    assert.equal(config.notifications!.endpoints[1]!.name, 'http://x/hook');
    assert.ok(warnings.some((w) => /ignore\.actions: pul is not an event action/.test(w)), warnings.join('\n'));
  });

  it('comes from the environment as distribution documents it', () => {
    const { config } = load('', {
      REGISTRY_NOTIFICATIONS_ENDPOINTS: '[{name: env, url: "http://h/e", headers: {Authorization: [Bearer e]}}]',
      REGISTRY_NOTIFICATIONS_EVENTS_INCLUDEREFERENCES: 'true',
      REGISTRY_BERTH_NOTIFICATIONS_SIGNINGKEY: 'from-env',
    });
    assert.equal(config.notifications!.endpoints[0]!.url, 'http://h/e');
    assert.deepEqual(config.notifications!.endpoints[0]!.headers, { Authorization: ['Bearer e'] });
    assert.equal(config.notifications!.includeReferences, true);
    assert.equal(config.notifications!.signingKey, 'from-env');
  });

  it('backs off as configured: threshold failures at once, then backoff doubling up to maxbackoff', () => {
    const waits = Array.from({ length: 10 }, (_, i) => backoffDelay(i + 1, 3, 1000, 5000));
    assert.deepEqual(waits, [0, 0, 1000, 2000, 4000, 5000, 5000, 5000, 5000, 5000]);
    assert.equal(backoffDelay(1, 1, 10_000, 5000), 10_000, 'a backoff above maxbackoff is kept');
  });

  it('examples/notifications.yml: a CI hook for pushes only, an audit hook for everything, one disabled', () => {
    const { config, warnings } = loadConfig({ path: fileURLToPath(new URL('../../examples/notifications.yml', import.meta.url)), env: {} });
    assert.deepEqual(warnings, []);
    const [ci, audit, off] = config.notifications!.endpoints;
    assert.ok(ignores(ci!, { action: 'pull', target: { mediaType: 'application/vnd.oci.image.manifest.v1+json' } }));
    assert.ok(ignores(ci!, { action: 'push', target: { mediaType: 'application/octet-stream' } }));
    assert.ok(!ignores(ci!, { action: 'push', target: { mediaType: 'application/vnd.oci.image.manifest.v1+json' } }));
    assert.ok(!ignores(audit!, { action: 'pull', target: { mediaType: 'application/octet-stream' } }));
    assert.equal(off!.disabled, true);
    assert.equal(config.notifications!.includeReferences, true);
  });
});
