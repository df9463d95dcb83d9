// sock_accept, sock_recv, sock_send, sock_shutdown, and the socket side of fd_read/fd_write/fd_close:
// a thin translation onto the network core. Blocking calls return synchronously when the core can
// answer now and hand JSPI a Promise only when the guest really has to wait.
import { errno, fdflags, riflags, sdflags, RIGHTS_SOCKET } from './abi.ts';
import type { ImportGroup, P1Context } from './context.ts';
import type { FdEntry, ListenerFd, SocketFd } from './fds.ts';
import { WasiError } from './errors.ts';
import type { TcpConnection } from '../../net/types.ts';

export type SocketEntry = SocketFd | ListenerFd;

const isSocket = (e: FdEntry): e is SocketEntry => e.kind === 'socket' || e.kind === 'listener';

/** The connection behind `fd`: EBADF if none, ENOTSOCK for a non-socket, ENOTCONN for a listener. */
function connectionOf(ctx: P1Context, fd: number): SocketFd {
  const e = ctx.fds.get(fd);
  if (e.kind === 'socket') return e;
  if (e.kind === 'listener') throw new WasiError(errno.notconn);
  throw new WasiError(errno.notsock);
}

/** Checks the iovec array and every buffer it names before anything waits, so that a bad pointer
 *  fails at once with EFAULT. Returns the total capacity. */
function capacity(ctx: P1Context, iovs: number, iovsLen: number): number {
  let n = 0;
  for (const v of ctx.mem.iovecs(iovs, iovsLen)) n += v.length;
  return n;
}

/** Copies buffered bytes into the iovecs, starting `skip` bytes in. Returns bytes copied, 0 at end
 *  of stream, -1 when nothing is buffered. Views are taken afresh: memory may have grown meanwhile. */
function recvInto(ctx: P1Context, conn: TcpConnection, iovs: number, iovsLen: number, peek: boolean, skip: number): number {
  const bufs = ctx.mem.iovecs(iovs, iovsLen);
  if (peek && bufs.length > 1) return peekScatter(conn, bufs);
  let total = 0;
  for (let b of bufs) {
    if (skip >= b.length) { skip -= b.length; continue; }
    if (skip > 0) { b = b.subarray(skip); skip = 0; }
    if (b.length === 0) continue;
    const n = conn.read(b, peek);
    if (n < 0 || n === 0) return total > 0 ? total : n;
    total += n;
    if (n < b.length) break;
  }
  return total;
}

/** A peek must not consume, so a multi-buffer peek reads once into a scratch buffer and scatters. */
function peekScatter(conn: TcpConnection, bufs: Uint8Array[]): number {
  const want = bufs.reduce((a, b) => a + b.length, 0);
  const tmp = new Uint8Array(Math.min(want, Math.max(conn.bufferedBytes, 1)));
  const n = conn.read(tmp, true);
  if (n <= 0) return n;
  let off = 0;
  for (const b of bufs) {
    if (off >= n) break;
    const k = Math.min(b.length, n - off);
    b.set(tmp.subarray(off, off + k));
    off += k;
  }
  return n;
}

/** The shared receive path of sock_recv and fd_read. Resolves to an errno; the byte count goes to
 *  `outPtr`. WAITALL keeps reading until the buffers are full or the stream ends. */
function recv(ctx: P1Context, e: SocketFd, iovs: number, iovsLen: number, flags: number, outPtr: number): number | Promise<number> {
  const want = capacity(ctx, iovs, iovsLen);
  ctx.mem.check(outPtr, 4);
  const peek = (flags & riflags.recv_peek) !== 0;
  const waitAll = (flags & riflags.recv_waitall) !== 0 && !peek;
  const n = recvInto(ctx, e.conn, iovs, iovsLen, peek, 0);
  if (n >= 0 && (!waitAll || n === 0 || n >= want)) return done(ctx, outPtr, n);
  if (n < 0 && want === 0) return done(ctx, outPtr, 0);
  if (e.fdflags & fdflags.nonblock) {
    if (n > 0) return done(ctx, outPtr, n);
    throw new WasiError(errno.again);
  }
  return (async () => {
    let got = Math.max(n, 0);
    for (;;) {
      await e.conn.waitReadable();
      const k = recvInto(ctx, e.conn, iovs, iovsLen, peek, got);
      if (k < 0) continue;
      got += k;
      if (!waitAll || k === 0 || got >= want) return done(ctx, outPtr, got);
    }
  })();
}

function done(ctx: P1Context, outPtr: number, n: number): number {
  ctx.mem.setU32(outPtr, n);
  return errno.success;
}

