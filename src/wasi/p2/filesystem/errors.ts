// wasi:filesystem error codes, from what the host filesystem layer (src/fs) and node:fs throw.
import { fsErrorCode } from '../../../fs/errors.ts';

export type ErrorCode =
  | 'access' | 'would-block' | 'already' | 'bad-descriptor' | 'busy' | 'deadlock' | 'quota' | 'exist'
  | 'file-too-large' | 'illegal-byte-sequence' | 'in-progress' | 'interrupted' | 'invalid' | 'io'
  | 'is-directory' | 'loop' | 'too-many-links' | 'message-size' | 'name-too-long' | 'no-device'
  | 'no-entry' | 'no-lock' | 'insufficient-memory' | 'insufficient-space' | 'not-directory'
  | 'not-empty' | 'not-recoverable' | 'unsupported' | 'no-tty' | 'no-such-device' | 'overflow'
  | 'not-permitted' | 'pipe' | 'read-only' | 'invalid-seek' | 'text-file-busy' | 'cross-device';

const BY_ERRNO: Record<string, ErrorCode> = {
  EACCES: 'access', EAGAIN: 'would-block', EWOULDBLOCK: 'would-block', EALREADY: 'already',
  EBADF: 'bad-descriptor', EBUSY: 'busy', EDEADLK: 'deadlock', EDQUOT: 'quota', EEXIST: 'exist',
  EFBIG: 'file-too-large', EILSEQ: 'illegal-byte-sequence', EINPROGRESS: 'in-progress',
  EINTR: 'interrupted', EINVAL: 'invalid', EIO: 'io', EISDIR: 'is-directory', ELOOP: 'loop',
  EMLINK: 'too-many-links', EMSGSIZE: 'message-size', ENAMETOOLONG: 'name-too-long',
  ENODEV: 'no-device', ENOENT: 'no-entry', ENOLCK: 'no-lock', ENOMEM: 'insufficient-memory',
  ENOSPC: 'insufficient-space', ENOTDIR: 'not-directory', ENOTEMPTY: 'not-empty',
  ENOTRECOVERABLE: 'not-recoverable', ENOTSUP: 'unsupported', EOPNOTSUPP: 'unsupported',
  ENOSYS: 'unsupported', ENOTTY: 'no-tty', ENXIO: 'no-such-device', EOVERFLOW: 'overflow',
  EPERM: 'not-permitted', EPIPE: 'pipe', EROFS: 'read-only', ESPIPE: 'invalid-seek',
  ETXTBSY: 'text-file-busy', EXDEV: 'cross-device',
  // A path that would leave its directory: what the wasi:filesystem spec asks for.
  ENOTCAPABLE: 'not-permitted',
};

/** The error-code for a filesystem failure, or undefined for anything else. */
export function errorCodeOf(e: unknown): ErrorCode | undefined {
  const errno = fsErrorCode(e);
  return errno === undefined ? undefined : (BY_ERRNO[errno] ?? 'io');
}

/** Runs `fn`, turning filesystem failures into the error-code jco lowers as `err` (a thrown string).
 *  An error-code thrown by `fn` itself passes through; anything else is a host bug and propagates. */
export function attempt<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (typeof e === 'string') throw e;
    const code = errorCodeOf(e);
    if (code === undefined) throw e;
    throw code;
  }
}
