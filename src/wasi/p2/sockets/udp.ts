// wasi:sockets/udp and udp-create-socket over the network core. Every datagram is judged by the
// policy on its own (send before it leaves, receive on arrival), exactly as for preview 1.
import type { SocketAddress, UdpSocket as CoreUdp } from '../../../net/types.ts';
import { Readiness } from '../../../net/pollable.ts';
import { Pollable, type ReadySource } from '../io/poll.ts';
import {
  checkRemote, errorCode, familyName, familyOf, fromIpSocketAddress, sameAddress, Settled,
  toIpSocketAddress, toNumber, type IpAddressFamily, type IpSocketAddress,
} from './common.ts';
import { startBindOp, type SocketsContext } from './network.ts';

export interface IncomingDatagram {
  data: Uint8Array;
  remoteAddress: IpSocketAddress;
}

export interface OutgoingDatagram {
  data: Uint8Array;
  remoteAddress: IpSocketAddress | undefined;
}

/** Largest payloads IPv4 and IPv6 can carry in one datagram. */
const MAX_PAYLOAD = { 4: 65_507, 6: 65_527 } as const;
/** Datagrams check-send permits at once. */
const SEND_PERMIT = 64;
/** Largest receive batch handed out by one call. */
const MAX_RECEIVE = 1024;
/** SO_RCVBUF/SO_SNDBUF requests are capped here (the kernel caps them further). */
const MAX_BUFFER_REQUEST = 1 << 30;

type State = 'unbound' | 'bind-in-progress' | 'bound' | 'closed';

export class UdpSocket {
  readonly #sockets: SocketsContext;
  readonly #family: 4 | 6;
  #state: State = 'unbound';
  #bindOp: Settled<CoreUdp> | null = null;
  #socket: CoreUdp | null = null;
  /** The peer stream() fixed, if any. */
  #remote: SocketAddress | null = null;
  #ttl: number | undefined;
  #receiveBuffer: number | undefined;
  #sendBuffer: number | undefined;
  readonly #events: Readiness;

  constructor(sockets: SocketsContext, family: 4 | 6) {
    this.#sockets = sockets;
    this.#family = family;
    this.#events = new Readiness(() => this.#state !== 'bind-in-progress' || (this.#bindOp?.done ?? true));
  }

  get family(): 4 | 6 {
    return this.#family;
  }

  /** The bound core socket (streams use it), or null once dropped. */
  get core(): CoreUdp | null {
    return this.#socket;
  }

  get remote(): SocketAddress | null {
    return this.#remote;
  }

