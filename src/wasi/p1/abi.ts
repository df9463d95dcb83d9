// Constants of wasi_snapshot_preview1 (witx names, see WASI's preview1 `typenames.witx`).

export const errno = {
  success: 0, '2big': 1, acces: 2, addrinuse: 3, addrnotavail: 4, afnosupport: 5, again: 6, already: 7,
  badf: 8, badmsg: 9, busy: 10, canceled: 11, child: 12, connaborted: 13, connrefused: 14, connreset: 15,
  deadlk: 16, destaddrreq: 17, dom: 18, dquot: 19, exist: 20, fault: 21, fbig: 22, hostunreach: 23,
  idrm: 24, ilseq: 25, inprogress: 26, intr: 27, inval: 28, io: 29, isconn: 30, isdir: 31, loop: 32,
  mfile: 33, mlink: 34, msgsize: 35, multihop: 36, nametoolong: 37, netdown: 38, netreset: 39,
  netunreach: 40, nfile: 41, nobufs: 42, nodev: 43, noent: 44, noexec: 45, nolck: 46, nolink: 47,
  nomem: 48, nomsg: 49, noprotoopt: 50, nospc: 51, nosys: 52, notconn: 53, notdir: 54, notempty: 55,
  notrecoverable: 56, notsock: 57, notsup: 58, notty: 59, nxio: 60, overflow: 61, ownerdead: 62,
  perm: 63, pipe: 64, proto: 65, protonosupport: 66, prototype: 67, range: 68, rofs: 69, spipe: 70,
  srch: 71, stale: 72, timedout: 73, txtbsy: 74, xdev: 75, notcapable: 76,
} as const;
export type Errno = (typeof errno)[keyof typeof errno];

export const filetype = {
  unknown: 0, block_device: 1, character_device: 2, directory: 3, regular_file: 4,
  socket_dgram: 5, socket_stream: 6, symbolic_link: 7,
} as const;

export const fdflags = { append: 1, dsync: 2, nonblock: 4, rsync: 8, sync: 16 } as const;
export const oflags = { creat: 1, directory: 2, excl: 4, trunc: 8 } as const;
export const lookupflags = { symlink_follow: 1 } as const;
export const fstflags = { atim: 1, atim_now: 2, mtim: 4, mtim_now: 8 } as const;
export const whence = { set: 0, cur: 1, end: 2 } as const;
export const advice = { normal: 0, sequential: 1, random: 2, willneed: 3, dontneed: 4, noreuse: 5 } as const;
export const clockid = { realtime: 0, monotonic: 1, process_cputime_id: 2, thread_cputime_id: 3 } as const;
export const eventtype = { clock: 0, fd_read: 1, fd_write: 2 } as const;
export const subclockflags = { subscription_clock_abstime: 1 } as const;
export const eventrwflags = { fd_readwrite_hangup: 1 } as const;
export const riflags = { recv_peek: 1, recv_waitall: 2 } as const;
export const roflags = { recv_data_truncated: 1 } as const;
export const sdflags = { rd: 1, wr: 2 } as const;
export const preopentype = { dir: 0 } as const;

export const rights = {
  fd_datasync: 1n << 0n, fd_read: 1n << 1n, fd_seek: 1n << 2n, fd_fdstat_set_flags: 1n << 3n,
  fd_sync: 1n << 4n, fd_tell: 1n << 5n, fd_write: 1n << 6n, fd_advise: 1n << 7n, fd_allocate: 1n << 8n,
  path_create_directory: 1n << 9n, path_create_file: 1n << 10n, path_link_source: 1n << 11n,
  path_link_target: 1n << 12n, path_open: 1n << 13n, fd_readdir: 1n << 14n, path_readlink: 1n << 15n,
  path_rename_source: 1n << 16n, path_rename_target: 1n << 17n, path_filestat_get: 1n << 18n,
  path_filestat_set_size: 1n << 19n, path_filestat_set_times: 1n << 20n, fd_filestat_get: 1n << 21n,
  fd_filestat_set_size: 1n << 22n, fd_filestat_set_times: 1n << 23n, path_symlink: 1n << 24n,
  path_remove_directory: 1n << 25n, path_unlink_file: 1n << 26n, poll_fd_readwrite: 1n << 27n,
  sock_shutdown: 1n << 28n, sock_accept: 1n << 29n,
} as const;

const all = (...r: bigint[]) => r.reduce((a, b) => a | b, 0n);
export const RIGHTS_ALL = all(...Object.values(rights));
export const RIGHTS_FILE = all(
  rights.fd_datasync, rights.fd_read, rights.fd_seek, rights.fd_fdstat_set_flags, rights.fd_sync,
  rights.fd_tell, rights.fd_write, rights.fd_advise, rights.fd_allocate, rights.fd_filestat_get,
  rights.fd_filestat_set_size, rights.fd_filestat_set_times, rights.poll_fd_readwrite,
);
export const RIGHTS_DIR = RIGHTS_ALL & ~all(rights.fd_read, rights.fd_write, rights.fd_seek, rights.fd_tell,
  rights.fd_allocate, rights.fd_filestat_set_size, rights.sock_shutdown, rights.sock_accept, rights.fd_advise,
  rights.fd_datasync, rights.fd_sync);
export const RIGHTS_STDIO = all(rights.fd_read, rights.fd_write, rights.fd_fdstat_set_flags,
  rights.fd_filestat_get, rights.poll_fd_readwrite);
export const RIGHTS_SOCKET = all(rights.fd_read, rights.fd_write, rights.fd_fdstat_set_flags,
  rights.fd_filestat_get, rights.poll_fd_readwrite, rights.sock_shutdown);
export const RIGHTS_LISTENER = all(rights.fd_fdstat_set_flags, rights.fd_filestat_get,
  rights.poll_fd_readwrite, rights.sock_accept, rights.fd_read);
