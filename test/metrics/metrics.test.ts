// Prometheus metrics on the debug listener (http.debug.addr, http.debug.prometheus): berth started
// as a process from a config file, a push, a pull, a refused login, an open upload, a garbage
// collection; then the scrape is parsed and checked for distribution's names, labels and buckets,
// berth's own figures, and that no digest, repository, tag or user name appears anywhere in it.
// Where Debian's docker-registry is installed, the same requests against it show the same
// families with the same label names.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, hasCommand, startBerth, startDistribution, tempDir, type RunningServer } from '../helpers/processes.ts';
import { htpasswdText } from '../auth/harness.ts';
import { pushBlob, sha256 } from '../http/harness.ts';
import { parseExposition, value, type Family } from './exposition.ts';

const USER = 'metrics-user';
const PASSWORD = 'correct horse battery staple';
const REPO = 'team-a/metrics-app';
const DURATION_BUCKETS = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '25', '60', '+Inf'];

/** A bucket bound as a number (Go writes 1.048576e+06, prom-client 1048576; both mean the same). */
const le = (v: string) => (v === '+Inf' ? Infinity : Number(v));
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** fetch with Basic credentials (the registry:2 model: an authenticated user may do everything). */
function authed(base: string, user = USER, password = PASSWORD) {
  return (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, headers: { Authorization: basic(user, password), ...(init.headers as Record<string, string>) } });
}

async function scrape(debugUrl: string, path = '/metrics'): Promise<{ text: string; families: Map<string, Family> }> {
  const res = await fetch(`${debugUrl}${path}`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, families: parseExposition(text) };
}

/** The label names of a family's samples (without a histogram's `le`), each distinct set once. */
function labelSets(f: Family | undefined): string[] {
  return [...new Set((f?.samples ?? []).map((s) => Object.keys(s.labels).filter((k) => k !== 'le').sort().join(',')))];
}

/** Runs `work` with every fetch() carrying `auth` (the HTTP harness' push helpers take no credentials). */
async function withAuth<T>(auth: string | undefined, work: () => Promise<T>): Promise<T> {
  const realFetch = globalThis.fetch;
  if (auth) globalThis.fetch = ((input: string | URL | Request, init: RequestInit = {}) => realFetch(input, { ...init, headers: { ...(init.headers as Record<string, string>), Authorization: auth } })) as typeof fetch;
  try {
    return await work();
  } finally {
    globalThis.fetch = realFetch;
  }
}

/** POST then PUT ?digest= (distribution 2.8 answers a POST ?digest= with 202, not with the blob). */
async function uploadBlob(base: string, name: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const started = await fetch(`${base}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  assert.equal(started.status, 202);
  const location = new URL(started.headers.get('location')!, base);
  location.searchParams.set('digest', digest);
  const done = await fetch(location, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body: new Uint8Array(data) });
  assert.equal(done.status, 201, await done.clone().text());
  return digest;
}

/** A config, a layer and an OCI manifest, uploaded as every client does. */
async function pushTwoStep(base: string, name: string, tag: string): Promise<{ digest: string; layer: string }> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layerData = Buffer.alloc(4096, 1);
  const configDigest = await uploadBlob(base, name, config);
  const layer = await uploadBlob(base, name, layerData);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer, size: layerData.length }],
    }),
  );
  const put = await fetch(`${base}/v2/${name}/manifests/${tag}`, { method: 'PUT', headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: new Uint8Array(manifest) });
  assert.equal(put.status, 201, await put.clone().text());
  return { digest: sha256(manifest), layer };
}

/** Every request kind the tests make, so both registries' scrapes can be compared. */
function pushPull(base: string, auth: string | undefined): Promise<{ digest: string; layer: string }> {
  return withAuth(auth, async () => {
    const image = await pushTwoStep(base, REPO, 'v1');
    assert.equal((await fetch(`${base}/v2/`)).status, 200);
    const manifest = await fetch(`${base}/v2/${REPO}/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(manifest.status, 200);
    await manifest.arrayBuffer();
    const blob = await fetch(`${base}/v2/${REPO}/blobs/${image.layer}`);
    assert.equal(blob.status, 200);
    assert.equal((await blob.arrayBuffer()).byteLength, 4096);
    assert.equal((await fetch(`${base}/v2/${REPO}/manifests/nope`)).status, 404);
    assert.equal((await fetch(`${base}/v2/${REPO}/tags/list`)).status, 200);
    return { digest: image.digest, layer: image.layer };
  });
}

