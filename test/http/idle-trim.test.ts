// The idle trimmer (src/http/idle-trim.ts): memory goes back once requests stop, never while one is
// in flight, and a trickle of requests does not pay for it more than once per interval.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { IdleTrimmer, trimMemory } from '../../src/http/idle-trim.ts';
import { nativeAddon } from '../../src/native/addon.ts';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const response = () => new EventEmitter() as unknown as ServerResponse;

describe('IdleTrimmer', () => {
  it('trims once the last request has been closed for the idle time, not before', async () => {
    let trims = 0;
    const t = new IdleTrimmer(() => trims++, 40, 0);
    const a = response();
    const b = response();
    t.track(a);
    t.track(b);
    a.emit('close');
    await sleep(80);
    assert.equal(trims, 0, 'a request is still in flight');
    b.emit('close');
    await sleep(20);
    assert.equal(trims, 0, 'not idle long enough yet');
    await sleep(60);
    assert.equal(trims, 1);
    await sleep(80);
    assert.equal(trims, 1, 'nothing happened since: no second trim');
    t.stop();
  });

  it('a new request cancels a pending trim', async () => {
    let trims = 0;
    const t = new IdleTrimmer(() => trims++, 40, 0);
    const a = response();
    t.track(a);
    a.emit('close');
    await sleep(20);
    const b = response();
    t.track(b);
    await sleep(60);
    assert.equal(trims, 0);
    b.emit('close');
    await sleep(70);
    assert.equal(trims, 1);
    t.stop();
  });

  it('trims at most once per interval, and still after the last burst', async () => {
    let trims = 0;
    const t = new IdleTrimmer(() => trims++, 10, 150);
    const burst = () => {
      const r = response();
      t.track(r);
      r.emit('close');
    };
    burst();
    await sleep(40);
    assert.equal(trims, 1);
    burst();
    await sleep(40);
    assert.equal(trims, 1, 'within the interval of the last trim');
    await sleep(150);
    assert.equal(trims, 2, 'the burst is trimmed once the interval has passed');
    t.stop();
  });

  it('kick() trims after start-up without a request; stop() cancels', async () => {
    let trims = 0;
    const t = new IdleTrimmer(() => trims++, 20, 0);
    t.kick();
    await sleep(50);
    assert.equal(trims, 1);
    t.kick();
    t.stop();
    await sleep(50);
    assert.equal(trims, 1);
  });

  it('trimMemory runs the garbage collector and malloc_trim without failing', { skip: !nativeAddon()?.trimMalloc }, () => {
    assert.equal(typeof nativeAddon()!.trimMalloc!(), 'boolean');
    trimMemory();
  });
});
