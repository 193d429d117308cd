import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pacer } from '../../src/lifecycle/pacer.ts';

describe('Pacer (the background collector works at most its share of the time)', () => {
  it('pauses (1 - share) / share times the step, bounded by maxPauseMs', () => {
    assert.equal(Math.round(new Pacer(0.05).pauseFor(4)), 76);
    assert.equal(new Pacer(0.5).pauseFor(10), 10);
    assert.equal(new Pacer(0.01, 500).pauseFor(100), 500);
    assert.equal(new Pacer(1).pauseFor(1000), 0);
  });

  it('refuses a share outside (0, 1]', () => {
    for (const bad of [0, -0.1, 1.01, Number.NaN]) assert.throws(() => new Pacer(bad), RangeError);
  });

  it('spreads busy steps so that they take at most the share of the elapsed time', async () => {
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    const measure = async (share: number) => {
      const pacer = new Pacer(share);
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) {
        busy(10);
        await pacer.pause();
      }
      return performance.now() - t0;
    };
    // 50 ms of steps: at share 0.25 the run lasts at least 200 ms; unpaced it is about 50 ms.
    assert.ok((await measure(0.25)) >= 195);
    assert.ok((await measure(1)) < 195);
  });
});
