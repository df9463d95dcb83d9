// wasi:sockets/tcp and tcp-create-socket over the network core. The tcp-socket resource is the
// spec's state machine (unbound → bind-in-progress → bound → listen-in-progress → listening, or
// → connect-in-progress → connected, and closed); every OS step is a core promise whose outcome the
// finish-* call reads synchronously. Streams are io InputStream/OutputStream over the core's
// TcpConnection.
import { NetError, type SocketAddress, type TcpBinding, type TcpConnection, type TcpListener } from '../../../net/types.ts';
import { Readiness } from '../../../net/pollable.ts';
import { CLOSED } from '../io/error.ts';
import { Pollable, type ReadySource } from '../io/poll.ts';
import { END, InputStream, OutputStream, type ByteSink, type ByteSource } from '../io/streams.ts';
import {
  checkRemote, errorCode, familyName, familyOf, fromIpSocketAddress, Settled, streamFailure, toIpSocketAddress,
  toNumber, type IpAddressFamily, type IpSocketAddress,
} from './common.ts';
import { checkNetwork, startBindOp, type SocketsContext } from './network.ts';

type State =
  | 'unbound' | 'bind-in-progress' | 'bound' | 'listen-in-progress' | 'listening'
  | 'connect-in-progress' | 'connected' | 'closed';

export type ShutdownType = 'receive' | 'send' | 'both';

/** Linux's largest TCP_KEEPIDLE. */
const MAX_KEEPIDLE_SEC = 32_767;
const NS_PER_SEC = 1_000_000_000n;
/** What libuv sets along with TCP_KEEPIDLE (Node's setKeepAlive with a delay): TCP_KEEPINTVL 1 s,
 *  TCP_KEEPCNT 10. Node offers no other way to set either. */
const LIBUV_KEEPINTVL_SEC = 1;
const LIBUV_KEEPCNT = 10;

/** Options the guest set; accepted sockets inherit them from their listener. */
interface Options {
  keepAlive: boolean;
  /** TCP_KEEPIDLE we applied, in seconds; 0 while the kernel default is in force. */
  keepIdleSec: number;
  receiveBuffer: number | undefined;
  sendBuffer: number | undefined;
  backlog: number | undefined;
}

/** A connection shared by its socket and its two streams: closed once all three are dropped (the
 *  core then still flushes what was written, like close(2)). */
class Shared {
  readonly conn: TcpConnection;
  #refs = 3;

  constructor(conn: TcpConnection) {
    this.conn = conn;
  }

  release(): void {
    if (--this.#refs === 0) this.conn.close();
  }
}

class TcpSource implements ByteSource {
  readonly #shared: Shared;
  #closed = false;
  readonly readable: ReadySource;

  constructor(shared: Shared) {
    this.#shared = shared;
    this.readable = shared.conn.readable;
  }

  read(max: number): Uint8Array | null | typeof END {
    let v: Uint8Array | null;
    try {
      v = this.#shared.conn.take(max);
    } catch (e) {
      throw streamFailure(e);
    }
    if (v === null) return null;
    return v.length === 0 ? END : v;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#shared.release();
  }
}

class TcpSink implements ByteSink {
  readonly #shared: Shared;
  #closed = false;
  readonly writable: ReadySource;

  constructor(shared: Shared) {
    this.#shared = shared;
    this.writable = shared.conn.writable;
  }

  /** After shutdown(send) (EPIPE) the stream is closed; other failures carry their error-code. */
  #fail(e: unknown): never {
    if (e instanceof NetError && e.code === 'EPIPE') throw CLOSED;
    throw streamFailure(e);
  }

  capacity(): number {
    try {
      return this.#shared.conn.checkWrite();
    } catch (e) {
      this.#fail(e);
    }
  }

  /** Guest bytes are copied by the connection (into reused blocks); splice's are passed on as they are. */
  write(data: Uint8Array, owned = false): void {
    try {
      this.#shared.conn.write(data, owned);
    } catch (e) {
      this.#fail(e);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#shared.release();
  }
}

export class TcpSocket {
  readonly #sockets: SocketsContext;
  readonly #family: 4 | 6;
  readonly #opts: Options;
  #state: State = 'unbound';
  #bindOp: Settled<TcpBinding> | null = null;
  #connectOp: Settled<TcpConnection> | null = null;
  #binding: TcpBinding | null = null;
  /** The bound address, once known (bound and later states). */
  #local: SocketAddress | null = null;
  #listener: TcpListener | null = null;
  #shared: Shared | null = null;
  /** Notified at every state change; subscribe()'s pollable also follows the listener. */
  readonly #events: Readiness;
  readonly #source: ReadySource;

