// The guest's stdin/stdout/stderr.
//
// Writes are synchronous (fs.writeSync), like a blocking write(2) would be for the guest, so output
// order is kept and nothing is buffered on our side. If the host fd is non-blocking (a pipe someone
// put in O_NONBLOCK) and full, the rest is written asynchronously instead of spinning: fd_write is
// a suspending import, so the guest waits while Node's event loop keeps running.
//
// Reads must never block Node's event loop (the guest's sockets live on it), so stdin is read with
// the callback form of fs.read (libuv's thread pool) and the guest is suspended until it completes.
import fs from 'node:fs';
import tty from 'node:tty';
import { errno, fdflags, filetype } from '../abi.ts';
import type { P1Context } from '../context.ts';
import { WasiError } from '../errors.ts';
import type { StdioFd } from './types.ts';
import { filetypeOf } from './stat.ts';

const RETRY_MIN_MS = 1;
const RETRY_MAX_MS = 50;
const READ_CHUNK = 65536;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function isEagain(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
}

/** The WASI filetype the guest sees for a stdio fd: a terminal is a character device, a redirect
 *  to a file a regular file; pipes have no WASI type (unknown). */
export function stdioFiletype(e: StdioFd): number {
  if (tty.isatty(e.hostFd)) return filetype.character_device;
  try {
    const st = fs.fstatSync(e.hostFd);
    return st.isFIFO() ? filetype.unknown : filetypeOf(st);
  } catch {
    return filetype.unknown;
  }
}

async function writeRestAsync(hostFd: number, rest: Buffer, done: number): Promise<number> {
  let delay = RETRY_MIN_MS;
  let off = 0;
  while (off < rest.length) {
    try {
      off += fs.writeSync(hostFd, rest, off, rest.length - off);
      delay = RETRY_MIN_MS;
    } catch (e) {
      if (!isEagain(e)) {
        if (done + off > 0) return done + off; // report what got out; the error recurs next time
        throw e;
      }
      await sleep(delay);
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    }
  }
  return done + off;
}

/** fd_write on stdio: writes all of `iovs` to the host fd. */
export function stdioWrite(ctx: P1Context, e: StdioFd, iovs: Uint8Array[], nwrittenPtr: number): number | Promise<number> {
  let done = 0;
  for (let i = 0; i < iovs.length; i++) {
    const b = iovs[i]!;
    let off = 0;
    while (off < b.length) {
      try {
        off += fs.writeSync(e.hostFd, b, off, b.length - off);
      } catch (err) {
        if (!isEagain(err)) {
          if (done + off > 0) { // a short write, then an error: report the short write
            ctx.mem.setU32(nwrittenPtr, done + off);
            return errno.success;
          }
          throw err;
        }
        // Copy what is left: guest memory views do not survive the suspension.
        const rest = Buffer.concat([b.subarray(off), ...iovs.slice(i + 1)]);
        return writeRestAsync(e.hostFd, rest, done + off).then((n) => {
          ctx.mem.setU32(nwrittenPtr, n);
          return errno.success;
        });
      }
    }
    done += b.length;
  }
  ctx.mem.setU32(nwrittenPtr, done);
  return errno.success;
}

function readAsync(hostFd: number, buf: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(hostFd, buf, 0, buf.length, null, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

/** fd_read on stdio: suspends the guest until the host fd has data (or EOF). */
export function stdioRead(ctx: P1Context, e: StdioFd, iovsPtr: number, iovsLen: number, nreadPtr: number): number | Promise<number> {
  const iovs = ctx.mem.iovecs(iovsPtr, iovsLen);
  ctx.mem.check(nreadPtr, 4);
  const want = iovs.reduce((n, b) => n + b.length, 0);
  if (want === 0) {
    ctx.mem.setU32(nreadPtr, 0);
    return errno.success;
  }
  const buf = Buffer.alloc(Math.min(want, READ_CHUNK));
  return (async () => {
    let delay = RETRY_MIN_MS;
    let n: number;
    for (;;) {
      try {
        n = await readAsync(e.hostFd, buf);
        break;
      } catch (err) {
        if (!isEagain(err) || (e.fdflags & fdflags.nonblock)) throw err;
        // A non-blocking stdin with nothing to read: the guest asked to block, so wait and retry.
        await sleep(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
    // Memory may have grown (and views died) while we waited: look the iovecs up again.
    const dst = ctx.mem.iovecs(iovsPtr, iovsLen);
    let off = 0;
    for (const d of dst) {
      if (off >= n) break;
      const k = Math.min(d.length, n - off);
      d.set(buf.subarray(off, off + k));
      off += k;
    }
    ctx.mem.setU32(nreadPtr, n);
    return errno.success;
  })();
}

export function stdioSeekError(): never {
  throw new WasiError(errno.spipe);
}
