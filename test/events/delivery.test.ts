// Notifications end to end in one process: a berth server posting to receivers in the test. The
// envelope and fields, custom headers, the signature, ignore rules and disabled endpoints, an
// endpoint down for a while then up (nothing lost, order kept, backoff), dead letters after
// maxage with the admin API (list, retry with the same event id, delete), and the delete events of
// GC, retention and the console. The metrics endpoint (http.debug) is scraped along the way: events
// queued, delivered, failed and refused per endpoint, the backlog, dead letters, and the events
// waiting in memory while the metadata store refuses the outbox's writes (the request waits for
// its event and is answered once the store takes it).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/index.ts';
import { EVENTS_MEDIA_TYPE, type RegistryEvent } from '../../src/events/types.ts';
import { verifySignature, SIGNATURE_HEADER } from '../../src/events/signature.ts';
import { pushBlob, pushImage, startTestRegistry, OCI_MANIFEST, type TestRegistry } from '../http/harness.ts';
import { startReceiver, type Receiver } from './receiver.ts';
import { freePort } from '../helpers/processes.ts';
import { parseExposition, value } from '../metrics/exposition.ts';

const KEY = 'a-shared-secret-for-signatures';

function notificationsOf(yaml: string) {
  return loadConfig({ text: `version: 0.1\n${yaml}`, env: {} }).config;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A debug listener with Prometheus metrics for a test registry; `metric` reads one sample (0 when absent). */
async function debugListener() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    return value(parseExposition(await res.text()), name, labels) ?? 0;
  };
  /** Scrapes until `ok` holds (the backlog and dead-letter gauges are read from the store at most every 5 s). */
  const until = async (name: string, labels: Record<string, string>, ok: (v: number) => boolean, what: string, ms = 15_000) => {
    const deadline = Date.now() + ms;
    let v = await metric(name, labels);
    while (!ok(v) && Date.now() < deadline) {
      await sleep(200);
      v = await metric(name, labels);
    }
    assert.ok(ok(v), `${what}: ${name}${JSON.stringify(labels)} is ${v}`);
    return v;
  };
  return { config: { addr: `127.0.0.1:${port}`, prometheus: { enabled: true, path: '/metrics' } }, metric, until };
}
type Debug = Awaited<ReturnType<typeof debugListener>>;
const brief = (e: RegistryEvent) => `${e.action} ${e.target.repository ?? ''} ${e.target.tag ?? ''} ${e.target.digest ?? ''}`.trim();

