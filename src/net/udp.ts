// UDP over node:dgram. Every datagram is judged on its own: `send` before it leaves, `receive` on
// arrival (denied ones are dropped, never queued). The receive queue is bounded by maxBufferedBytes;
// overflow drops, as a full kernel buffer would.
import dgram from 'node:dgram';
import type { GuestContext } from './context.ts';
import { fromNode, policyAddress, validateAddress } from './address.ts';
import { toNetError } from './errors.ts';
import { Readiness } from './pollable.ts';
import { NetError, type Datagram, type SocketAddress, type UdpSocket } from './types.ts';

const noop = (): void => {};
/** How long a closed socket may still take to hand its in-flight datagrams to the kernel. */
export const UDP_LINGER_MS = 2000;

export class UdpSocketImpl implements UdpSocket {
  readonly #ctx: GuestContext;
  readonly #socket: dgram.Socket;
  readonly #family: 4 | 6;
  #local: SocketAddress = { address: '0.0.0.0', port: 0, family: 4 };
  #queue: Datagram[] = [];
  #head = 0;
  #queuedBytes = 0;
  #peer: SocketAddress | null = null;
  /** The peer's address as the policy and the arrival filter compare it. */
  #peerKey = '';
  #closed = false;
  /** Bytes given to the kernel by send() whose callbacks have not come yet. */
  #inflight = 0;
  readonly readable: Readiness;
  readonly writable: Readiness;

