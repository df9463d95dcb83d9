// The handler time limit of `wasinet serve` (src/serve/deadlines.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Deadlines } from '../../src/serve/deadlines.ts';

describe('serve deadlines', () => {
  it('a call that returns in time is false; one that fails passes its error on', async () => {
    const d = new Deadlines(1000);
    try {
      assert.equal(await d.race(Promise.resolve()), false);
      await assert.rejects(d.race(Promise.reject(new Error('trap'))), /trap/);
    } finally {
      d.close();
    }
  });

  it('a call still running at the limit is given up on, each at its own deadline', async () => {
    const d = new Deadlines(200);
    try {
      const t0 = performance.now();
      const never = new Promise<void>(() => {});
      const first = d.race(never).then((v) => [v, performance.now() - t0] as const);
      await new Promise((r) => setTimeout(r, 120));
      let settled = false;
      const second = d.race(never).then((v) => { settled = true; return [v, performance.now() - t0] as const; });
      const [v1, ms1] = await first;
      assert.equal(v1, true);
      assert.ok(ms1 >= 190 && ms1 < 600, `first expired after ${ms1} ms`);
      assert.equal(settled, false, 'the later call has time left');
      const [v2, ms2] = await second;
      assert.equal(v2, true);
      assert.ok(ms2 >= 310 && ms2 < 900, `second expired after ${ms2} ms`);
    } finally {
      d.close();
    }
  });

  it('a call that fails after it was given up on is not an unhandled rejection', async () => {
    const d = new Deadlines(20);
    let fail!: (e: Error) => void;
    const late = new Promise<void>((_, reject) => { fail = reject; });
    try {
      assert.equal(await d.race(late), true);
      fail(new Error('too late'));
      await new Promise((r) => setTimeout(r, 20)); // an unhandled rejection would fail the test run
    } finally {
      d.close();
    }
  });
});
