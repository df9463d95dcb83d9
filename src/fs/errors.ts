// Failures of the host filesystem layer, named like POSIX errnos ('ENOENT', 'ELOOP', ...), the names
// Node's own fs errors carry in `code`. Each ABI maps both to what its guests see (a p1 errno, a
// wasi:filesystem error-code). ENOTCAPABLE is WASI's: a path that would leave its directory.

export type FsErrorCode =
  | 'ENOTCAPABLE' | 'ENOENT' | 'ENOTDIR' | 'EISDIR' | 'EEXIST' | 'EINVAL' | 'ELOOP' | 'EPERM'
  | 'EBUSY' | 'EFBIG' | 'ESPIPE' | 'EBADF' | 'EILSEQ' | 'ENAMETOOLONG' | 'EACCES' | 'EIO';

export class FsError extends Error {
  readonly code: FsErrorCode;

  constructor(code: FsErrorCode, message?: string) {
    super(message ?? code);
    this.code = code;
  }
}

/** The errno name of anything a filesystem call threw: an FsError's or a Node fs error's `code`,
 *  or undefined for anything else (a bug, not a filesystem condition). */
export function fsErrorCode(e: unknown): string | undefined {
  if (e instanceof FsError) return e.code;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('E') ? code : undefined;
}
