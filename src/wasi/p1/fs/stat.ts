// filestat/filetype conversion, and file times with nanosecond precision.
import fs, { type BigIntStats } from 'node:fs';
import { errno, filetype, fstflags } from '../abi.ts';
import { WasiError } from '../errors.ts';
import type { GuestMemory } from '../memory.ts';
import { realtimeNs } from '../basics.ts';

export function filetypeOf(st: BigIntStats | fs.Stats | fs.Dirent<string | Buffer>): number {
  if (st.isFile()) return filetype.regular_file;
  if (st.isDirectory()) return filetype.directory;
  if (st.isSymbolicLink()) return filetype.symbolic_link;
  if (st.isCharacterDevice()) return filetype.character_device;
  if (st.isBlockDevice()) return filetype.block_device;
  if (st.isSocket()) return filetype.socket_stream;
  return filetype.unknown; // FIFOs have no WASI filetype
}

// --- Times ---------------------------------------------------------------------------------------
// Node can only set file times as a double number of seconds (fs.utimes/futimes/lutimes), which at
// today's dates is ~240 ns coarse, and has no "leave this one alone" (UTIME_OMIT). So a time the
// guest sets is written to the host as closely as a double allows, and the exact value is kept
// here, keyed by (dev, ino), together with the time the host actually recorded. As long as the
// host still shows that recorded time, filestats report the guest's exact value; once the file's
// time changes by other means, the entry is stale and dropped. A time the guest leaves alone is
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

/** The (atim, mtim) the guest should see for `st`. */
export function guestTimes(st: BigIntStats): { atim: bigint; mtim: bigint } {
  const key = keyOf(st);
  const o = overlays.get(key);
  if (!o) return { atim: st.atimeNs, mtim: st.mtimeNs };
  const aOk = o.hostAtim === st.atimeNs;
  const mOk = o.hostMtim === st.mtimeNs;
  if (!aOk && !mOk) overlays.delete(key);
  return { atim: aOk ? o.atim : st.atimeNs, mtim: mOk ? o.mtim : st.mtimeNs };
}

/** Writes a filestat (64 bytes) for `st`; `type` overrides the filetype derived from it. */
export function writeFilestat(mem: GuestMemory, ptr: number, st: BigIntStats | null, type?: number): void {
  ptr >>>= 0;
  mem.check(ptr, 64);
  const v = mem.view;
  if (!st) {
    new Uint8Array(v.buffer, ptr, 64).fill(0);
    v.setUint8(ptr + 16, type ?? filetype.unknown);
    return;
  }
  const { atim, mtim } = guestTimes(st);
  v.setBigUint64(ptr, BigInt.asUintN(64, st.dev), true);
  v.setBigUint64(ptr + 8, BigInt.asUintN(64, st.ino), true);
  v.setUint8(ptr + 16, type ?? filetypeOf(st));
  for (let i = 17; i < 24; i++) v.setUint8(ptr + i, 0);
  v.setBigUint64(ptr + 24, BigInt.asUintN(64, st.nlink), true);
  v.setBigUint64(ptr + 32, BigInt.asUintN(64, st.size), true);
  v.setBigUint64(ptr + 40, BigInt.asUintN(64, atim), true);
  v.setBigUint64(ptr + 48, BigInt.asUintN(64, mtim), true);
  v.setBigUint64(ptr + 56, BigInt.asUintN(64, st.ctimeNs), true);
}

/** Validates fst_flags: unknown bits, or X together with X_NOW, are EINVAL. */
export function checkFstflags(flags: number): void {
  if ((flags & ~0xf) !== 0) throw new WasiError(errno.inval);
  if ((flags & fstflags.atim) && (flags & fstflags.atim_now)) throw new WasiError(errno.inval);
  if ((flags & fstflags.mtim) && (flags & fstflags.mtim_now)) throw new WasiError(errno.inval);
}

function toHostTime(ns: bigint): number | Date {
  // Node turns negative numbers into "now"; a Date keeps them (at millisecond precision).
  if (ns < 0n) return new Date(Number(ns / 1_000_000n));
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
}

/** Sets the times of a file: `stat` reads its current state, `utimes` writes both times. */
export function setTimes(
  stat: () => BigIntStats,
  utimes: (atime: number | Date, mtime: number | Date) => void,
  atimIn: bigint, mtimIn: bigint, flags: number,
): void {
  checkFstflags(flags);
  if ((flags & 0xf) === 0) return; // nothing to change
  const before = stat();
  const cur = guestTimes(before);
  const now = realtimeNs();
  const atim = flags & fstflags.atim ? BigInt.asUintN(64, atimIn) : flags & fstflags.atim_now ? now : cur.atim;
  const mtim = flags & fstflags.mtim ? BigInt.asUintN(64, mtimIn) : flags & fstflags.mtim_now ? now : cur.mtim;
  utimes(toHostTime(atim), toHostTime(mtim));
  const after = stat();
  if (overlays.size >= MAX_OVERLAYS) overlays.delete(overlays.keys().next().value!);
  overlays.set(keyOf(after), { hostAtim: after.atimeNs, hostMtim: after.mtimeNs, atim, mtim });
}
