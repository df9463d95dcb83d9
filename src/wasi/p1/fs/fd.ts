// fd_* functions.
//
// Regular files and directories use synchronous node:fs calls: local file I/O completes without
// waiting on anything remote, so a blocking call costs microseconds, and it keeps the guest's view
// simple (no suspension, no memory views to re-derive). Only what can wait indefinitely (stdin,
// sockets) suspends the guest.
import fs from 'node:fs';
import path from 'node:path';
import { advice, errno, fdflags, filetype, rights, whence } from '../abi.ts';
import type { ImportFn, P1Context } from '../context.ts';
import { WasiError } from '../errors.ts';
import type { FdEntry } from '../fds.ts';
import { socketReadv, socketWritev } from '../sockets.ts';
import {
  MAX_NODE_OFFSET, MAX_OFFSET, entryFiletype, isSocket, need, releaseEntry, s64, u64,
} from './common.ts';
import { setTimes, writeFilestat, filetypeOf } from './stat.ts';
import { stdioFiletype, stdioRead, stdioWrite } from './stdio.ts';
import type { DirFd, FileFd } from './types.ts';

const ENCODER = new TextEncoder();
const FDFLAGS_ALL = fdflags.append | fdflags.dsync | fdflags.nonblock | fdflags.rsync | fdflags.sync;
const DIRENT_SIZE = 24;

function fileRead(e: FileFd, iovs: Uint8Array[], at: bigint | null): number {
  if (e.filetype !== filetype.regular_file) {
    if (at !== null) throw new WasiError(errno.spipe);
    return fs.readvSync(e.hostFd, iovs);
  }
  const pos = at ?? e.position;
  if (pos > MAX_NODE_OFFSET) return 0; // far beyond any end of file we could have written
  const n = fs.readvSync(e.hostFd, iovs, Number(pos));
  if (at === null) e.position = pos + BigInt(n);
  return n;
}

function fileSyncAfterWrite(e: FileFd): void {
  if (e.fdflags & fdflags.sync) fs.fsyncSync(e.hostFd);
  else if (e.fdflags & fdflags.dsync) fs.fdatasyncSync(e.hostFd);
}

function fileWrite(e: FileFd, iovs: Uint8Array[], at: bigint | null): number {
  let n: number;
  if (e.filetype !== filetype.regular_file) {
    if (at !== null) throw new WasiError(errno.spipe);
    n = fs.writevSync(e.hostFd, iovs);
  } else {
    // APPEND is emulated (the host fd is never O_APPEND): fd_fdstat_set_flags can turn it on and
    // off, which Node cannot do to a host fd (no fcntl), and pwrite on an O_APPEND fd would ignore
    // its offset on Linux. fd_pwrite writes at its offset, as POSIX says.
    const pos = at ?? (e.fdflags & fdflags.append ? fs.fstatSync(e.hostFd, { bigint: true }).size : e.position);
    const total = iovs.reduce((k, b) => k + b.length, 0);
    if (pos + BigInt(total) > MAX_NODE_OFFSET) throw new WasiError(errno.fbig);
    n = fs.writevSync(e.hostFd, iovs, Number(pos));
    if (at === null) e.position = pos + BigInt(n);
  }
  fileSyncAfterWrite(e);
  return n;
}

function dirInode(dir: DirFd, which: '.' | '..'): bigint {
  try {
    const p = which === '.' || dir.hostPath === dir.root ? dir.hostPath : path.dirname(dir.hostPath);
    return fs.statSync(p, { bigint: true }).ino;
  } catch {
    return 0n;
  }
}

function refreshListing(dir: DirFd): void {
  const ents = fs.readdirSync(dir.hostPath, { withFileTypes: true, encoding: 'buffer' });
  dir.listing = { names: ents.map((d) => d.name as Buffer), types: ents.map((d) => filetypeOf(d)) };
}

