// The network core: one per guest, the only code that touches node:net, node:dgram and node:dns.
export * from './types.ts';
export { NetworkCore, type NetworkCoreOptions } from './core.ts';
export { TcpBindingImpl, TcpConnectionImpl, TcpListenerImpl, LINGER_MS, MIN_ACCEPT_QUEUE, MIN_BUFFER_LIMIT } from './tcp.ts';
export { UdpSocketImpl } from './udp.ts';
export { DEFAULT_DNS_TTL_MS, normalizeName } from './dns.ts';
export { normalizeIp, policyAddress } from './address.ts';
export { mapErrorCode, toNetError } from './errors.ts';
export { Readiness } from './pollable.ts';
