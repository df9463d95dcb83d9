// Open host files of a 0.2 guest, and the byte sources/sinks behind read-via-stream,
// write-via-stream and append-via-stream. Regular files never make a guest wait: reads and writes
// are synchronous, positional node:fs calls (see src/fs/ops.ts on why). Other files (a FIFO or a
// character device under a preopen) are non-blocking and are retried when they would block.
import fs from 'node:fs';
import { MAX_NODE_OFFSET, type FileKind } from '../../../fs/ops.ts';
import type { Waker } from '../../../net/types.ts';
import { IoError } from '../io/error.ts';
import { ALWAYS_READY, type ReadySource } from '../io/poll.ts';
import { END, type ByteSink, type ByteSource } from '../io/streams.ts';
import { FdSink, isEagain } from '../cli/stdio.ts';
import { errorCodeOf } from './errors.ts';

/** Largest chunk read at once from a file. */
const READ_CHUNK = 1 << 20;
/** How long a would-block file is left alone before it is tried again. */
const RETRY_MS = 10;

/** A host fd shared by a descriptor and the streams made from it: closed when the last lets go
 *  (a guest may drop the descriptor before its streams), or when the instance ends. */
export class HostFile {
  readonly hostFd: number;
  readonly kind: FileKind;
  #refs = 1;
  #closed = false;
  readonly #registry: Set<HostFile>;

  constructor(hostFd: number, kind: FileKind, registry: Set<HostFile>) {
    this.hostFd = hostFd;
    this.kind = kind;
    this.#registry = registry;
    registry.add(this);
  }

  get seekable(): boolean {
    return this.kind === 'regular-file';
  }

  get closed(): boolean {
    return this.#closed;
  }

  acquire(): this {
    this.#refs++;
    return this;
  }

  release(): void {
    if (--this.#refs <= 0) this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#registry.delete(this);
    try { fs.closeSync(this.hostFd); } catch { /* already gone */ }
  }
}

/** An IoError for a failed file operation, carrying its wasi:filesystem error-code. */
export function fileError(e: unknown): IoError {
  if (e instanceof IoError) return e;
  const message = (e as { message?: string } | null)?.message ?? String(e);
  return new IoError(message, { fsCode: errorCodeOf(e) ?? 'io' });
}

/** Ready again RETRY_MS after the last would-block. */
class RetryLater implements ReadySource {
  #at = 0;
  readonly #timers = new Map<Waker, NodeJS.Timeout>();

  blocked(): void {
    this.#at = Date.now() + RETRY_MS;
  }

  get ready(): boolean {
    return Date.now() >= this.#at;
  }

  subscribe(w: Waker): void {
    if (this.#timers.has(w)) return;
    this.#timers.set(w, setTimeout(() => {
      this.#timers.delete(w);
      w();
    }, Math.max(0, this.#at - Date.now())));
  }

  unsubscribe(w: Waker): void {
    const t = this.#timers.get(w);
    if (t) clearTimeout(t);
    this.#timers.delete(w);
  }
}

/** read-via-stream: reads from `offset` on (regular files), or wherever the file is (others). */
export class FileSource implements ByteSource {
  readonly #file: HostFile;
  #pos: bigint;
  readonly #retry: RetryLater | null;
  readonly readable: ReadySource;

  constructor(file: HostFile, offset: bigint) {
    this.#file = file.acquire();
    this.#pos = offset;
    this.#retry = file.seekable ? null : new RetryLater();
    this.readable = this.#retry ?? ALWAYS_READY;
  }

  read(max: number): Uint8Array | null | typeof END {
    const f = this.#file;
    if (f.closed) throw new IoError('file closed', { fsCode: 'bad-descriptor' });
    if (f.seekable && this.#pos >= MAX_NODE_OFFSET) return END;
    const buf = Buffer.allocUnsafe(Math.min(max, READ_CHUNK));
    let n: number;
    try {
      n = fs.readSync(f.hostFd, buf, 0, buf.length, f.seekable ? Number(this.#pos) : null);
    } catch (e) {
      if (this.#retry && isEagain(e)) {
        this.#retry.blocked();
        return null;
      }
      throw fileError(e);
    }
    if (n === 0) return END;
    this.#pos += BigInt(n);
    return buf.subarray(0, n);
  }

  close(): void {
    this.#file.release();
  }
}

export interface SyncMode {
  /** fsync after every write (file-integrity-sync). */
  file: boolean;
  /** fdatasync after every write (data-integrity-sync). */
  data: boolean;
}

/** write-via-stream / append-via-stream on a regular file: positional, synchronous writes. */
export class FileSink implements ByteSink {
  readonly writable: ReadySource = ALWAYS_READY;
  readonly #file: HostFile;
  /** The next write's offset, or null to append (at the end of the file at each write). */
  #pos: bigint | null;
  readonly #sync: SyncMode;

  constructor(file: HostFile, offset: bigint | null, sync: SyncMode) {
    this.#file = file.acquire();
    this.#pos = offset;
    this.#sync = sync;
  }

  capacity(): number {
    if (this.#file.closed) throw new IoError('file closed', { fsCode: 'bad-descriptor' });
    return READ_CHUNK;
  }

  write(data: Uint8Array): void {
    const f = this.#file;
    try {
      const pos = this.#pos ?? fs.fstatSync(f.hostFd, { bigint: true }).size;
      if (pos + BigInt(data.length) > MAX_NODE_OFFSET) throw new IoError('file too large', { fsCode: 'file-too-large' });
      let off = 0;
      while (off < data.length) off += fs.writeSync(f.hostFd, data, off, data.length - off, Number(pos) + off);
      if (this.#pos !== null) this.#pos = pos + BigInt(data.length);
      if (this.#sync.file) fs.fsyncSync(f.hostFd);
      else if (this.#sync.data) fs.fdatasyncSync(f.hostFd);
    } catch (e) {
      throw fileError(e);
    }
  }

  close(): void {
    this.#file.release();
  }
}

/** write-via-stream / append-via-stream on a file that is not seekable: an FdSink (queues when the
 *  file would block), holding the file open until the stream is dropped. */
export class StreamFileSink implements ByteSink {
  readonly #file: HostFile;
  readonly #sink: FdSink;

  constructor(file: HostFile) {
    this.#file = file.acquire();
    this.#sink = new FdSink(file.hostFd);
  }

  get writable(): ReadySource {
    return this.#sink.writable;
  }

  capacity(): number {
    if (this.#file.closed) throw new IoError('file closed', { fsCode: 'bad-descriptor' });
    try {
      return this.#sink.capacity();
    } catch (e) {
      throw fileError(e);
    }
  }

  write(data: Uint8Array): void {
    try {
      this.#sink.write(data);
    } catch (e) {
      throw fileError(e);
    }
  }

  close(): void {
    void this.#sink.drained().finally(() => this.#file.release());
  }
}