  /** Not a guest-visible constructor: sockets come from create-tcp-socket and accept. */
  constructor(sockets: SocketsContext, family: 4 | 6, opts?: Options) {
    this.#sockets = sockets;
    this.#family = family;
    this.#opts = opts ? { ...opts } : { keepAlive: false, keepIdleSec: 0, receiveBuffer: undefined, sendBuffer: undefined, backlog: undefined };
    this.#events = new Readiness(() => this.#isReady());
    const events = this.#events;
    const self = this;
    this.#source = {
      get ready() { return self.#isReady(); },
      subscribe(w) { events.subscribe(w); self.#listener?.acceptable.subscribe(w); },
      unsubscribe(w) { events.unsubscribe(w); self.#listener?.acceptable.unsubscribe(w); },
    };
  }

  #isReady(): boolean {
    switch (this.#state) {
      case 'bind-in-progress': return this.#bindOp?.done ?? true;
      case 'connect-in-progress': return this.#connectOp?.done ?? true;
      case 'listening': return this.#listener?.acceptable.ready ?? true;
      default: return true;
    }
  }

  #inProgress(): boolean {
    return this.#state === 'bind-in-progress' || this.#state === 'connect-in-progress' || this.#state === 'listen-in-progress';
  }

  #setState(s: State): void {
    this.#state = s;
    this.#events.notify();
  }

  /** Every option getter and setter: `invalid-state` once closed. */
  #open(): void {
    if (this.#state === 'closed') throw 'invalid-state';
  }

