// The wall clock, and file times with nanosecond precision, for every ABI.
import type { BigIntStats } from 'node:fs';

// CLOCK_REALTIME: Date.now() only has millisecond resolution, so the wall clock is extrapolated
// with the monotonic clock from an anchor, and re-anchored whenever the estimate leaves the
// millisecond Date.now() reports (clock adjustments, drift). The result never strays more than 1 ms
// from the system's wall clock, with nanosecond steps in between.
let anchorWall = 0n;
let anchorMono = 0n;

/** Nanoseconds since the Unix epoch. */
export function realtimeNs(): bigint {
  const mono = process.hrtime.bigint();
  const wall = BigInt(Date.now()) * 1_000_000n;
  const est = anchorWall + (mono - anchorMono);
  if (est >= wall && est < wall + 1_000_000n) return est;
  anchorWall = wall;
  anchorMono = mono;
  return wall;
}

// Node can only set file times as a double number of seconds (fs.utimes/futimes/lutimes), which at
// today's dates is ~240 ns coarse, and has no "leave this one alone" (UTIME_OMIT). So a time the
// guest sets is written to the host as closely as a double allows, and the exact value is kept
// here, keyed by (dev, ino), together with the time the host actually recorded. As long as the
// host still shows that recorded time, stats report the guest's exact value; once the file's time
// changes by other means, the entry is stale and dropped. A time the guest leaves alone is
// re-written with its exact current value (from a previous overlay or the host), so it reads back
// unchanged too.

interface TimeOverlay {
  hostAtim: bigint;
  hostMtim: bigint;
  atim: bigint;
  mtim: bigint;
}

const MAX_OVERLAYS = 4096;
const overlays = new Map<string, TimeOverlay>();

const keyOf = (st: BigIntStats) => `${st.dev}:${st.ino}`;

/** The (atim, mtim) in ns the guest should see for `st`. */
export function guestTimes(st: BigIntStats): { atim: bigint; mtim: bigint } {
  const key = keyOf(st);
  const o = overlays.get(key);
  if (!o) return { atim: st.atimeNs, mtim: st.mtimeNs };
  const aOk = o.hostAtim === st.atimeNs;
  const mOk = o.hostMtim === st.mtimeNs;
  if (!aOk && !mOk) overlays.delete(key);
  return { atim: aOk ? o.atim : st.atimeNs, mtim: mOk ? o.mtim : st.mtimeNs };
}

/** What to do with one of a file's times. */
export type TimeChange = { kind: 'keep' } | { kind: 'now' } | { kind: 'set'; ns: bigint };

export const KEEP: TimeChange = Object.freeze({ kind: 'keep' });

function toHostTime(ns: bigint): number | Date {
  // Node turns negative numbers into "now"; a Date keeps them (at millisecond precision).
  if (ns < 0n) return new Date(Number(ns / 1_000_000n));
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
}

/** Sets the times of a file: `stat` reads its current state, `utimes` writes both times. */
export function setTimes(
  stat: () => BigIntStats,
  utimes: (atime: number | Date, mtime: number | Date) => void,
  atimChange: TimeChange, mtimChange: TimeChange,
): void {
  if (atimChange.kind === 'keep' && mtimChange.kind === 'keep') return;
  const before = stat();
  const cur = guestTimes(before);
  const now = realtimeNs();
  const pick = (c: TimeChange, current: bigint): bigint => (c.kind === 'set' ? c.ns : c.kind === 'now' ? now : current);
  const atim = pick(atimChange, cur.atim);
  const mtim = pick(mtimChange, cur.mtim);
  utimes(toHostTime(atim), toHostTime(mtim));
  const after = stat();
  if (overlays.size >= MAX_OVERLAYS) overlays.delete(overlays.keys().next().value!);
  overlays.set(keyOf(after), { hostAtim: after.atimeNs, hostMtim: after.mtimeNs, atim, mtim });
}
