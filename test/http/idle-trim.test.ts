// The idle trimmer (src/http/idle-trim.ts): memory goes back once requests stop, never while one is
// in flight, and a trickle of requests does not pay for it more than once per interval.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { IdleTrimmer, trimMemory } from '../../src/http/idle-trim.ts';
import { nativeAddon } from '../../src/native/addon.ts';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { startBerth } from '../helpers/processes.ts';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** A trimmer that counts its trims, and requests to track on it (close() ends one). */
function counting(idleMs: number, minIntervalMs: number) {
  const f = {
    trims: 0,
    trimmer: new IdleTrimmer(() => f.trims++, idleMs, minIntervalMs),
    request() {
      const res = new EventEmitter() as unknown as ServerResponse;
      f.trimmer.track(res);
      return { close: () => void res.emit('close') };
    },
  };
  return f;
}

describe('IdleTrimmer', () => {
  it('trims once the last request has been closed for the idle time, not before', async () => {
    const f = counting(40, 0);
    const a = f.request();
    const b = f.request();
    a.close();
    await sleep(80);
    assert.equal(f.trims, 0, 'a request is still in flight');
    b.close();
    await sleep(20);
    assert.equal(f.trims, 0, 'not idle long enough yet');
    await sleep(60);
    assert.equal(f.trims, 1);
    await sleep(80);
    assert.equal(f.trims, 1, 'nothing happened since: no second trim');
    f.trimmer.stop();
  });

  it('a new request cancels a pending trim', async () => {
    const f = counting(40, 0);
    f.request().close();
    await sleep(20);
    const b = f.request();
    await sleep(60);
    assert.equal(f.trims, 0);
    b.close();
    await sleep(70);
    assert.equal(f.trims, 1);
    f.trimmer.stop();
  });

  it('trims at most once per interval, and still after the last burst', async () => {
    const f = counting(10, 150);
    f.request().close();
    await sleep(40);
    assert.equal(f.trims, 1);
    f.request().close();
    await sleep(40);
    assert.equal(f.trims, 1, 'within the interval of the last trim');
    await sleep(150);
    assert.equal(f.trims, 2, 'the burst is trimmed once the interval has passed');
    f.trimmer.stop();
  });

  it('kick() trims after start-up without a request; stop() cancels for good', async () => {
    const f = counting(20, 0);
    f.trimmer.kick();
    await sleep(50);
    assert.equal(f.trims, 1);
    const draining = f.request();
    f.trimmer.kick();
    f.trimmer.stop();
    draining.close();
    await sleep(50);
    assert.equal(f.trims, 1, 'nothing after stop(), not even for a response closing while the server drains');
  });

  it('trimMemory runs the garbage collector and malloc_trim without failing', { skip: !nativeAddon()?.trimMalloc }, () => {
    assert.equal(typeof nativeAddon()!.trimMalloc!(), 'boolean');
    trimMemory();
  });

  it('a quiet server releases the file pages start-up touched, and serves on with them paged back in', { skip: !nativeAddon()?.releaseFilePages }, async () => {
    const server = await startBerth({ compiled: true });
    try {
      const fileMiB = () => Number(readFileSync(`/proc/${server.pid}/status`, 'utf8').match(/^RssFile:\s+(\d+)/m)![1]) / 1024;
      const hwm = () => Number(readFileSync(`/proc/${server.pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+)/m)![1]) / 1024;
      // Start-up maps some 40 MiB of the node binary, ICU and libraries; the trim after start-up
      // (kick(), one idle second) leaves what the idle server still has mapped.
      let file = fileMiB();
      for (let i = 0; i < 40 && file > 20; i++) {
        await sleep(100);
        file = fileMiB();
      }
      assert.ok(file <= 20, `file-backed RSS ${file.toFixed(1)} MiB once idle (high-water mark of the whole process ${hwm().toFixed(0)} MiB)`);
      const body = Buffer.from('paged back in');
      const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      const put = await fetch(`${server.url}/v2/trim/blob/blobs/uploads/?digest=${digest}`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(put.status, 201);
      const got = await fetch(`${server.url}/v2/trim/blob/blobs/${digest}`);
      assert.equal(await got.text(), 'paged back in');
    } finally {
      await server.stop();
    }
  });
});