  startBind(network: unknown, localAddress: IpSocketAddress): void {
    if (this.#inProgress()) throw 'concurrency-conflict';
    if (this.#state !== 'unbound') throw 'invalid-state';
    this.#bindOp = startBindOp(this.#sockets, network, localAddress, this.#family,
      (a, o) => this.#sockets.net.startBindTcp(a, o), (op) => this.#bindOp === op, () => this.#events.notify());
    this.#setState('bind-in-progress');
  }

  finishBind(): void {
    if (this.#state !== 'bind-in-progress') throw 'not-in-progress';
    const op = this.#bindOp!;
    if (!op.done) throw 'would-block';
    this.#bindOp = null;
    if (!op.ok) {
      this.#setState('unbound');
      throw errorCode(op.error);
    }
    this.#binding = op.value!;
    this.#local = this.#binding.localAddress;
    this.#setState('bound');
  }

  startConnect(network: unknown, remoteAddress: IpSocketAddress): void {
    if (this.#inProgress()) throw 'concurrency-conflict';
    if (this.#state !== 'unbound' && this.#state !== 'bound') throw 'invalid-state';
    checkNetwork(network, this.#sockets);
    checkRemote(remoteAddress, this.#family);
    const remote = fromIpSocketAddress(remoteAddress);
    let p: Promise<TcpConnection>;
    try {
      p = this.#binding ? this.#binding.startConnect(remote) : this.#sockets.net.startConnectTcp(remote);
    } catch (e) {
      throw errorCode(e);
    }
    this.#binding = null; // used up by the connect
    const op = new Settled(p, () => {
      if (this.#connectOp !== op && op.ok) op.value!.close(); // dropped meanwhile
      this.#events.notify();
    });
    this.#connectOp = op;
    this.#setState('connect-in-progress');
  }

  finishConnect(): [InputStream, OutputStream] {
    if (this.#state !== 'connect-in-progress') throw 'not-in-progress';
    const op = this.#connectOp!;
    if (!op.done) throw 'would-block';
    this.#connectOp = null;
    if (!op.ok) {
      // a socket connects once: after a failure only drop is left
      this.#setState('closed');
      throw errorCode(op.error);
    }
    return this.#attach(op.value!);
  }

  /** Connected: options applied, streams made. */
  #attach(conn: TcpConnection): [InputStream, OutputStream] {
    this.#applyOptions(conn);
    const shared = new Shared(conn);
    this.#shared = shared;
    this.#setState('connected');
    return [new InputStream(new TcpSource(shared)), new OutputStream(new TcpSink(shared))];
  }

  startListen(): void {
    if (this.#inProgress()) throw 'concurrency-conflict';
    if (this.#state !== 'bound') throw 'invalid-state';
    let listener: TcpListener;
    try {
      listener = this.#binding!.listen({ backlog: this.#opts.backlog });
    } catch (e) {
      throw errorCode(e);
    }
    this.#binding = null;
    this.#listener = listener;
    this.#setState('listen-in-progress');
  }

  finishListen(): void {
    if (this.#state !== 'listen-in-progress') throw 'not-in-progress';
    this.#setState('listening');
  }

  accept(): [TcpSocket, InputStream, OutputStream] {
    if (this.#state !== 'listening') throw 'invalid-state';
    let conn: TcpConnection | null;
    try {
      conn = this.#listener!.accept();
    } catch (e) {
      throw e instanceof NetError && e.code === 'EINVAL' ? 'invalid-state' : errorCode(e);
    }
    if (!conn) throw 'would-block';
    const socket = new TcpSocket(this.#sockets, this.#family, this.#opts);
    socket.#local = conn.localAddress;
    const [input, output] = socket.#attach(conn);
    return [socket, input, output];
  }

  localAddress(): IpSocketAddress {
    if (this.#state === 'connected') return toIpSocketAddress(this.#shared!.conn.localAddress);
    if (this.#state === 'closed' || this.#state === 'unbound' || this.#state === 'bind-in-progress' || !this.#local) {
      throw 'invalid-state';
    }
    return toIpSocketAddress(this.#local);
  }

  remoteAddress(): IpSocketAddress {
    if (this.#state !== 'connected') throw 'invalid-state';
    return toIpSocketAddress(this.#shared!.conn.remoteAddress);
  }

  isListening(): boolean {
    return this.#state === 'listening';
  }

  addressFamily(): IpAddressFamily {
    return familyName(this.#family);
  }

  setListenBacklogSize(value: bigint): void {
    if (value === 0n) throw 'invalid-argument';
    if (this.#state === 'closed' || this.#state === 'connect-in-progress' || this.#state === 'connected') throw 'invalid-state';
    const n = Math.min(toNumber(value), 0x7fff_ffff);
    this.#opts.backlog = n;
    this.#listener?.setBacklog(n);
  }

  keepAliveEnabled(): boolean {
    this.#open();
    return this.#opts.keepAlive;
  }

  setKeepAliveEnabled(value: boolean): void {
    this.#open();
    this.#opts.keepAlive = value;
    const conn = this.#shared?.conn;
    if (!conn) return;
    const idle = this.#opts.keepIdleSec;
    conn.setKeepAlive(value, value && idle > 0 ? idle * 1000 : 0);
  }

  keepAliveIdleTime(): bigint {
    this.#open();
    return BigInt(this.#opts.keepIdleSec || this.#sockets.defaults.keepAliveIdleSec) * NS_PER_SEC;
  }

  setKeepAliveIdleTime(value: bigint): void {
    this.#open();
    if (value <= 0n) throw 'invalid-argument';
    const sec = (value + NS_PER_SEC - 1n) / NS_PER_SEC; // rounded up to whole seconds
    this.#opts.keepIdleSec = sec > BigInt(MAX_KEEPIDLE_SEC) ? MAX_KEEPIDLE_SEC : Number(sec);
    const conn = this.#shared?.conn;
    if (conn) this.#applyKeepAlive(conn);
  }

  keepAliveInterval(): bigint {
    this.#open();
    const sec = this.#opts.keepIdleSec > 0 ? LIBUV_KEEPINTVL_SEC : this.#sockets.defaults.keepAliveIntervalSec;
    return BigInt(sec) * NS_PER_SEC;
  }

  /** Accepted but not applied (Node cannot set TCP_KEEPINTVL alone): the getter reports what is in force. */
  setKeepAliveInterval(value: bigint): void {
    this.#open();
    if (value <= 0n) throw 'invalid-argument';
  }

  keepAliveCount(): number {
    this.#open();
    return this.#opts.keepIdleSec > 0 ? LIBUV_KEEPCNT : this.#sockets.defaults.keepAliveCount;
  }

  /** Accepted but not applied (Node cannot set TCP_KEEPCNT alone): the getter reports what is in force. */
  setKeepAliveCount(value: number): void {
    this.#open();
    if (value === 0) throw 'invalid-argument';
  }

  hopLimit(): number {
    this.#open();
    const d = this.#sockets.defaults;
    return this.#family === 4 ? d.ttl4 : d.hopLimit6;
  }

  /** Accepted but not applied (Node has no IP_TTL for TCP): the getter reports the default in force. */
  setHopLimit(value: number): void {
    this.#open();
    if (value === 0) throw 'invalid-argument';
  }

  receiveBufferSize(): bigint {
    this.#open();
    const conn = this.#shared?.conn;
    return BigInt(conn ? conn.bufferLimits.receive : this.#clampBuffer(this.#opts.receiveBuffer));
  }

  setReceiveBufferSize(value: bigint): void {
    this.#open();
    if (value === 0n) throw 'invalid-argument';
    this.#opts.receiveBuffer = toNumber(value);
    this.#shared?.conn.setBufferLimits({ receive: this.#opts.receiveBuffer });
  }

  sendBufferSize(): bigint {
    this.#open();
    const conn = this.#shared?.conn;
    if (conn) return BigInt(conn.bufferLimits.send);
    return BigInt(Math.max(this.#clampBuffer(this.#opts.sendBuffer), this.#sockets.defaults.streamHighWaterMark));
  }

  setSendBufferSize(value: bigint): void {
    this.#open();
    if (value === 0n) throw 'invalid-argument';
    this.#opts.sendBuffer = toNumber(value);
    this.#shared?.conn.setBufferLimits({ send: this.#opts.sendBuffer });
  }

  /** What the core will make of a requested buffer limit (see TcpConnection.setBufferLimits). */
  #clampBuffer(v: number | undefined): number {
    const cap = this.#sockets.net.limits.maxBufferedBytes;
    if (v === undefined) return cap;
    return Math.min(cap, Math.max(Math.min(1024, cap), Math.floor(v)));
  }

  #applyKeepAlive(conn: TcpConnection): void {
    const { keepAlive, keepIdleSec } = this.#opts;
    if (keepIdleSec > 0) {
      // Node sets TCP_KEEPIDLE only while enabling keep-alive: enable, then turn it off again if the
      // guest has not enabled it (the idle time stays set for later)
      conn.setKeepAlive(true, keepIdleSec * 1000);
      if (!keepAlive) conn.setKeepAlive(false);
    } else if (keepAlive) {
      conn.setKeepAlive(true);
    }
  }

  #applyOptions(conn: TcpConnection): void {
    this.#applyKeepAlive(conn);
    const { receiveBuffer, sendBuffer } = this.#opts;
    if (receiveBuffer !== undefined || sendBuffer !== undefined) conn.setBufferLimits({ receive: receiveBuffer, send: sendBuffer });
  }

  subscribe(): Pollable {
    return Pollable.of(this.#source);
  }

  shutdown(shutdownType: ShutdownType): void {
    if (this.#state !== 'connected') throw 'invalid-state';
    const how = shutdownType === 'receive' ? 'read' : shutdownType === 'send' ? 'write' : 'both';
    try {
      this.#shared!.conn.shutdown(how);
    } catch (e) {
      throw e instanceof NetError && e.code === 'ENOTCONN' ? 'invalid-state' : errorCode(e);
    }
  }

  [Symbol.dispose](): void {
    if (this.#state === 'closed' && !this.#shared && !this.#listener && !this.#binding) return;
    // an operation still running closes what it opens (see the Settled callbacks); one that has
    // finished but was never collected by finish-* is closed here
    if (this.#bindOp?.ok) this.#bindOp.value!.close();
    if (this.#connectOp?.ok) this.#connectOp.value!.close();
    this.#bindOp = null;
    this.#connectOp = null;
    this.#binding?.close();
    this.#binding = null;
    this.#listener?.close();
    this.#listener = null;
    this.#shared?.release();
    this.#shared = null;
    this.#setState('closed');
  }
}

export function createTcpSocket(sockets: SocketsContext, addressFamily: IpAddressFamily): TcpSocket {
  if (addressFamily !== 'ipv4' && addressFamily !== 'ipv6') throw 'invalid-argument';
  const net = sockets.net;
  if (net.openSockets >= net.limits.maxSockets) throw 'new-socket-limit';
  return new TcpSocket(sockets, familyOf(addressFamily));
}
