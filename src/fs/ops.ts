// The path operations of every ABI, on a directory a guest holds (a p1 directory fd, a
// wasi:filesystem descriptor). Each resolves its guest path through resolvePath, so nothing here
// ever reaches outside that directory; the ABI layers add their own checks (p1 rights, 0.2
// descriptor flags) and translate errors (FsError / Node fs errors) to what their guests see.
//
// Synchronous node:fs calls: local filesystem calls complete without waiting on anything remote,
// so a blocking call costs microseconds, and the guest's view stays simple (no suspension).
import fs, { type BigIntStats } from 'node:fs';
import { FsError } from './errors.ts';
import { checkSymlinkTarget, entryHostPath, resolvePath, type DirRef } from './paths.ts';
import { setTimes, type TimeChange } from './times.ts';

const C = fs.constants;

/** Largest file offset/size the host can address (off_t). */
export const MAX_OFFSET = (1n << 63n) - 1n;
/** Largest offset we can hand to node:fs, which takes offsets as JS numbers. */
export const MAX_NODE_OFFSET = BigInt(Number.MAX_SAFE_INTEGER);

/** What kind of object a file is (wasi:filesystem's descriptor-type names). */
export type FileKind =
  | 'regular-file' | 'directory' | 'symbolic-link' | 'character-device' | 'block-device' | 'socket' | 'fifo' | 'unknown';

export function fileKind(st: BigIntStats | fs.Stats | fs.Dirent<string | Buffer>): FileKind {
  if (st.isFile()) return 'regular-file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symbolic-link';
  if (st.isCharacterDevice()) return 'character-device';
  if (st.isBlockDevice()) return 'block-device';
  if (st.isSocket()) return 'socket';
  if (st.isFIFO()) return 'fifo';
  return 'unknown';
}

const finalMode = (follow: boolean) => (follow ? 'follow' : 'nofollow') as 'follow' | 'nofollow';

export function createDirectoryAt(dir: DirRef, path: string): void {
  const r = resolvePath(dir, path, 'entry');
  if (r.name === null) throw new FsError('EEXIST');
  fs.mkdirSync(entryHostPath(r), 0o777);
}

/** lstat of what `path` names (its final symlink followed when `follow`). */
export function statAt(dir: DirRef, path: string, follow: boolean): BigIntStats {
  const r = resolvePath(dir, path, finalMode(follow));
  if (!r.stat) throw new FsError('ENOENT');
  if (r.dirOnly && !r.stat.isDirectory()) throw new FsError('ENOTDIR');
  return r.stat;
}

export function setTimesAt(dir: DirRef, path: string, follow: boolean, atim: TimeChange, mtim: TimeChange): void {
  const r = resolvePath(dir, path, finalMode(follow));
  if (!r.stat) throw new FsError('ENOENT');
  if (r.dirOnly && !r.stat.isDirectory()) throw new FsError('ENOTDIR');
  // r.host is either the symlink itself (nofollow) or has no symlink left: the l-variants are
  // right for both, and do not follow a link swapped in behind our back.
  const host = r.host;
  setTimes(() => fs.lstatSync(host, { bigint: true }), (a, m) => fs.lutimesSync(host, a, m), atim, mtim);
}

/** A hard link `to`/`newPath` to `from`/`oldPath` (a final symlink of oldPath followed when `follow`). */
export function linkAt(from: DirRef, oldPath: string, follow: boolean, to: DirRef, newPath: string): void {
  let src: string;
  if (follow) {
    const r = resolvePath(from, oldPath, 'follow');
    if (!r.stat) throw new FsError('ENOENT');
    if (r.dirOnly && !r.stat.isDirectory()) throw new FsError('ENOTDIR');
    src = r.host;
  } else {
    const r = resolvePath(from, oldPath, 'entry');
    if (r.name === null) throw new FsError('EPERM'); // a directory
    src = entryHostPath(r); // link(2) does not follow a final symlink
  }
  const t = resolvePath(to, newPath, 'entry');
  if (t.name === null) throw new FsError('EEXIST');
  fs.linkSync(src, entryHostPath(t));
}

