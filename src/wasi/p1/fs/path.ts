// path_* functions. Every guest path goes through resolvePath (paths.ts), which confines it to the
// preopen the directory fd came from; the host only ever sees the resolved path. Synchronous
// node:fs calls, as in fd.ts: local filesystem calls do not wait on the network.
import fs from 'node:fs';
import { RIGHTS_DIR, RIGHTS_FILE, errno, filetype, lookupflags, oflags, rights } from '../abi.ts';
import type { ImportFn, P1Context } from '../context.ts';
import { WasiError } from '../errors.ts';
import { dirFd, guestPath, u64 } from './common.ts';
import { checkSymlinkTarget, entryHostPath, resolvePath, type FinalMode } from './paths.ts';
import { checkFstflags, filetypeOf, setTimes, writeFilestat } from './stat.ts';
import type { DirFd, FileFd } from './types.ts';

const C = fs.constants;
const OFLAGS_ALL = oflags.creat | oflags.directory | oflags.excl | oflags.trunc;
const FDFLAGS_ALL = 0x1f;
/** Rights that make no sense on a file that cannot seek (pipes, character devices). */
const SEEK_RIGHTS = rights.fd_seek | rights.fd_tell;
/** Rights that need a host fd opened for writing. */
const WRITE_RIGHTS = rights.fd_write | rights.fd_allocate | rights.fd_filestat_set_size;

const modeOf = (flags: number): FinalMode => (flags & lookupflags.symlink_follow ? 'follow' : 'nofollow');

