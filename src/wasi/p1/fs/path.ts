// path_* functions: rights checks and guest-memory plumbing around the shared path operations of
// src/fs (which confine every guest path to the directory fd it is relative to).
import { RIGHTS_DIR, RIGHTS_FILE, errno, filetype, lookupflags, oflags, rights } from '../abi.ts';
import type { ImportFn, P1Context } from '../context.ts';
import { WasiError } from '../errors.ts';
import {
  createDirectoryAt, linkAt, openAt, readlinkAt, removeDirectoryAt, renameAt, setTimesAt, statAt,
  symlinkAt, unlinkFileAt,
} from '../../../fs/ops.ts';
import { dirFd, guestPath, u64 } from './common.ts';
import { checkFstflags, filetypeOfKind, timeChanges, writeFilestat } from './stat.ts';
import type { DirFd, FileFd } from './types.ts';

const OFLAGS_ALL = oflags.creat | oflags.directory | oflags.excl | oflags.trunc;
const FDFLAGS_ALL = 0x1f;
/** Rights that make no sense on a file that cannot seek (pipes, character devices). */
const SEEK_RIGHTS = rights.fd_seek | rights.fd_tell;
/** Rights that need a host fd opened for writing. */
const WRITE_RIGHTS = rights.fd_write | rights.fd_allocate | rights.fd_filestat_set_size;

const follows = (flags: number): boolean => (flags & lookupflags.symlink_follow) !== 0;

export function pathFunctions(ctx: P1Context): Record<string, ImportFn> {
  const { mem, fds } = ctx;
  const readPath = (ptr: number, len: number) => guestPath(ctx, ptr, len);

  return {
    path_create_directory: (fd: number, p: number, len: number) => {
      const dir = dirFd(ctx, fd, rights.path_create_directory);
      createDirectoryAt(dir, readPath(p, len));
      return errno.success;
    },

    path_filestat_get: (fd: number, flags: number, p: number, len: number, buf: number) => {
      const dir = dirFd(ctx, fd, rights.path_filestat_get);
      const path = readPath(p, len);
      mem.check(buf >>> 0, 64);
      writeFilestat(mem, buf, statAt(dir, path, follows(flags)));
      return errno.success;
    },

    path_filestat_set_times: (fd: number, flags: number, p: number, len: number, atim: bigint, mtim: bigint, fst: number) => {
      const dir = dirFd(ctx, fd, rights.path_filestat_set_times);
      const path = readPath(p, len);
      checkFstflags(fst);
      const [a, m] = timeChanges(atim, mtim, fst);
      setTimesAt(dir, path, follows(flags), a, m);
      return errno.success;
    },

    path_link: (oldFd: number, oldFlags: number, oldP: number, oldLen: number, newFd: number, newP: number, newLen: number) => {
      const from = dirFd(ctx, oldFd, rights.path_link_source);
      const to = dirFd(ctx, newFd, rights.path_link_target);
      linkAt(from, readPath(oldP, oldLen), follows(oldFlags), to, readPath(newP, newLen));
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
      const fileBase = newBase & RIGHTS_FILE;

      const opened = openAt(dir, path, {
        follow: follows(dirflags),
        create: (of & oflags.creat) !== 0,
        exclusive: (of & oflags.excl) !== 0,
        truncate: (of & oflags.trunc) !== 0,
        directory: (of & oflags.directory) !== 0,
        read: (fileBase & rights.fd_read) !== 0n,
        write: (fileBase & WRITE_RIGHTS) !== 0n,
        writeDir: (wantBase & rights.fd_write) !== 0n,
      });
      if (opened.kind === 'dir') {
        const entry: DirFd = {
          kind: 'dir', hostPath: opened.hostPath, root: dir.root,
          rightsBase: newBase & RIGHTS_DIR, rightsInheriting: newInheriting, fdflags: fdf,
        };
        mem.setU32(fdPtr, fds.add(entry));
        return errno.success;
      }
      const type = filetypeOfKind(opened.fileKind);
      const entry: FileFd = {
        kind: 'file', hostFd: opened.hostFd, hostPath: opened.hostPath, position: 0n, filetype: type,
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
      const target = readlinkAt(dir, path);
      // Like readlink(2): a target longer than the buffer is silently truncated.
      const n = Math.min(target.length, out.length);
      out.set(target.subarray(0, n));
      mem.setU32(bufusedPtr >>> 0, n);
      return errno.success;
    },

    path_remove_directory: (fd: number, p: number, len: number) => {
      const dir = dirFd(ctx, fd, rights.path_remove_directory);
      removeDirectoryAt(dir, readPath(p, len));
      return errno.success;
    },

    path_rename: (fd: number, oldP: number, oldLen: number, newFd: number, newP: number, newLen: number) => {
      const from = dirFd(ctx, fd, rights.path_rename_source);
      const to = dirFd(ctx, newFd, rights.path_rename_target);
      renameAt(from, readPath(oldP, oldLen), to, readPath(newP, newLen));
      return errno.success;
    },

    path_symlink: (oldP: number, oldLen: number, fd: number, newP: number, newLen: number) => {
      const dir = dirFd(ctx, fd, rights.path_symlink);
      const target = readPath(oldP, oldLen);
      symlinkAt(target, dir, readPath(newP, newLen));
      return errno.success;
    },

    path_unlink_file: (fd: number, p: number, len: number) => {
      const dir = dirFd(ctx, fd, rights.path_unlink_file);
      unlinkFileAt(dir, readPath(p, len));
      return errno.success;
    },
  };
}
