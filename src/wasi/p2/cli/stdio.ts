// The host side of stdin/stdout/stderr for 0.2 guests: a ByteSource over a readable host fd and a
// ByteSink over a writable one.
//
// stdin is never read by a blocking read on the event loop: a guest waiting for input suspends
// while Node goes on serving other work. The process's own stdin is read through process.stdin,
// which keeps the process alive only while a guest is actually waiting on it, so a guest that stops
// reading (or exits) does not leave wasinet hanging on a terminal or an open pipe.
//
// stdout/stderr are written with fs.writeSync, in order with everything else the process writes.
// When the fd is non-blocking and full (EAGAIN: a pipe Node made non-blocking), the rest is queued
// and written as the fd drains; the sink reports no capacity while too much is queued, so a guest
// that writes faster than its reader waits instead of growing the queue.
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { Readiness } from '../../../net/pollable.ts';
import type { Waker } from '../../../net/types.ts';
import { END, type ByteSink, type ByteSource } from '../io/streams.ts';
import type { ReadySource } from '../io/poll.ts';

const QUEUE_LIMIT = 1 << 20;
const READ_CHUNK = 65536;
const RETRY_MIN_MS = 1;
const RETRY_MAX_MS = 50;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function isEagain(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK';
}

type RefReadable = Readable & { ref?(): unknown; unref?(): unknown };

/** What both stdin sources share: the chunk read ahead (handed out in pieces as the guest asks),
 *  and how the stream ended. */
abstract class ChunkSource implements ByteSource {
  protected chunk: Buffer | null = null;
  protected ended = false;
  protected error: unknown = undefined;
  abstract readonly readable: ReadySource;

  /** Whether read() would return something now (a chunk, the end, an error); may start a read. */
  protected abstract available(): boolean;

  read(max: number): Uint8Array | null | typeof END {
    if (!this.available()) return null;
    const c = this.chunk;
    if (c) {
      if (c.length <= max) {
        this.chunk = null;
        return c;
      }
      this.chunk = c.subarray(max);
      return c.subarray(0, max);
    }
    if (this.error !== undefined) throw this.error;
    return END;
  }
}

/** A ByteSource over a Node readable stream (paused mode: data is pulled as the guest asks). */
export class ReadableSource extends ChunkSource {
  readonly #stream: RefReadable;
  #attached = false;
  #waiters = 0;
  readonly #readiness: Readiness;
  readonly readable: ReadySource;