describe('notifications: delivery', { timeout: 180_000 }, () => {
  let a: Receiver;
  let b: Receiver;
  let c: Receiver;
  let reg: TestRegistry;
  let base: string;
  let debug: Debug;

  before(async () => {
    [a, b, c] = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
    debug = await debugListener();
    const loaded = notificationsOf(`
notifications:
  events: {includereferences: true}
  endpoints:
    - name: all
      url: ${a.url}
      headers: {Authorization: [Bearer token-1], X-Extra: [one, two]}
      timeout: 2s
      threshold: 3
      backoff: 100ms
    - name: writes-only
      url: ${b.url}
      ignore: {actions: [pull]}
      ignoredmediatypes: [application/octet-stream]
    - name: off
      url: ${c.url}
      disabled: true
berth:
  notifications: {signingkey: ${KEY}, maxbackoff: 400ms}
`);
    reg = await startTestRegistry((cfg) => {
      cfg.notifications = loaded.notifications;
      cfg.http.debug = debug.config;
    });
    base = reg.url;
  });

  after(async () => {
    await reg?.stop();
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  });

  it('sends distribution events in its envelope, with the configured headers and a signature that verifies', async () => {
    const img = await pushImage(base, 'ev/one', 'v1');
    let res = await fetch(`${base}/v2/ev/one/manifests/v1`, { headers: { Accept: OCI_MANIFEST, 'User-Agent': 'test-agent/1' } });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    res = await fetch(`${base}/v2/ev/one/blobs/${img.layer}`);
    await res.arrayBuffer();
    res = await fetch(`${base}/v2/ev/two/blobs/uploads/?mount=${img.layer}&from=ev/one`, { method: 'POST' });
    assert.equal(res.status, 201);
    res = await fetch(`${base}/v2/ev/one/manifests/${img.digest}`, { method: 'DELETE' });
    assert.equal(res.status, 202);

    const events = await a.waitFor((ev) => ev.filter((e) => e.target.repository === 'ev/one' || e.target.repository === 'ev/two').length >= 8, 20_000, 'the sequence');
    const mine = events.filter((e) => e.target.repository?.startsWith('ev/'));
    assert.deepEqual(
      mine.map(brief),
      [
        `push ev/one  ${img.config}`,
        `push ev/one  ${img.layer}`,
        `push ev/one v1 ${img.digest}`,
        `pull ev/one v1 ${img.digest}`,
        `pull ev/one  ${img.layer}`,
        `mount ev/two  ${img.layer}`,
        `delete ev/one  ${img.digest}`,
        'delete ev/one v1',
      ],
    );
    const push = mine[2]!;
    assert.deepEqual(Object.keys(push), ['id', 'timestamp', 'action', 'target', 'request', 'actor', 'source']);
    assert.deepEqual(Object.keys(push.target), ['mediaType', 'size', 'digest', 'length', 'repository', 'url', 'tag', 'references']);
    assert.equal(push.target.mediaType, OCI_MANIFEST);
    assert.equal(push.target.size, img.size);
    assert.equal(push.target.length, img.size);
    assert.equal(push.target.url, `${base}/v2/ev/one/manifests/${img.digest}`);
    assert.deepEqual(push.target.references?.map((r) => r.digest), [img.config, img.layer]);
    assert.match(push.id, /^[0-9a-f-]{36}$/);
    assert.ok(Math.abs(Date.parse(push.timestamp) - Date.now()) < 60_000);
    assert.equal(push.request.method, 'PUT');
    assert.match(push.request.addr!, /^127\.0\.0\.1:\d+$/);
    assert.equal(push.request.host, new URL(base).host);
    assert.deepEqual(push.actor, {});
    assert.match(push.source.addr!, /:0$/); // http.addr 127.0.0.1:0
    assert.match(push.source.instanceID!, /^[0-9a-f-]{36}$/);
    const pull = mine[3]!;
    assert.equal(pull.request.useragent, 'test-agent/1');
    assert.equal(pull.request.method, 'GET');
    const mount = mine[5]!;
    assert.equal(mount.target.fromRepository, 'ev/one');
    assert.equal(mount.target.mediaType, 'application/octet-stream');
    // The manifest delete and its tag's delete come from one request.
    assert.equal(mine[6]!.request.id, mine[7]!.request.id);
    assert.deepEqual(mine[6]!.target, { digest: img.digest, repository: 'ev/one' });

    for (const r of a.requests.filter((q) => q.events.some((e) => e.target.repository?.startsWith('ev/')))) {
      assert.equal(r.events.length, 1, 'one event per request, as distribution');
      assert.equal(r.headers['content-type'], EVENTS_MEDIA_TYPE);
      assert.equal(r.headers.authorization, 'Bearer token-1');
      assert.equal(r.headers['x-extra'], 'one, two');
      assert.ok(verifySignature(KEY, r.body, r.headers[SIGNATURE_HEADER.toLowerCase()] as string), `signature of ${r.body.slice(0, 80)}`);
      assert.ok(!verifySignature('another key', r.body, r.headers[SIGNATURE_HEADER.toLowerCase()] as string));
      assert.ok(!verifySignature(KEY, `${r.body} `, r.headers[SIGNATURE_HEADER.toLowerCase()] as string));
    }

    // writes-only ignores pulls and blobs (application/octet-stream): the manifest push and the deletes.
    const bEvents = await b.waitFor((ev) => ev.filter((e) => e.target.repository === 'ev/one').length >= 3, 10_000, 'writes-only');
    assert.deepEqual(
      bEvents.filter((e) => e.target.repository?.startsWith('ev/')).map(brief),
      [`push ev/one v1 ${img.digest}`, `delete ev/one  ${img.digest}`, 'delete ev/one v1'],
    );
    assert.deepEqual(
      bEvents.filter((e) => e.target.repository === 'ev/one').map((e) => e.id),
      mine.filter((e) => e.action !== 'pull' && e.target.mediaType !== 'application/octet-stream').map((e) => e.id),
      'the same event ids at every endpoint',
    );
    // The disabled endpoint hears nothing.
    assert.equal(c.requests.length, 0);
  });

  it('keeps events while an endpoint is down and delivers them all, in order, once it is back', async () => {
    const all = { endpoint: 'all' };
    const before = {
      queued: await debug.metric('registry_notifications_events_total', { type: 'Events', ...all }),
      successes: await debug.metric('registry_notifications_events_total', { type: 'Successes', ...all }),
      errors: await debug.metric('registry_notifications_events_total', { type: 'Errors', ...all }),
      ok: await debug.metric('registry_notifications_status_total', { code: '200 OK', ...all }),
    };
    await debug.until('registry_notifications_pending_total', all, (v) => v === 0, 'nothing waits before');
    await a.down();
    const failedBefore = a.requests.length;
    const digests: string[] = [];
    for (let i = 0; i < 6; i++) digests.push(await pushBlob(base, 'down/app', randomBytes(64)));
    await sleep(1500);
    // The metrics see the backlog and the failed attempts while the endpoint is down.
    assert.equal((await debug.metric('registry_notifications_events_total', { type: 'Events', ...all })) - before.queued, 6, 'six events queued for the endpoint');
    await debug.until('registry_notifications_pending_total', all, (v) => v === 6, 'the backlog while down');
    assert.ok((await debug.metric('registry_notifications_events_total', { type: 'Errors', ...all })) > before.errors, 'refused connections count as Errors');
    await a.up();
    const got = await a.waitFor((ev) => digests.every((d) => ev.some((e) => e.target.digest === d && e.target.repository === 'down/app')), 20_000, 'the pushes made while down');
    const order = got.filter((e) => e.target.repository === 'down/app').map((e) => e.target.digest);
    assert.deepEqual([...new Set(order)], digests, 'in push order');
    assert.equal(a.requests.length - failedBefore, new Set(order).size + (order.length - new Set(order).size), 'only accepted requests after up()');
    // The endpoints API saw the failures and has nothing left to send.
    const res = await fetch(`${base}/api/v1/notifications/endpoints`);
    assert.equal(res.status, 200);
    const { endpoints } = (await res.json()) as { endpoints: { name: string; backlog: number; failures: number; lastSuccessAt: string | null }[] };
    const ep = endpoints.find((e) => e.name === 'all')!;
    assert.equal(ep.backlog, 0);
    assert.equal(ep.failures, 0);
    assert.ok(ep.lastSuccessAt);
    await debug.until('registry_notifications_pending_total', all, (v) => v === 0, 'the backlog once delivered');
    assert.ok((await debug.metric('registry_notifications_events_total', { type: 'Successes', ...all })) - before.successes >= 6);
    assert.ok((await debug.metric('registry_notifications_status_total', { code: '200 OK', ...all })) - before.ok >= 6);
  });

  it('while the metadata store refuses outbox writes, a push waits for its event (which waits in memory), and is answered once the store takes it; a pull is served meanwhile', async () => {
    const store = reg.services.metadata.events;
    const append = store.append;
    const stored = await pushBlob(base, 'refused/app', randomBytes(64));
    let refused = 0;
    const failuresBefore = await debug.metric('berth_notifications_outbox_write_failures_total');
    store.append = async () => {
      refused++;
      throw new Error('SQLITE_FULL: database or disk is full');
    };
    let answered: number | undefined;
    let pushed: Promise<string>;
    try {
      pushed = pushBlob(base, 'refused/app', randomBytes(64)).then((d) => {
        answered = Date.now();
        return d;
      });
      await debug.until('berth_notifications_unwritten_events', {}, (v) => v === 1, 'the event waits in memory');
      await sleep(800); // a few refused attempts (250 ms, then 500 ms apart)
      assert.ok(refused >= 2, `attempts refused: ${refused}`);
      assert.ok((await debug.metric('berth_notifications_outbox_write_failures_total')) - failuresBefore >= 2);
      assert.equal(answered, undefined, 'the push is not answered while its event is not durable');
      // A pull changes nothing: it is served while the store refuses writes, its event queued.
      const t = Date.now();
      const pulled = await fetch(`${base}/v2/refused/app/blobs/${stored}`);
      assert.equal(pulled.status, 200);
      await pulled.arrayBuffer();
      assert.ok(Date.now() - t < 2000, `the pull took ${Date.now() - t} ms`);
      assert.equal(answered, undefined, 'the push still waits');
      await debug.until('berth_notifications_unwritten_events', {}, (v) => v === 2, 'the pull event waits in memory too');
    } finally {
      store.append = append;
    }
    const back = Date.now();
    const digest = await pushed;
    assert.ok(answered! >= back, 'answered after the store came back');
    assert.equal(await debug.metric('berth_notifications_unwritten_events'), 0);
    assert.equal(await debug.metric('berth_notifications_dropped_events_total', { reason: 'queue_full' }), 0);
    await a.waitFor((ev) => ev.some((e) => e.target.digest === digest && e.target.repository === 'refused/app'), 10_000, 'the event written late, then delivered');
    await a.waitFor((ev) => ev.some((e) => e.action === 'pull' && e.target.digest === stored && e.target.repository === 'refused/app'), 10_000, 'the pull event, written late, then delivered');
  });

  it('retries a failing endpoint with backoff (threshold at once, then waits that double up to maxbackoff)', async () => {
    a.setStatus(503);
    const start = a.requests.length;
    const t0 = Date.now();
    await pushBlob(base, 'fail/app', randomBytes(64));
    await sleep(2500);
    const attempts = a.requests.slice(start).filter((r) => r.events.some((e) => e.target.repository === 'fail/app'));
    // 3 at once, then waits of 100, 200, 400, 400, ... ms: about 3 + 2500/400 attempts, far fewer than without backoff.
    assert.ok(attempts.length >= 5 && attempts.length <= 14, `attempts: ${attempts.length}`);
    const gaps = attempts.slice(1).map((r, i) => r.at - attempts[i]!.at);
    assert.ok(gaps.slice(0, 2).every((g) => g < 100), `immediate retries first: ${gaps.join(',')}`);
    assert.ok(gaps.slice(4).every((g) => g >= 300 && g < 1500), `capped waits: ${gaps.join(',')}`);
    assert.ok(attempts[0]!.at - t0 < 1000);
    assert.equal(new Set(attempts.map((r) => r.events[0]!.id)).size, 1, 'the same event id on every attempt');
    assert.ok((await debug.metric('registry_notifications_status_total', { code: '503 Service Unavailable', endpoint: 'all' })) >= attempts.length);
    assert.ok((await debug.metric('registry_notifications_events_total', { type: 'Failures', endpoint: 'all' })) >= attempts.length);
    a.setStatus(200);
    await a.waitFor((ev) => ev.some((e) => e.target.repository === 'fail/app'), 5000, 'the retried event');
  });

  it('counts a 3xx answer as delivered, as distribution does', async () => {
    a.setStatus(302);
    const d = await pushBlob(base, 'redirect/app', randomBytes(64));
    await a.waitFor((ev) => ev.some((e) => e.target.digest === d), 5000, 'the event answered 302');
    const tries = a.requests.filter((r) => r.events.some((e) => e.target.digest === d));
    assert.equal(tries.length, 1);
    a.setStatus(200);
  });

  it('emits delete events for GC (untagged manifests) and for tags deleted by name', async () => {
    const img = await pushImage(base, 'gc/app', 'v1');
    let res = await fetch(`${base}/v2/gc/app/manifests/v1`, { method: 'DELETE' });
    assert.equal(res.status, 202);
    res = await fetch(`${base}/api/v1/gc`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ deleteUntagged: true, delay: '0s' }) });
    assert.equal(res.status, 200, await res.text());
    const got = await a.waitFor((ev) => ev.some((e) => e.action === 'delete' && e.target.repository === 'gc/app' && e.target.digest === img.digest), 10_000, 'the GC delete');
    const deletes = got.filter((e) => e.action === 'delete' && e.target.repository === 'gc/app');
    assert.deepEqual(deletes.map((e) => e.target), [{ repository: 'gc/app', tag: 'v1' }, { digest: img.digest, repository: 'gc/app' }]);
    assert.deepEqual(deletes[1]!.actor, { name: 'gc' });
    assert.deepEqual(deletes[1]!.request, {});
  });
});

