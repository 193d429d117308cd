import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRegistry, type TestRegistry } from './harness.ts';

describe('GET /v2/', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry((c) => {
      c.http.headers = { 'X-Content-Type-Options': ['nosniff'] };
    });
  });
  after(() => r.stop());

  it('answers 200 with {} and the API version header', async () => {
    const res = await fetch(`${r.url}/v2/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
    assert.deepEqual(await res.json(), {});
  });

  it('sends the API version header on errors and 404s too', async () => {
    const res = await fetch(`${r.url}/v2/nope/manifests/latest`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
    const other = await fetch(`${r.url}/not-the-api`);
    assert.equal(other.status, 404);
    assert.equal(other.headers.get('docker-distribution-api-version'), 'registry/2.0');
  });

  it('adds the configured http.headers to every response', async () => {
    const res = await fetch(`${r.url}/v2/`);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  });

  it('answers HEAD /v2/ without a body', async () => {
    const res = await fetch(`${r.url}/v2/`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal((await res.arrayBuffer()).byteLength, 0);
  });

  it('refuses methods a route does not have with 405 UNSUPPORTED', async () => {
    const res = await fetch(`${r.url}/v2/_catalog`, { method: 'DELETE' });
    assert.equal(res.status, 405);
    const body = (await res.json()) as { errors: Array<{ code: string }> };
    assert.equal(body.errors[0]!.code, 'UNSUPPORTED');
  });

  it('has liveness and readiness endpoints', async () => {
    assert.equal((await fetch(`${r.url}/livez`)).status, 200);
    const ready = await fetch(`${r.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ok' });
  });
});

describe('repository name grammar', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry();
  });
  after(() => r.stop());

  for (const bad of ['UPPER/case', 'a..b', 'trailing-/x', '-lead', 'a/b_', `${'a'.repeat(256)}`]) {
    it(`rejects ${bad.slice(0, 20)} with NAME_INVALID`, async () => {
      const res = await fetch(`${r.url}/v2/${bad}/tags/list`);
      assert.equal(res.status, 400);
      const body = (await res.json()) as { errors: Array<{ code: string }> };
      assert.equal(body.errors[0]!.code, 'NAME_INVALID');
    });
  }

  it('accepts deep names with dots, dashes and double underscores', async () => {
    const res = await fetch(`${r.url}/v2/my.org/team-a/sub__x/img/tags/list`);
    assert.equal(res.status, 404);
    const body = (await res.json()) as { errors: Array<{ code: string }> };
    assert.equal(body.errors[0]!.code, 'NAME_UNKNOWN');
  });

  it('accepts a name of exactly 255 characters', async () => {
    const name = `${'a'.repeat(127)}/${'b'.repeat(127)}`;
    assert.equal(name.length, 255);
    const res = await fetch(`${r.url}/v2/${name}/tags/list`);
    assert.equal(res.status, 404);
  });
});
