// TCP over node:net. A connection turns Node's push-style stream into the pull-style read()/write()
// the ABI bindings need: arriving chunks queue up (pausing the socket past maxBufferedBytes), read()
// copies out synchronously, write() copies in and reports "would block" instead of buffering without
// bound. Each object owns one socket slot of its guest and releases it on close(), exactly once.
import net from 'node:net';
import type { GuestContext } from './context.ts';
import { fromNode, policyAddress, validateAddress } from './address.ts';
import { toNetError } from './errors.ts';
import { Readiness } from './pollable.ts';
import { BLOCK_SIZE } from './send-blocks.ts';

/** Writes below this are copied into ordinary buffers, larger ones into reused send blocks. */
const SMALL_WRITE = 16 * 1024;
import {
  NetError, type ConnectOptions, type ListenOptions, type SocketAddress, type TcpBinding, type TcpConnection, type TcpListener,
} from './types.ts';

/** How long a closed connection may keep flushing its unsent bytes before it is torn down. */
export const LINGER_MS = 30_000;
/** Floor for a listener's queue of allowed-but-unaccepted connections (beyond it: reset). */
export const MIN_ACCEPT_QUEUE = 1024;
/** Smallest per-connection buffering limit setBufferLimits() accepts (unless maxBufferedBytes is smaller). */
export const MIN_BUFFER_LIMIT = 1024;

const noop = (): void => {};

export class TcpConnectionImpl implements TcpConnection {
  readonly #ctx: GuestContext;
  readonly #socket: net.Socket;
  /** Receive queue limit: reading from the kernel pauses at it. */
  #recvMax: number;
  /** Send queue limit: write() blocks at it (see #sendLimit). */
  #sendMax: number;
  readonly localAddress: SocketAddress;
  readonly remoteAddress: SocketAddress;
  readonly readable: Readiness;
  readonly writable: Readiness;

  /** Received chunks; the first is consumed from #headOffset on. */
  readonly #chunks: Buffer[] = [];
  #headOffset = 0;
  #queued = 0;
  #paused = false;
  #eof = false;
  #error: NetError | null = null;
  #readShut = false;
  #writeShut = false;
  #socketClosed = false;
  #closed = false;

  /** Takes over a connected socket; the caller has already taken this connection's socket slot. */
  constructor(ctx: GuestContext, socket: net.Socket, local: SocketAddress, remote: SocketAddress, opts: ConnectOptions = {}) {
    this.#ctx = ctx;
    this.#socket = socket;
    this.#recvMax = this.#sendMax = ctx.limits.maxBufferedBytes;
    // captured now: Node forgets them once the socket is closed, the guest may still ask
    this.localAddress = local;
    this.remoteAddress = remote;
    this.readable = new Readiness(() => this.#queued > 0 || this.#eof || this.#error !== null || this.#readShut || this.#socketClosed || this.#closed);
    this.writable = new Readiness(() => this.#writeReady());
    socket.setNoDelay(opts.noDelay ?? true);
    if (opts.keepAlive) socket.setKeepAlive(true);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('drain', this.#onDrain);
    socket.resume(); // accepted sockets arrive paused (pauseOnConnect)
    ctx.track(this);
  }

  #onData = (chunk: Buffer): void => {
    if (this.#readShut || this.#closed) return; // shut for reading: discarded, not delivered
    this.#chunks.push(chunk);
    this.#queued += chunk.length;
    this.#ctx.accounting.bytesIn += chunk.length;
    if (this.#queued >= this.#recvMax && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
    this.readable.notify();
  };

  #onEnd = (): void => {
    this.#eof = true;
    this.readable.notify();
  };

  #onError = (err: Error): void => {
    if (!this.#error) this.#error = toNetError(err);
    this.readable.notify();
    this.writable.notify();
  };

  #onClose = (): void => {
    this.#socketClosed = true;
    this.readable.notify();
    this.writable.notify();
  };

  #onDrain = (): void => {
    this.writable.notify();
  };

  #writeReady(): boolean {
    if (this.#error || this.#writeShut || this.#socketClosed || this.#closed) return true; // write() reports it
    return !this.#writeBlocked();
  }

  /** The send limit in force: never below the stream's high-water mark, because only past that does
   *  Node promise a 'drain' event to wake a blocked writer. */
  #sendLimit(): number {
    const hwm = this.#socket.writableHighWaterMark;
    return this.#sendMax > hwm ? this.#sendMax : hwm;
  }

