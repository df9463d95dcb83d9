// The one place a guest's sockets and lookups live. Every operation is put to the policy before it
// happens; the ABI bindings only ever see the Network interface.
import type { PolicyChecker } from '../policy/types.ts';
import { isUnspecified, policyAddress, validateAddress } from './address.ts';
import { GuestContext } from './context.ts';
import { startResolve } from './dns.ts';
import { toNetError } from './errors.ts';
import { connect, TcpBindingImpl, TcpListenerImpl, type TcpConnectionImpl } from './tcp.ts';
import { UdpSocketImpl } from './udp.ts';
import {
  DEFAULT_LIMITS, NetError,
  type Accounting, type BindOptions, type ConnectOptions, type Limits, type ListenOptions, type Network, type SocketAddress,
} from './types.ts';

export interface NetworkCoreOptions {
  /** Names the guest (the checker writes it into audit events). */
  guest: string;
  checker: PolicyChecker;
  limits?: Partial<Limits>;
}

export class NetworkCore implements Network {
  readonly guest: string;
  readonly #ctx: GuestContext;

  constructor(opts: NetworkCoreOptions) {
    const limits: Limits = { ...DEFAULT_LIMITS };
    for (const k of ['maxSockets', 'maxBufferedBytes'] as const) {
      const v = opts.limits?.[k];
      if (v === undefined) continue;
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`limits.${k} must be a positive integer`);
      limits[k] = v;
    }
    this.guest = opts.guest;
    this.#ctx = new GuestContext(opts.guest, opts.checker, limits);
  }

  get accounting(): Readonly<Accounting> {
    return this.#ctx.accounting;
  }

  get limits(): Readonly<Limits> {
    return this.#ctx.limits;
  }

  /** Socket slots in use (listeners, connections the guest accepted or opened, UDP sockets). */
  get openSockets(): number {
    return this.#ctx.openSockets;
  }

  async lookup(name: string, family: 0 | 4 | 6 = 0): Promise<string[]> {
    return this.startLookup(name, family);
  }

  startLookup(name: string, family: 0 | 4 | 6 = 0): Promise<string[]> {
    return startResolve(this.#ctx, name, family);
  }

  async listenTcp(local: SocketAddress, opts: ListenOptions = {}): Promise<TcpListenerImpl> {
    const ctx = this.#ctx;
    ctx.ensureOpen();
    validateAddress(local, true);
    const address = policyAddress(local.address);
    ctx.require({ direction: 'bind', transport: 'tcp', address, port: local.port });
    ctx.require({ direction: 'listen', transport: 'tcp', address, port: local.port });
    return this.#listen(local, opts);
  }

  async adoptListener(spec: SocketAddress | { fd: number }, opts: ListenOptions = {}): Promise<TcpListenerImpl> {
    this.#ctx.ensureOpen();
    if ('fd' in spec) {
      if (!Number.isInteger(spec.fd) || spec.fd < 0) throw new NetError('EINVAL', `bad fd ${spec.fd}`);
    } else {
      validateAddress(spec, true);
    }
    return this.#listen(spec, opts);
  }

  async #listen(spec: SocketAddress | { fd: number }, opts: ListenOptions): Promise<TcpListenerImpl> {
    const ctx = this.#ctx;
    ctx.acquire();
    let listener: TcpListenerImpl;
    try {
      listener = await TcpListenerImpl.open(ctx, spec, opts);
    } catch (err) {
      ctx.release();
      throw toNetError(err);
    }
    return this.#stillOpen(listener);
  }

  async connectTcp(remote: SocketAddress, opts: ConnectOptions = {}): Promise<TcpConnectionImpl> {
    return this.startConnectTcp(remote, opts);
  }

  startConnectTcp(remote: SocketAddress, opts: ConnectOptions = {}): Promise<TcpConnectionImpl> {
    const ctx = this.#ctx;
    ctx.ensureOpen();
    validateAddress(remote, false);
    // judged before anything leaves the host: a denied connect makes no attempt
    ctx.require({ direction: 'connect', transport: 'tcp', address: policyAddress(remote.address), port: remote.port });
    ctx.acquire();
    return this.#opened(connect(ctx, remote, opts), () => ctx.accounting.connectionsOpened++);
  }

  startBindTcp(local: SocketAddress, opts: BindOptions = {}): Promise<TcpBindingImpl> {
    const ctx = this.#ctx;
    ctx.ensureOpen();
    validateAddress(local, true);
    // like a UDP client socket: nothing is reachable until listen, which is judged
    if (!(local.port === 0 && isUnspecified(local.address))) {
      ctx.require({ direction: 'bind', transport: 'tcp', address: policyAddress(local.address), port: local.port });
    }
    ctx.acquire();
    return this.#opened(TcpBindingImpl.open(ctx, local, opts.ipv6Only));
  }

  async bindUdp(local: SocketAddress): Promise<UdpSocketImpl> {
    return this.startBindUdp(local);
  }

  startBindUdp(local: SocketAddress, opts: BindOptions = {}): Promise<UdpSocketImpl> {
    const ctx = this.#ctx;
    ctx.ensureOpen();
    validateAddress(local, true);
    // an ephemeral client socket binds nothing anyone could reach: only its traffic is judged
    if (!(local.port === 0 && isUnspecified(local.address))) {
      ctx.require({ direction: 'bind', transport: 'udp', address: policyAddress(local.address), port: local.port });
    }
    ctx.acquire();
    return this.#opened(UdpSocketImpl.open(ctx, local, opts.ipv6Only));
  }

  /** The OS part of an operation whose slot is taken: the slot goes back if it fails. */
  async #opened<T extends { close(): void }>(p: Promise<T>, onOpen?: () => void): Promise<T> {
    let s: T;
    try {
      s = await p;
    } catch (err) {
      this.#ctx.release();
      throw toNetError(err);
    }
    onOpen?.();
    return this.#stillOpen(s);
  }

  /** A socket that finished opening after close() must not outlive the network. */
  #stillOpen<T extends { close(): void }>(s: T): T {
    if (this.#ctx.closed) {
      s.close();
      throw new NetError('EIO', 'network closed');
    }
    return s;
  }

  close(): void {
    this.#ctx.closeAll();
  }
}