export interface OpenOptions {
  /** Follow a final symlink (else opening one is ELOOP). */
  follow: boolean;
  create: boolean;
  exclusive: boolean;
  truncate: boolean;
  /** Must be a directory. */
  directory: boolean;
  read: boolean;
  /** Open a file for writing (implied by truncate). */
  write: boolean;
  /** The guest asked to write: opening a directory is then EISDIR (default: `write`). */
  writeDir?: boolean;
}

export type Opened =
  | { kind: 'dir'; hostPath: string }
  | { kind: 'file'; hostFd: number; hostPath: string; fileKind: FileKind };

/** Opens `path` under `dir`: a directory (returned by path, the host opens nothing) or a file
 *  (opened with O_NOFOLLOW: the walk left no symlink in the path). */
export function openAt(dir: DirRef, path: string, o: OpenOptions): Opened {
  const r = resolvePath(dir, path, finalMode(o.follow));
  const st = r.stat;
  if (st) {
    if (o.create && o.exclusive) throw new FsError('EEXIST');
    if (st.isSymbolicLink()) throw new FsError('ELOOP'); // a final symlink, not followed
    if (st.isDirectory()) {
      if (o.create || o.truncate) throw new FsError('EISDIR');
      if (o.writeDir ?? o.write) throw new FsError('EISDIR');
      return { kind: 'dir', hostPath: r.host };
    }
    if (o.directory || r.dirOnly) throw new FsError('ENOTDIR');
  } else {
    if (!o.create) throw new FsError('ENOENT');
    if (o.directory) throw new FsError('EINVAL');
    if (r.dirOnly || r.name === null) throw new FsError('EISDIR');
  }
  const write = o.write || o.truncate;
  let flags = (o.read && write ? C.O_RDWR : write ? C.O_WRONLY : C.O_RDONLY) | C.O_NOFOLLOW;
  if (o.create) flags |= C.O_CREAT;
  if (o.exclusive) flags |= C.O_EXCL;
  if (o.truncate) flags |= C.O_TRUNC;
  // Opening a FIFO blocks until the other end shows up: never do that on the event loop.
  if (st && !st.isFile()) flags |= C.O_NONBLOCK;
  const hostFd = fs.openSync(r.host, flags, 0o666);
  let kind: FileKind;
  try {
    kind = fileKind(fs.fstatSync(hostFd));
    if (kind === 'directory') throw new FsError('EISDIR'); // swapped in meanwhile
  } catch (e) {
    fs.closeSync(hostFd);
    throw e;
  }
  return { kind: 'file', hostFd, hostPath: r.host, fileKind: kind };
}

/** The target of the symlink `path` names (EINVAL if it is not one). */
export function readlinkAt(dir: DirRef, path: string): Buffer {
  const r = resolvePath(dir, path, 'nofollow');
  if (!r.stat) throw new FsError('ENOENT');
  if (!r.stat.isSymbolicLink()) throw new FsError('EINVAL');
  return fs.readlinkSync(r.host, { encoding: 'buffer' });
}

export function removeDirectoryAt(dir: DirRef, path: string): void {
  const r = resolvePath(dir, path, 'entry');
  if (r.name === null) throw new FsError('EINVAL'); // rmdir(".")
  fs.rmdirSync(entryHostPath(r));
}

export function renameAt(from: DirRef, oldPath: string, to: DirRef, newPath: string): void {
  const a = resolvePath(from, oldPath, 'entry');
  const b = resolvePath(to, newPath, 'entry');
  if (a.name === null || b.name === null) throw new FsError('EBUSY');
  fs.renameSync(entryHostPath(a), entryHostPath(b));
}

/** A symlink `path` → `target`; a target that would lead outside `dir` is refused. */
export function symlinkAt(target: string, dir: DirRef, path: string): void {
  const r = resolvePath(dir, path, 'entry');
  if (r.name === null) throw new FsError('EEXIST');
  checkSymlinkTarget(target, r.parentRel);
  fs.symlinkSync(target, entryHostPath(r));
}

export function unlinkFileAt(dir: DirRef, path: string): void {
  const r = resolvePath(dir, path, 'entry');
  if (r.name === null) throw new FsError('EISDIR');
  fs.unlinkSync(entryHostPath(r));
}
