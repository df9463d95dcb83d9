// filestat/filetype conversion, and p1's view of file times (the shared overlay is in src/fs/times.ts).
import fs, { type BigIntStats } from 'node:fs';
import { errno, filetype, fstflags } from '../abi.ts';
import { WasiError } from '../errors.ts';
import type { GuestMemory } from '../memory.ts';
import { fileKind, type FileKind } from '../../../fs/ops.ts';
import { guestTimes, setTimes as setFileTimes, KEEP, type TimeChange } from '../../../fs/times.ts';

const FILETYPE: Record<FileKind, number> = {
  'regular-file': filetype.regular_file,
  directory: filetype.directory,
  'symbolic-link': filetype.symbolic_link,
  'character-device': filetype.character_device,
  'block-device': filetype.block_device,
  socket: filetype.socket_stream,
  fifo: filetype.unknown, // FIFOs have no WASI p1 filetype
  unknown: filetype.unknown,
};

export function filetypeOfKind(kind: FileKind): number {
  return FILETYPE[kind];
}

export function filetypeOf(st: BigIntStats | fs.Stats | fs.Dirent<string | Buffer>): number {
  return FILETYPE[fileKind(st)];
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

/** fst_flags and the two times, as the shared layer's changes. */
export function timeChanges(atim: bigint, mtim: bigint, flags: number): [TimeChange, TimeChange] {
  const change = (set: number, now: number, ns: bigint): TimeChange =>
    flags & set ? { kind: 'set', ns: BigInt.asUintN(64, ns) } : flags & now ? { kind: 'now' } : KEEP;
  return [change(fstflags.atim, fstflags.atim_now, atim), change(fstflags.mtim, fstflags.mtim_now, mtim)];
}

/** Sets the times of a file: `stat` reads its current state, `utimes` writes both times. */
export function setTimes(
  stat: () => BigIntStats,
  utimes: (atime: number | Date, mtime: number | Date) => void,
  atimIn: bigint, mtimIn: bigint, flags: number,
): void {
  checkFstflags(flags);
  const [a, m] = timeChanges(atimIn, mtimIn, flags);
  setFileTimes(stat, utimes, a, m);
}
