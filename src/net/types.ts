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
  /** The failure may go away if retried (a resolver's EAI_AGAIN, reported as EIO). */
  readonly temporary: boolean;
  constructor(code: NetErrorCode, message?: string, opts: { temporary?: boolean } = {}) {
    super(message ?? code);
    this.code = code;
    this.temporary = opts.temporary ?? false;
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
  /** Connections allowed to wait for accept() (never below MIN_ACCEPT_QUEUE); beyond it they are reset. */
  setBacklog(backlog: number): void;
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
   *  (would block). Throws NetError EPIPE after shutdown('write'), ECONNRESET etc. With `owned` the
   *  caller hands `data` over (nobody modifies it afterwards) and it is queued without a copy. */
  write(data: Uint8Array, owned?: boolean): number;
  waitReadable(): Promise<void>;
  waitWritable(): Promise<void>;
  shutdown(how: 'read' | 'write' | 'both'): void;
  setNoDelay(on: boolean): void;
  /** SO_KEEPALIVE; with initialDelayMs >= 1000 also TCP_KEEPIDLE (whole seconds, rounded down), and
   *  then Node (libuv) sets TCP_KEEPINTVL to 1 s and TCP_KEEPCNT to 10 as well. */
  setKeepAlive(on: boolean, initialDelayMs?: number): void;
  /** How many bytes write() takes now: 0 means it would block. Throws what write() would throw
   *  (EPIPE after shutdown('write'), the connection's error). */
  checkWrite(): number;
  /** Hands out buffered bytes without copying them: at most `max` (> 0) bytes from the head of the
   *  receive queue (possibly fewer than are buffered), an empty array at end of stream, or null when
   *  nothing is buffered yet. Throws like read(). The caller may keep the array. */
  take(max: number): Uint8Array | null;
  /** The per-direction buffering limits in force (bytes). `receive`: how much the host buffers before
   *  it stops reading from the kernel; `send`: how much queued output makes write() block (never below
   *  Node's stream high-water mark). */
  readonly bufferLimits: { receive: number; send: number };
  /** Changes them, each clamped to [MIN_BUFFER_LIMIT, limits.maxBufferedBytes]; returns the limits now
   *  in force. */
  setBufferLimits(limits: { receive?: number; send?: number }): { receive: number; send: number };
  close(): void;
}

/** A TCP socket bound to a local address (port 0: an ephemeral port, already chosen), not yet
 *  listening or connected. Holds one socket slot, which passes to the listener or connection made
 *  from it. Peers that try to connect before listen() are reset. */
export interface TcpBinding {
  readonly localAddress: SocketAddress;
  /** Policy (listen, judged for the address and port bind() was asked for), then accepts connections.
   *  EACCES leaves the binding as it was. */
  listen(opts?: { backlog?: number }): TcpListener;
  /** Policy (connect), then a connection from this binding's address and port. Validation, policy
   *  and state errors are thrown synchronously (the binding stays usable); otherwise the binding is
   *  used up and the promise reports the connect. */
  startConnect(remote: SocketAddress, opts?: ConnectOptions): Promise<TcpConnection>;
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
  /** Ready when send() is not over the send-queue limit (maxBufferedBytes in flight). */
  readonly writable: Pollable;
  /** Bytes handed to send() that the kernel has not taken yet. */
  readonly sendQueueBytes: number;
  /** IP_TTL / IPV6_UNICAST_HOPS (1-255). */
  setTtl(ttl: number): void;
  /** SO_RCVBUF / SO_SNDBUF as the kernel reports them (Linux doubles what is asked). */
  bufferSize(which: 'receive' | 'send'): number;
  /** Asks the kernel for that size (it may cap or round it); returns bufferSize(which). */
  setBufferSize(which: 'receive' | 'send', bytes: number): number;
  close(): void;
}

export interface BindOptions {
  /** IPv6 sockets only: refuse IPv4(-mapped) traffic. */
  ipv6Only?: boolean;
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
  /** Socket slots in use (listeners, bindings, connections, UDP sockets, connects in flight). */
  readonly openSockets: number;
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

  // The `start` forms, for ABIs whose operations are start/finish pairs (WASI 0.2 and later):
  // validation, the policy and the socket limit are decided before they return, and their NetErrors
  // are thrown synchronously; the promise reports only what the OS (or resolver) says.

  /** lookup(), started. */
  startLookup(name: string, family?: 0 | 4 | 6): Promise<string[]>;
  /** connectTcp(), started. */
  startConnectTcp(remote: SocketAddress, opts?: ConnectOptions): Promise<TcpConnection>;
  /** Policy (bind), then a bound TCP socket (see TcpBinding). Like bindUdp, binding an unspecified
   *  address with port 0 is not asked of the policy (listen and connect still are). */
  startBindTcp(local: SocketAddress, opts?: BindOptions): Promise<TcpBinding>;
  /** bindUdp(), started. */
  startBindUdp(local: SocketAddress, opts?: BindOptions): Promise<UdpSocket>;
  /** Closes every socket of this guest. */
  close(): void;
}