describe('metrics on the debug listener', () => {
  let server: RunningServer;
  let debugUrl: string;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let pushed: { digest: string; layer: string };
  let garbage: string;

  before(async () => {
    work = await tempDir('berth-metrics');
    const htpasswd = join(work.path, 'htpasswd');
    await writeFile(htpasswd, await htpasswdText({ [USER]: PASSWORD }));
    const debugPort = await freePort();
    debugUrl = `http://127.0.0.1:${debugPort}`;
    server = await startBerth({
      configYaml: [
        'http:',
        `  debug: {addr: "127.0.0.1:${debugPort}", prometheus: {enabled: true, path: /metrics}}`,
        `auth: {htpasswd: {realm: metrics, path: ${htpasswd}}}`,
        'health: {storagedriver: {enabled: true, interval: 200ms, threshold: 1}}',
        'berth:',
        '  quotas: [{repositories: ["team-a/**"], limit: 1GiB}]',
        '  auth: {bruteforce: {maxfailures: 100}}',
      ].join('\n'),
    });
    const f = authed(server.url);
    pushed = await pushPull(server.url, basic(USER, PASSWORD));
    // A refused password, and a request without credentials (the normal challenge: not a failure).
    assert.equal((await fetch(`${server.url}/v2/`, { headers: { Authorization: basic(USER, 'wrong password') } })).status, 401);
    assert.equal((await fetch(`${server.url}/v2/`)).status, 401);
    // A blob whose only link is removed, for the collector to reclaim.
    garbage = await withAuth(basic(USER, PASSWORD), () => pushBlob(server.url, 'team-a/scratch', Buffer.alloc(3000, 7)));
    assert.equal((await f(`/v2/team-a/scratch/blobs/${garbage}`, { method: 'DELETE' })).status, 202);
    const gc = await f('/api/v1/gc', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ delay: '0s' }) });
    assert.equal(gc.status, 200, await gc.clone().text());
    await gc.arrayBuffer();
  });

  after(async () => {
    await server?.stop();
    await work?.cleanup();
  });

  it("has distribution's HTTP families with its label names and duration buckets", async () => {
    const { families } = await scrape(debugUrl);
    const expect: [string, string, string[]][] = [
      ['registry_http_requests_total', 'counter', ['code,handler,method']],
      ['registry_http_request_duration_seconds', 'histogram', ['handler,method']],
      ['registry_http_request_size_bytes', 'histogram', ['handler']],
      ['registry_http_response_size_bytes', 'histogram', ['handler']],
      ['registry_http_in_flight_requests', 'gauge', ['handler']],
      ['registry_storage_action_seconds', 'histogram', ['action,driver']],
    ];
    for (const [name, type, labels] of expect) {
      assert.equal(families.get(name)?.type, type, `${name} is a ${type}`);
      assert.deepEqual(labelSets(families.get(name)), labels, `${name} labels`);
    }
    const buckets = families
      .get('registry_http_request_duration_seconds')!
      .samples.filter((s) => s.name.endsWith('_bucket') && s.labels.handler === 'manifest' && s.labels.method === 'get')
      .map((s) => s.labels.le);
    assert.deepEqual(buckets, DURATION_BUCKETS);
    const sizes = families.get('registry_http_request_size_bytes')!.samples.filter((s) => s.name.endsWith('_bucket') && s.labels.handler === 'manifest').map((s) => le(s.labels.le!));
    assert.deepEqual(sizes, [...Array.from({ length: 22 }, (_, i) => 1024 * 2 ** i), Infinity]);
  });

  it('counts the push and the pull by route kind, method and status', async () => {
    const { families } = await scrape(debugUrl);
    const count = (handler: string, method: string, code: string) => value(families, 'registry_http_requests_total', { code, handler, method }) ?? 0;
    assert.ok(count('manifest', 'put', '201') >= 1, 'manifest PUT');
    assert.ok(count('manifest', 'get', '200') >= 1, 'manifest GET');
    assert.ok(count('manifest', 'get', '404') >= 1, 'manifest GET of an unknown tag');
    assert.ok(count('blob', 'get', '200') >= 1, 'blob GET');
    assert.ok(count('blob_upload', 'post', '202') >= 2, 'uploads started');
    assert.ok(count('blob_upload_chunk', 'put', '201') >= 2, 'uploads completed');
    assert.ok(count('blob_upload', 'post', '201') >= 1, 'a monolithic upload');
    assert.ok(count('base', 'get', '401') >= 2, 'GET /v2/ without and with wrong credentials');
    assert.ok(count('tags', 'get', '200') >= 1, 'tags list');
    assert.ok(count('api', 'post', '200') >= 1, 'the admin API');
    assert.ok((value(families, 'registry_http_request_duration_seconds_count', { handler: 'manifest', method: 'get' }) ?? 0) >= 1);
    // The blob's 4096 bytes went out (response size is the Content-Length).
    assert.ok((value(families, 'registry_http_response_size_bytes_sum', { handler: 'blob' }) ?? 0) >= 4096);
    // Nothing is in flight between requests, and every handler has its gauge from the start.
    for (const h of ['base', 'blob', 'blob_upload', 'blob_upload_chunk', 'catalog', 'manifest', 'tags']) {
      assert.equal(value(families, 'registry_http_in_flight_requests', { handler: h }), 0, h);
    }
    // Storage: the filesystem driver's calls, under distribution's action names.
    assert.ok((value(families, 'registry_storage_action_seconds_count', { driver: 'filesystem', action: 'PutContent' }) ?? 0) >= 1, 'manifest bytes written');
    assert.ok((value(families, 'registry_storage_action_seconds_count', { driver: 'filesystem', action: 'Move' }) ?? 0) >= 2, 'uploads committed');
    assert.ok((value(families, 'registry_storage_action_seconds_count', { driver: 'filesystem', action: 'Reader' }) ?? 0) >= 1, 'blob read');
  });

  it("has berth's figures: auth failures, GC, quota usage, uploads in progress, manifest cache", async () => {
    let { families } = await scrape(debugUrl);
    assert.equal(value(families, 'berth_auth_failures_total', { reason: 'password' }), 1, 'one wrong password (a missing one is no failure)');
    assert.equal(value(families, 'berth_gc_runs_total', { status: 'succeeded', dry_run: 'false' }), 1);
    assert.ok((value(families, 'berth_gc_reclaimed_bytes_total') ?? 0) >= 3000, 'the unlinked blob was reclaimed');
    assert.ok((value(families, 'berth_gc_deleted_blobs_total') ?? 0) >= 1);
    assert.ok((value(families, 'berth_gc_last_success_timestamp_seconds') ?? 0) > Date.now() / 1000 - 600);
    assert.equal(value(families, 'berth_quota_limit_bytes', { namespace: 'team-a/**' }), 1024 ** 3);
    assert.ok((value(families, 'berth_quota_used_bytes', { namespace: 'team-a/**' }) ?? 0) >= 4096, 'the pushed image counts');
    assert.ok((value(families, 'berth_manifest_cache_lookups_total', { result: 'hit' }) ?? 0) >= 1, 'the pull found the pushed manifest cached');
    assert.equal(value(families, 'berth_uploads_in_progress'), 0);

    // An upload started and left open is in progress until it is cancelled.
    const f = authed(server.url);
    const started = await f('/v2/team-a/open/blobs/uploads/', { method: 'POST' });
    assert.equal(started.status, 202);
    const location = started.headers.get('location')!;
    ({ families } = await scrape(debugUrl));
    assert.equal(value(families, 'berth_uploads_in_progress'), 1);
    assert.equal((await fetch(new URL(location, server.url), { method: 'DELETE', headers: { Authorization: basic(USER, PASSWORD) } })).status, 204);
    ({ families } = await scrape(debugUrl));
    assert.equal(value(families, 'berth_uploads_in_progress'), 0);
  });

  it('registers the notification, outbox and proxy families (for their subsystems) with bounded labels', async () => {
    const { families } = await scrape(debugUrl);
    for (const name of ['registry_notifications_events_total', 'registry_notifications_status_total', 'registry_notifications_pending_total', 'berth_notifications_dead_letters']) {
      assert.ok(families.has(name), name);
    }
    // The outbox's write queue (src/events/outbox.ts): nothing waits in memory, nothing was refused or lost.
    // test/events/outbox.test.ts and test/events/delivery.test.ts see these move.
    assert.equal(families.get('berth_notifications_unwritten_events')?.type, 'gauge');
    assert.equal(value(families, 'berth_notifications_unwritten_events'), 0);
    assert.equal(value(families, 'berth_notifications_outbox_write_failures_total'), 0);
    for (const reason of ['queue_full', 'shutdown']) assert.equal(value(families, 'berth_notifications_dropped_events_total', { reason }), 0, reason);
    for (const name of ['requests', 'hits', 'misses', 'pulled_bytes', 'pushed_bytes']) {
      assert.equal(value(families, `registry_proxy_${name}_total`, { type: 'blob' }), 0, name);
      assert.equal(value(families, `registry_proxy_${name}_total`, { type: 'manifest' }), 0, name);
    }
    assert.ok(families.has('registry_storage_cache_requests_total') && families.has('registry_storage_cache_total'));
    assert.ok(families.has('process_cpu_seconds_total') && families.has('process_resident_memory_bytes'));
  });

  it('never shows a digest, repository, tag, user name or password', async () => {
    const { text, families } = await scrape(debugUrl);
    const secrets = [pushed.digest, pushed.layer, garbage, sha256(''), 'sha256:', REPO, 'metrics-app', 'team-a/scratch', 'scratch', USER, PASSWORD, 'wrong password'];
    for (const f of families.values()) {
      for (const s of f.samples) {
        for (const [k, v] of Object.entries(s.labels)) {
          if (k === 'namespace' && f.name.startsWith('berth_quota_')) continue; // the configured quota's globs
          for (const secret of secrets) assert.ok(!v.includes(secret), `${s.name}{${k}="${v}"} contains ${secret}`);
        }
      }
    }
    for (const secret of [pushed.digest, pushed.layer, garbage, REPO, USER, PASSWORD]) assert.ok(!text.includes(secret), `the exposition contains ${secret}`);
    const handlers = new Set(families.get('registry_http_requests_total')!.samples.map((s) => s.labels.handler));
    for (const h of handlers) assert.match(h!, /^(base|blob|blob_upload|blob_upload_chunk|catalog|manifest|tags|referrers|search|v1_ping|token|console|api|notary|signatures|health|other)$/);
  });

  it('serves /debug/health as distribution, and nothing else; the registry port has no /metrics', async () => {
    const health = await fetch(`${debugUrl}/debug/health`);
    assert.equal(health.status, 200);
    assert.match(health.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await health.json(), {});
    assert.equal((await fetch(`${debugUrl}/debug/pprof/`)).status, 404);
    assert.equal((await fetch(`${debugUrl}/v2/`)).status, 404);
    const onMain = await fetch(`${server.url}/metrics`);
    await onMain.arrayBuffer();
    assert.equal(onMain.status, 404);
  });
});

