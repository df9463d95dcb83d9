// IP literal, CIDR and host-name parsing. Addresses are kept as bigints so that exact and CIDR
// matching are a compare and a mask, and so every spelling of one address compares equal.
import { domainToASCII } from 'node:url';

export type Family = 4 | 6;

/** A parsed address. IPv4-mapped IPv6 is always folded to family 4. */
export interface IP {
  family: Family;
  value: bigint;
}

export interface Cidr {
  family: Family;
  /** Network address (host bits zero). */
  base: bigint;
  prefix: number;
  mask: bigint;
}

const V4_MAX = 0xffffffffn;
const MAPPED_PREFIX = 0xffffn; // ::ffff:0:0/96 shifted right by 32

/** Strict dotted-quad: exactly four decimal parts 0-255. Leading zeros are refused because some
 *  resolvers read them as octal, so `010.0.0.1` would not mean what it seems to. */
export function parseIPv4(s: string): bigint | null {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46; // treat end as a final '.'
    if (c === 46) {
      if (digits === 0 || ++parts > 4) return null;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return null; // leading zero
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return null;
    } else {
      return null;
    }
  }
  return parts === 4 ? BigInt(value) : null;
}

function parseGroup(g: string): number {
  if (g.length === 0 || g.length > 4) return -1;
  let n = 0;
  for (let i = 0; i < g.length; i++) {
    const c = g.charCodeAt(i) | 0x20; // lower-case letters; digits are unaffected
    if (c >= 48 && c <= 57) n = n * 16 + (c - 48);
    else if (c >= 97 && c <= 102) n = n * 16 + (c - 87);
    else return -1;
  }
  return n;
}

/** IPv6 text (no brackets, no zone) to its 128-bit value, or null. Not folded. */
export function parseIPv6(s: string): bigint | null {
  if (s.length < 2 || s.length > 45) return null;
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) return null;
  let body = s;
  let v4: bigint | null = null;
  if (s.indexOf('.', lastColon) >= 0) {
    // Embedded IPv4 in the last 32 bits: parse it, stand two zero groups in its place.
    v4 = parseIPv4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    body = s.slice(0, lastColon + 1) + '0:0';
  }
  const gap = body.indexOf('::');
  if (gap >= 0 && body.indexOf('::', gap + 1) >= 0) return null;
  const head = gap >= 0 ? body.slice(0, gap) : body;
  const tail = gap >= 0 ? body.slice(gap + 2) : '';
  const hg = head === '' ? [] : head.split(':');
  const tg = tail === '' ? [] : tail.split(':');
  if (gap < 0 ? hg.length !== 8 : hg.length + tg.length > 7) return null;
  let v = 0n;
  for (const g of hg) {
    const n = parseGroup(g);
    if (n < 0) return null;
    v = (v << 16n) | BigInt(n);
  }
  v <<= BigInt(16 * (8 - hg.length - tg.length));
  for (const g of tg) {
    const n = parseGroup(g);
    if (n < 0) return null;
    v = (v << 16n) | BigInt(n);
  }
  return v4 === null ? v : v | v4;
}

function fold(v6: bigint): IP {
  return v6 >> 32n === MAPPED_PREFIX ? { family: 4, value: v6 & V4_MAX } : { family: 6, value: v6 };
}

/** Any IP literal as a guest or user may write it: IPv4, IPv6, `[IPv6]`, with an optional `%zone`
 *  (dropped: rules cannot name zones, so it cannot change a decision). Null if not an IP literal. */
export function parseIP(input: string): IP | null {
  let s = input;
  if (s.charCodeAt(0) === 91 /* [ */) {
    if (!s.endsWith(']')) return null;
    s = s.slice(1, -1);
  }
  if (s.indexOf(':') < 0) {
    const v4 = parseIPv4(s);
    return v4 === null ? null : { family: 4, value: v4 };
  }
  const zone = s.indexOf('%');
  if (zone >= 0) {
    if (zone === s.length - 1) return null;
    s = s.slice(0, zone);
  }
  const v6 = parseIPv6(s);
  return v6 === null ? null : fold(v6);
}

/** Canonical text: dotted IPv4, or RFC 5952 IPv6 (lower-case, longest zero run compressed). */
export function formatIP(ip: IP): string {
  const v = ip.value;
  if (ip.family === 4) {
    return `${Number((v >> 24n) & 255n)}.${Number((v >> 16n) & 255n)}.${Number((v >> 8n) & 255n)}.${Number(v & 255n)}`;
  }
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((v >> shift) & 0xffffn));
  let bestAt = -1;
  let bestLen = 1; // a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((g) => g.toString(16)).join(':');
  if (bestAt < 0) return hex(groups);
  return `${hex(groups.slice(0, bestAt))}::${hex(groups.slice(bestAt + bestLen))}`;
}

