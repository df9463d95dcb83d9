// The matcher: a list of allow/deny entries, pre-sorted per direction, judging one Request.
import { type IP, cidrContains, formatIP, loopbackFor, normalizeName, parseIP } from './address.ts';
import { type Rule, isNameRule } from './rule.ts';
import { DIRECTIONS, type Decision, type Direction, type Request } from './types.ts';

export interface PolicyEntry {
  action: 'allow' | 'deny';
  directions: readonly Direction[];
  rule: Rule;
  /** How the user wrote it (`--allow-net=example.com:443`, `policy.json allow-net[1]`):
   *  becomes Decision.rule. */
  source: string;
}

/** Names whose lookup returned `address` (normalised), still valid. */
export type NamesFor = (address: string) => readonly string[];

const NO_NAMES: readonly string[] = [];
const noNames: NamesFor = () => NO_NAMES;
const DEFAULT_DENY = 'default deny';

/** Result of matching one entry: false, true, or the pinned name through which it matched. */
type Match = boolean | string;

function portMatches(rule: Rule, port: number | undefined): boolean {
  const p = rule.ports;
  return p === null || (port !== undefined && port >= p.lo && port <= p.hi);
}

function nameMatches(rule: Rule, name: string): boolean {
  const h = rule.host;
  if (h.kind === 'name') return h.name === name;
  if (h.kind === 'wildcard') return name.length > h.suffix.length && name.endsWith(h.suffix);
  return h.kind === 'any';
}

export class Policy {
  readonly entries: readonly PolicyEntry[];
  readonly #allow = new Map<Direction, PolicyEntry[]>();
  readonly #deny = new Map<Direction, PolicyEntry[]>();

  constructor(entries: readonly PolicyEntry[]) {
    this.entries = entries;
    for (const d of DIRECTIONS) {
      this.#allow.set(d, []);
      this.#deny.set(d, []);
    }
    for (const e of entries) {
      const lists = e.action === 'deny' ? this.#deny : this.#allow;
      for (const d of new Set(e.directions)) {
        // IP rules never match a lookup: leave them out of the lookup lists entirely.
        if (d === 'lookup' && !isNameRule(e.rule)) continue;
        lists.get(d)?.push(e);
      }
      // A host-name grant in any direction implies permission to look that name up
      // (but `*` only grants lookups where the entry says so, e.g. not `--allow-listen=*:80`).
      const k = e.rule.host.kind;
      if (e.action === 'allow' && (k === 'name' || k === 'wildcard') && !e.directions.includes('lookup')) {
        this.#allow.get('lookup')!.push(e);
      }
    }
  }

  /** Everything allowed, every direction. */
  static allowAll(): Policy {
    return new Policy([
      { action: 'allow', directions: DIRECTIONS, rule: { text: '*', host: { kind: 'any' }, ports: null }, source: 'allow all' },
    ]);
  }

  /** Nothing allowed. */
  static denyAll(): Policy {
    return new Policy([]);
  }

  /** Deny-wins: any matching deny entry decides; then the first matching allow; else default deny.
   *  `namesFor` gives the names pinned for an address, through which host-name rules match it. */
  decide(req: Request, namesFor: NamesFor = noNames): Decision {
    const deny = this.#deny.get(req.direction);
    const allow = this.#allow.get(req.direction);
    if (deny === undefined || allow === undefined) return { allow: false, rule: DEFAULT_DENY };

    if (req.direction === 'lookup') {
      const name = normalizeName(req.name ?? '');
      for (const e of deny) if (nameMatches(e.rule, name)) return { allow: false, rule: e.source };
      for (const e of allow) if (nameMatches(e.rule, name)) return { allow: true, rule: e.source };
      return { allow: false, rule: DEFAULT_DENY };
    }

    let ip = req.address === undefined ? null : parseIP(req.address);
    // An unspecified bind/listen address means every interface: only rules that grant exactly
    // that may match, so a grant for 127.0.0.1:8080 does not open 0.0.0.0:8080. As a connect or
    // send target the kernel delivers it to loopback, so it is judged as loopback.
    let allInterfaces = false;
    if (ip !== null && ip.value === 0n) {
      if (req.direction === 'bind' || req.direction === 'listen') allInterfaces = true;
      else ip = loopbackFor(ip.family);
    }
    let names: readonly string[] | undefined;
    const target = ip;
    const getNames = () => (names ??= target === null || allInterfaces ? NO_NAMES : namesFor(formatIP(target)));

    const port = req.port;
    for (const e of deny) {
      const m = portMatches(e.rule, port) && this.#matchHost(e.rule, ip, allInterfaces, getNames);
      if (m !== false) return m === true ? { allow: false, rule: e.source } : { allow: false, rule: e.source, name: m };
    }
    for (const e of allow) {
      const m = portMatches(e.rule, port) && this.#matchHost(e.rule, ip, allInterfaces, getNames);
      if (m !== false) return m === true ? { allow: true, rule: e.source } : { allow: true, rule: e.source, name: m };
    }
    return { allow: false, rule: DEFAULT_DENY };
  }

  #matchHost(rule: Rule, ip: IP | null, allInterfaces: boolean, getNames: () => readonly string[]): Match {
    const h = rule.host;
    switch (h.kind) {
      case 'any':
        return true;
      case 'ip':
        return ip !== null && ip.family === h.ip.family && ip.value === h.ip.value;
      case 'cidr':
        return ip !== null && (!allInterfaces || h.cidr.prefix === 0) && cidrContains(h.cidr, ip);
      case 'name':
      case 'wildcard':
        // Only through names a lookup returned for this very address.
        for (const n of getNames()) if (nameMatches(rule, n)) return n;
        return false;
    }
  }
}
