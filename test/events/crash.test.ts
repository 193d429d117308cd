// A berth process killed with SIGKILL while its endpoint is down loses no event: after a restart on
// the same storage every event (pushes, pulls, a delete) reaches the endpoint, in order, with the
// ids it had before the crash. The same again with the endpoint answering slowly, so the kill hits
// deliveries in flight: those come again after the restart (at least once, same id).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startBerth, tempDir, type RunningServer } from '../helpers/processes.ts';
import { pushImage, OCI_MANIFEST } from '../http/harness.ts';
import { startReceiver, type Receiver } from './receiver.ts';
import type { RegistryEvent } from '../../src/events/types.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** berth on a fixed port (the launcher's readiness probe and url are for a port of its own choosing). */
async function berthOn(port: number, configYaml: string, root: string): Promise<RunningServer & { base: string }> {
  const base = `http://127.0.0.1:${port}`;
  const ready = async () => {
    try {
      const res = await fetch(`${base}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  };
  const s = await startBerth({ configYaml, root, ready });
  return { ...s, base };
}

describe('notifications survive kill -9', { timeout: 240_000 }, () => {
  let r: Receiver;
  let dir: { path: string; cleanup(): Promise<void> };
  let berth: (RunningServer & { base: string }) | undefined;
  let configYaml: string;
  let port: number;

  before(async () => {
    r = await startReceiver();
    dir = await tempDir('events-crash');
    port = await freePort();
    configYaml = [
      // The same address after the restart: the lease holder is host:port, so the new process takes its endpoint back at once.
      `http: {addr: 127.0.0.1:${port}}`,
      'notifications:',
      `  endpoints: [{name: hook, url: ${r.url}, timeout: 5s, threshold: 2, backoff: 100ms}]`,
      'berth:',
      '  notifications: {maxbackoff: 300ms}',
    ].join('\n');
  });

  after(async () => {
    await berth?.stop('SIGKILL');
    await r?.stop();
    await dir?.cleanup();
  });

  async function endpointState(url: string): Promise<{ backlog: number }> {
    const res: Response = await fetch(`${url}/api/v1/notifications/endpoints`);
    const { endpoints } = (await res.json()) as { endpoints: { name: string; backlog: number }[] };
    return endpoints.find((e) => e.name === 'hook')!;
  }

  it('events queued while the endpoint is down are all delivered after SIGKILL and a restart', async () => {
    await r.down();
    berth = await berthOn(port, configYaml, dir.path);
    const one = await pushImage(berth.base, 'crash/app', 'v1');
    const two = await pushImage(berth.base, 'crash/app', 'v2');
    for (let i = 0; i < 3; i++) {
      const res: Response = await fetch(`${berth.base}/v2/crash/app/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    const del = await fetch(`${berth.base}/v2/crash/app/manifests/${two.digest}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    // 6 pushes, 3 pulls (written within the outbox's flush interval), 2 deletes.
    const expected = 11;
    const deadline = Date.now() + 10_000;
    while ((await endpointState(berth.base)).backlog < expected && Date.now() < deadline) await sleep(100);
    assert.equal((await endpointState(berth.base)).backlog, expected);

    await berth.stop('SIGKILL');
    berth = undefined;
    await r.up();
    berth = await berthOn(port, configYaml, dir.path);
    const got = await r.waitFor((ev) => new Set(ev.map((e) => e.id)).size >= expected, 30_000, 'every event from before the crash');
    const firsts: RegistryEvent[] = [];
    for (const e of got) if (!firsts.some((f) => f.id === e.id)) firsts.push(e);
    assert.deepEqual(
      firsts.map((e) => [e.action, e.target.tag, e.target.digest].filter(Boolean).join(' ')),
      [
        `push ${one.config}`,
        `push ${one.layer}`,
        `push v1 ${one.digest}`,
        `push ${two.config}`,
        `push ${two.layer}`,
        `push v2 ${two.digest}`,
        `pull v1 ${one.digest}`,
        `pull v1 ${one.digest}`,
        `pull v1 ${one.digest}`,
        `delete ${two.digest}`,
        'delete v2',
      ],
    );
    assert.equal(got.length, expected, 'nothing was delivered twice: the endpoint never answered before the crash');
    await sleep(300);
    assert.equal((await endpointState(berth.base)).backlog, 0);
  });

  it('a pull the client saw has its event even when kill -9 comes right after the answer', async () => {
    await r.down();
    berth = await berthOn(port, configYaml, dir.path);
    const image = await pushImage(berth.base, 'crash/pulled', 'v1');
    const seen = new Set(r.accepted().map((e) => e.id));
    // The answers arrive, then the process dies at once: no flush interval to wait out.
    const manifest = await fetch(`${berth.base}/v2/crash/pulled/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
    assert.equal(manifest.status, 200);
    await manifest.arrayBuffer();
    const blob = await fetch(`${berth.base}/v2/crash/pulled/blobs/${image.layer}`);
    assert.equal(blob.status, 200);
    await blob.arrayBuffer();
    await berth.stop('SIGKILL');
    berth = undefined;
    await r.up();
    berth = await berthOn(port, configYaml, dir.path);
    const pulls = (events: RegistryEvent[]) => events.filter((e) => !seen.has(e.id) && e.action === 'pull' && e.target.repository === 'crash/pulled');
    const got = pulls(await r.waitFor((ev) => new Set(pulls(ev).map((e) => e.id)).size >= 2, 30_000, 'both pull events from before the crash'));
    assert.deepEqual([...new Set(got.map((e) => e.target.tag ?? e.target.digest))].sort(), [image.layer, 'v1'].sort());
  });

  it('deliveries in flight at the kill are sent again after the restart, with the same ids', async () => {
    // Every request waits 2 s for its answer: the kill lands while one is in flight.
    const slow = await startReceiver();
    const slowPort = await freePort();
    const yaml = [
      `http: {addr: 127.0.0.1:${slowPort}}`,
      'notifications:',
      `  endpoints: [{name: slow, url: ${slow.url}, timeout: 10s}]`,
    ].join('\n');
    const root = await tempDir('events-crash-slow');
    const { createServer } = await import('node:http');
    // A proxy in front of the receiver that holds each request for 2 s.
    const held: number[] = [];
    const proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        held.push(Date.now());
        setTimeout(() => {
          void fetch(slow.url, { method: 'POST', headers: { 'Content-Type': String(req.headers['content-type']) }, body: Buffer.concat(chunks) }).then(
            () => res.end(),
            () => res.destroy(),
          );
        }, 2000);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}/hook`;
    let b: (RunningServer & { base: string }) | undefined;
    try {
      b = await berthOn(slowPort, yaml.replace(slow.url, proxyUrl), root.path);
      const img = await pushImage(b.base, 'slow/app', 'v1');
      // Wait until the first delivery is being held, then kill.
      const deadline = Date.now() + 10_000;
      while (held.length === 0 && Date.now() < deadline) await sleep(20);
      assert.ok(held.length > 0, 'a delivery is in flight');
      await b.stop('SIGKILL');
      // The held request still reaches the receiver (the proxy forwards it), like a receiver that processed it before the crash.
      await sleep(2500);
      const before = slow.accepted().map((e) => e.id);
      assert.equal(before.length, 1);
      b = await berthOn(slowPort, yaml, root.path);
      const got = await slow.waitFor((ev) => [img.config, img.layer, img.digest].every((d) => ev.some((e) => e.target.digest === d)), 30_000, 'all three pushes');
      const ids = got.map((e) => e.id);
      assert.equal(ids.filter((id) => id === before[0]).length, 2, 'the event in flight at the kill came again, with its id');
      assert.equal(new Set(ids).size, 3);
    } finally {
      await b?.stop('SIGKILL');
      proxy.closeAllConnections();
      proxy.close();
      await slow.stop();
      await root.cleanup();
    }
  });
});