describe('the same families as distribution (Debian docker-registry)', { skip: !hasCommand('docker-registry') && 'docker-registry not installed' }, () => {
  it('shows registry_http_* and registry_storage_action_seconds with the same label names', async () => {
    const scrapes: Map<string, Family>[] = [];
    for (const start of [startDistribution, startBerth]) {
      const port = await freePort();
      const server = await start({ configYaml: `http: {debug: {addr: "127.0.0.1:${port}", prometheus: {enabled: true, path: /metrics}}}` });
      try {
        await pushPull(server.url, undefined);
        scrapes.push((await scrape(`http://127.0.0.1:${port}`)).families);
      } finally {
        await server.stop();
      }
    }
    const [dist, berth] = scrapes as [Map<string, Family>, Map<string, Family>];
    for (const name of ['registry_http_requests_total', 'registry_http_request_duration_seconds', 'registry_http_request_size_bytes', 'registry_http_response_size_bytes', 'registry_http_in_flight_requests', 'registry_storage_action_seconds']) {
      assert.equal(berth.get(name)?.type, dist.get(name)?.type, `${name}: type`);
      assert.deepEqual(labelSets(berth.get(name)), labelSets(dist.get(name)), `${name}: label names`);
    }
    // The same series for the same requests (handler, method, code).
    const series = (m: Map<string, Family>) =>
      m
        .get('registry_http_requests_total')!
        .samples.map((s) => `${s.labels.handler} ${s.labels.method} ${s.labels.code}`)
        .sort();
    assert.deepEqual(series(berth), series(dist));
    const buckets = (m: Map<string, Family>) => m.get('registry_http_request_duration_seconds')!.samples.filter((s) => s.name.endsWith('_bucket') && s.labels.handler === 'base').map((s) => le(s.labels.le!));
    assert.deepEqual(buckets(berth), buckets(dist));
    // distribution 2.8's cache counter; berth has it (at 0 without the Redis cache) beside distribution 3's.
    assert.ok(berth.has('registry_storage_cache_total'));
  });
});