/** The canonical form of an IP literal (IPv4-mapped folded to IPv4), or null if it is not one. */
export function normalizeAddress(s: string): string | null {
  const ip = parseIP(s);
  return ip === null ? null : formatIP(ip);
}

export function isUnspecified(address: string | IP): boolean {
  const ip = typeof address === 'string' ? parseIP(address) : address;
  return ip !== null && ip.value === 0n;
}

export function isLoopback(address: string | IP): boolean {
  const ip = typeof address === 'string' ? parseIP(address) : address;
  if (ip === null) return false;
  return ip.family === 4 ? ip.value >> 24n === 127n : ip.value === 1n;
}

/** The address the kernel substitutes for an unspecified connect target. */
export function loopbackFor(family: Family): IP {
  return family === 4 ? { family: 4, value: 0x7f000001n } : { family: 6, value: 1n };
}

function maskFor(family: Family, prefix: number): bigint {
  const bits = family === 4 ? 32 : 128;
  return ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
}

/** `addr/prefix` (no brackets). Throws an Error whose message is the reason, for the caller to
 *  wrap with the offending token. Host bits must be zero: `10.0.0.1/8` is more likely a typo than
 *  a network. An IPv4-mapped IPv6 network of /96 or longer folds to the IPv4 network it covers. */
export function parseCidr(s: string): Cidr {
  const slash = s.indexOf('/');
  const addrText = s.slice(0, slash);
  const prefixText = s.slice(slash + 1);
  let family: Family;
  let raw: bigint | null;
  if (addrText.indexOf(':') >= 0) {
    family = 6;
    raw = parseIPv6(addrText);
    if (raw === null) throw new Error(`"${addrText}" is not a valid IPv6 address`);
  } else {
    family = 4;
    raw = parseIPv4(addrText);
    if (raw === null) throw new Error(`"${addrText}" is not a valid IPv4 address`);
  }
  const bits = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    throw new Error(`prefix length must be 0-${bits}`);
  }
  let prefix = Number(prefixText);
  let mask = maskFor(family, prefix);
  if ((raw & mask) !== raw) {
    const fixed = formatIP({ family, value: raw & mask });
    throw new Error(`host bits are set (did you mean ${family === 6 ? `[${fixed}/${prefix}]` : `${fixed}/${prefix}`}?)`);
  }
  if (family === 6 && prefix >= 96 && raw >> 32n === MAPPED_PREFIX) {
    family = 4;
    raw &= V4_MAX;
    prefix -= 96;
    mask = maskFor(4, prefix);
  }
  return { family, base: raw, prefix, mask };
}

export function cidrContains(cidr: Cidr, ip: IP): boolean {
  return ip.family === cidr.family && (ip.value & cidr.mask) === cidr.base;
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const NUMERIC = /^[0-9]+$/;

/** Validates and normalises a host name (lower-case, one trailing dot removed, IDN to punycode).
 *  Throws an Error whose message is the reason. Underscores are accepted (service names use them).
 *  An all-numeric last label is refused so that a mistyped IP literal is not taken for a name. */
export function parseHostname(input: string): string {
  let s = input.endsWith('.') ? input.slice(0, -1) : input;
  if (s === '') throw new Error('empty host name');
  // Non-ASCII names are converted; domainToASCII answers '' for names it cannot convert.
  if (!/^[\x00-\x7f]*$/.test(s)) {
    const ascii = domainToASCII(s);
    if (ascii === '') throw new Error('not a valid internationalised host name');
    s = ascii;
  }
  s = s.toLowerCase();
  if (s.length > 253) throw new Error('host name longer than 253 characters');
  const labels = s.split('.');
  for (const label of labels) {
    if (!LABEL.test(label)) {
      throw new Error(
        label === ''
          ? 'empty label in host name'
          : `bad host name label "${label}" (letters, digits, "-" and "_", 1-63 characters, no leading or trailing "-")`,
      );
    }
  }
  if (NUMERIC.test(labels[labels.length - 1]!)) throw new Error('not a valid IP address or host name');
  return s;
}

/** Cheap normalisation for names in requests and pins: lower-case, one trailing dot removed.
 *  No validation: a malformed name simply matches no host-name rule. */
export function normalizeName(name: string): string {
  return (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
}
