// IP literal handling. The policy compares addresses as strings, so every address it is asked about
// must be in one canonical form: IPv4 dotted, IPv6 RFC 5952 (compressed, lower-case), and
// IPv4-mapped IPv6 folded to IPv4 (a dual-stack socket must not be a way around an IPv4 rule).
import { isIP } from 'node:net';
import { formatIP, normalizeAddress, parseIPv6 } from '../policy/address.ts';
import { NetError, type SocketAddress } from './types.ts';

/** The canonical form of an IP literal, or null if `s` is not one. `fold` turns IPv4-mapped IPv6
 *  into plain IPv4 (what the policy sees); without it the family is kept (what a socket reports). */
export function normalizeIp(s: string, fold = true): string | null {
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (fold) return normalizeAddress(s);
  if (isIP(s) !== 6) return normalizeAddress(s);
  const v6 = parseIPv6(s);
  if (v6 === null) return null;
  // keep an IPv4-mapped address in its family, written the usual way (::ffff:1.2.3.4)
  if (v6 >> 32n === 0xffffn) return `::ffff:${formatIP({ family: 4, value: v6 & 0xffffffffn })}`;
  return formatIP({ family: 6, value: v6 });
}

/** The address as the policy must see it; `ip` is known to be a literal (Node reported or validated). */
export function policyAddress(ip: string): string {
  return normalizeIp(ip) ?? ip;
}

export function isUnspecified(ip: string): boolean {
  const n = normalizeIp(ip, false);
  return n === '0.0.0.0' || n === '::';
}

/** EINVAL unless `a` is an IP literal of the stated family with a valid port. */
export function validateAddress(a: SocketAddress, allowPortZero: boolean): void {
  const v = typeof a?.address === 'string' ? isIP(a.address.split('%')[0]!) : 0;
  if (v === 0 || v !== a.family) throw new NetError('EINVAL', `not an IPv${a?.family} literal: ${a?.address}`);
  if (!Number.isInteger(a.port) || a.port < (allowPortZero ? 0 : 1) || a.port > 65535) {
    throw new NetError('EINVAL', `bad port: ${a.port}`);
  }
}

/** A SocketAddress from what Node reports (family as 'IPv4'/'IPv6' or 4/6). */
export function fromNode(address: string | undefined, port: number | undefined, family: string | number | undefined): SocketAddress {
  const fam: 4 | 6 = family === 'IPv6' || family === 6 ? 6 : family === 'IPv4' || family === 4 ? 4 : (isIP(address ?? '') === 6 ? 6 : 4);
  return { address: address ?? (fam === 6 ? '::' : '0.0.0.0'), port: port ?? 0, family: fam };
}
