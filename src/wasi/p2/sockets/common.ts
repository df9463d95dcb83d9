// What every wasi:sockets interface shares: the error-code names and how network-core errors map to
// them, ip-socket-address <-> SocketAddress, the address checks the spec asks for, and the settled
// state of a promise (a finish-* call must answer synchronously).
import { formatIP, parseIPv4, parseIPv6 } from '../../../policy/address.ts';
import { NetError, type NetErrorCode, type SocketAddress } from '../../../net/types.ts';
import { normalizeIp } from '../../../net/address.ts';
import { IoError } from '../io/error.ts';

/** wasi:sockets/network.error-code, as jco lowers an enum. */
export type ErrorCode =
  | 'unknown' | 'access-denied' | 'not-supported' | 'invalid-argument' | 'out-of-memory' | 'timeout'
  | 'concurrency-conflict' | 'not-in-progress' | 'would-block' | 'invalid-state' | 'new-socket-limit'
  | 'address-not-bindable' | 'address-in-use' | 'remote-unreachable' | 'connection-refused'
  | 'connection-reset' | 'connection-aborted' | 'datagram-too-large' | 'name-unresolvable'
  | 'temporary-resolver-failure' | 'permanent-resolver-failure';

export type IpAddressFamily = 'ipv4' | 'ipv6';

export type Ipv4Address = [number, number, number, number];
export type Ipv6Address = [number, number, number, number, number, number, number, number];

export type IpAddress = { tag: 'ipv4'; val: Ipv4Address } | { tag: 'ipv6'; val: Ipv6Address };

export type IpSocketAddress =
  | { tag: 'ipv4'; val: { port: number; address: Ipv4Address } }
  | { tag: 'ipv6'; val: { port: number; flowInfo: number; address: Ipv6Address; scopeId: number } };

const NET_CODES: Readonly<Record<NetErrorCode, ErrorCode>> = {
  EACCES: 'access-denied',
  EAGAIN: 'would-block',
  EADDRINUSE: 'address-in-use',
  EADDRNOTAVAIL: 'address-not-bindable',
  ECONNREFUSED: 'connection-refused',
  ECONNRESET: 'connection-reset',
  ECONNABORTED: 'connection-aborted',
  EHOSTUNREACH: 'remote-unreachable',
  ENETUNREACH: 'remote-unreachable',
  ETIMEDOUT: 'timeout',
  EPIPE: 'connection-reset',
  ENOTCONN: 'invalid-state',
  EMFILE: 'new-socket-limit',
  ENOBUFS: 'out-of-memory',
  EINVAL: 'invalid-argument',
  ENOENT: 'name-unresolvable',
  EIO: 'unknown',
};

export function fromNetCode(code: NetErrorCode): ErrorCode {
  return NET_CODES[code] ?? 'unknown';
}

/** The error-code for anything a network-core call threw. */
export function errorCode(e: unknown): ErrorCode {
  if (e instanceof NetError) return fromNetCode(e.code);
  if (e instanceof IoError && e.socketCode) return e.socketCode as ErrorCode;
  if (typeof e === 'string') return e as ErrorCode;
  return 'unknown';
}

/** A stream error for a socket stream, carrying the error-code network-error-code reports. */
export function streamFailure(e: unknown): IoError {
  if (e instanceof IoError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new IoError(message, { socketCode: errorCode(e), netCode: e instanceof NetError ? e.code : undefined });
}

export const familyOf = (f: IpAddressFamily): 4 | 6 => (f === 'ipv6' ? 6 : 4);
export const familyName = (f: 4 | 6): IpAddressFamily => (f === 6 ? 'ipv6' : 'ipv4');

function v6Groups(address: string): Ipv6Address {
  const v = parseIPv6(address.split('%')[0]!) ?? 0n;
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  return g as Ipv6Address;
}

function v4Octets(address: string): Ipv4Address {
  const v = parseIPv4(address) ?? 0n;
  return [Number((v >> 24n) & 255n), Number((v >> 16n) & 255n), Number((v >> 8n) & 255n), Number(v & 255n)];
}

/** An IP address as the guest sees it. IPv4-mapped IPv6 becomes IPv4 when `unmap` is set. */
export function toIpAddress(address: string, unmap: boolean): IpAddress {
  const n = normalizeIp(address, unmap) ?? address;
  if (!n.includes(':')) return { tag: 'ipv4', val: v4Octets(n) };
  return { tag: 'ipv6', val: v6Groups(n) };
}

export function toIpSocketAddress(a: SocketAddress): IpSocketAddress {
  if (a.family === 4) return { tag: 'ipv4', val: { port: a.port, address: v4Octets(a.address) } };
  return { tag: 'ipv6', val: { port: a.port, flowInfo: 0, address: v6Groups(a.address), scopeId: 0 } };
}

/** The core's SocketAddress for a guest address (IPv6 in canonical form, with the scope as zone). */
export function fromIpSocketAddress(a: IpSocketAddress): SocketAddress {
  if (a.tag === 'ipv4') return { address: a.val.address.join('.'), port: a.val.port, family: 4 };
  let v = 0n;
  for (const g of a.val.address) v = (v << 16n) | BigInt(g & 0xffff);
  const text = formatIP({ family: 6, value: v });
  const zone = a.val.scopeId ? `%${a.val.scopeId >>> 0}` : '';
  return { address: text + zone, port: a.val.port, family: 6 };
}

function isMapped(a: IpSocketAddress): boolean {
  if (a.tag !== 'ipv6') return false;
  const g = a.val.address;
  return g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff;
}

function isMulticastOrBroadcast(a: IpSocketAddress): boolean {
  if (a.tag === 'ipv4') {
    const o = a.val.address;
    return (o[0] & 0xf0) === 0xe0 || (o[0] === 255 && o[1] === 255 && o[2] === 255 && o[3] === 255);
  }
  return (a.val.address[0] & 0xff00) === 0xff00;
}

export function isUnspecifiedAddress(a: IpSocketAddress): boolean {
  return a.val.address.every((x) => x === 0);
}

/** The checks every bind, connect and send target gets: `invalid-argument` for the wrong family, an
 *  IPv4-mapped IPv6 address (wasi:sockets IPv6 sockets are IPv6 only) or a non-unicast address. */
export function checkAddress(a: IpSocketAddress, family: 4 | 6): void {
  if (!a || (a.tag !== 'ipv4' && a.tag !== 'ipv6') || familyOf(a.tag) !== family) throw 'invalid-argument';
  if (isMapped(a) || isMulticastOrBroadcast(a)) throw 'invalid-argument';
}

/** checkAddress, and a remote end must have an address and a port. */
export function checkRemote(a: IpSocketAddress, family: 4 | 6): void {
  checkAddress(a, family);
  if (isUnspecifiedAddress(a) || a.val.port === 0) throw 'invalid-argument';
}

export function sameAddress(a: SocketAddress, b: SocketAddress): boolean {
  return a.port === b.port && normalizeIp(a.address, false) === normalizeIp(b.address, false);
}

/** A promise's outcome, readable synchronously once it has settled. */
export class Settled<T> {
  done = false;
  ok = false;
  value: T | undefined;
  error: unknown;

  constructor(p: Promise<T>, onSettle: () => void) {
    p.then(
      (v) => { this.done = true; this.ok = true; this.value = v; onSettle(); },
      (e: unknown) => { this.done = true; this.error = e; onSettle(); },
    );
  }
}

/** u64 arguments arrive as bigint: clamped to a safe JS number. */
export function toNumber(v: bigint | number): number {
  const n = typeof v === 'bigint' ? (v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v)) : v;
  return n < 0 ? 0 : n;
}
