// The network core's public surface. ABI bindings (p1 today, 0.2/0.3 later) see only these types:
// they never touch node:net, node:dgram or node:dns themselves.

/** Error codes the core raises, named as WASI p1 errno names (upper-case, E-prefixed, POSIX style). */
export type NetErrorCode =
  | 'EACCES'        // the policy said no
  | 'EAGAIN'        // would block (non-blocking callers only)
  | 'EADDRINUSE'
  | 'EADDRNOTAVAIL'
  | 'ECONNREFUSED'
  | 'ECONNRESET'
  | 'ECONNABORTED'
  | 'EHOSTUNREACH'
  | 'ENETUNREACH'
  | 'ETIMEDOUT'
  | 'EPIPE'
  | 'ENOTCONN'
  | 'EMFILE'        // per-guest socket limit reached
  | 'ENOBUFS'       // per-socket buffer limit reached
  | 'EINVAL'
  | 'ENOENT'        // name lookup: no such name
  | 'EIO';

export class NetError extends Error {
  readonly code: NetErrorCode;
  constructor(code: NetErrorCode, message?: string) {
    super(message ?? code);
    this.code = code;
    this.name = 'NetError';
  }
}

export interface SocketAddress {
  /** IP literal, IPv4 dotted or IPv6 without brackets. */
  address: string;
  port: number;
  family: 4 | 6;
}

export interface Limits {
  /** Open sockets (listeners, connections, UDP sockets) per guest. */
  maxSockets: number;
  /** Bytes buffered per socket per direction before reads from the kernel pause / writes would block. */
  maxBufferedBytes: number;
}

export const DEFAULT_LIMITS: Limits = { maxSockets: 1024, maxBufferedBytes: 1 << 20 };

export interface Accounting {
  connectionsOpened: number;   // outbound connects that succeeded + inbound accepts delivered to the guest
  connectionsRefused: number;  // connects/accepts/sends/lookups the policy denied
  bytesIn: number;
  bytesOut: number;
  datagramsIn: number;
  datagramsOut: number;
  /** Arriving datagrams dropped because the socket's receive queue was over maxBufferedBytes
   *  (policy denials are counted in connectionsRefused instead). */
  datagramsDropped: number;
}

export type Waker = () => void;

/** Something a poll can wait on. `ready` is synchronous. A subscribed waker is called (once per
 *  subscription, then dropped) at the next change that may have made it ready; spurious wake-ups
 *  are allowed, so callers re-check `ready`. */
export interface Pollable {
  readonly ready: boolean;
  subscribe(waker: Waker): void;
  unsubscribe(waker: Waker): void;
}

export interface TcpListener {
  readonly localAddress: SocketAddress;
  /** Ready when a connection is queued for accept(), or the listener failed/closed. */
  readonly acceptable: Pollable;
  /** Takes the next queued connection: null when none is queued (would block). Throws EMFILE at the
   *  guest's socket limit (the connection stays queued). Peers the policy denies never get here. */
  accept(): TcpConnection | null;
  /** Waits until accept() would not return null. */
  waitAcceptable(): Promise<void>;
  close(): void;
}

export interface TcpConnection {
  readonly localAddress: SocketAddress;
  readonly remoteAddress: SocketAddress;
  /** Ready when read() would not return -1: data buffered, end of stream, or an error to report. */
  readonly readable: Pollable;
  /** Ready when write() would accept bytes (or report an error). */
  readonly writable: Pollable;
  /** Bytes buffered for read() right now. */
  readonly bufferedBytes: number;
  /** Copies up to dst.length buffered bytes into dst. Returns the count, 0 at end of stream, or -1 when
   *  nothing is buffered yet (would block). `peek` leaves the bytes buffered. Throws NetError for a
   *  socket error (ECONNRESET, ...) once the buffered bytes before it are consumed. */
  read(dst: Uint8Array, peek?: boolean): number;
  /** Copies `data` into the send queue: returns data.length, or 0 when the queue is over the limit
   *  (would block). Throws NetError EPIPE after shutdown('write'), ECONNRESET etc. */
  write(data: Uint8Array): number;
  waitReadable(): Promise<void>;
  waitWritable(): Promise<void>;
  shutdown(how: 'read' | 'write' | 'both'): void;
  setNoDelay(on: boolean): void;
  setKeepAlive(on: boolean, initialDelayMs?: number): void;
  close(): void;
}

export interface Datagram {
  data: Uint8Array;
  remote: SocketAddress;
}

export interface UdpSocket {
  readonly localAddress: SocketAddress;
  /** Ready when a datagram is queued for receive(). */
  readonly readable: Pollable;
  /** Next queued datagram, or null (would block). Datagrams from peers the policy denies for
   *  `receive` are dropped on arrival (and audited). */
  receive(): Datagram | null;
  /** Sends one datagram (policy `send` checked first: EACCES). To `remote`, or to the connected peer. */
  send(data: Uint8Array, remote?: SocketAddress): Promise<void>;
  /** Fixes the peer for send() without a remote and filters received datagrams to it. */
  connect(remote: SocketAddress): void;
  disconnect(): void;
  waitReadable(): Promise<void>;
  close(): void;
}

export interface ConnectOptions {
  timeoutMs?: number;
  noDelay?: boolean;
  keepAlive?: boolean;
}

export interface ListenOptions {
  backlog?: number;
  ipv6Only?: boolean;
  reuseAddress?: boolean;
}

/** The per-guest network: every socket and name lookup of one guest goes through one of these. */
export interface Network {
  readonly accounting: Readonly<Accounting>;
  readonly limits: Readonly<Limits>;
  /** Policy (lookup), then resolution; the answers are pinned for host-name grants. ENOENT for an
   *  unknown name, EACCES when denied. */
  lookup(name: string, family?: 0 | 4 | 6): Promise<string[]>;
  /** Policy (bind, then listen), then a listening TCP socket. */
  listenTcp(local: SocketAddress, opts?: ListenOptions): Promise<TcpListener>;
  /** A listener the operator granted (CLI --listen, systemd socket activation): bind/listen are not
   *  asked of the policy, accept still is. */
  adoptListener(spec: SocketAddress | { fd: number }, opts?: ListenOptions): Promise<TcpListener>;
  /** Policy (connect), then a TCP connection. */
  connectTcp(remote: SocketAddress, opts?: ConnectOptions): Promise<TcpConnection>;
  /** Policy (bind), then a UDP socket. Binding an unspecified address with port 0 (a client socket)
   *  is not asked of the policy: sends and receives still are. */
  bindUdp(local: SocketAddress): Promise<UdpSocket>;
  /** Closes every socket of this guest. */
  close(): void;
}
