import { errno, type Errno } from './abi.ts';
import { NetError, type NetErrorCode } from '../../net/types.ts';
import { FsError } from '../../fs/errors.ts';

/** Thrown inside an import to return `errno` to the guest. */
export class WasiError extends Error {
  readonly errno: Errno;
  constructor(code: Errno, message?: string) {
    super(message ?? `errno ${code}`);
    this.errno = code;
  }
}

/** Thrown by proc_exit; unwinds the guest and carries its exit code to the runner. */
export class ProcExit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`proc_exit(${code})`);
    this.code = code;
  }
}

const NET_ERRNO: Record<NetErrorCode, Errno> = {
  EACCES: errno.acces, EAGAIN: errno.again, EADDRINUSE: errno.addrinuse, EADDRNOTAVAIL: errno.addrnotavail,
  ECONNREFUSED: errno.connrefused, ECONNRESET: errno.connreset, ECONNABORTED: errno.connaborted,
  EHOSTUNREACH: errno.hostunreach, ENETUNREACH: errno.netunreach, ETIMEDOUT: errno.timedout, EPIPE: errno.pipe,
  ENOTCONN: errno.notconn, EMFILE: errno.mfile, ENOBUFS: errno.nobufs, EINVAL: errno.inval, ENOENT: errno.noent,
  EIO: errno.io,
};

/** Node's `err.code` strings for filesystem errors, mapped to WASI errnos. */
const NODE_ERRNO: Record<string, Errno> = {
  E2BIG: errno['2big'], EACCES: errno.acces, EADDRINUSE: errno.addrinuse, EAGAIN: errno.again,
  EBADF: errno.badf, EBUSY: errno.busy, EEXIST: errno.exist, EFAULT: errno.fault, EFBIG: errno.fbig,
  EILSEQ: errno.ilseq, EINTR: errno.intr, EINVAL: errno.inval, EIO: errno.io, EISDIR: errno.isdir, ELOOP: errno.loop,
  EMFILE: errno.mfile, EMLINK: errno.mlink, ENAMETOOLONG: errno.nametoolong, ENFILE: errno.nfile,
  ENODEV: errno.nodev, ENOENT: errno.noent, ENOMEM: errno.nomem, ENOSPC: errno.nospc, ENOSYS: errno.nosys,
  ENOTDIR: errno.notdir, ENOTEMPTY: errno.notempty, ENOTSUP: errno.notsup, EOPNOTSUPP: errno.notsup,
  ENOTTY: errno.notty, ENXIO: errno.nxio, EOVERFLOW: errno.overflow, EPERM: errno.perm, EPIPE: errno.pipe,
  ERANGE: errno.range, EROFS: errno.rofs, ESPIPE: errno.spipe, ETXTBSY: errno.txtbsy, EXDEV: errno.xdev,
  ECONNRESET: errno.connreset, ECONNREFUSED: errno.connrefused, ENOTCONN: errno.notconn,
  ETIMEDOUT: errno.timedout,
};

/** Maps anything an import threw to the errno the guest sees. ProcExit and non-errors are rethrown. */
export function toErrno(e: unknown): Errno {
  if (e instanceof WasiError) return e.errno;
  if (e instanceof NetError) return NET_ERRNO[e.code];
  if (e instanceof FsError) return e.code === 'ENOTCAPABLE' ? errno.notcapable : (NODE_ERRNO[e.code] ?? errno.io);
  if (e instanceof ProcExit) throw e;
  if (e instanceof RangeError) return errno.fault; // a typed-array view past the end of memory
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in NODE_ERRNO) return NODE_ERRNO[code]!;
  return errno.io;
}
