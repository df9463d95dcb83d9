// wasi:sockets/network and instance-network: the `network` resource (a capability handle onto this
// guest's network core: every operation is still judged by the policy) and network-error-code.
import fs from 'node:fs';
import { getDefaultHighWaterMark } from 'node:stream';
import type { Network as NetCore, SocketAddress } from '../../../net/types.ts';
import { IoError } from '../io/error.ts';
import { checkAddress, errorCode, fromIpSocketAddress, fromNetCode, Settled, type ErrorCode, type IpSocketAddress } from './common.ts';

/** Kernel defaults, for options Node cannot set: what is in force on a socket nobody changed. */
export interface KernelDefaults {
  keepAliveIdleSec: number;
  keepAliveIntervalSec: number;
  keepAliveCount: number;
  ttl4: number;
  hopLimit6: number;
  udpReceiveBuffer: number;
  udpSendBuffer: number;
  /** Node's stream high-water mark: the least a TCP send buffer can be. */
  streamHighWaterMark: number;
}

function readInt(file: string, fallback: number): number {
  try {
    const n = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    return Number.isFinite(n) && n > 0 ? n : fallback;
  } catch {
    return fallback;
  }
}

let defaults: KernelDefaults | undefined;
/** Read once per process (Linux /proc; the usual Linux values elsewhere). */
export function kernelDefaults(): KernelDefaults {
  defaults ??= {
    keepAliveIdleSec: readInt('/proc/sys/net/ipv4/tcp_keepalive_time', 7200),
    keepAliveIntervalSec: readInt('/proc/sys/net/ipv4/tcp_keepalive_intvl', 75),
    keepAliveCount: readInt('/proc/sys/net/ipv4/tcp_keepalive_probes', 9),
    ttl4: readInt('/proc/sys/net/ipv4/ip_default_ttl', 64),
    hopLimit6: readInt('/proc/sys/net/ipv6/conf/default/hop_limit', 64),
    udpReceiveBuffer: readInt('/proc/sys/net/core/rmem_default', 212_992),
    udpSendBuffer: readInt('/proc/sys/net/core/wmem_default', 212_992),
    streamHighWaterMark: getDefaultHighWaterMark(false),
  };
  return defaults;
}

/** What the socket resources of one component instance share. */
export class SocketsContext {
  readonly net: NetCore;
  readonly defaults: KernelDefaults;

  constructor(net: NetCore) {
    this.net = net;
    this.defaults = kernelDefaults();
  }
}

export class Network {
  readonly sockets: SocketsContext;

  constructor(sockets: SocketsContext) {
    this.sockets = sockets;
  }

  [Symbol.dispose](): void {}
}

/** `invalid-argument` unless `network` is this instance's network. */
export function checkNetwork(network: unknown, sockets: SocketsContext): void {
  if (!(network instanceof Network) || network.sockets !== sockets) throw 'invalid-argument';
}

/** What TCP and UDP start-bind share once the socket's state allows it: the network and address
 *  checks, the core's bind started, and the operation that settles with it. A socket bound after
 *  the guest stopped waiting for it (`isCurrent` false: dropped meanwhile) is closed at once. */
export function startBindOp<T extends { close(): void }>(
  sockets: SocketsContext, network: unknown, local: IpSocketAddress, family: 4 | 6,
  bind: (address: SocketAddress, opts: { ipv6Only: boolean }) => Promise<T>,
  isCurrent: (op: Settled<T>) => boolean, onSettle: () => void,
): Settled<T> {
  checkNetwork(network, sockets);
  checkAddress(local, family);
  let p: Promise<T>;
  try {
    p = bind(fromIpSocketAddress(local), { ipv6Only: family === 6 });
  } catch (e) {
    throw errorCode(e);
  }
  const op: Settled<T> = new Settled(p, () => {
    if (!isCurrent(op) && op.ok) op.value!.close();
    onSettle();
  });
  return op;
}

export function networkErrorCode(err: unknown): ErrorCode | undefined {
  if (!(err instanceof IoError)) return undefined;
  if (err.socketCode) return err.socketCode as ErrorCode;
  return err.netCode ? fromNetCode(err.netCode) : undefined;
}
