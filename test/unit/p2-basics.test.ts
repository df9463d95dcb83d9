// wasi:clocks and wasi:random as jco calls them, pollables with far deadlines, and the component
// plumbing around them: versioned import names, the import check, traps.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { P2Context } from '../../src/wasi/p2/context.ts';
import { clocksHost } from '../../src/wasi/p2/clocks/host.ts';
import { randomHost } from '../../src/wasi/p2/random/host.ts';
import { Pollable, poll, reachable } from '../../src/wasi/p2/io/poll.ts';
import { componentImportNames, splitVersion } from '../../src/wasi/p2/binary.ts';
import { asTrap, checkImports, isComponentError, missingImports } from '../../src/wasi/p2/instance.ts';
import type { LoadedComponent } from '../../src/wasi/p2/component.ts';
import { buildComponentWat } from '../support/components.ts';
import type { Network } from '../../src/net/types.ts';

type Fn = (...a: unknown[]) => unknown;
const ctx = () => new P2Context({ args: [], env: {}, preopens: [], network: {} as Network });

describe('wasi:clocks', () => {
  const h = clocksHost(ctx()) as Record<string, Record<string, Fn>>;
  const mono = h['wasi:clocks/monotonic-clock']!;
  const wall = h['wasi:clocks/wall-clock']!;

  it('monotonic now is in ns and moves forward', async () => {
    const a = mono.now!() as bigint;
    await new Promise((r) => setTimeout(r, 20));
    const b = mono.now!() as bigint;
    assert.equal(typeof a, 'bigint');
    assert.ok(b - a >= 15_000_000n && b - a < 5_000_000_000n, `${b - a} ns`);
    assert.equal(mono.resolution!(), 1n);
  });

  it('subscribe-duration blocks for its duration; subscribe-instant is ready once reached', async () => {
    const p = mono.subscribeDuration!(30_000_000n) as Pollable;
    assert.equal(p.ready(), false);
    const t0 = performance.now();
    await p.block();
    assert.ok(performance.now() - t0 >= 29, `${performance.now() - t0} ms`);
    assert.equal(p.ready(), true);
    assert.equal((mono.subscribeDuration!(0n) as Pollable).ready(), true);
    assert.equal((mono.subscribeInstant!(0n) as Pollable).ready(), true);
    const later = mono.subscribeInstant!((mono.now!() as bigint) + 10_000_000_000n) as Pollable;
    assert.equal(later.ready(), false);
  });

  it('a deadline beyond what a timer can hold is waited for in steps a timer can hold', async () => {
    // Node fires timers longer than 2^31-1 ms at once (with a TimeoutOverflowWarning): a wait on a
    // far deadline would spin instead of sleeping.
    const now = mono.now!() as bigint;
    const step = reachable((1n << 64n) - 1n);
    assert.ok(step > now && step - now < 2_147_483_647n * 1_000_000n, `${step - now} ns`);
    assert.equal(reachable(now + 1_000_000n), now + 1_000_000n);
    assert.equal(reachable(-1n), -1n);
    const far = mono.subscribeDuration!((1n << 64n) - 1n) as Pollable;
    const soon = mono.subscribeDuration!(20_000_000n) as Pollable;
    assert.deepEqual([...(await poll([far, soon]))], [1]);
    assert.equal(far.ready(), false);
  });

  it('wall-clock now is the time of day, as seconds and nanoseconds', () => {
    const now = wall.now!() as { seconds: bigint; nanoseconds: number };
    const ms = Number(now.seconds) * 1000 + now.nanoseconds / 1e6;
    assert.ok(Math.abs(ms - Date.now()) < 1000, `${ms} vs ${Date.now()}`);
    assert.ok(now.nanoseconds >= 0 && now.nanoseconds < 1e9);
    assert.deepEqual(wall.resolution!(), { seconds: 0n, nanoseconds: 1000 });
  });
});