export function fdFunctions(ctx: P1Context): Record<string, ImportFn> {
  const { mem, fds } = ctx;

  const statOf = (e: FdEntry): fs.BigIntStats | null => {
    switch (e.kind) {
      case 'file': return fs.fstatSync(e.hostFd, { bigint: true });
      case 'dir': return fs.statSync(e.hostPath, { bigint: true });
      case 'stdio': return fs.fstatSync(e.hostFd, { bigint: true });
      default: return null;
    }
  };

  const preopen = (fd: number): { e: DirFd; name: Uint8Array } => {
    const e = fds.tryGet(fd);
    // Anything but a preopened directory is EBADF: wasi-libc's startup scan of fds 3, 4, ...
    // stops at the first EBADF, and any other error would abort the guest.
    if (!e || e.kind !== 'dir' || e.preopenName === undefined) throw new WasiError(errno.badf);
    return { e, name: ENCODER.encode(e.preopenName) };
  };

  return {
    fd_advise: (fd: number, _offset: bigint, _len: bigint, adv: number) => {
      const e = fds.get(fd);
      if (isSocket(e) || e.kind === 'stdio') throw new WasiError(errno.spipe);
      need(e, rights.fd_advise);
      if (adv < advice.normal || adv > advice.noreuse) throw new WasiError(errno.inval);
      if (e.kind === 'dir') throw new WasiError(errno.isdir);
      return errno.success; // advisory only; Node has no posix_fadvise
    },

    fd_allocate: (fd: number, offset: bigint, len: bigint) => {
      const e = fds.get(fd);
      if (isSocket(e) || e.kind === 'stdio') throw new WasiError(errno.spipe);
      need(e, rights.fd_allocate);
      if (e.kind !== 'file') throw new WasiError(errno.isdir);
      if (e.filetype !== filetype.regular_file) throw new WasiError(errno.spipe);
      const off = u64(offset);
      const n = u64(len);
      if (n === 0n) throw new WasiError(errno.inval);
      const end = off + n;
      if (end > MAX_OFFSET || end > MAX_NODE_OFFSET) throw new WasiError(errno.fbig);
      // No fallocate in Node: make sure the range exists by extending the file (sparse).
      if (fs.fstatSync(e.hostFd, { bigint: true }).size < end) fs.ftruncateSync(e.hostFd, Number(end));
      return errno.success;
    },

    fd_close: (fd: number) => {
      const e = fds.remove(fd);
      releaseEntry(e);
      return errno.success;
    },

    fd_datasync: (fd: number) => {
      const e = fds.get(fd);
      need(e, rights.fd_datasync);
      if (e.kind === 'file') fs.fdatasyncSync(e.hostFd);
      else if (isSocket(e)) throw new WasiError(errno.inval);
      return errno.success;
    },

    fd_sync: (fd: number) => {
      const e = fds.get(fd);
      need(e, rights.fd_sync);
      if (e.kind === 'file') fs.fsyncSync(e.hostFd);
      else if (isSocket(e)) throw new WasiError(errno.inval);
      return errno.success;
    },

    fd_fdstat_get: (fd: number, ptr: number) => {
      const e = fds.get(fd);
      ptr >>>= 0;
      mem.check(ptr, 24);
      const type = e.kind === 'stdio' ? stdioFiletype(e) : entryFiletype(e);
      const v = mem.view;
      v.setUint8(ptr, type);
      v.setUint8(ptr + 1, 0);
      v.setUint16(ptr + 2, e.fdflags, true);
      v.setUint32(ptr + 4, 0, true);
      v.setBigUint64(ptr + 8, e.rightsBase, true);
      v.setBigUint64(ptr + 16, e.rightsInheriting, true);
      return errno.success;
    },

    fd_fdstat_set_flags: (fd: number, flags: number) => {
      const e = fds.get(fd);
      need(e, rights.fd_fdstat_set_flags);
      flags &= 0xffff;
      if (flags & ~FDFLAGS_ALL) throw new WasiError(errno.inval);
      // On a socket only NONBLOCK means anything (as with fcntl on Linux, the rest is ignored).
      if (isSocket(e)) e.fdflags = (e.fdflags & ~fdflags.nonblock) | (flags & fdflags.nonblock);
      else e.fdflags = flags;
      return errno.success;
    },

    fd_fdstat_set_rights: (fd: number, base: bigint, inheriting: bigint) => {
      const e = fds.get(fd);
      const b = u64(base);
      const i = u64(inheriting);
      // Rights can only be dropped, never gained.
      if ((b & ~e.rightsBase) !== 0n || (i & ~e.rightsInheriting) !== 0n) throw new WasiError(errno.notcapable);
      e.rightsBase = b;
      e.rightsInheriting = i;
      return errno.success;
    },

    fd_filestat_get: (fd: number, ptr: number) => {
      const e = fds.get(fd);
      need(e, rights.fd_filestat_get);
      mem.check(ptr >>> 0, 64);
      if (isSocket(e)) writeFilestat(mem, ptr, null, filetype.socket_stream);
      else writeFilestat(mem, ptr, statOf(e), e.kind === 'stdio' ? stdioFiletype(e) : undefined);
      return errno.success;
    },

    fd_filestat_set_size: (fd: number, size: bigint) => {
      const e = fds.get(fd);
      need(e, rights.fd_filestat_set_size);
      if (e.kind === 'dir') throw new WasiError(errno.isdir);
      if (e.kind !== 'file') throw new WasiError(errno.inval);
      const n = u64(size);
      if (n > MAX_OFFSET || n > MAX_NODE_OFFSET) throw new WasiError(errno.fbig);
      fs.ftruncateSync(e.hostFd, Number(n));
      return errno.success;
    },

    fd_filestat_set_times: (fd: number, atim: bigint, mtim: bigint, flags: number) => {
      const e = fds.get(fd);
      need(e, rights.fd_filestat_set_times);
      if (e.kind === 'file') {
        const hostFd = e.hostFd;
        setTimes(() => fs.fstatSync(hostFd, { bigint: true }), (a, m) => fs.futimesSync(hostFd, a, m), atim, mtim, flags);
      } else if (e.kind === 'dir') {
        const p = e.hostPath;
        setTimes(() => fs.statSync(p, { bigint: true }), (a, m) => fs.utimesSync(p, a, m), atim, mtim, flags);
      } else {
        throw new WasiError(errno.inval);
      }
      return errno.success;
    },

    fd_pread: (fd: number, iovsPtr: number, iovsLen: number, offset: bigint, nreadPtr: number) => {
      const e = fds.get(fd);
      if (isSocket(e) || e.kind === 'stdio') throw new WasiError(errno.spipe);
      need(e, rights.fd_read | rights.fd_seek);
      if (e.kind === 'dir') throw new WasiError(errno.isdir);
      const at = u64(offset);
      if (at > MAX_OFFSET) throw new WasiError(errno.inval);
      const iovs = mem.iovecs(iovsPtr, iovsLen);
      mem.check(nreadPtr >>> 0, 4);
      mem.setU32(nreadPtr >>> 0, fileRead(e, iovs, at));
      return errno.success;
    },

    fd_pwrite: (fd: number, iovsPtr: number, iovsLen: number, offset: bigint, nwrittenPtr: number) => {
      const e = fds.get(fd);
      if (isSocket(e) || e.kind === 'stdio') throw new WasiError(errno.spipe);
      need(e, rights.fd_write | rights.fd_seek);
      if (e.kind === 'dir') throw new WasiError(errno.isdir);
      const at = u64(offset);
      if (at > MAX_OFFSET) throw new WasiError(errno.inval);
      const iovs = mem.iovecs(iovsPtr, iovsLen);
      mem.check(nwrittenPtr >>> 0, 4);
      mem.setU32(nwrittenPtr >>> 0, fileWrite(e, iovs, at));
      return errno.success;
    },

    fd_read: (fd: number, iovsPtr: number, iovsLen: number, nreadPtr: number) => {
      const e = fds.get(fd);
      need(e, rights.fd_read);
      if (isSocket(e)) return socketReadv(ctx, e, iovsPtr, iovsLen, nreadPtr);
      if (e.kind === 'stdio') return stdioRead(ctx, e, iovsPtr, iovsLen, nreadPtr >>> 0);
      if (e.kind === 'dir') throw new WasiError(errno.isdir);
      const iovs = mem.iovecs(iovsPtr, iovsLen);
      mem.check(nreadPtr >>> 0, 4);
      mem.setU32(nreadPtr >>> 0, fileRead(e, iovs, null));
      return errno.success;
    },

    fd_write: (fd: number, iovsPtr: number, iovsLen: number, nwrittenPtr: number) => {
      const e = fds.get(fd);
      need(e, rights.fd_write);
      if (isSocket(e)) return socketWritev(ctx, e, iovsPtr, iovsLen, nwrittenPtr);
      if (e.kind === 'dir') throw new WasiError(errno.isdir);
      const iovs = mem.iovecs(iovsPtr, iovsLen);
      mem.check(nwrittenPtr >>> 0, 4);
      if (e.kind === 'stdio') return stdioWrite(ctx, e, iovs, nwrittenPtr >>> 0);
      mem.setU32(nwrittenPtr >>> 0, fileWrite(e, iovs, null));
      return errno.success;
    },

    fd_prestat_get: (fd: number, ptr: number) => {
      const { name } = preopen(fd);
      ptr >>>= 0;
      mem.check(ptr, 8);
      mem.setU32(ptr, 0); // tag: preopentype dir (u8), then padding
      mem.setU32(ptr + 4, name.length);
      return errno.success;
    },

    fd_prestat_dir_name: (fd: number, ptr: number, len: number) => {
      const { name } = preopen(fd);
      if ((len >>> 0) < name.length) throw new WasiError(errno.nametoolong);
      mem.slice(ptr, name.length).set(name);
      return errno.success;
    },

    fd_readdir: (fd: number, buf: number, bufLen: number, cookie: bigint, bufusedPtr: number) => {
      const e = fds.get(fd);
      need(e, rights.fd_readdir);
      if (e.kind !== 'dir') throw new WasiError(errno.notdir);
      const out = mem.slice(buf, bufLen); // checks the range
      mem.check(bufusedPtr >>> 0, 4);
      const start = u64(cookie);
      if (start === 0n || !e.listing) refreshListing(e);
      const listing = e.listing!;
      const count = BigInt(listing.names.length + 2);
      const header = new DataView(new ArrayBuffer(DIRENT_SIZE));
      const headerBytes = new Uint8Array(header.buffer);
      const cap = out.length;
      let used = 0;
      for (let i = start; i < count && used < cap; i++) {
        let name: Uint8Array;
        let ino: bigint;
        let type: number;
        if (i < 2n) {
          name = i === 0n ? Buffer.from('.') : Buffer.from('..');
          ino = dirInode(e, i === 0n ? '.' : '..');
          type = filetype.directory;
        } else {
          const k = Number(i - 2n);
          name = listing.names[k]!;
          type = listing.types[k]!;
          ino = 0n;
          try {
            const st = fs.lstatSync(Buffer.concat([Buffer.from(`${e.hostPath}/`), name]), { bigint: true });
            ino = st.ino;
            type = filetypeOf(st);
          } catch { /* removed since the listing was taken: keep what readdir said */ }
        }
        header.setBigUint64(0, i + 1n, true); // d_next: the cookie of the next entry
        header.setBigUint64(8, BigInt.asUintN(64, ino), true);
        header.setUint32(16, name.length, true);
        header.setUint8(20, type);
        // An entry that does not fit is written truncated, filling the buffer: the guest sees
        // bufused == buf_len, and reads again with a bigger buffer.
        const h = Math.min(DIRENT_SIZE, cap - used);
        out.set(headerBytes.subarray(0, h), used);
        used += h;
        const nb = Math.min(name.length, cap - used);
        out.set(name.subarray(0, nb), used);
        used += nb;
      }
      mem.setU32(bufusedPtr >>> 0, used);
      return errno.success;
    },

    fd_renumber: (from: number, to: number) => {
      fds.get(from);
      const old = fds.get(to);
      if (from === to) return errno.success;
      try {
        releaseEntry(old);
      } finally {
        fds.renumber(from, to);
      }
      return errno.success;
    },

    fd_seek: (fd: number, offset: bigint, wh: number, newPtr: number) => {
      const e = fds.get(fd);
      if (isSocket(e) || e.kind === 'stdio') throw new WasiError(errno.spipe);
      const delta = s64(offset);
      need(e, wh === whence.cur && delta === 0n ? rights.fd_tell : rights.fd_seek);
      if (e.kind === 'dir') throw new WasiError(errno.isdir);
      if (e.filetype !== filetype.regular_file) throw new WasiError(errno.spipe);
      newPtr >>>= 0;
      mem.check(newPtr, 8);
      let base: bigint;
      switch (wh) {
        case whence.set: base = 0n; break;
        case whence.cur: base = e.position; break;
        case whence.end: base = fs.fstatSync(e.hostFd, { bigint: true }).size; break;
        default: throw new WasiError(errno.inval);
      }
      const pos = base + delta;
      if (pos < 0n || pos > MAX_OFFSET) throw new WasiError(errno.inval);
      e.position = pos;
      mem.setU64(newPtr, pos);
      return errno.success;
    },

    fd_tell: (fd: number, ptr: number) => {
      const e = fds.get(fd);
      if (isSocket(e) || e.kind === 'stdio') throw new WasiError(errno.spipe);
      need(e, rights.fd_tell);
      if (e.kind === 'dir') throw new WasiError(errno.isdir);
      if (e.filetype !== filetype.regular_file) throw new WasiError(errno.spipe);
      mem.setU64(ptr >>> 0, e.position);
      return errno.success;
    },
  };
}