  startBind(network: unknown, localAddress: IpSocketAddress): void {
    if (this.#state === 'bind-in-progress') throw 'concurrency-conflict';
    if (this.#state !== 'unbound') throw 'invalid-state';
    this.#bindOp = startBindOp(this.#sockets, network, localAddress, this.#family,
      (a, o) => this.#sockets.net.startBindUdp(a, o), (op) => this.#bindOp === op, () => this.#events.notify());
    this.#state = 'bind-in-progress';
    this.#events.notify();
  }

  finishBind(): void {
    if (this.#state !== 'bind-in-progress') throw 'not-in-progress';
    const op = this.#bindOp!;
    if (!op.done) throw 'would-block';
    this.#bindOp = null;
    if (!op.ok) {
      this.#state = 'unbound';
      throw errorCode(op.error);
    }
    const s = op.value!;
    this.#socket = s;
    this.#state = 'bound';
    // options set before the bind apply now
    try {
      if (this.#ttl !== undefined) s.setTtl(this.#ttl);
      if (this.#receiveBuffer !== undefined) s.setBufferSize('receive', this.#receiveBuffer);
      if (this.#sendBuffer !== undefined) s.setBufferSize('send', this.#sendBuffer);
    } catch { /* reported by the getters: what is in force */ }
  }

  stream(remoteAddress: IpSocketAddress | undefined): [IncomingDatagramStream, OutgoingDatagramStream] {
    if (this.#state !== 'bound') throw 'invalid-state';
    let remote: SocketAddress | null = null;
    if (remoteAddress !== undefined) {
      checkRemote(remoteAddress, this.#family);
      remote = fromIpSocketAddress(remoteAddress);
    }
    const s = this.#socket!;
    s.disconnect();
    try {
      if (remote) s.connect(remote);
    } catch (e) {
      throw errorCode(e);
    }
    this.#remote = remote;
    return [new IncomingDatagramStream(this), new OutgoingDatagramStream(this)];
  }

  localAddress(): IpSocketAddress {
    if (this.#state !== 'bound') throw 'invalid-state';
    return toIpSocketAddress(this.#socket!.localAddress);
  }

  remoteAddress(): IpSocketAddress {
    if (this.#state !== 'bound' || !this.#remote) throw 'invalid-state';
    return toIpSocketAddress(this.#remote);
  }

  addressFamily(): IpAddressFamily {
    return familyName(this.#family);
  }

  #open(): void {
    if (this.#state === 'closed') throw 'invalid-state';
  }

  unicastHopLimit(): number {
    this.#open();
    if (this.#ttl !== undefined) return this.#ttl;
    const d = this.#sockets.defaults;
    return this.#family === 4 ? d.ttl4 : d.hopLimit6;
  }

  setUnicastHopLimit(value: number): void {
    this.#open();
    if (value === 0) throw 'invalid-argument';
    try {
      this.#socket?.setTtl(value);
    } catch (e) {
      throw errorCode(e);
    }
    this.#ttl = value;
  }

  receiveBufferSize(): bigint {
    this.#open();
    if (this.#socket) return BigInt(this.#socket.bufferSize('receive'));
    return BigInt(this.#receiveBuffer ?? this.#sockets.defaults.udpReceiveBuffer);
  }

  setReceiveBufferSize(value: bigint): void {
    this.#open();
    if (value === 0n) throw 'invalid-argument';
    this.#receiveBuffer = Math.min(toNumber(value), MAX_BUFFER_REQUEST);
    try {
      this.#socket?.setBufferSize('receive', this.#receiveBuffer);
    } catch (e) {
      throw errorCode(e);
    }
  }

  sendBufferSize(): bigint {
    this.#open();
    if (this.#socket) return BigInt(this.#socket.bufferSize('send'));
    return BigInt(this.#sendBuffer ?? this.#sockets.defaults.udpSendBuffer);
  }

  setSendBufferSize(value: bigint): void {
    this.#open();
    if (value === 0n) throw 'invalid-argument';
    this.#sendBuffer = Math.min(toNumber(value), MAX_BUFFER_REQUEST);
    try {
      this.#socket?.setBufferSize('send', this.#sendBuffer);
    } catch (e) {
      throw errorCode(e);
    }
  }

  subscribe(): Pollable {
    return Pollable.of(this.#events);
  }

  [Symbol.dispose](): void {
    if (this.#bindOp?.ok) this.#bindOp.value!.close(); // bound, never collected by finish-bind
    this.#bindOp = null;
    this.#socket?.close();
    this.#socket = null;
    this.#state = 'closed';
    this.#events.notify();
  }
}

/** Readiness of a stream whose socket may have been dropped (then: ready, and calls fail). */
function follow(udp: UdpSocket, pick: (s: CoreUdp) => ReadySource): ReadySource {
  return {
    get ready() { const s = udp.core; return s ? pick(s).ready : true; },
    subscribe(w) { const s = udp.core; if (s) pick(s).subscribe(w); },
    unsubscribe(w) { const s = udp.core; if (s) pick(s).unsubscribe(w); },
  };
}

export class IncomingDatagramStream {
  readonly #udp: UdpSocket;
  readonly #ready: ReadySource;

  constructor(udp: UdpSocket) {
    this.#udp = udp;
    this.#ready = follow(udp, (s) => s.readable);
  }

  receive(maxResults: bigint): IncomingDatagram[] {
    const s = this.#udp.core;
    if (!s) throw 'invalid-state';
    const max = Math.min(toNumber(maxResults), MAX_RECEIVE);
    const out: IncomingDatagram[] = [];
    while (out.length < max) {
      const d = s.receive();
      if (!d) break;
      out.push({ data: d.data, remoteAddress: toIpSocketAddress(d.remote) });
    }
    return out;
  }

  subscribe(): Pollable {
    return Pollable.of(this.#ready);
  }

  [Symbol.dispose](): void {}
}

export class OutgoingDatagramStream {
  readonly #udp: UdpSocket;
  readonly #ready: ReadySource;
  /** What the last check-send permitted; null: send must trap. */
  #permit: number | null = null;

  constructor(udp: UdpSocket) {
    this.#udp = udp;
    this.#ready = follow(udp, (s) => s.writable);
  }

  checkSend(): bigint {
    const s = this.#udp.core;
    if (!s) throw 'invalid-state';
    this.#permit = s.writable.ready ? SEND_PERMIT : 0;
    return BigInt(this.#permit);
  }

  send(datagrams: OutgoingDatagram[]): bigint {
    if (datagrams.length === 0) return 0n;
    const permit = this.#permit;
    if (permit === null || datagrams.length > permit) {
      // the spec: send without a check-send permit for that many datagrams traps
      throw new WebAssembly.RuntimeError(`wasi:sockets/udp send of ${datagrams.length} datagrams, check-send permitted ${permit ?? 'none'}`);
    }
    this.#permit = null;
    const udp = this.#udp;
    const s = udp.core;
    if (!s) throw 'invalid-state';
    let sent = 0;
    for (const d of datagrams) {
      try {
        this.#sendOne(s, udp, d);
      } catch (e) {
        if (sent === 0) throw typeof e === 'string' ? e : errorCode(e);
        break;
      }
      sent++;
    }
    return BigInt(sent);
  }

  #sendOne(s: CoreUdp, udp: UdpSocket, d: OutgoingDatagram): void {
    const family = udp.family;
    let to: SocketAddress | undefined;
    if (d.remoteAddress !== undefined) {
      checkRemote(d.remoteAddress, family);
      to = fromIpSocketAddress(d.remoteAddress);
      if (udp.remote && !sameAddress(to, udp.remote)) throw 'invalid-argument';
    } else if (!udp.remote) {
      throw 'invalid-argument';
    }
    if (d.data.length > MAX_PAYLOAD[family]) throw 'datagram-too-large';
    // judged (send) and handed to the kernel; its later verdict is counted by the core
    void s.send(d.data, to);
  }

  subscribe(): Pollable {
    return Pollable.of(this.#ready);
  }

  [Symbol.dispose](): void {}
}

export function createUdpSocket(sockets: SocketsContext, addressFamily: IpAddressFamily): UdpSocket {
  if (addressFamily !== 'ipv4' && addressFamily !== 'ipv6') throw 'invalid-argument';
  const net = sockets.net;
  if (net.openSockets >= net.limits.maxSockets) throw 'new-socket-limit';
  return new UdpSocket(sockets, familyOf(addressFamily));
}
