// Notifications side by side: the same push/pull/mount/delete conversation (with htpasswd
// credentials) is held with Debian's docker-registry (CNCF Distribution 2.8.2) and with berth, each
// posting to its own receiver with the same notifications: section, and the events are compared
// field by field, in order: action, every target field (media type, size, length, digest,
// repository, fromRepository, tag, references, the URL's path), request method, user agent,
// actor, and the JSON key order. Values that differ by nature are compared in form: event ids
// (UUIDs, distinct), request ids (UUIDs, shared by the events of one request), timestamps,
// addresses and ports. The differences berth makes on purpose are listed in NOTIFICATION_DIFFERENCES
// and must appear in docs/differences-from-distribution.md ("Notifications").
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hasCommand, repoRoot, startBerth, startDistribution, tempDir, type RunningServer } from '../helpers/processes.ts';
import { htpasswdText } from '../auth/harness.ts';
import { startReceiver, type Receiver } from './receiver.ts';
import type { RegistryEvent } from '../../src/events/types.ts';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const AGENT = 'events-differential/1';
const AUTH = `Basic ${Buffer.from('alice:alice-Pa55word').toString('base64')}`;

/** Deliberate differences, each named in docs/differences-from-distribution.md's Notifications section. */
export const NOTIFICATION_DIFFERENCES = [
  { key: 'timestamp', reason: 'milliseconds' },
  { key: 'User-Agent', reason: 'berth-notifications' },
  { key: 'Berth-Signature', reason: 'signingkey' },
  { key: 'delete by tag', reason: 'DELETE /v2/NAME/manifests/TAG' },
  { key: 'mount without from', reason: 'fromRepository' },
  { key: 'single-POST upload', reason: 'POST ?digest=' },
  { key: 'retention, GC and console', reason: 'actor' },
  { key: 'repository delete', reason: 'RepoDeleted' },
];

interface Content {
  config: Buffer;
  layer: Buffer;
  manifest: Buffer;
  index: Buffer;
  extra: Buffer;
}

function makeContent(): Content {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(8).toString('hex') }));
  const layer = randomBytes(3000);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length, annotations: { 'org.example.layer': 'one' } }],
    }),
  );
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest: sha256(manifest), size: manifest.length, platform: { architecture: 'amd64', os: 'linux' }, annotations: { 'org.example.k': 'v' } }],
    }),
  );
  return { config, layer, manifest, index, extra: randomBytes(500) };
}

async function call(base: string, method: string, path: string, init: { body?: Buffer; headers?: Record<string, string> } = {}): Promise<Response> {
  const res = await fetch(new URL(path, base), {
    method,
    headers: { Authorization: AUTH, 'User-Agent': AGENT, ...init.headers },
    ...(init.body && { body: new Uint8Array(init.body) }),
    redirect: 'manual',
  });
  await res.arrayBuffer();
  return res;
}

function withDigest(location: string, digest: string): string {
  const u = new URL(location, 'http://x');
  u.searchParams.set('digest', digest);
  return `${u.pathname}${u.search}`;
}

