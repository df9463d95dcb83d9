// Helpers shared by the fd_* and path_* functions.
import fs from 'node:fs';
import { errno, filetype } from '../abi.ts';
import type { P1Context } from '../context.ts';
import { WasiError } from '../errors.ts';
import type { FdEntry, ListenerFd, SocketFd } from '../fds.ts';
import { socketClose } from '../sockets.ts';
import type { DirFd } from './types.ts';

export { MAX_NODE_OFFSET, MAX_OFFSET } from '../../../fs/ops.ts';

export const u64 = (v: bigint | number): bigint => BigInt.asUintN(64, BigInt(v));
export const s64 = (v: bigint | number): bigint => BigInt.asIntN(64, BigInt(v));

export function isSocket(e: FdEntry): e is SocketFd | ListenerFd {
  return e.kind === 'socket' || e.kind === 'listener';
}

/** Throws ENOTCAPABLE unless `e` holds every right in `rights`. */
export function need(e: FdEntry, rights: bigint): void {
  if ((e.rightsBase & rights) !== rights) throw new WasiError(errno.notcapable);
}

/** The directory fd a path_* call starts from: EBADF if there is no such fd, ENOTDIR if it is not
 *  a directory (sockets included), ENOTCAPABLE without `rights`. */
export function dirFd(ctx: P1Context, fd: number, rights: bigint): DirFd {
  const e = ctx.fds.get(fd);
  if (e.kind !== 'dir') throw new WasiError(errno.notdir);
  need(e, rights);
  return e;
}

/** Reads a guest path argument (UTF-8; EILSEQ otherwise). */
export function guestPath(ctx: P1Context, ptr: number, len: number): string {
  return ctx.mem.string(ptr >>> 0, len >>> 0);
}

/** Releases what an fd entry holds on the host (the table entry itself is the caller's). Stdio
 *  entries never close the host's fds 0-2. */
export function releaseEntry(e: FdEntry): void {
  if (e.kind === 'file') fs.closeSync(e.hostFd);
  else if (isSocket(e)) socketClose(e);
}

export function entryFiletype(e: FdEntry): number {
  switch (e.kind) {
    case 'file': return e.filetype;
    case 'dir': return filetype.directory;
    case 'socket':
    case 'listener': return filetype.socket_stream;
    default: return filetype.unknown; // stdio: see stdioFiletype
  }
}