  constructor(stream: Readable) {
    super();
    this.#stream = stream as RefReadable;
    this.#readiness = new Readiness(() => this.available());
    const readiness = this.#readiness;
    const self = this;
    this.readable = {
      get ready() {
        return self.available();
      },
      subscribe(w: Waker) {
        readiness.subscribe(w);
        if (++self.#waiters === 1) self.#stream.ref?.();
        self.available(); // starts a read if there is nothing yet
      },
      unsubscribe(w: Waker) {
        readiness.unsubscribe(w);
        if (self.#waiters > 0 && --self.#waiters === 0) self.#stream.unref?.();
      },
    };
  }

  #attach(): void {
    if (this.#attached) return;
    this.#attached = true;
    const s = this.#stream;
    s.on('readable', () => this.#readiness.notify());
    s.on('end', () => {
      this.ended = true;
      this.#readiness.notify();
    });
    s.on('error', (e) => {
      this.error = e;
      this.#readiness.notify();
    });
    s.on('close', () => this.#readiness.notify());
    // Nobody waits yet: reading ahead must not keep the process alive.
    if (this.#waiters === 0) s.unref?.();
  }

  /** Makes sure a chunk is at hand when the stream has one; true if read() would not return null. */
  protected available(): boolean {
    if (this.chunk || this.ended || this.error !== undefined) return true;
    this.#attach();
    const s = this.#stream;
    const c = s.read() as Buffer | string | null;
    if (c !== null && c.length > 0) {
      this.chunk = typeof c === 'string' ? Buffer.from(c) : c;
      return true;
    }
    if (s.readableEnded || s.destroyed) this.ended = true;
    if (s.errored) this.error = s.errored;
    return this.ended || this.error !== undefined;
  }

}

/** A ByteSource over any readable host fd: one asynchronous read (libuv's thread pool) at a time,
 *  started when the guest asks, so the event loop never blocks. A non-blocking fd with nothing to
 *  read is tried again a little later, for as long as a guest waits on it. */
export class FdReadSource extends ChunkSource {
  readonly #fd: number;
  #pending = false;
  #waiters = 0;
  #retryDelay = RETRY_MIN_MS;
  readonly #readiness: Readiness;
  readonly readable: ReadySource;

  constructor(fd: number) {
    super();
    this.#fd = fd;
    this.#readiness = new Readiness(() => this.available());
    const self = this;
    const readiness = this.#readiness;
    this.readable = {
      get ready() {
        return self.available();
      },
      subscribe(w: Waker) {
        readiness.subscribe(w);
        self.#waiters++;
        self.available(); // a read must be under way for the waker to be called
      },
      unsubscribe(w: Waker) {
        readiness.unsubscribe(w);
        if (self.#waiters > 0) self.#waiters--;
      },
    };
  }

  protected available(): boolean {
    if (this.chunk || this.ended || this.error !== undefined) return true;
    if (!this.#pending) this.#start();
    return false;
  }

  #start(): void {
    this.#pending = true;
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    fs.read(this.#fd, buf, 0, buf.length, null, (err, n) => {
      if (err && isEagain(err)) {
        // Nothing there yet on a non-blocking fd: look again later if someone waits (the next
        // read() or wait starts a new attempt otherwise).
        if (this.#waiters > 0) {
          setTimeout(() => this.#start(), this.#retryDelay);
          this.#retryDelay = Math.min(this.#retryDelay * 2, RETRY_MAX_MS);
        } else {
          this.#pending = false;
        }
        return;
      }
      this.#pending = false;
      this.#retryDelay = RETRY_MIN_MS;
      if (err) this.error = err;
      else if (n === 0) this.ended = true;
      else this.chunk = buf.subarray(0, n);
      this.#readiness.notify();
    });
  }

}

let processStdin: ReadableSource | undefined;

/** The guest's stdin for host fd `fd`. Fd 0 is the process's own stdin (process.stdin, shared by
 *  every guest of this process: it can only be opened once); any other fd an embedder passes is
 *  read directly, by a source of its own. */
export function stdinSource(fd: number): ByteSource {
  if (fd !== 0) return new FdReadSource(fd);
  processStdin ??= new ReadableSource(process.stdin);
  return processStdin;
}

/** A ByteSink over a writable host fd. */
export class FdSink implements ByteSink {
  readonly #fd: number;
  #queue: Buffer[] = [];
  #queued = 0;
  #error: unknown = undefined;
  #draining: Promise<void> | null = null;
  readonly #readiness = new Readiness(() => this.#queued < QUEUE_LIMIT || this.#error !== undefined);

  constructor(fd: number) {
    this.#fd = fd;
  }

  get writable(): ReadySource {
    return this.#readiness;
  }

  capacity(): number {
    if (this.#error !== undefined) throw this.#error;
    return this.#queued === 0 ? QUEUE_LIMIT : Math.max(0, QUEUE_LIMIT - this.#queued);
  }

  write(data: Uint8Array): void {
    if (this.#error !== undefined) throw this.#error;
    if (this.#queued > 0) {
      this.#enqueue(data);
      return;
    }
    let off = 0;
    while (off < data.length) {
      try {
        off += fs.writeSync(this.#fd, data, off, data.length - off);
      } catch (e) {
        if (!isEagain(e)) {
          this.#error = e;
          throw e;
        }
        this.#enqueue(data.subarray(off));
        return;
      }
    }
  }

  #enqueue(data: Uint8Array): void {
    this.#queue.push(Buffer.from(data)); // a copy: the guest's memory is not ours to keep
    this.#queued += data.length;
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = null;
    });
  }

  async #drain(): Promise<void> {
    let delay = RETRY_MIN_MS;
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      try {
        const n = fs.writeSync(this.#fd, head);
        this.#queued -= n;
        if (n === head.length) this.#queue.shift();
        else this.#queue[0] = head.subarray(n);
        delay = RETRY_MIN_MS;
        this.#readiness.notify();
      } catch (e) {
        if (!isEagain(e)) {
          this.#error = e;
          this.#queue = [];
          this.#queued = 0;
          this.#readiness.notify();
          return;
        }
        await sleep(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  /** Resolves when everything queued has been written (or failed). */
  drained(): Promise<void> {
    return this.#draining ?? Promise.resolve();
  }
}

const sinks = new Map<number, FdSink>();

/** The sink for host fd `fd`. The process's own stdout and stderr are shared by every guest of
 *  this process, so that output queued for them stays in order; other fds get a sink of their own. */
export function stdioSink(fd: number): FdSink {
  if (fd !== 1 && fd !== 2) return new FdSink(fd);
  let s = sinks.get(fd);
  if (!s) {
    s = new FdSink(fd);
    sinks.set(fd, s);
  }
  return s;
}
