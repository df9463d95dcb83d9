// wasi:io/poll over the network core's readiness sources. A pollable is either a readiness source
// (socket, stream, HTTP future, DNS lookup: anything with ready/subscribe/unsubscribe) or a
// deadline on the monotonic clock. poll() and block() are the only places a 0.2 guest waits.
import { monotonicNow, waitAny } from '../../../net/pollable.ts';
import type { Pollable as ReadySource } from '../../../net/types.ts';

export type { ReadySource };

/** A source that is always ready (files, sinks that never wait). */
export const ALWAYS_READY: ReadySource = Object.freeze({ ready: true, subscribe() {}, unsubscribe() {} });

/** Longest single timer wait (ns): Node's timers overflow past 2^31-1 ms and fire at once. A
 *  deadline further away is waited for in steps. */
const MAX_TIMER_NS = 1_000_000_000n * 1_000_000n; // 10^9 ms, ~11.6 days

/** `deadline`, or the furthest a single timer can wait from now if it is further than that. */
export function reachable(deadline: bigint): bigint {
  if (deadline < 0n) return deadline;
  const limit = monotonicNow() + MAX_TIMER_NS;
  return deadline < limit ? deadline : limit;
}

export class Pollable {
  readonly source: ReadySource | null;
  /** Monotonic ns, or -1n when this pollable has no deadline. */
  readonly deadline: bigint;

  constructor(source: ReadySource | null, deadline = -1n) {
    this.source = source;
    this.deadline = deadline;
  }

  static of(source: ReadySource): Pollable {
    return new Pollable(source);
  }

  static until(deadlineNs: bigint): Pollable {
    return new Pollable(null, deadlineNs);
  }

  /** A pollable that is ready at once (e.g. a stream that can never block). */
  static ready(): Pollable {
    return new Pollable(ALWAYS_READY);
  }

  ready(): boolean {
    if (this.source) return this.source.ready;
    // Written so that a handle jco made up (it does not check borrowed handles, and hands us an
    // empty object of this class for a bad one) is simply ready, instead of never.
    return !(this.deadline > monotonicNow());
  }

  /** Waits until ready: at once, without suspending the guest, when it is ready already. Must never
   *  throw: jco would leave the guest's call hanging. */
  block(): void | Promise<void> {
    if (!this.ready()) return this.#blockUntilReady();
  }

  async #blockUntilReady(): Promise<void> {
    while (!this.ready()) await waitAny(this.source ? [this.source] : [], reachable(this.deadline));
  }

  [Symbol.dispose](): void {}
}

/** wasi:io/poll.poll: the indexes of the ready pollables, waiting until there is at least one.
 *  Returns synchronously when something is ready already. Never throws (see block()). */
export function poll(list: readonly Pollable[]): Uint32Array | Promise<Uint32Array> {
  const ready = scan(list);
  if (ready.length > 0) return ready;
  return (async () => {
    let earliest = -1n;
    const sources: ReadySource[] = [];
    for (const p of list) {
      if (p.source) sources.push(p.source);
      if (p.deadline >= 0n && (earliest < 0n || p.deadline < earliest)) earliest = p.deadline;
    }
    if (sources.length === 0 && earliest < 0n) return new Uint32Array(0); // nothing could ever wake us
    for (;;) {
      await waitAny(sources, reachable(earliest));
      const r = scan(list);
      if (r.length > 0) return r;
    }
  })();
}

function scan(list: readonly Pollable[]): Uint32Array {
  let n = 0;
  const out = new Uint32Array(list.length);
  for (let i = 0; i < list.length; i++) if (list[i]!.ready()) out[n++] = i;
  return out.subarray(0, n);
}