export function pathFunctions(ctx: P1Context): Record<string, ImportFn> {
  const { mem, fds } = ctx;
  const readPath = (ptr: number, len: number) => guestPath(ctx, ptr, len);

  return {
    path_create_directory: (fd: number, p: number, len: number) => {
      const dir = dirFd(ctx, fd, rights.path_create_directory);
      const r = resolvePath(dir, readPath(p, len), 'entry');
      if (r.name === null) throw new WasiError(errno.exist);
      fs.mkdirSync(entryHostPath(r), 0o777);
      return errno.success;
    },

    path_filestat_get: (fd: number, flags: number, p: number, len: number, buf: number) => {
      const dir = dirFd(ctx, fd, rights.path_filestat_get);
      const path = readPath(p, len);
      mem.check(buf >>> 0, 64);
      const r = resolvePath(dir, path, modeOf(flags));
      if (!r.stat) throw new WasiError(errno.noent);
      if (r.dirOnly && !r.stat.isDirectory()) throw new WasiError(errno.notdir);
      writeFilestat(mem, buf, r.stat);
      return errno.success;
    },

    path_filestat_set_times: (fd: number, flags: number, p: number, len: number, atim: bigint, mtim: bigint, fst: number) => {
      const dir = dirFd(ctx, fd, rights.path_filestat_set_times);
      const path = readPath(p, len);
      checkFstflags(fst);
      const r = resolvePath(dir, path, modeOf(flags));
      if (!r.stat) throw new WasiError(errno.noent);
      if (r.dirOnly && !r.stat.isDirectory()) throw new WasiError(errno.notdir);
      // r.host is either the symlink itself (nofollow) or has no symlink left: the l-variants are
      // right for both, and do not follow a link swapped in behind our back.
      const host = r.host;
      setTimes(() => fs.lstatSync(host, { bigint: true }), (a, m) => fs.lutimesSync(host, a, m), atim, mtim, fst);
      return errno.success;
    },

    path_link: (oldFd: number, oldFlags: number, oldP: number, oldLen: number, newFd: number, newP: number, newLen: number) => {
      const from = dirFd(ctx, oldFd, rights.path_link_source);
      const to = dirFd(ctx, newFd, rights.path_link_target);
      const oldPath = readPath(oldP, oldLen);
      const newPath = readPath(newP, newLen);
      let src: string;
      if (oldFlags & lookupflags.symlink_follow) {
        const r = resolvePath(from, oldPath, 'follow');
        if (!r.stat) throw new WasiError(errno.noent);
        if (r.dirOnly && !r.stat.isDirectory()) throw new WasiError(errno.notdir);
        src = r.host;
      } else {
        const r = resolvePath(from, oldPath, 'entry');
        if (r.name === null) throw new WasiError(errno.perm); // a directory
        src = entryHostPath(r); // link(2) does not follow a final symlink
      }
      const t = resolvePath(to, newPath, 'entry');
      if (t.name === null) throw new WasiError(errno.exist);
      fs.linkSync(src, entryHostPath(t));
      return errno.success;
    },

    path_open: (fd: number, dirflags: number, p: number, len: number, of: number, base: bigint, inheriting: bigint, fdf: number, fdPtr: number) => {
      of &= 0xffff;
      fdf &= 0xffff;
      let required = rights.path_open;
      if (of & oflags.creat) required |= rights.path_create_file;
      if (of & oflags.trunc) required |= rights.path_filestat_set_size;
      const dir = dirFd(ctx, fd, required);
      if (of & ~OFLAGS_ALL || fdf & ~FDFLAGS_ALL) throw new WasiError(errno.inval);
      const path = readPath(p, len);
      fdPtr >>>= 0;
      mem.check(fdPtr, 4);
      const wantBase = u64(base);
      // A new fd gets the rights asked for, as far as the directory may hand them down.
      const newBase = wantBase & dir.rightsInheriting;
      const newInheriting = u64(inheriting) & dir.rightsInheriting;

      const r = resolvePath(dir, path, modeOf(dirflags));
      const st = r.stat;
      if (st) {
        if ((of & oflags.creat) && (of & oflags.excl)) throw new WasiError(errno.exist);
        if (st.isSymbolicLink()) throw new WasiError(errno.loop); // a final symlink, not followed
        if (st.isDirectory()) {
          if (of & (oflags.creat | oflags.trunc)) throw new WasiError(errno.isdir);
          if (wantBase & rights.fd_write) throw new WasiError(errno.isdir);
          const entry: DirFd = {
            kind: 'dir', hostPath: r.host, root: dir.root,
            rightsBase: newBase & RIGHTS_DIR, rightsInheriting: newInheriting, fdflags: fdf,
          };
          mem.setU32(fdPtr, fds.add(entry));
          return errno.success;
        }
        if ((of & oflags.directory) || r.dirOnly) throw new WasiError(errno.notdir);
      } else {
        if (!(of & oflags.creat)) throw new WasiError(errno.noent);
        if (of & oflags.directory) throw new WasiError(errno.inval);
        if (r.dirOnly || r.name === null) throw new WasiError(errno.isdir);
      }

      const fileBase = newBase & RIGHTS_FILE;
      const read = (fileBase & rights.fd_read) !== 0n;
      const write = (fileBase & WRITE_RIGHTS) !== 0n || (of & oflags.trunc) !== 0;
      let flags = (read && write ? C.O_RDWR : write ? C.O_WRONLY : C.O_RDONLY) | C.O_NOFOLLOW;
      if (of & oflags.creat) flags |= C.O_CREAT;
      if (of & oflags.excl) flags |= C.O_EXCL;
      if (of & oflags.trunc) flags |= C.O_TRUNC;
      // Opening a FIFO blocks until the other end shows up: never do that on the event loop.
      if (st && !st.isFile()) flags |= C.O_NONBLOCK;
      const hostFd = fs.openSync(r.host, flags, 0o666);
      let type: number;
      try {
        type = filetypeOf(fs.fstatSync(hostFd));
        if (type === filetype.directory) throw new WasiError(errno.isdir); // swapped in meanwhile
      } catch (e) {
        fs.closeSync(hostFd);
        throw e;
      }
      const entry: FileFd = {
        kind: 'file', hostFd, hostPath: r.host, position: 0n, filetype: type,
        rightsBase: type === filetype.regular_file ? fileBase : fileBase & ~SEEK_RIGHTS,
        rightsInheriting: newInheriting, fdflags: fdf,
      };
      mem.setU32(fdPtr, fds.add(entry));
      return errno.success;
    },

    path_readlink: (fd: number, p: number, len: number, buf: number, bufLen: number, bufusedPtr: number) => {
      const dir = dirFd(ctx, fd, rights.path_readlink);
      const path = readPath(p, len);
      const out = mem.slice(buf, bufLen);
      mem.check(bufusedPtr >>> 0, 4);
      const r = resolvePath(dir, path, 'nofollow');
      if (!r.stat) throw new WasiError(errno.noent);
      if (!r.stat.isSymbolicLink()) throw new WasiError(errno.inval);
      const target = fs.readlinkSync(r.host, { encoding: 'buffer' });
      // Like readlink(2): a target longer than the buffer is silently truncated.
      const n = Math.min(target.length, out.length);
      out.set(target.subarray(0, n));
      mem.setU32(bufusedPtr >>> 0, n);
      return errno.success;
    },

    path_remove_directory: (fd: number, p: number, len: number) => {
      const dir = dirFd(ctx, fd, rights.path_remove_directory);
      const r = resolvePath(dir, readPath(p, len), 'entry');
      if (r.name === null) throw new WasiError(errno.inval); // rmdir(".")
      fs.rmdirSync(entryHostPath(r));
      return errno.success;
    },

    path_rename: (fd: number, oldP: number, oldLen: number, newFd: number, newP: number, newLen: number) => {
      const from = dirFd(ctx, fd, rights.path_rename_source);
      const to = dirFd(ctx, newFd, rights.path_rename_target);
      const a = resolvePath(from, readPath(oldP, oldLen), 'entry');
      const b = resolvePath(to, readPath(newP, newLen), 'entry');
      if (a.name === null || b.name === null) throw new WasiError(errno.busy);
      fs.renameSync(entryHostPath(a), entryHostPath(b));
      return errno.success;
    },

    path_symlink: (oldP: number, oldLen: number, fd: number, newP: number, newLen: number) => {
      const dir = dirFd(ctx, fd, rights.path_symlink);
      const target = readPath(oldP, oldLen);
      const r = resolvePath(dir, readPath(newP, newLen), 'entry');
      if (r.name === null) throw new WasiError(errno.exist);
      checkSymlinkTarget(target, r.parentRel);
      fs.symlinkSync(target, entryHostPath(r));
      return errno.success;
    },

    path_unlink_file: (fd: number, p: number, len: number) => {
      const dir = dirFd(ctx, fd, rights.path_unlink_file);
      const r = resolvePath(dir, readPath(p, len), 'entry');
      if (r.name === null) throw new WasiError(errno.isdir);
      fs.unlinkSync(entryHostPath(r));
      return errno.success;
    },
  };
}