describe('notifications: retention deletes', { timeout: 120_000 }, () => {
  let r: Receiver;
  let reg: TestRegistry;

  before(async () => {
    r = await startReceiver();
    const loaded = notificationsOf(`
notifications:
  endpoints: [{name: hook, url: ${r.url}, ignore: {actions: [pull, push]}}]
berth:
  retention:
    policies: [{repositories: ['ret/**'], keeptags: [{patterns: ['.*'], mostrecentlypushedcount: 1}]}]
`);
    reg = await startTestRegistry((cfg) => {
      cfg.notifications = loaded.notifications;
      cfg.berth.lifecycle.retention = loaded.berth.lifecycle.retention;
    });
  });

  after(async () => {
    await reg?.stop();
    await r?.stop();
  });

  it('a retention run sends a delete for each tag it removes, by actor retention', async () => {
    const old = await pushImage(reg.url, 'ret/app', 'old');
    await sleep(20);
    await pushImage(reg.url, 'ret/app', 'new');
    const res = await fetch(`${reg.url}/api/v1/retention/run`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 200, await res.text());
    const got = await r.waitFor((ev) => ev.length >= 2, 10_000, 'the retention deletes');
    // The tag, then the manifest it leaves untagged (retention removes what its own deletions untag).
    assert.deepEqual(
      got.map((e) => [e.action, e.target, e.actor]),
      [
        ['delete', { repository: 'ret/app', tag: 'old' }, { name: 'retention' }],
        ['delete', { digest: old.digest, repository: 'ret/app' }, { name: 'retention' }],
      ],
    );
  });
});

