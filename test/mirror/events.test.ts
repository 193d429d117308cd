// Pull notifications for mirrored content: a pull that the mirror answers from the upstream (a cold
// manifest, a blob streamed while it is stored, a HEAD answered from the upstream's answer) sends
// the same single `pull` event as a pull of cached content, as distribution's proxy does. The
// upstream is another berth behind a throttling proxy, so that cold blob GETs are streamed to the
// client while they are fetched (the tee path) rather than served from storage afterwards.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/index.ts';
import { buildMirrors } from '../../src/config/mirrors.ts';
import type { RegistryEvent } from '../../src/events/types.ts';
import { pushImage, startTestRegistry, OCI_MANIFEST, type TestRegistry } from '../http/harness.ts';
import { startReceiver, type Receiver } from '../events/receiver.ts';
import { startCountingHttpProxy, type CountingHttpProxy } from './harness.ts';

type Image = Awaited<ReturnType<typeof pushImage>>;

const brief = (e: RegistryEvent) => `${e.action} ${e.target.repository} ${e.target.tag ?? '-'} ${e.target.digest}`;

describe('mirror: pull notifications', { timeout: 120_000 }, () => {
  let upstream: TestRegistry;
  let proxy: CountingHttpProxy;
  let mirror: TestRegistry;
  let receiver: Receiver;
  let app: Image;
  let tool: Image;

  before(async () => {
    upstream = await startTestRegistry();
    app = await pushImage(upstream.url, 'lib/app', 'v1', { layerBytes: 512 * 1024 });
    tool = await pushImage(upstream.url, 'lib/tool', 'v1', { layerBytes: 64 * 1024 });
    proxy = await startCountingHttpProxy(new URL(upstream.url).host);
    // 512 KiB at 2 MiB/s: the cold layer GET streams for about a quarter of a second.
    proxy.bytesPerSecond = 2 * 1024 * 1024;
    receiver = await startReceiver();
    const loaded = loadConfig({ text: `version: 0.1\nnotifications:\n  endpoints: [{name: hook, url: ${receiver.url}, backoff: 100ms}]\n`, env: {} }).config;
    mirror = await startTestRegistry((c) => {
      c.notifications = loaded.notifications;
      c.berth.mirrors = buildMirrors([{ prefix: 'up/', remoteurl: `http://${proxy.host}`, ttl: 60_000 }], []);
    });
  });

  after(async () => {
    await mirror?.stop();
    await proxy?.close();
    await upstream?.stop();
    await receiver?.stop();
  });

  /** A manifest by tag, then its config and layer, as a client pulls an image. */
  async function pull(name: string, img: Image): Promise<void> {
    let res = await fetch(`${mirror.url}/v2/${name}/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
    assert.equal(res.status, 200, `manifest of ${name}`);
    assert.equal(Buffer.from(await res.arrayBuffer()).toString(), img.bytes.toString());
    for (const digest of [img.config, img.layer]) {
      res = await fetch(`${mirror.url}/v2/${name}/blobs/${digest}`);
      assert.equal(res.status, 200, `blob ${digest} of ${name}`);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      await res.arrayBuffer();
    }
  }

  /** The pull events of `name` once `count` have arrived, and after a pause in which no more may come. */
  async function pullsOf(name: string, count: number): Promise<string[]> {
    const mine = (ev: RegistryEvent[]) => ev.filter((e) => e.action === 'pull' && e.target.repository === name);
    await mirror.services.events!.flush();
    await receiver.waitFor((ev) => mine(ev).length >= count, 20_000, `${count} pull events of ${name}`);
    await new Promise((r) => setTimeout(r, 500));
    await mirror.services.events!.flush();
    await new Promise((r) => setTimeout(r, 300));
    return mine(receiver.accepted()).map(brief);
  }

  it('a cold pull and a warm pull each send one pull event per manifest and blob', async () => {
    await pull('up/lib/app', app);
    assert.equal(proxy.count('GET', `/v2/lib/app/blobs/${app.layer}`), 1, 'the cold layer came from the upstream');
    const once = [`pull up/lib/app v1 ${app.digest}`, `pull up/lib/app - ${app.config}`, `pull up/lib/app - ${app.layer}`];
    assert.deepEqual(await pullsOf('up/lib/app', 3), once);

    await pull('up/lib/app', app);
    assert.equal(proxy.count('GET', `/v2/lib/app/blobs/${app.layer}`), 1, 'the warm layer came from storage');
    assert.deepEqual(await pullsOf('up/lib/app', 6), [...once, ...once]);

    // The events of mirrored content are ordinary pull events: the blob target as for any blob.
    const layerEvent = receiver.accepted().find((e) => e.action === 'pull' && e.target.digest === app.layer)!;
    assert.deepEqual(
      { mediaType: layerEvent.target.mediaType, size: layerEvent.target.size, length: layerEvent.target.length, url: layerEvent.target.url },
      { mediaType: 'application/octet-stream', size: 512 * 1024, length: 512 * 1024, url: `${mirror.url}/v2/up/lib/app/blobs/${app.layer}` },
    );
    assert.equal(layerEvent.request.method, 'GET');
  });

  it('a HEAD of a blob not cached yet (answered from the upstream) sends one pull event, as a cached HEAD does', async () => {
    let res = await fetch(`${mirror.url}/v2/up/lib/tool/manifests/v1`, { method: 'HEAD', headers: { Accept: OCI_MANIFEST } });
    assert.equal(res.status, 200);
    res = await fetch(`${mirror.url}/v2/up/lib/tool/blobs/${tool.layer}`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(64 * 1024));
    assert.equal(proxy.count('GET', `/v2/lib/tool/blobs/${tool.layer}`), 0, 'a HEAD stores nothing');
    assert.deepEqual(await pullsOf('up/lib/tool', 2), [`pull up/lib/tool v1 ${tool.digest}`, `pull up/lib/tool - ${tool.layer}`]);
    const head = receiver.accepted().find((e) => e.action === 'pull' && e.target.digest === tool.layer)!;
    assert.equal(head.request.method, 'HEAD');
    assert.equal(head.target.size, 64 * 1024);
  });
});