/** The conversation both registries hold; every step's status must be what the comment says on both. */
async function common(base: string, c: Content): Promise<void> {
  const expect = (res: Response, status: number, what: string) => assert.equal(res.status, status, `${base} ${what}`);
  // Monolithic upload (POST, PUT with the body).
  let res = await call(base, 'POST', '/v2/diff/img/blobs/uploads/');
  expect(res, 202, 'start config upload');
  res = await call(base, 'PUT', withDigest(res.headers.get('location')!, sha256(c.config)), { body: c.config, headers: { 'Content-Type': 'application/octet-stream' } });
  expect(res, 201, 'config upload');
  // Chunked upload (PATCH, then PUT without a body).
  res = await call(base, 'POST', '/v2/diff/img/blobs/uploads/');
  expect(res, 202, 'start layer upload');
  res = await call(base, 'PATCH', res.headers.get('location')!, { body: c.layer, headers: { 'Content-Type': 'application/octet-stream' } });
  expect(res, 202, 'layer chunk');
  res = await call(base, 'PUT', withDigest(res.headers.get('location')!, sha256(c.layer)));
  expect(res, 201, 'layer upload');
  res = await call(base, 'PUT', '/v2/diff/img/manifests/v1', { body: c.manifest, headers: { 'Content-Type': OCI_MANIFEST } });
  expect(res, 201, 'manifest by tag');
  res = await call(base, 'PUT', '/v2/diff/img/manifests/multi', { body: c.index, headers: { 'Content-Type': OCI_INDEX } });
  expect(res, 201, 'index by tag');
  res = await call(base, 'PUT', `/v2/diff/img/manifests/${sha256(c.manifest)}`, { body: c.manifest, headers: { 'Content-Type': OCI_MANIFEST } });
  expect(res, 201, 'manifest by digest');
  // Pulls.
  res = await call(base, 'HEAD', '/v2/diff/img/manifests/v1', { headers: { Accept: OCI_MANIFEST } });
  expect(res, 200, 'HEAD manifest by tag');
  res = await call(base, 'GET', '/v2/diff/img/manifests/v1', { headers: { Accept: OCI_MANIFEST } });
  expect(res, 200, 'GET manifest by tag');
  res = await call(base, 'GET', `/v2/diff/img/manifests/${sha256(c.manifest)}`, { headers: { Accept: OCI_MANIFEST } });
  expect(res, 200, 'GET manifest by digest');
  res = await call(base, 'GET', '/v2/diff/img/manifests/multi', { headers: { Accept: OCI_INDEX } });
  expect(res, 200, 'GET index');
  res = await call(base, 'GET', '/v2/diff/img/manifests/v1', { headers: { Accept: OCI_MANIFEST, 'If-None-Match': `"${sha256(c.manifest)}"` } });
  expect(res, 304, 'conditional GET (no event)');
  res = await call(base, 'GET', '/v2/diff/img/manifests/nope', { headers: { Accept: OCI_MANIFEST } });
  expect(res, 404, 'unknown tag (no event)');
  res = await call(base, 'HEAD', `/v2/diff/img/blobs/${sha256(c.layer)}`);
  expect(res, 200, 'HEAD blob');
  res = await call(base, 'GET', `/v2/diff/img/blobs/${sha256(c.layer)}`);
  expect(res, 200, 'GET blob');
  res = await call(base, 'GET', `/v2/diff/img/blobs/${sha256(c.layer)}`, { headers: { Range: 'bytes=0-99' } });
  expect(res, 206, 'GET blob range');
  res = await call(base, 'GET', `/v2/diff/img/blobs/${sha256(c.extra)}`);
  expect(res, 404, 'unknown blob (no event)');
  // Mount, blob delete, deletes by digest (the index, then the manifest with its tag).
  res = await call(base, 'POST', `/v2/diff/other/blobs/uploads/?mount=${sha256(c.layer)}&from=diff/img`);
  expect(res, 201, 'mount');
  res = await call(base, 'DELETE', `/v2/diff/other/blobs/${sha256(c.layer)}`);
  expect(res, 202, 'blob delete');
  res = await call(base, 'DELETE', `/v2/diff/img/manifests/${sha256(c.index)}`);
  expect(res, 202, 'index delete');
  res = await call(base, 'DELETE', `/v2/diff/img/manifests/${sha256(c.manifest)}`);
  expect(res, 202, 'manifest delete');
}