describe('notifications: dead letters', { timeout: 120_000 }, () => {
  let r: Receiver;
  let reg: TestRegistry;
  let debug: Debug;

  before(async () => {
    r = await startReceiver();
    debug = await debugListener();
    r.setStatus(500);
    const loaded = notificationsOf(`
notifications:
  endpoints: [{name: flaky, url: ${r.url}, threshold: 2, backoff: 100ms}]
berth:
  notifications: {maxage: 1s, maxbackoff: 200ms}
`);
    reg = await startTestRegistry((cfg) => {
      cfg.notifications = loaded.notifications;
      cfg.http.debug = debug.config;
    });
  });

  after(async () => {
    await reg?.stop();
    await r?.stop();
  });

  it('moves events older than maxage to the dead-letter list; the API lists, retries (same id) and deletes them', async () => {
    const d1 = await pushBlob(reg.url, 'dead/app', randomBytes(64));
    const d2 = await pushBlob(reg.url, 'dead/app', randomBytes(64));
    type Dl = { id: number; endpoint: string; eventId: string; attempts: number; lastError: string | null; event: RegistryEvent };
    let letters: Dl[] = [];
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const res = await fetch(`${reg.url}/api/v1/notifications/deadletters?endpoint=flaky`);
      assert.equal(res.status, 200);
      letters = ((await res.json()) as { deadLetters: Dl[] }).deadLetters;
      if (letters.length >= 2) break;
      await sleep(200);
    }
    assert.deepEqual(letters.map((l) => l.event.target.digest), [d1, d2]);
    assert.equal(letters[0]!.endpoint, 'flaky');
    assert.ok(letters[0]!.attempts >= 2, `attempts ${letters[0]!.attempts}`);
    assert.match(letters[0]!.lastError ?? '', /HTTP 500/);
    assert.equal(letters[0]!.eventId, letters[0]!.event.id);

    // Nothing is left to send, and the endpoint goes on with new events.
    let res = await fetch(`${reg.url}/api/v1/notifications/endpoints`);
    const ep = ((await res.json()) as { endpoints: { name: string; backlog: number; deadLetters: number }[] }).endpoints.find((e) => e.name === 'flaky')!;
    assert.equal(ep.backlog, 0);
    assert.equal(ep.deadLetters, 2);
    // The same on the metrics endpoint, with the answers that failed.
    const flaky = { endpoint: 'flaky' };
    await debug.until('berth_notifications_dead_letters', flaky, (v) => v === 2, 'two dead letters');
    await debug.until('registry_notifications_pending_total', flaky, (v) => v === 0, 'nothing left to send');
    assert.ok((await debug.metric('registry_notifications_status_total', { code: '500 Internal Server Error', ...flaky })) >= 4, 'at least two attempts per event');
    assert.ok((await debug.metric('registry_notifications_events_total', { type: 'Failures', ...flaky })) >= 4);
    assert.equal(await debug.metric('registry_notifications_events_total', { type: 'Successes', ...flaky }), 0);

    r.setStatus(200);
    res = await fetch(`${reg.url}/api/v1/notifications/deadletters/${letters[0]!.id}/retry`, { method: 'POST' });
    assert.equal(res.status, 200);
    const got = await r.waitFor((ev) => ev.some((e) => e.target.digest === d1), 10_000, 'the retried dead letter');
    assert.equal(got.find((e) => e.target.digest === d1)!.id, letters[0]!.eventId, 'the same event id');

    res = await fetch(`${reg.url}/api/v1/notifications/deadletters/${letters[1]!.id}`);
    assert.equal(res.status, 200);
    res = await fetch(`${reg.url}/api/v1/notifications/deadletters/${letters[1]!.id}`, { method: 'DELETE' });
    assert.equal(res.status, 204);
    res = await fetch(`${reg.url}/api/v1/notifications/deadletters/${letters[1]!.id}`);
    assert.equal(res.status, 404);
    res = await fetch(`${reg.url}/api/v1/notifications/deadletters/${letters[1]!.id}/retry`, { method: 'POST' });
    assert.equal(res.status, 404);
    res = await fetch(`${reg.url}/api/v1/notifications/deadletters`, { method: 'PUT' });
    assert.equal(res.status, 405);
    res = await fetch(`${reg.url}/api/v1/notifications/deadletters`);
    assert.deepEqual(((await res.json()) as { deadLetters: Dl[] }).deadLetters, []);
    // One retried and delivered, the other deleted: no dead letter left.
    await debug.until('berth_notifications_dead_letters', { endpoint: 'flaky' }, (v) => v === 0, 'dead letters after retry and delete');
    assert.ok((await debug.metric('registry_notifications_events_total', { type: 'Successes', endpoint: 'flaky' })) >= 1, 'the retried one');
  });
});

