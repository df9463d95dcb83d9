// TCP client helpers for the e2e tests: connect with a timeout (optionally from a chosen local
// address), read exact byte counts or up to EOF, echo round trips with every byte checked.
import net from 'node:net';
import { randomBytes } from 'node:crypto';

export interface ConnectOptions {
  host?: string;
  /** Bind the client to this local address first (e.g. 127.0.0.2 to be a different loopback peer). */
  localAddress?: string;
  timeoutMs?: number;
  /** Keep our sending side open after the peer's FIN (default true: tests end it themselves). */
  allowHalfOpen?: boolean;
}

/** Connects and resolves once connected; rejects on error or timeout. */
export function connect(port: number, opts: ConnectOptions = {}): Promise<net.Socket> {
  const host = opts.host ?? '127.0.0.1';
  const timeoutMs = opts.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host, localAddress: opts.localAddress, noDelay: true, allowHalfOpen: opts.allowHalfOpen ?? true });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.off('error', onError);
      resolve(sock);
    });
    const onError = (e: Error) => {
      clearTimeout(timer);
      reject(e);
    };
    sock.once('error', onError);
  });
}

/** Buffers everything a socket receives and lets a test wait for byte counts, lines or EOF.
 *  Create it right after connecting so no data is missed. */
export class Reader {
  readonly sock: net.Socket;
  #chunks: Buffer[] = [];
  #length = 0;
  #ended = false;
  #closed = false;
  #error: Error | undefined;
  #waiters = new Set<() => void>();

  constructor(sock: net.Socket) {
    this.sock = sock;
    sock.on('data', (d: Buffer) => {
      this.#chunks.push(d);
      this.#length += d.length;
      this.#wake();
    });
    sock.on('end', () => { this.#ended = true; this.#wake(); });
    sock.on('error', (e) => { this.#error = e; this.#wake(); });
    sock.on('close', () => { this.#closed = true; this.#wake(); });
  }

  get length(): number { return this.#length; }
  get ended(): boolean { return this.#ended; }
  get closed(): boolean { return this.#closed; }
  get error(): Error | undefined { return this.#error; }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  #buffer(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0] ?? Buffer.alloc(0);
  }

  #take(n: number): Buffer {
    const b = this.#buffer();
    const out = b.subarray(0, n);
    this.#chunks = n < b.length ? [b.subarray(n)] : [];
    this.#length -= out.length;
    return Buffer.from(out);
  }

  /** Waits until `check` returns a value; rejects on timeout (destroying the socket). */
  #until<T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        done();
        this.sock.destroy();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (have ${this.#length} bytes, ended=${this.#ended})`));
      }, timeoutMs);
      const waiter = () => {
        let v: T | undefined;
        try {
          v = check();
        } catch (e) {
          done();
          reject(e);
          return;
        }
        if (v !== undefined) { done(); resolve(v); }
      };
      const done = () => { clearTimeout(timer); this.#waiters.delete(waiter); };
      this.#waiters.add(waiter);
      waiter();
    });
  }

  /** Exactly n bytes; rejects if the stream ends or fails first. */
  read(n: number, timeoutMs = 10_000): Promise<Buffer> {
    return this.#until(() => {
      if (this.#length >= n) return this.#take(n);
      if (this.#error) throw new Error(`socket error after ${this.#length}/${n} bytes: ${this.#error.message}`);
      if (this.#ended || this.#closed) throw new Error(`EOF after ${this.#length}/${n} bytes`);
      return undefined;
    }, `${n} bytes`, timeoutMs);
  }

  /** One line (without the "\n"). */
  readLine(timeoutMs = 10_000): Promise<string> {
    return this.#until(() => {
      const b = this.#buffer();
      const i = b.indexOf(10);
      if (i >= 0) return this.#take(i + 1).subarray(0, i).toString('utf8');
      if (this.#error) throw new Error(`socket error before a full line: ${this.#error.message}`);
      if (this.#ended || this.#closed) throw new Error(`EOF before a full line (have ${JSON.stringify(b.toString())})`);
      return undefined;
    }, 'a line', timeoutMs);
  }

  /** Everything up to EOF (or close). Resolves with the bytes; a socket error rejects. */
  readToEnd(timeoutMs = 10_000): Promise<Buffer> {
    return this.#until(() => {
      if (this.#error) throw this.#error;
      if (this.#ended || this.#closed) return this.#take(this.#length);
      return undefined;
    }, 'EOF', timeoutMs);
  }

  /** Waits for EOF, a reset or close: resolves with what happened (never rejects before timeout). */
  waitGone(timeoutMs = 10_000): Promise<{ ended: boolean; error?: Error; bytes: number }> {
    return this.#until(() => {
      if (this.#ended || this.#closed || this.#error) {
        return { ended: this.#ended, error: this.#error, bytes: this.#length };
      }
      return undefined;
    }, 'the connection to end', timeoutMs);
  }
}

/** Writes and waits until the data has been handed to the kernel. */
export function write(sock: net.Socket, data: Uint8Array | string): Promise<void> {
  return new Promise((resolve, reject) => {
    sock.write(data, (err) => (err ? reject(err) : resolve()));
  });
}

/** Closes our writing side (FIN) and waits for it to be flushed. */
export function end(sock: net.Socket): Promise<void> {
  return new Promise((resolve) => sock.end(() => resolve()));
}

/** Deterministic pseudo-random bytes (xorshift32), so a failing case can be reproduced. */
export function pattern(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

export function random(size: number): Buffer {
  return randomBytes(size);
}

/** Index of the first differing byte, or -1. */
export function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Sends `payload` on a connected echo socket (in `chunk`-sized writes, concurrently with
 *  reading) and checks the echo byte for byte. Does not end the socket. */
export async function echoCheck(reader: Reader, payload: Buffer, opts: { chunk?: number; timeoutMs?: number } = {}): Promise<void> {
  const chunk = opts.chunk ?? payload.length;
  const writing = (async () => {
    for (let off = 0; off < payload.length; off += chunk) {
      await write(reader.sock, payload.subarray(off, off + chunk));
    }
  })();
  const got = await reader.read(payload.length, opts.timeoutMs ?? 20_000);
  await writing;
  const d = firstDiff(got, payload);
  if (d !== -1) {
    throw new Error(`echo mismatch at byte ${d} of ${payload.length}: got ${got[d]}, sent ${payload[d]}`);
  }
}