describe('wasi:random', () => {
  const h = randomHost(ctx()) as Record<string, Record<string, Fn>>;

  it('hands out as many bytes as asked, different each time', () => {
    for (const [iface, fn] of [['wasi:random/random', 'getRandomBytes'], ['wasi:random/insecure', 'getInsecureRandomBytes']] as const) {
      const a = h[iface]![fn]!(32n) as Uint8Array;
      const b = h[iface]![fn]!(32n) as Uint8Array;
      assert.ok(a instanceof Uint8Array);
      assert.equal(a.length, 32);
      assert.notDeepEqual(a, b);
      assert.equal((h[iface]![fn]!(0n) as Uint8Array).length, 0);
      assert.equal((h[iface]![fn]!(100_000n) as Uint8Array).length, 100_000);
    }
  });

  it('u64s are bigints below 2^64', () => {
    const a = h['wasi:random/random']!.getRandomU64!() as bigint;
    const b = h['wasi:random/insecure']!.getInsecureRandomU64!() as bigint;
    for (const v of [a, b]) assert.ok(typeof v === 'bigint' && v >= 0n && v < 1n << 64n);
    assert.notEqual(a, h['wasi:random/random']!.getRandomU64!());
  });

  it('the insecure seed is the same at every call of one instance, and differs between instances', () => {
    const seed = h['wasi:random/insecure-seed']!.insecureSeed!() as [bigint, bigint];
    assert.deepEqual(h['wasi:random/insecure-seed']!.insecureSeed!(), seed);
    const other = (randomHost(ctx()) as Record<string, Record<string, Fn>>)['wasi:random/insecure-seed']!.insecureSeed!();
    assert.notDeepEqual(other, seed);
  });

  it('refuses absurd sizes by trapping (an Error), not by allocating them', () => {
    assert.throws(() => h['wasi:random/random']!.getRandomBytes!(1n << 40n), RangeError);
  });
});

describe('component imports and traps', () => {
  const fake = (names: string[] | null, imports: string[]): LoadedComponent => ({
    imports, importNames: names, exports: [], instantiate: async () => ({}),
  });
  const host = { 'wasi:io/poll': {}, 'wasi:cli/environment': {} };

  it('reads the versioned import names out of a component binary', async () => {
    const bytes = fs.readFileSync(await buildComponentWat('p2/unknown-import.wat'));
    assert.deepEqual(componentImportNames(bytes), ['example:nope/thing@1.2.3', 'wasi:random/random@0.3.0']);
    const cr = fs.readFileSync(await buildComponentWat('p2/clocks-random.wat'));
    const names = componentImportNames(cr)!;
    assert.ok(names.includes('wasi:io/poll@0.2.0') && names.includes('wasi:clocks/monotonic-clock@0.2.3'), names.join());
    assert.equal(componentImportNames(new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, 10, 99])), null);
    assert.deepEqual(splitVersion('wasi:cli/run@0.2.3'), { name: 'wasi:cli/run', version: '0.2.3' });
  });

  it('accepts any 0.2.x, refuses unknown interfaces and other WASI versions, by their full names', () => {
    assert.deepEqual(missingImports(fake(['wasi:io/poll@0.2.0', 'wasi:cli/environment@0.2.12'], []), host), []);
    assert.deepEqual(
      missingImports(fake(['wasi:io/poll@0.2.0', 'wasi:io/poll@0.3.0', 'example:x/y@1.0.0'], []), host),
      ['wasi:io/poll@0.3.0', 'example:x/y@1.0.0'],
    );
    // without readable names, the unversioned list from jco is checked
    assert.deepEqual(missingImports(fake(null, ['wasi:io/poll', 'example:x/y']), host), ['example:x/y']);
    assert.throws(() => checkImports(fake(['example:x/y@1.0.0'], []), host), /does not provide: example:x\/y@1\.0\.0$/);
    assert.throws(() => checkImports(fake(['wasi:io/poll@0.3.0'], []), host), /wasi:io\/poll@0\.3\.0 \(wasinet implements WASI 0\.2\.x components\)/);
  });

  it('whatever escapes a running component is reported as a trap', () => {
    const t = asTrap(new TypeError('invalid variant discriminant for expected'));
    assert.ok(t instanceof WebAssembly.RuntimeError);
    assert.match((t as Error).message, /TypeError: invalid variant discriminant/);
    assert.ok((t as Error).cause instanceof TypeError);
    const rt = new WebAssembly.RuntimeError('unreachable');
    assert.equal(asTrap(rt), rt);
    class ComponentError extends Error {
      constructor(v: unknown) {
        super('x');
        Object.defineProperty(this, 'payload', { value: v });
      }
    }
    assert.equal(isComponentError(new ComponentError(undefined)), true);
    assert.equal(isComponentError(new Error('x')), false);
  });
});