describe('notifications: console deletions', { timeout: 120_000 }, () => {
  let r: Receiver;
  let reg: TestRegistry;
  const cookies = new Map<string, string>();
  const cookieHeader = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';')[0]!;
      cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    return res;
  };
  const csrf = async (path: string) => {
    const res = keep(await fetch(`${reg.url}${path}`, { headers: { cookie: cookieHeader() }, redirect: 'manual' }));
    const m = /name="_csrf" value="([^"]+)"/.exec(await res.text());
    assert.ok(m, `no _csrf on ${path}`);
    return m[1]!;
  };
  const post = async (path: string, form: Record<string, string>) =>
    keep(await fetch(`${reg.url}${path}`, { method: 'POST', headers: { cookie: cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form), redirect: 'manual' }));

  before(async () => {
    r = await startReceiver();
    const loaded = notificationsOf(`notifications:\n  endpoints: [{name: hook, url: ${r.url}, ignore: {actions: [pull, push]}}]\n`);
    reg = await startTestRegistry((cfg) => {
      cfg.notifications = loaded.notifications;
    });
  });

  after(async () => {
    await reg?.stop();
    await r?.stop();
  });

  it('a tag deleted and a repository deleted from the console send delete events with the request', async () => {
    const one = await pushImage(reg.url, 'con/app', 'v1');
    const two = await pushImage(reg.url, 'con/app', 'v2');
    let res = await post('/ui/repo/con/app/-/delete-tags', { _csrf: await csrf('/ui/repo/con/app/-/delete-tags?tag=v1'), tag: 'v1' });
    assert.equal(res.status, 303);
    let got = await r.waitFor((ev) => ev.length >= 1, 10_000, 'the tag delete');
    assert.deepEqual(got[0]!.target, { repository: 'con/app', tag: 'v1' });
    assert.equal(got[0]!.request.method, 'POST');
    res = await post('/ui/repo/con/app/-/delete', { _csrf: await csrf('/ui/repo/con/app/-/delete') });
    assert.equal(res.status, 303);
    got = await r.waitFor((ev) => ev.some((e) => e.target.digest === undefined && e.target.tag === undefined), 10_000, 'the repository delete');
    assert.deepEqual(
      got.slice(1).map((e) => e.target).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
      [{ digest: one.digest, repository: 'con/app' }, { digest: two.digest, repository: 'con/app' }, { repository: 'con/app' }].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
    );
    assert.deepEqual(got.at(-1)!.target, { repository: 'con/app' }, 'the repository itself last');
  });
});

