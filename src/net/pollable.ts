// Readiness signalling shared by every socket. The hot path is "data arrived → wake the one waiting
// guest", so notify() costs nothing when nobody waits, and a wait on something already ready
// returns a shared settled promise instead of allocating one.
import type { Pollable, Waker } from './types.ts';

export const RESOLVED: Promise<void> = Promise.resolve();

export class Readiness implements Pollable {
  readonly #isReady: () => boolean;
  #wakers: Waker[] = [];
  /** One promise shared by all waitReady() callers until the next notify(). */
  #pending: Promise<void> | null = null;
  #resolve: (() => void) | null = null;

  constructor(isReady: () => boolean) {
    this.#isReady = isReady;
  }

  get ready(): boolean {
    return this.#isReady();
  }

  subscribe(waker: Waker): void {
    if (!this.#wakers.includes(waker)) this.#wakers.push(waker);
  }

  unsubscribe(waker: Waker): void {
    const i = this.#wakers.indexOf(waker);
    if (i >= 0) this.#wakers.splice(i, 1);
  }

  /** Resolves at the next notify(), or at once if already ready. */
  wait(): Promise<void> {
    if (this.#isReady()) return RESOLVED;
    if (!this.#pending) this.#pending = new Promise<void>((r) => { this.#resolve = r; });
    return this.#pending;
  }

  /** Something changed that may have made this ready: every subscriber and waiter is woken once.
   *  The list is swapped out first, so a waker that re-subscribes waits for the next change. */
  notify(): void {
    const resolve = this.#resolve;
    if (resolve) {
      this.#resolve = null;
      this.#pending = null;
      resolve();
    }
    const wakers = this.#wakers;
    if (wakers.length === 0) return;
    this.#wakers = [];
    for (const w of wakers) {
      // a faulty waker must not cost the others their wake-up; its error still surfaces
      try { w(); } catch (e) { queueMicrotask(() => { throw e; }); }
    }
  }
}

export const monotonicNow = (): bigint => process.hrtime.bigint();

/** Resolves at the first change of any of `sources`, or when the monotonic clock reaches `deadline`
 *  (ns; -1n for none). Shared by every ABI's poll. With several sources it resumes after the current
 *  event-loop turn's other I/O callbacks, so one poll sees every source that became ready together
 *  instead of one per stack switch. Never rejects. */
export function waitAny(sources: readonly Pollable[], deadline: bigint): Promise<void> {
  return new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let woken = false;
    const wake = (): void => {
      if (woken) return;
      woken = true;
      if (timer) clearTimeout(timer);
      for (const p of sources) p.unsubscribe(wake);
      if (sources.length > 1) setImmediate(resolve);
      else resolve();
    };
    for (const p of sources) p.subscribe(wake);
    if (deadline >= 0n) {
      const ms = Number((deadline - monotonicNow() + 999_999n) / 1_000_000n);
      timer = setTimeout(wake, Math.max(0, ms));
    }
  });
}