/** Gathers the ciovecs into one copy (single-buffer sends pass the view; the core copies). */
function gather(ctx: P1Context, iovs: number, iovsLen: number): Uint8Array {
  const bufs = ctx.mem.iovecs(iovs, iovsLen);
  if (bufs.length === 1) return bufs[0]!;
  const out = new Uint8Array(bufs.reduce((a, b) => a + b.length, 0));
  let off = 0;
  for (const b of bufs) { out.set(b, off); off += b.length; }
  return out;
}

/** The shared send path of sock_send and fd_write: queues all bytes, waiting for room when the
 *  socket's send buffer is over its limit (backpressure) unless the fd is non-blocking. */
function send(ctx: P1Context, e: SocketFd, iovs: number, iovsLen: number, outPtr: number): number | Promise<number> {
  ctx.mem.check(outPtr, 4);
  const data = gather(ctx, iovs, iovsLen);
  if (data.length === 0) return done(ctx, outPtr, 0);
  if (e.conn.write(data) > 0) return done(ctx, outPtr, data.length);
  if (e.fdflags & fdflags.nonblock) throw new WasiError(errno.again);
  const copy = data.slice(); // the guest's view is not ours to keep across the wait
  return (async () => {
    for (;;) {
      await e.conn.waitWritable();
      if (e.conn.write(copy) > 0) return done(ctx, outPtr, copy.length);
    }
  })();
}

/** fd_read on a socket fd. */
export function socketReadv(ctx: P1Context, e: SocketEntry, iovs: number, iovsLen: number, nreadPtr: number): number | Promise<number> {
  if (e.kind === 'listener') throw new WasiError(errno.notconn);
  return recv(ctx, e, iovs, iovsLen, 0, nreadPtr);
}

/** fd_write on a socket fd. */
export function socketWritev(ctx: P1Context, e: SocketEntry, iovs: number, iovsLen: number, nwrittenPtr: number): number | Promise<number> {
  if (e.kind === 'listener') throw new WasiError(errno.notconn);
  return send(ctx, e, iovs, iovsLen, nwrittenPtr);
}

/** fd_close on a socket fd (the fd is already out of the table). */
export function socketClose(e: SocketEntry): void {
  if (e.kind === 'socket') e.conn.close();
  else e.listener.close();
}

export function socketImports(ctx: P1Context): ImportGroup {
  return {
    suspending: ['sock_accept', 'sock_recv', 'sock_send'],
    functions: {
      sock_accept(fd: number, flags: number, fdPtr: number): number | Promise<number> {
        const e = ctx.fds.get(fd);
        if (!isSocket(e)) throw new WasiError(errno.notsock);
        if (e.kind !== 'listener') throw new WasiError(errno.inval);
        if (flags & ~fdflags.nonblock) throw new WasiError(errno.inval);
        ctx.mem.check(fdPtr, 4);
        const take = (): number => {
          const conn = e.listener.accept();
          if (!conn) return -1;
          const newFd = ctx.fds.add({ kind: 'socket', conn, rightsBase: RIGHTS_SOCKET, rightsInheriting: 0n, fdflags: flags });
          ctx.mem.setU32(fdPtr, newFd);
          return errno.success;
        };
        const r = take();
        if (r >= 0) return r;
        if (e.fdflags & fdflags.nonblock) throw new WasiError(errno.again);
        return (async () => {
          for (;;) {
            await e.listener.waitAcceptable();
            const r = take();
            if (r >= 0) return r;
          }
        })();
      },
      sock_recv(fd: number, iovs: number, iovsLen: number, flags: number, nreadPtr: number, roflagsPtr: number) {
        const e = connectionOf(ctx, fd);
        if (flags & ~(riflags.recv_peek | riflags.recv_waitall)) throw new WasiError(errno.inval);
        ctx.mem.setU16(roflagsPtr, 0); // stream sockets never truncate
        return recv(ctx, e, iovs, iovsLen, flags, nreadPtr);
      },
      sock_send(fd: number, iovs: number, iovsLen: number, _flags: number, nwrittenPtr: number) {
        return send(ctx, connectionOf(ctx, fd), iovs, iovsLen, nwrittenPtr);
      },
      sock_shutdown(fd: number, how: number): number {
        const e = ctx.fds.get(fd);
        if (!isSocket(e)) throw new WasiError(errno.notsock);
        if (how === 0 || (how & ~(sdflags.rd | sdflags.wr))) throw new WasiError(errno.inval);
        if (e.kind === 'listener') throw new WasiError(errno.notconn);
        e.conn.shutdown(how === (sdflags.rd | sdflags.wr) ? 'both' : how === sdflags.rd ? 'read' : 'write');
        return errno.success;
      },
    },
  };
}