describe('notifications: several events per request (berth.notifications.maxbatch)', { timeout: 120_000 }, () => {
  let r: Receiver;
  let reg: TestRegistry;

  before(async () => {
    r = await startReceiver();
    const loaded = notificationsOf(`
notifications:
  endpoints: [{name: batched, url: ${r.url}, threshold: 1, backoff: 100ms, ignore: {actions: [pull]}}]
berth:
  notifications: {maxbatch: 4, maxbackoff: 200ms, signingkey: ${KEY}}
`);
    reg = await startTestRegistry((cfg) => {
      cfg.notifications = loaded.notifications;
    });
  });

  after(async () => {
    await reg?.stop();
    await r?.stop();
  });

  it('sends the events that wait together, up to maxbatch per request, in order, signed', async () => {
    await r.down();
    const digests: string[] = [];
    for (let i = 0; i < 10; i++) {
      digests.push(await pushBlob(reg.url, 'batch/app', randomBytes(32)));
      // a pull in between: not even recorded, since the only endpoint ignores pulls
      await (await fetch(`${reg.url}/v2/batch/app/blobs/${digests[i]}`)).arrayBuffer();
    }
    await sleep(300);
    await r.up();
    const got = await r.waitFor((ev) => digests.every((d) => ev.some((e) => e.target.digest === d)), 10_000, 'the ten pushes');
    assert.deepEqual(got.map((e) => e.target.digest), digests);
    const sizes = r.requests.filter((q) => q.status === 200).map((q) => q.events.length);
    assert.ok(sizes.every((n) => n >= 1 && n <= 4), `batch sizes ${sizes.join(',')}`);
    assert.ok(sizes.length <= 4, `10 events in ${sizes.length} requests`);
    for (const q of r.requests.filter((x) => x.status === 200)) assert.ok(verifySignature(KEY, q.body, q.headers[SIGNATURE_HEADER.toLowerCase()] as string));
  });
});