/** berth only (distribution answers these without an event): DELETE by tag, mount without from, single-POST upload. */
async function berthOnly(base: string, c: Content): Promise<void> {
  let res = await call(base, 'PUT', '/v2/diff/img/manifests/again', { body: c.manifest, headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(res.status, 201);
  res = await call(base, 'DELETE', '/v2/diff/img/manifests/again');
  assert.equal(res.status, 202);
  res = await call(base, 'POST', `/v2/diff/third/blobs/uploads/?mount=${sha256(c.layer)}`);
  assert.equal(res.status, 201);
  res = await call(base, 'POST', `/v2/diff/third/blobs/uploads/?digest=${sha256(c.extra)}`, { body: c.extra, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(res.status, 201);
}

/** An event with what differs by nature replaced by its form; the rest as sent. */
function normalise(e: RegistryEvent, server: RunningServer): unknown {
  const port = (s: string | undefined) => s?.replace(/:\d+$/, ':<port>');
  return {
    keys: Object.keys(e),
    targetKeys: Object.keys(e.target),
    requestKeys: Object.keys(e.request),
    action: e.action,
    target: { ...e.target, ...(e.target.url !== undefined && { url: e.target.url.replace(server.url, '<base>') }) },
    request: { ...e.request, id: UUID.test(e.request.id ?? '') ? '<uuid>' : e.request.id, addr: port(e.request.addr), host: e.request.host?.replace(server.host, '<host>') },
    actor: e.actor,
    source: { addr: port(e.source.addr), instanceID: UUID.test(e.source.instanceID ?? '') ? '<uuid>' : e.source.instanceID },
  };
}

/** Waits until no event has arrived for quietMs. */
async function settled(r: Receiver, min: number, quietMs = 1500, timeoutMs = 30_000): Promise<RegistryEvent[]> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let since = Date.now();
  for (;;) {
    const n = r.accepted().length;
    if (n !== last) {
      last = n;
      since = Date.now();
    }
    if (n >= min && Date.now() - since >= quietMs) return r.accepted();
    if (Date.now() > deadline) throw new Error(`receiver: ${n} events after ${timeoutMs} ms (wanted ${min})`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe('notifications: berth against Distribution 2.8', { skip: !hasCommand('docker-registry') && 'docker-registry (Debian package docker-registry) is not installed', timeout: 180_000 }, () => {
  let work: { path: string; cleanup(): Promise<void> };
  let dist: RunningServer;
  let berth: RunningServer;
  let rd: Receiver;
  let rb: Receiver;
  const content = makeContent();

  before(async () => {
    work = await tempDir('events-diff');
    await writeFile(join(work.path, 'htpasswd'), await htpasswdText({ alice: 'alice-Pa55word' }));
    [rd, rb] = await Promise.all([startReceiver(), startReceiver()]);
    const yaml = (url: string) =>
      [
        `auth: {htpasswd: {realm: diff, path: ${join(work.path, 'htpasswd')}}}`,
        'notifications:',
        '  events: {includereferences: true}',
        `  endpoints: [{name: hook, url: ${url}, timeout: 2s, threshold: 3, backoff: 1s, headers: {X-Hook: [h]}}]`,
      ].join('\n');
    dist = await startDistribution({ configYaml: yaml(rd.url) });
    berth = await startBerth({ configYaml: yaml(rb.url) });
  });

  after(async () => {
    await Promise.allSettled([dist?.stop(), berth?.stop()]);
    await Promise.allSettled([rd?.stop(), rb?.stop(), work?.cleanup()]);
  });

  it('sends the same events, field by field and in order, for the same conversation', async () => {
    await common(dist.url, content);
    await common(berth.url, content);
    const d = await settled(rd, 1);
    const b = await settled(rb, d.length);
    assert.equal(d.length, 18, `distribution sent ${d.length} events (docs/differences-from-distribution.md says 18)`);
    const nd = d.map((e) => normalise(e, dist));
    const nb = b.map((e) => normalise(e, berth));
    for (let i = 0; i < Math.max(nd.length, nb.length); i++) assert.deepEqual(nb[i], nd[i], `event ${i}: ${d[i]?.action} ${JSON.stringify(d[i]?.target)}`);
    assert.equal(nb.length, nd.length);

    for (const [events, server] of [[d, dist], [b, berth]] as const) {
      assert.equal(new Set(events.map((e) => e.id)).size, events.length, `${server.url}: distinct event ids`);
      for (const e of events) {
        assert.match(e.id, UUID);
        assert.match(e.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
        assert.ok(Math.abs(Date.parse(e.timestamp) - Date.now()) < 120_000);
      }
      // The manifest delete and its tag's delete share the request's id.
      const last2 = events.slice(-2);
      assert.equal(last2[0]!.request.id, last2[1]!.request.id);
      assert.notEqual(events[0]!.request.id, events[1]!.request.id);
    }
    // berth's timestamps: RFC 3339 in milliseconds (distribution: nanoseconds), in order.
    for (const e of b) assert.match(e.timestamp, /\.\d{3}Z$/);
    // The POSTs: one event each, the events media type, the configured header.
    for (const [r, ua] of [[rd, /^Go-http-client\//], [rb, /^berth-notifications$/]] as const) {
      for (const q of r.requests) {
        assert.equal(q.events.length, 1);
        assert.equal(q.headers['content-type'], 'application/vnd.docker.distribution.events.v1+json');
        assert.equal(q.headers['x-hook'], 'h');
        assert.match(String(q.headers['user-agent']), ua);
      }
    }
  });

  it('berth alone sends events where distribution refuses or ignores the request (documented differences)', async () => {
    const before = rb.accepted().length;
    await berthOnly(berth.url, content);
    const got = (await settled(rb, before + 4)).slice(before);
    assert.deepEqual(
      got.map((e) => [e.action, e.target.repository, e.target.tag ?? e.target.digest, e.target.fromRepository ?? null]),
      [
        ['push', 'diff/img', 'again', null],
        ['delete', 'diff/img', 'again', null],
        ['mount', 'diff/third', sha256(content.layer), 'diff/img'],
        ['push', 'diff/third', sha256(content.extra), null],
      ],
    );
    // Distribution: DELETE by tag is 400, a mount without from and POST ?digest= open an upload (202).
    let res = await call(dist.url, 'DELETE', '/v2/diff/img/manifests/v1');
    assert.equal(res.status, 400);
    res = await call(dist.url, 'POST', `/v2/diff/third/blobs/uploads/?mount=${sha256(content.layer)}`);
    assert.equal(res.status, 202);
    res = await call(dist.url, 'POST', `/v2/diff/third/blobs/uploads/?digest=${sha256(content.extra)}`, { body: content.extra, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(res.status, 202);
  });

  it('docs/differences-from-distribution.md names every deliberate difference in notifications', async () => {
    const doc = await readFile(join(repoRoot, 'docs', 'differences-from-distribution.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Notifications'));
    assert.ok(doc.includes('## Notifications'), 'a Notifications section');
    for (const d of NOTIFICATION_DIFFERENCES) {
      const row = section.split('\n').find((l) => l.startsWith(`| ${d.key} |`));
      assert.ok(row, `a row for ${d.key}`);
      assert.ok(row.includes(d.reason), `the row for ${d.key} mentions ${d.reason}`);
    }
  });
});