  #writeBlocked(): boolean {
    const s = this.#socket;
    // blocked only when Node promised a 'drain' (writableNeedDrain): a wake-up is then guaranteed
    return s.writableNeedDrain && s.writableLength >= this.#sendLimit();
  }

  get bufferedBytes(): number {
    return this.#queued;
  }

  read(dst: Uint8Array, peek = false): number {
    const queued = this.#queued;
    if (queued === 0) {
      if (this.#error) throw this.#error;
      if (this.#eof || this.#readShut || this.#socketClosed || this.#closed) return 0;
      return -1;
    }
    const want = dst.length < queued ? dst.length : queued;
    const chunks = this.#chunks;
    let pos = 0, i = 0, off = this.#headOffset;
    while (pos < want) {
      const c = chunks[i]!;
      const n = Math.min(c.length - off, want - pos);
      c.copy(dst, pos, off, off + n);
      pos += n;
      off += n;
      if (off === c.length) { i++; off = 0; }
    }
    if (!peek) {
      while (i-- > 0) chunks.shift();
      this.#headOffset = off;
      this.#queued = queued - want;
      this.#maybeResume();
    }
    return want;
  }

  #maybeResume(): void {
    // resume at half the limit, not just under it, so a full buffer doesn't flap pause/resume per chunk
    if (this.#paused && this.#queued <= this.#recvMax >>> 1) {
      this.#paused = false;
      this.#socket.resume();
    }
  }

  take(max: number): Uint8Array | null {
    if (this.#queued === 0) {
      if (this.#error) throw this.#error;
      if (this.#eof || this.#readShut || this.#socketClosed || this.#closed) return new Uint8Array(0);
      return null;
    }
    const c = this.#chunks[0]!;
    const off = this.#headOffset;
    const n = Math.min(c.length - off, max);
    const view = off === 0 && n === c.length ? c : c.subarray(off, off + n);
    if (off + n === c.length) {
      this.#chunks.shift();
      this.#headOffset = 0;
    } else {
      this.#headOffset = off + n;
    }
    this.#queued -= n;
    this.#maybeResume();
    return view;
  }

  checkWrite(): number {
    if (this.#error) throw this.#error;
    if (this.#writeShut || this.#socketClosed || this.#closed) throw new NetError('EPIPE', 'socket is shut down for writing');
    if (this.#writeBlocked()) return 0;
    const room = this.#sendLimit() - this.#socket.writableLength;
    return room > 0 ? room : 1; // not blocked: Node takes it (and promises a drain)
  }

  get bufferLimits(): { receive: number; send: number } {
    return { receive: this.#recvMax, send: this.#sendLimit() };
  }

  setBufferLimits(limits: { receive?: number; send?: number }): { receive: number; send: number } {
    const cap = this.#ctx.limits.maxBufferedBytes;
    const clamp = (v: number): number => Math.min(cap, Math.max(Math.min(MIN_BUFFER_LIMIT, cap), Math.floor(v)));
    if (limits.receive !== undefined) {
      this.#recvMax = clamp(limits.receive);
      if (this.#queued >= this.#recvMax && !this.#paused && !this.#socketClosed) {
        this.#paused = true;
        this.#socket.pause();
      }
      this.#maybeResume();
    }
    if (limits.send !== undefined) {
      this.#sendMax = clamp(limits.send);
      this.writable.notify();
    }
    return this.bufferLimits;
  }

  write(data: Uint8Array, owned = false): number {
    if (this.#error) throw this.#error;
    if (this.#writeShut || this.#socketClosed || this.#closed) throw new NetError('EPIPE', 'socket is shut down for writing');
    const s = this.#socket;
    if (data.length === 0 || this.#writeBlocked()) return 0;
    if (owned) {
      s.write(Buffer.from(data.buffer, data.byteOffset, data.length));
    } else if (data.length < SMALL_WRITE) {
      // small copies come from Node's own buffer pool (or are cheap to allocate); a send block per
      // small write would hold 64 KiB for a few bytes while Node has it
      const copy = Buffer.allocUnsafe(data.length);
      copy.set(data);
      s.write(copy);
    } else {
      // the caller's view is guest memory that will change: Node gets a copy, in reused blocks
      const blocks = this.#ctx.sendBlocks;
      if (data.length > BLOCK_SIZE) s.cork();
      for (let off = 0; off < data.length; off += BLOCK_SIZE) {
        const { bytes, done } = blocks.copy(data.subarray(off, off + BLOCK_SIZE));
        s.write(bytes, done);
      }
      if (data.length > BLOCK_SIZE) s.uncork();
    }
    this.#ctx.accounting.bytesOut += data.length;
    return data.length;
  }

  waitReadable(): Promise<void> {
    return this.readable.wait();
  }

  waitWritable(): Promise<void> {
    return this.writable.wait();
  }

  shutdown(how: 'read' | 'write' | 'both'): void {
    if (this.#closed) throw new NetError('ENOTCONN', 'connection closed');
    if (how !== 'write' && !this.#readShut) {
      this.#readShut = true;
      this.#dropReceived();
      this.readable.notify();
    }
    if (how !== 'read' && !this.#writeShut) {
      this.#writeShut = true;
      if (!this.#socketClosed) this.#socket.end();
      this.writable.notify();
    }
  }

  setNoDelay(on: boolean): void {
    if (!this.#socketClosed) this.#socket.setNoDelay(on);
  }

  setKeepAlive(on: boolean, initialDelayMs?: number): void {
    if (!this.#socketClosed) this.#socket.setKeepAlive(on, initialDelayMs);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ctx.release();
    this.#ctx.untrack(this);
    this.#dropReceived();
    const s = this.#socket;
    if (!s.destroyed && !this.#error && s.writableLength > 0) {
      // like close(2): bytes the guest already wrote still go out, then FIN; bounded by LINGER_MS
      const timer = setTimeout(() => s.destroy(), LINGER_MS);
      timer.unref();
      s.once('close', () => clearTimeout(timer));
      s.once('finish', () => s.destroy());
      if (!s.writableEnded) s.end();
    } else {
      s.destroy();
    }
    this.readable.notify();
    this.writable.notify();
  }

  /** Forgets queued input and keeps the socket flowing so that later data is discarded. */
  #dropReceived(): void {
    this.#chunks.length = 0;
    this.#headOffset = 0;
    this.#queued = 0;
    if (this.#paused) {
      this.#paused = false;
      this.#socket.resume();
    }
  }
}

/** Opens an outbound connection to an IP literal (no name resolution here). The caller has judged the
 *  connect and taken the slot. */
export function connect(ctx: GuestContext, remote: SocketAddress, opts: ConnectOptions = {}, local?: SocketAddress): Promise<TcpConnectionImpl> {
  return new Promise<TcpConnectionImpl>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let socket: net.Socket;
    const pending = { close: (): void => fail(new NetError('ECONNABORTED', 'network closed')) };
    const settle = (): void => {
      if (timer) clearTimeout(timer);
      ctx.untrack(pending);
      socket.off('error', fail);
    };
    function fail(err: unknown): void {
      settle();
      socket.on('error', noop); // destroy may still emit
      socket.destroy();
      reject(toNetError(err));
    }
    try {
      const options: net.TcpNetConnectOpts = {
        host: remote.address, port: remote.port, family: remote.family,
        allowHalfOpen: true, autoSelectFamily: false, noDelay: opts.noDelay ?? true,
      };
      if (local) {
        options.localAddress = local.address;
        options.localPort = local.port;
      }
      socket = net.connect(options);
    } catch (err) {
      reject(toNetError(err, 'EINVAL'));
      return;
    }
    socket.once('error', fail);
    ctx.track(pending);
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => fail(new NetError('ETIMEDOUT', `connect timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
    }
    socket.once('connect', () => {
      settle();
      const local = fromNode(socket.localAddress, socket.localPort, socket.localFamily);
      resolve(new TcpConnectionImpl(ctx, socket, local, { ...remote }, opts));
    });
  });
}

interface Queued {
  socket: net.Socket;
  local: SocketAddress;
  remote: SocketAddress;
}

export class TcpListenerImpl implements TcpListener {
  readonly #ctx: GuestContext;
  readonly #server: net.Server;
  #cap: number;
  readonly #queue: Queued[] = [];
  #local: SocketAddress = { address: '0.0.0.0', port: 0, family: 4 };
  /** False while only bound (a TcpBinding): arriving connections are reset, not queued. */
  #accepting: boolean;
  #closed = false;
  #serverClosed = false;
  readonly acceptable: Readiness;

  /** Listens on `spec` (an address, port 0 allowed, or an inherited fd). The caller has judged
   *  bind/listen (or the operator granted it) and taken the slot. With `accepting` false the socket
   *  only holds its address (a binding) until startAccepting(). */
  static async open(ctx: GuestContext, spec: SocketAddress | { fd: number }, opts: ListenOptions = {}, accepting = true): Promise<TcpListenerImpl> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
    const listener = new TcpListenerImpl(ctx, server, Math.max(opts.backlog ?? 0, MIN_ACCEPT_QUEUE), accepting);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        const listening = (): void => {
          server.off('error', reject);
          resolve();
        };
        if ('fd' in spec) {
          server.listen({ fd: spec.fd }, listening); // the handle form: an already bound socket
          return;
        }
        const options: net.ListenOptions = { host: spec.address, port: spec.port, exclusive: true };
        if (opts.ipv6Only !== undefined) options.ipv6Only = opts.ipv6Only;
        if (opts.backlog !== undefined) options.backlog = opts.backlog;
        server.listen(options, listening);
      });
      const a = server.address();
      // an inherited fd could be a Unix socket: peers without an IP address can't be judged
      if (a === null || typeof a === 'string') throw new NetError('EINVAL', 'not a TCP listening socket');
      listener.#local = fromNode(a.address, a.port, a.family);
    } catch (err) {
      server.close();
      throw toNetError(err, 'EINVAL');
    }
    server.on('error', noop); // accept(2) hiccups after listening (EMFILE...) are not fatal to the listener
    ctx.track(listener);
    return listener;
  }

  private constructor(ctx: GuestContext, server: net.Server, cap: number, accepting: boolean) {
    this.#ctx = ctx;
    this.#server = server;
    this.#cap = cap;
    this.#accepting = accepting;
    this.acceptable = new Readiness(() => this.#queue.length > 0 || this.#closed || this.#serverClosed);
    server.on('connection', this.#onConnection);
    server.on('close', () => {
      this.#serverClosed = true;
      this.acceptable.notify();
    });
  }

  get localAddress(): SocketAddress {
    return this.#local;
  }

  #onConnection = (socket: net.Socket): void => {
    socket.on('error', noop); // queued sockets have no other listener yet
    const peer = socket.remoteAddress, port = socket.remotePort;
    if (this.#closed || peer === undefined || port === undefined) {
      socket.destroy();
      return;
    }
    if (!this.#accepting) {
      // bound, not listening: a kernel would refuse this peer; the closest we can do is a reset
      socket.resetAndDestroy();
      return;
    }
    // judged on arrival, before a single byte is read (pauseOnConnect): denied peers never get queued
    if (!this.#ctx.allows({ direction: 'accept', transport: 'tcp', address: policyAddress(peer), port })) {
      socket.resetAndDestroy();
      return;
    }
    if (this.#queue.length >= this.#cap) {
      this.#ctx.dropped({ direction: 'accept', transport: 'tcp', address: policyAddress(peer), port }, `accept queue full (${this.#cap})`);
      socket.resetAndDestroy();
      return;
    }
    this.#queue.push({
      socket,
      local: fromNode(socket.localAddress, socket.localPort, socket.localFamily),
      remote: fromNode(peer, port, socket.remoteFamily),
    });
    this.acceptable.notify();
  };

  accept(): TcpConnectionImpl | null {
    if (this.#closed || this.#serverClosed) throw new NetError('EINVAL', 'listener closed');
    const q = this.#queue[0];
    if (!q) return null;
    this.#ctx.acquire(); // EMFILE leaves the connection queued
    this.#queue.shift();
    this.#ctx.accounting.connectionsOpened++;
    return new TcpConnectionImpl(this.#ctx, q.socket, q.local, q.remote);
  }

  waitAcceptable(): Promise<void> {
    return this.acceptable.wait();
  }

  setBacklog(backlog: number): void {
    if (Number.isFinite(backlog)) this.#cap = Math.max(Math.floor(backlog), MIN_ACCEPT_QUEUE);
  }

  /** Binding → listener. */
  startAccepting(): void {
    this.#accepting = true;
  }

  close(): void {
    this.#shut(true);
  }

  /** Closes the socket but keeps the slot, which the caller hands on (binding → connection). */
  closeKeepingSlot(): void {
    this.#shut(false);
  }

  #shut(release: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    if (release) this.#ctx.release();
    this.#ctx.untrack(this);
    this.#server.close();
    for (const q of this.#queue) q.socket.destroy();
    this.#queue.length = 0;
    this.acceptable.notify();
  }
}

/** A bound TCP socket. Node can't bind a TCP socket without listening, so the address is held by a
 *  listening socket that resets every peer until listen(); for a connect it is closed and its
 *  address and port reused as the connection's local end. */
export class TcpBindingImpl implements TcpBinding {
  readonly #ctx: GuestContext;
  readonly #requested: SocketAddress;
  #listener: TcpListenerImpl | null;
  readonly localAddress: SocketAddress;

  /** The caller has judged the bind and taken the slot, which this binding then owns. */
  static async open(ctx: GuestContext, local: SocketAddress, ipv6Only: boolean | undefined): Promise<TcpBindingImpl> {
    const opts: ListenOptions = {};
    if (local.family === 6 && ipv6Only !== undefined) opts.ipv6Only = ipv6Only;
    const l = await TcpListenerImpl.open(ctx, local, opts, false);
    return new TcpBindingImpl(ctx, local, l);
  }

  private constructor(ctx: GuestContext, requested: SocketAddress, listener: TcpListenerImpl) {
    this.#ctx = ctx;
    this.#requested = { ...requested };
    this.#listener = listener;
    this.localAddress = { ...listener.localAddress };
    ctx.track(this);
  }

  #take(): TcpListenerImpl {
    const l = this.#listener;
    if (!l) throw new NetError('EINVAL', 'socket no longer bound');
    this.#ctx.ensureOpen();
    return l;
  }

  listen(opts: { backlog?: number } = {}): TcpListener {
    const l = this.#take();
    const r = this.#requested;
    this.#ctx.require({ direction: 'listen', transport: 'tcp', address: policyAddress(r.address), port: r.port });
    this.#listener = null;
    this.#ctx.untrack(this);
    if (opts.backlog !== undefined) l.setBacklog(opts.backlog);
    l.startAccepting();
    return l;
  }

  startConnect(remote: SocketAddress, opts: ConnectOptions = {}): Promise<TcpConnection> {
    const ctx = this.#ctx;
    const l = this.#take();
    validateAddress(remote, false);
    if (remote.family !== this.localAddress.family) throw new NetError('EINVAL', 'remote address of another family than the bound one');
    ctx.require({ direction: 'connect', transport: 'tcp', address: policyAddress(remote.address), port: remote.port });
    this.#listener = null;
    ctx.untrack(this);
    l.closeKeepingSlot(); // frees the address for the connection's own bind; the slot passes on
    return connect(ctx, remote, opts, this.localAddress).then(
      (conn) => {
        ctx.accounting.connectionsOpened++;
        return conn;
      },
      (err: unknown) => {
        ctx.release();
        throw toNetError(err);
      },
    );
  }

  close(): void {
    const l = this.#listener;
    if (!l) return;
    this.#listener = null;
    this.#ctx.untrack(this);
    l.close();
  }
}
