// wasi:sockets/*: network, instance-network, tcp, tcp-create-socket, udp, udp-create-socket,
// ip-name-lookup. One SocketsContext per component instance, over its network core.
import type { HostModule } from '../context.ts';
import { Network, networkErrorCode, SocketsContext } from './network.ts';
import { createTcpSocket, TcpSocket } from './tcp.ts';
import { createUdpSocket, IncomingDatagramStream, OutgoingDatagramStream, UdpSocket } from './udp.ts';
import { resolveAddresses, ResolveAddressStream } from './lookup.ts';
import type { IpAddressFamily } from './common.ts';

export const socketsHost: HostModule = (ctx) => {
  const sockets = new SocketsContext(ctx.net);
  return {
    'wasi:sockets/network': { Network, networkErrorCode },
    'wasi:sockets/instance-network': { instanceNetwork: () => new Network(sockets) },
    'wasi:sockets/tcp': { TcpSocket },
    'wasi:sockets/tcp-create-socket': { createTcpSocket: (family: IpAddressFamily) => createTcpSocket(sockets, family) },
    'wasi:sockets/udp': { UdpSocket, IncomingDatagramStream, OutgoingDatagramStream },
    'wasi:sockets/udp-create-socket': { createUdpSocket: (family: IpAddressFamily) => createUdpSocket(sockets, family) },
    'wasi:sockets/ip-name-lookup': {
      ResolveAddressStream,
      resolveAddresses: (network: unknown, name: string) => resolveAddresses(sockets, network, name),
    },
  };
};
