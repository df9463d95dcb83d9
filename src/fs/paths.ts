// Guest path resolution, confined to the directory the path is relative to. Shared by every ABI
// (a p1 directory fd, a wasi:filesystem descriptor).
//
// Paths are never handed to the host as the guest wrote them. They are walked here one component
// at a time from the directory fd, with every symlink on the way read and expanded by us, so the
// host path we end up with has no symlinks in it (except, on request, a final one) and provably
// stays under that directory. As in WASI's capability model (and wasmtime/cap-std), every
// directory fd is its own sandbox: a path relative to a subdirectory fd may not climb out of that
// subdirectory either, even when it would still be inside the preopen (which, being a directory fd
// too, is the outermost bound).
//   - absolute paths, and absolute symlink targets, are refused (ENOTCAPABLE);
//   - `..` is applied to the resolved (physical) directory and may not climb above the fd's;
//   - at most MAX_SYMLINKS symlinks are expanded per lookup (ELOOP beyond);
//   - a path ending in `/` must name a directory (so a final symlink is followed, as POSIX does).
// What remains is the usual check-then-use window: a directory swapped for a symlink between our
// walk and the syscall. Files are opened with O_NOFOLLOW to close the last step of that window.
import fs, { type BigIntStats } from 'node:fs';
import { FsError } from './errors.ts';

/** A directory a path is resolved from: paths relative to it may not leave it. */
export interface DirRef {
  /** Absolute host path of the directory. */
  readonly hostPath: string;
}

export const MAX_SYMLINKS = 40; // Linux's MAXSYMLINKS

/** How the final component is treated:
 *  - `follow`: a final symlink is expanded;
 *  - `nofollow`: a final symlink is returned as is (unless the path ends in `/`);
 *  - `entry`: the final component is not looked at at all: for operations on the directory entry
 *    itself (create, unlink, rename, ...), which the host kernel never resolves through. */
export type FinalMode = 'follow' | 'nofollow' | 'entry';

export interface Resolved {
  /** Host path of the final object (no trailing slash). */
  host: string;
  /** The final component's name, or null when the path names the directory it ended in (`.`,
   *  `..`, `a/..`): such a path has no entry to create or remove. */
  name: string | null;
  /** The guest path ended in `/`: the object must be a directory. */
  dirOnly: boolean;
  /** lstat of `host` (modes follow/nofollow), undefined if it does not exist (or mode entry). */
  stat: BigIntStats | undefined;
  /** Components from the directory fd to the directory holding the final component. */
  parentRel: readonly string[];
}

export function hostJoin(root: string, rel: readonly string[]): string {
  if (rel.length === 0) return root;
  return root.endsWith('/') ? root + rel.join('/') : `${root}/${rel.join('/')}`;
}

/** Checks a guest path string for things no host call should see. */
export function checkGuestPath(p: string): void {
  if (p.length === 0) throw new FsError('ENOENT');
  if (p.includes('\0')) throw new FsError('EINVAL');
  if (p.startsWith('/')) throw new FsError('ENOTCAPABLE');
}

function splitComponents(p: string): string[] {
  return p.split('/').filter((c) => c !== '');
}

function lstat(host: string): BigIntStats | undefined {
  return fs.lstatSync(host, { bigint: true, throwIfNoEntry: false });
}

/** Resolves `guestPath` relative to `dir`, confined to `dir.hostPath`. Throws an FsError (or a Node fs
 *  error) on failure. A missing final component is not an error
 *  (`stat` is undefined); a missing intermediate one is (ENOENT). */
export function resolvePath(dir: DirRef, guestPath: string, mode: FinalMode): Resolved {
  checkGuestPath(guestPath);
  let dirOnly = guestPath.endsWith('/');
  const base = dir.hostPath;
  const stack: string[] = [];
  const pending = splitComponents(guestPath);
  let links = 0;
  let name: string | null = null;

  while (pending.length > 0) {
    const c = pending.shift()!;
    const last = pending.length === 0;
    if (c === '.' || c === '..') {
      if (c === '..') {
        if (stack.length === 0) throw new FsError('ENOTCAPABLE');
        stack.pop();
      }
      if (last) name = null;
      continue;
    }
    const host = hostJoin(base, [...stack, c]);
    if (last && (mode === 'entry' || (mode === 'nofollow' && !dirOnly))) {
      if (mode === 'entry') return { host, name: c, dirOnly, stat: undefined, parentRel: stack };
      return { host, name: c, dirOnly, stat: lstat(host), parentRel: stack };
    }
    const st = lstat(host);
    if (!st) {
      if (last) return { host, name: c, dirOnly, stat: undefined, parentRel: stack };
      throw new FsError('ENOENT');
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) throw new FsError('ELOOP');
      const target = fs.readlinkSync(host, 'utf8');
      if (target.length === 0) throw new FsError('ENOENT');
      if (target.startsWith('/')) throw new FsError('ENOTCAPABLE');
      if (last && target.endsWith('/')) dirOnly = true;
      const expanded = splitComponents(target);
      // A target of only slashes/dots still resolves (to the link's own directory).
      pending.unshift(...(expanded.length > 0 ? expanded : ['.']));
      continue;
    }
    if (!last) {
      if (!st.isDirectory()) throw new FsError('ENOTDIR');
      stack.push(c);
      continue;
    }
    return { host, name: c, dirOnly, stat: st, parentRel: stack };
  }
  // The path ended in `.` or `..` (or only those): it names the directory we are in.
  const host = hostJoin(base, stack);
  const parentRel = stack.slice(0, -1);
  return { host, name, dirOnly: true, stat: mode === 'entry' ? undefined : lstat(host), parentRel };
}

/** For `entry`-mode results: the host path to give the kernel, with the guest's trailing slash
 *  kept, so that the kernel applies its own rules for it (unlink("file/") is ENOTDIR, rmdir("dir/")
 *  works, ...). These calls never follow a final symlink, trailing slash or not. */
export function entryHostPath(r: Resolved): string {
  return r.dirOnly ? `${r.host}/` : r.host;
}

/** A lexical check that a symlink target, read from the link's directory, stays inside the
 *  directory fd it is created through,
 *  so a guest cannot plant a link that leads host-side tools out of the sandbox. (Our own
 *  resolution would refuse to follow it anyway.) */
export function checkSymlinkTarget(target: string, linkParentRel: readonly string[]): void {
  if (target.length === 0) throw new FsError('ENOENT');
  if (target.includes('\0')) throw new FsError('EINVAL');
  if (target.startsWith('/')) throw new FsError('ENOTCAPABLE');
  let depth = linkParentRel.length;
  for (const c of splitComponents(target)) {
    if (c === '.') continue;
    if (c === '..') {
      if (--depth < 0) throw new FsError('ENOTCAPABLE');
    } else {
      depth++;
    }
  }
}
