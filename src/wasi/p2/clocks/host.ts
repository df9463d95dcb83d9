// wasi:clocks: monotonic-clock (process.hrtime, ns) and wall-clock.
import { monotonicNow } from '../../../net/pollable.ts';
import { realtimeNs } from '../../../fs/times.ts';
import type { HostModule } from '../context.ts';
import { Pollable } from '../io/poll.ts';

export interface Datetime {
  seconds: bigint;
  nanoseconds: number;
}

/** ns since the epoch as a wall-clock datetime (undefined before the epoch: seconds are unsigned). */
export function toDatetime(ns: bigint): Datetime | undefined {
  if (ns < 0n) return undefined;
  return { seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) };
}

const U64_MAX = (1n << 64n) - 1n;

export const clocksHost: HostModule = () => ({
  'wasi:clocks/monotonic-clock': {
    now: (): bigint => monotonicNow(),
    resolution: (): bigint => 1n,
    subscribeInstant: (when: bigint): Pollable => Pollable.until(when),
    subscribeDuration: (when: bigint): Pollable => {
      const deadline = monotonicNow() + when;
      return Pollable.until(deadline > U64_MAX ? U64_MAX : deadline);
    },
  },
  'wasi:clocks/wall-clock': {
    now: (): Datetime => toDatetime(realtimeNs()) ?? { seconds: 0n, nanoseconds: 0 },
    // realtimeNs() steps in ns but is only kept within 1 ms of the system clock; as for p1, 1 µs.
    resolution: (): Datetime => ({ seconds: 0n, nanoseconds: 1000 }),
  },
});
