// wasi:io/streams over two small host-side contracts, ByteSource and ByteSink, which sockets, HTTP
// bodies, stdio and files implement. The stream classes own the WASI semantics (permits, blocking
// variants, closed vs failed, splice); the sources and sinks only move bytes.
import { waitAny } from '../../../net/pollable.ts';
import { CLOSED, failed, IoError, type StreamError } from './error.ts';
import { Pollable, type ReadySource } from './poll.ts';

/** End of stream, as returned by ByteSource.read. */
export const END = Symbol('end of stream');

export interface ByteSource {
  /** Ready when read() would not return null. */
  readonly readable: ReadySource;
  /** Up to `max` (> 0) bytes available now: a non-empty array, null when none are there yet, or END.
   *  Throws for an error (an IoError, a NetError, or anything with a message). */
  read(max: number): Uint8Array | null | typeof END;
  /** The guest dropped the stream. */
  close?(): void;
}

export interface ByteSink {
  /** Ready when capacity() > 0 (or when it would throw). */
  readonly writable: ReadySource;
  /** How many bytes write() takes now; 0 means wait. Throws for an error, or CLOSED. */
  capacity(): number;
  /** Takes `data` (at most capacity() bytes). The sink copies what it keeps, unless `owned`: then
   *  nobody else holds the bytes (what a source handed out, for splice) and it may keep them. */
  write(data: Uint8Array, owned?: boolean): void;
  /** The guest dropped the stream. */
  close?(): void;
}

/** Largest read handed out at once; guests routinely ask for u64::MAX. */
const MAX_READ = 1 << 20;
/** What check-write may promise; also the most blocking-write-and-flush accepts (the spec's 4096). */
const MAX_PERMIT = 1 << 20;
const BLOCKING_WRITE_MAX = 4096;

const toLen = (len: bigint): number => (len > BigInt(MAX_READ) ? MAX_READ : Number(len));

/** Turns whatever a source or sink threw into the stream-error jco lowers (never an Error object). */
export function streamError(e: unknown): StreamError {
  if (e && typeof e === 'object' && 'tag' in e) return e as StreamError;
  if (e instanceof IoError) return { tag: 'last-operation-failed', val: e };
  const err = e as { message?: string; code?: string };
  return failed(err?.message ?? String(e), { netCode: err?.code as never });
}

export class InputStream {
  readonly #src: ByteSource;
  #done = false; // after end or an error, every call says closed

  constructor(src: ByteSource) {
    this.#src = src;
  }

  #take(len: bigint): Uint8Array | null {
    if (this.#done) throw CLOSED;
    if (len === 0n) return new Uint8Array(0);
    let r: Uint8Array | null | typeof END;
    try {
      r = this.#src.read(toLen(len));
    } catch (e) {
      this.#done = true;
      throw streamError(e);
    }
    if (r === END) {
      this.#done = true;
      throw CLOSED;
    }
    return r;
  }

  read(len: bigint): Uint8Array {
    return this.#take(len) ?? new Uint8Array(0);
  }

  /** What read() returns, or null when it would return nothing for want of data. */
  tryRead(len: bigint): Uint8Array | null {
    return this.#take(len);
  }

  // The blocking calls answer synchronously when they need not wait (the guest then does not
  // suspend at all) and return a promise only when they must.

  blockingRead(len: bigint): Uint8Array | Promise<Uint8Array> {
    return this.#take(len) ?? this.#readWhenReady(len);
  }

  async #readWhenReady(len: bigint): Promise<Uint8Array> {
    for (;;) {
      await waitAny([this.#src.readable], -1n);
      const r = this.#take(len);
      if (r) return r;
    }
  }

  skip(len: bigint): bigint {
    return BigInt(this.read(len).length);
  }

  blockingSkip(len: bigint): bigint | Promise<bigint> {
    const r = this.blockingRead(len);
    return r instanceof Promise ? r.then((b) => BigInt(b.length)) : BigInt(r.length);
  }

  subscribe(): Pollable {
    return this.#done ? Pollable.ready() : Pollable.of(this.#src.readable);
  }

  [Symbol.dispose](): void {
    this.#src.close?.();
  }
}

export class OutputStream {
  readonly #sink: ByteSink;
  #failed = false;