  /** Binds `local`. The caller has judged the bind and taken the slot. */
  static async open(ctx: GuestContext, local: SocketAddress, ipv6Only?: boolean): Promise<UdpSocketImpl> {
    const options: dgram.SocketOptions = { type: local.family === 6 ? 'udp6' : 'udp4' };
    if (local.family === 6 && ipv6Only !== undefined) options.ipv6Only = ipv6Only;
    const socket = dgram.createSocket(options);
    const udp = new UdpSocketImpl(ctx, socket, local.family);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ address: local.address, port: local.port, exclusive: true }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      const a = socket.address();
      udp.#local = fromNode(a.address, a.port, a.family);
    } catch (err) {
      try { socket.close(); } catch { /* never bound */ }
      throw toNetError(err, 'EINVAL');
    }
    socket.on('error', noop); // send errors reach send()'s callback; nothing else is actionable
    ctx.track(udp);
    return udp;
  }

  private constructor(ctx: GuestContext, socket: dgram.Socket, family: 4 | 6) {
    this.#ctx = ctx;
    this.#socket = socket;
    this.#family = family;
    this.readable = new Readiness(() => this.#head < this.#queue.length || this.#closed);
    this.writable = new Readiness(() => this.#inflight < this.#ctx.limits.maxBufferedBytes || this.#closed);
    socket.on('message', this.#onMessage);
  }

  get localAddress(): SocketAddress {
    return this.#local;
  }

  /** Datagrams currently queued for receive(). */
  get queuedDatagrams(): number {
    return this.#queue.length - this.#head;
  }

  #onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (this.#closed) return;
    const from = policyAddress(rinfo.address);
    // a connected socket only hears its peer (the kernel would filter these; they are not audited)
    if (this.#peer && (from !== this.#peerKey || rinfo.port !== this.#peer.port)) return;
    if (!this.#ctx.allows({ direction: 'receive', transport: 'udp', address: from, port: rinfo.port })) return;
    const acct = this.#ctx.accounting;
    const cost = msg.length || 1; // empty datagrams still occupy the queue
    if (this.#queuedBytes + cost > this.#ctx.limits.maxBufferedBytes) {
      acct.datagramsDropped++;
      this.#ctx.dropped({ direction: 'receive', transport: 'udp', address: from, port: rinfo.port }, `receive queue full (${this.#ctx.limits.maxBufferedBytes} bytes)`);
      return;
    }
    this.#queue.push({ data: msg, remote: fromNode(rinfo.address, rinfo.port, rinfo.family) });
    this.#queuedBytes += cost;
    acct.datagramsIn++;
    acct.bytesIn += msg.length;
    this.readable.notify();
  };

  receive(): Datagram | null {
    if (this.#head >= this.#queue.length) return null;
    const d = this.#queue[this.#head++]!;
    this.#queuedBytes -= d.data.length || 1;
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return d;
  }

  /** Pre-send failures (closed, no destination, bad address, EACCES) throw synchronously, so a caller
   *  that doesn't wait still learns them; the promise reports the kernel's verdict. */
  send(data: Uint8Array, remote?: SocketAddress): Promise<void> {
    if (this.#closed) throw new NetError('EPIPE', 'socket closed');
    const to = remote ?? this.#peer;
    if (!to) throw new NetError('ENOTCONN', 'no destination and not connected');
    validateAddress(to, false);
    this.#ctx.require({ direction: 'send', transport: 'udp', address: policyAddress(to.address), port: to.port });
    const target = this.#target(to);
    const copy = Buffer.from(data); // the guest's view changes once we return
    const cost = copy.length || 1;
    this.#inflight += cost;
    const p = new Promise<void>((resolve, reject) => {
      this.#socket.send(copy, to.port, target, (err) => {
        this.#inflight -= cost;
        this.writable.notify();
        if (this.#closed && this.#inflight === 0) this.#closeSocket();
        if (err) return reject(toNetError(err));
        const acct = this.#ctx.accounting;
        acct.datagramsOut++;
        acct.bytesOut += copy.length;
        resolve();
      });
    });
    p.catch(noop); // fire-and-forget callers must not crash the process on a failed send
    return p;
  }

  /** The destination in this socket's family: IPv4 goes IPv4-mapped on an IPv6 socket. */
  #target(to: SocketAddress): string {
    if (this.#family === 6) return to.family === 4 ? `::ffff:${to.address}` : to.address;
    if (to.family === 4) return to.address;
    const folded = policyAddress(to.address);
    if (folded.includes(':')) throw new NetError('EINVAL', 'IPv6 destination on an IPv4 socket');
    return folded;
  }

  connect(remote: SocketAddress): void {
    validateAddress(remote, false);
    this.#peer = { ...remote };
    this.#peerKey = policyAddress(remote.address);
  }

  disconnect(): void {
    this.#peer = null;
    this.#peerKey = '';
  }

  waitReadable(): Promise<void> {
    return this.readable.wait();
  }

  get sendQueueBytes(): number {
    return this.#inflight;
  }

  setTtl(ttl: number): void {
    if (this.#closed) throw new NetError('EPIPE', 'socket closed');
    try {
      this.#socket.setTTL(ttl);
    } catch (err) {
      throw toNetError(err, 'EINVAL');
    }
  }

  bufferSize(which: 'receive' | 'send'): number {
    if (this.#closed) throw new NetError('EPIPE', 'socket closed');
    try {
      return which === 'receive' ? this.#socket.getRecvBufferSize() : this.#socket.getSendBufferSize();
    } catch (err) {
      throw toNetError(err);
    }
  }

  setBufferSize(which: 'receive' | 'send', bytes: number): number {
    if (this.#closed) throw new NetError('EPIPE', 'socket closed');
    try {
      if (which === 'receive') this.#socket.setRecvBufferSize(bytes);
      else this.#socket.setSendBufferSize(bytes);
    } catch (err) {
      throw toNetError(err, 'EINVAL');
    }
    return this.bufferSize(which);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ctx.release();
    this.#ctx.untrack(this);
    this.#queue = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    if (this.#inflight > 0) {
      // like close(2): datagrams already sent still go out (Node hands them over a tick later)
      setTimeout(() => this.#closeSocket(), UDP_LINGER_MS).unref();
    } else {
      this.#closeSocket();
    }
    this.readable.notify();
    this.writable.notify();
  }

  #closeSocket(): void {
    try { this.#socket.close(); } catch { /* already closed */ }
  }
}
