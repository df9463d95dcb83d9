// The RULE grammar shared by flags and policy files:  RULE = host[:ports]
//   host  = IPv4 | "[" IPv6 "]" | IPv4/len | "[" IPv6/len "]" | hostname | "*." suffix | "*"
//   ports = port | lo-hi | "*"        (omitted means "*")
// IPv6 must be bracketed, always: `fd00::1:443` cannot be split into address and port reliably,
// and requiring brackets even without a port keeps one spelling per rule.
import { type Cidr, type IP, parseCidr, parseHostname, parseIPv4, parseIPv6 } from './address.ts';

/** A policy the user wrote is wrong. The message quotes the offending token and what was expected. */
export class PolicyError extends Error {
  override name = 'PolicyError';
}

export type Host =
  | { kind: 'any' }
  | { kind: 'ip'; ip: IP }
  | { kind: 'cidr'; cidr: Cidr }
  | { kind: 'name'; name: string }
  /** `*.example.com`, stored as `.example.com` so a match is one endsWith. */
  | { kind: 'wildcard'; suffix: string };

export interface PortRange {
  lo: number;
  hi: number;
}

export interface Rule {
  /** The token as written (trimmed). */
  text: string;
  host: Host;
  /** null: any port. */
  ports: PortRange | null;
}

const DOTTED = /^[0-9.]+$/;
const PORT = /^\d{1,5}$/;
const RANGE = /^(\d{1,5})-(\d{1,5})$/;

function parseHost(h: string): Host {
  if (h === '') throw new Error('missing host (use "*" for any host)');
  if (h === '*') return { kind: 'any' };
  if (h.startsWith('*.')) return { kind: 'wildcard', suffix: '.' + parseHostname(h.slice(2)) };
  if (h.includes('*')) throw new Error('"*" is only allowed as the whole host or as a leading "*." label');
  if (h.includes('/')) return { kind: 'cidr', cidr: parseCidr(h) };
  if (DOTTED.test(h)) {
    const v = parseIPv4(h);
    if (v === null) throw new Error(`"${h}" is not a valid IPv4 address`);
    return { kind: 'ip', ip: { family: 4, value: v } };
  }
  return { kind: 'name', name: parseHostname(h) };
}

function parseBracketed(h: string): Host {
  if (h.includes('%')) throw new Error('zone IDs ("%eth0") are not allowed in rules');
  if (!h.includes(':')) throw new Error('brackets are only for IPv6 addresses');
  if (h.includes('/')) return { kind: 'cidr', cidr: parseCidr(h) };
  const v = parseIPv6(h);
  if (v === null) throw new Error(`"${h}" is not a valid IPv6 address`);
  // IPv4-mapped folds to IPv4, as request addresses do.
  if (v >> 32n === 0xffffn) return { kind: 'ip', ip: { family: 4, value: v & 0xffffffffn } };
  return { kind: 'ip', ip: { family: 6, value: v } };
}

function parsePorts(p: string): PortRange | null {
  if (p === '*') return null;
  if (p === '') throw new Error('missing port after ":" (expected a port, a range like 8000-8999, or *)');
  let lo: number;
  let hi: number;
  const range = RANGE.exec(p);
  if (range) {
    lo = Number(range[1]);
    hi = Number(range[2]);
  } else if (PORT.test(p)) {
    lo = hi = Number(p);
  } else {
    throw new Error(`bad port "${p}" (expected a port, a range like 8000-8999, or *)`);
  }
  if (lo > 65535 || hi > 65535) throw new Error('port must be 0-65535');
  if (lo > hi) throw new Error(`port range ${lo}-${hi} is reversed (start must not exceed end)`);
  return { lo, hi };
}

/** Parses one RULE. `where` names its origin for the error message (`--allow-net`,
 *  `policy.json allow-net[0]`). */
export function parseRule(token: string, where?: string): Rule {
  const text = token.trim();
  const fail = (why: string) => new PolicyError(`invalid rule "${text}"${where ? ` in ${where}` : ''}: ${why}`);
  if (text === '') throw fail('empty rule (expected host[:ports]; check for a stray comma)');
  let hostText: string;
  let portText: string | undefined;
  let bracketed = false;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw fail('missing "]" after the IPv6 address');
    hostText = text.slice(1, close);
    bracketed = true;
    let rest = text.slice(close + 1);
    if (rest.startsWith('/')) {
      // Also accept `[fd00::]/8`, the spelling URLs and some tools use.
      const colon = rest.indexOf(':');
      hostText += colon < 0 ? rest : rest.slice(0, colon);
      rest = colon < 0 ? '' : rest.slice(colon);
    }
    if (rest !== '') {
      if (!rest.startsWith(':')) throw fail('expected ":ports" after "]"');
      portText = rest.slice(1);
    }
  } else {
    const colon = text.indexOf(':');
    if (colon >= 0 && text.indexOf(':', colon + 1) >= 0) {
      throw fail('IPv6 addresses must be in brackets, e.g. [::1]:443 or [fd00::/8]');
    }
    hostText = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? undefined : text.slice(colon + 1);
  }
  try {
    const host = bracketed ? parseBracketed(hostText) : parseHost(hostText);
    const ports = portText === undefined ? null : parsePorts(portText);
    return { text, host, ports };
  } catch (e) {
    throw fail((e as Error).message);
  }
}

/** Parses a comma-separated list of RULEs. */
export function parseRules(list: string, where?: string): Rule[] {
  return list.split(',').map((token) => parseRule(token, where));
}

/** Host names and wildcards (and `*`) are what a lookup can be judged against. */
export function isNameRule(rule: Rule): boolean {
  const k = rule.host.kind;
  return k === 'name' || k === 'wildcard' || k === 'any';
}