  constructor(sink: ByteSink) {
    this.#sink = sink;
  }

  #capacity(): number {
    if (this.#failed) throw CLOSED;
    try {
      return Math.min(this.#sink.capacity(), MAX_PERMIT);
    } catch (e) {
      this.#failed = true;
      throw streamError(e);
    }
  }

  /** `data` is a view of guest memory (the lean glue lifts a write's list<u8> without a copy) unless
   *  `owned`. */
  #write(data: Uint8Array, owned = false): void {
    try {
      this.#sink.write(data, owned);
    } catch (e) {
      this.#failed = true;
      throw streamError(e);
    }
  }

  async #waitCapacity(): Promise<number> {
    for (;;) {
      const n = this.#capacity();
      if (n > 0) return n;
      await waitAny([this.#sink.writable], -1n);
    }
  }

  checkWrite(): bigint {
    return BigInt(this.#capacity());
  }

  write(contents: Uint8Array): void {
    if (contents.length === 0) return;
    if (contents.length > this.#capacity()) throw failed('write exceeds the permit of check-write');
    this.#write(contents);
  }

  blockingWriteAndFlush(contents: Uint8Array): void | Promise<void> {
    if (contents.length > BLOCKING_WRITE_MAX) throw failed(`blocking-write-and-flush takes at most ${BLOCKING_WRITE_MAX} bytes`);
    if (contents.length <= this.#capacity()) {
      if (contents.length > 0) this.#write(contents);
      return this.blockingFlush();
    }
    return this.#writeWhenReady(contents);
  }

  /** `contents` may be a view of guest memory: it stays put while the guest is suspended in this call. */
  async #writeWhenReady(contents: Uint8Array): Promise<void> {
    let off = 0;
    while (off < contents.length) {
      const n = await this.#waitCapacity();
      const chunk = contents.subarray(off, off + n);
      this.#write(chunk);
      off += chunk.length;
    }
    this.blockingFlush();
  }

  /** Bytes handed to a sink are on their way: there is nothing left to flush on our side. */
  flush(): void {
    this.#capacity();
  }

  blockingFlush(): void {
    this.#capacity();
  }

  writeZeroes(len: bigint): void {
    this.write(new Uint8Array(toLen(len)));
  }

  blockingWriteZeroesAndFlush(len: bigint): void | Promise<void> {
    return this.blockingWriteAndFlush(new Uint8Array(toLen(len)));
  }

  splice(src: InputStream, len: bigint): bigint {
    const room = BigInt(this.#capacity());
    const data = src.read(len < room ? len : room);
    if (data.length > 0) this.#write(data, true);
    return BigInt(data.length);
  }

  blockingSplice(src: InputStream, len: bigint): bigint | Promise<bigint> {
    const room = this.#capacity();
    if (room > 0) {
      const r = src.tryRead(len < BigInt(room) ? len : BigInt(room));
      if (r) return this.#spliced(r);
    }
    return this.#spliceWhenReady(src, len);
  }

  #spliced(data: Uint8Array): bigint {
    if (data.length > 0) this.#write(data, true);
    return BigInt(data.length);
  }

  async #spliceWhenReady(src: InputStream, len: bigint): Promise<bigint> {
    const room = BigInt(await this.#waitCapacity());
    return this.#spliced(await src.blockingRead(len < room ? len : room));
  }

  subscribe(): Pollable {
    return this.#failed ? Pollable.ready() : Pollable.of(this.#sink.writable);
  }

  [Symbol.dispose](): void {
    this.#sink.close?.();
  }
}
