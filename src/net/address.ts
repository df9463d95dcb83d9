// IP literal handling. The policy compares addresses as strings, so every address it is asked about
// must be in one canonical form: IPv4 dotted, IPv6 RFC 5952 (compressed, lower-case), and
// IPv4-mapped IPv6 folded to IPv4 (a dual-stack socket must not be a way around an IPv4 rule).
import { isIP } from 'node:net';
import { NetError, type SocketAddress } from './types.ts';

/** Parses an IPv6 literal (zone already stripped) into 8 groups; null if it is not one. */
function ipv6Groups(s: string): number[] | null {
  if (isIP(s) !== 6) return null;
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    // embedded IPv4 in the last 32 bits
    const v4 = s.slice(lastColon + 1).split('.').map(Number);
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const [head, rest] = s.includes('::') ? s.split('::') as [string, string] : [s, null];
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const left = parse(head);
  let groups: number[];
  if (rest === null) groups = left;
  else {
    const right = parse(rest);
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  }
  if (tail.length) groups.splice(6, 2, ...tail);
  return groups.length === 8 ? groups : null;
}

function formatIpv6(g: readonly number[]): string {
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;
  }
  // RFC 5952: compress the longest run (first on a tie) of two or more zero groups
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: readonly number[]): string => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** The canonical form of an IP literal, or null if `s` is not one. `fold` turns IPv4-mapped IPv6
 *  into plain IPv4 (what the policy sees); without it the family is kept (what a socket reports). */
export function normalizeIp(s: string, fold = true): string | null {
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const v = isIP(s);
  if (v === 4) return s;
  if (v !== 6) return null;
  const g = ipv6Groups(s.toLowerCase());
  if (!g) return null;
  const text = formatIpv6(g);
  return fold && text.startsWith('::ffff:') && text.includes('.') ? text.slice(7) : text;
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
