// args, environ, clocks, random, proc_exit and friends (src/wasi/p1/basics.ts).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { E, WILD, harness, type Harness } from './p1-fs-harness.ts';
import { ProcExit } from '../../src/wasi/p1/errors.ts';

describe('p1 basics', () => {
  let h: Harness;
  const args = ['prog', 'a b', 'ünïcödé', ''];
  const env = { HOME: '/home/guest', EMPTY: '', 'WITH=EQ': 'x=y' };
  before(async () => { h = await harness({ args, env }); });

  const readList = async (sizes: string, get: string): Promise<string[]> => {
    const count = h.alloc(4);
    const size = h.alloc(4);
    assert.equal(await h.call(sizes, count, size), E.SUCCESS);
    const n = h.u32(count);
    const ptrs = h.alloc(n * 4);
    const buf = h.alloc(h.u32(size));
    assert.equal(await h.call(get, ptrs, buf), E.SUCCESS);
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const p = h.u32(ptrs + i * 4);
      const end = h.bytes.indexOf(0, p);
      out.push(h.str(p, end - p));
    }
    assert.equal(out.reduce((k, s) => k + Buffer.byteLength(s) + 1, 0), h.u32(size), 'sizes count UTF-8 bytes and NULs');
    return out;
  };

  it('args_sizes_get / args_get', async () => {
    assert.deepEqual(await readList('args_sizes_get', 'args_get'), args);
  });

  it('environ_sizes_get / environ_get', async () => {
    assert.deepEqual(await readList('environ_sizes_get', 'environ_get'), ['HOME=/home/guest', 'EMPTY=', 'WITH=EQ=x=y']);
  });

  it('args/environ with pointers outside memory are EFAULT, and write nothing', async () => {
    assert.equal(await h.call('args_sizes_get', WILD, h.alloc(4)), E.FAULT);
    const buf = h.alloc(64);
    h.bytes.fill(0xaa, buf, buf + 64);
    assert.equal(await h.call('args_get', WILD, buf), E.FAULT);
    assert.equal(h.u8(buf), 0xaa);
    assert.equal(await h.call('environ_get', h.alloc(16), 0x1fff0), E.FAULT, 'strings would run past the end');
  });

  it('clock_time_get: realtime near Date.now(), monotonic never goes back', async () => {
    const out = h.alloc(8);
    assert.equal(await h.call('clock_time_get', 0, 1n, out), E.SUCCESS);
    const real = h.u64(out);
    const now = BigInt(Date.now()) * 1_000_000n;
    assert.ok(real > now - 1_000_000_000n && real < now + 1_000_000_000n, `realtime ${real} vs ${now}`);
    let last = 0n;
    for (let i = 0; i < 100; i++) {
      assert.equal(await h.call('clock_time_get', 1, 0n, out), E.SUCCESS);
      assert.ok(h.u64(out) >= last);
      last = h.u64(out);
    }
    for (const id of [2, 3]) assert.equal(await h.call('clock_time_get', id, 0n, out), E.SUCCESS);
    assert.ok(h.u64(out) > 0n, 'cpu time has been spent');
    assert.equal(await h.call('clock_time_get', 4, 0n, out), E.INVAL);
    assert.equal(await h.call('clock_time_get', -1, 0n, out), E.INVAL);
    assert.equal(await h.call('clock_time_get', 1, 0n, WILD), E.FAULT);
  });

  it('clock_res_get', async () => {
    const out = h.alloc(8);
    for (const id of [0, 1, 2, 3]) {
      assert.equal(await h.call('clock_res_get', id, out), E.SUCCESS);
      assert.ok(h.u64(out) > 0n && h.u64(out) <= 1_000_000n);
    }
    assert.equal(await h.call('clock_res_get', 9, out), E.INVAL);
  });

  it('random_get fills big buffers (past the 64 KiB getRandomValues limit)', async () => {
    const n = 100_000;
    const buf = h.alloc(n);
    assert.equal(await h.call('random_get', buf, n), E.SUCCESS);
    const tail = h.bytes.subarray(buf + 70_000, buf + n);
    assert.ok(tail.some((b) => b !== 0), 'the second chunk is filled too');
    assert.ok(new Set(h.bytes.subarray(buf, buf + 4096)).size > 200);
    assert.equal(await h.call('random_get', buf, 0), E.SUCCESS);
    assert.equal(await h.call('random_get', WILD, 16), E.FAULT);
  });

  it('sched_yield succeeds, proc_raise is ENOSYS', async () => {
    assert.equal(await h.call('sched_yield'), E.SUCCESS);
    assert.equal(await h.call('proc_raise', 2), E.NOSYS);
  });

  it('proc_exit unwinds with the exit code', async () => {
    await assert.rejects(h.call('proc_exit', 42), (e: unknown) => e instanceof ProcExit && e.code === 42);
    await assert.rejects(h.call('proc_exit', -1), (e: unknown) => e instanceof ProcExit && e.code === 0xffffffff);
  });
});
