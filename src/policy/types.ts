// The contract between the network core and the policy: every network operation of every ABI is
// described as a Request and answered with a Decision before it happens.

/** What the guest is trying to do. `lookup` is name resolution; the rest name a socket operation. */
export type Direction = 'bind' | 'listen' | 'accept' | 'connect' | 'send' | 'receive' | 'lookup';
export const DIRECTIONS: readonly Direction[] = ['bind', 'listen', 'accept', 'connect', 'send', 'receive', 'lookup'];

export type Transport = 'tcp' | 'udp';

/** One operation to judge. For `lookup`, `name` is set and `address`/`port` are not. */
export interface Request {
  direction: Direction;
  transport?: Transport;
  /** Normalised IP literal (IPv4 dotted, IPv6 compressed lower-case, IPv4-mapped IPv6 folded to IPv4). */
  address?: string;
  port?: number;
  /** The host name, for lookups. */
  name?: string;
}

export interface Decision {
  allow: boolean;
  /** The rule that decided, as the user wrote it with its origin (`--allow-net=example.com:443`,
   *  `policy.json allow-net[2]`), or `default deny`. */
  rule: string;
  /** For an address judged through a host-name grant: the pinned name that matched. */
  name?: string;
}

/** One line of the audit log. */
export interface AuditEvent {
  time: string;
  guest: string;
  op: Direction;
  transport?: Transport;
  address?: string;
  port?: number;
  name?: string;
  /** `drop`: the policy had allowed it, but the host had no room for it (a full accept or receive
   *  queue); `rule` then says which. */
  decision: 'allow' | 'deny' | 'drop';
  rule: string;
  /** On summed-up lines (UDP datagrams, drops): how many events of this kind the line stands for,
   *  since the previous line of the kind (at most one a second; see policy/audit-summary.ts). */
  count?: number;
}

export interface AuditSink {
  record(event: AuditEvent): void;
}

/** What the network core holds per guest: judges (and audits, and counts) every request, and keeps the
 *  names a lookup returned so that host-name grants apply to exactly those addresses. */
export interface PolicyChecker {
  check(req: Request): Decision;
  /** Pins `addresses` as answers for `name` for `ttlMs` (a later connect to one of them may be
   *  granted by a rule naming `name`). */
  pin(name: string, addresses: readonly string[], ttlMs: number): void;
  /** Records that the core dropped what `req` describes, allowed but beyond a limit (`reason` says
   *  which), so that nothing is dropped unrecorded. */
  dropped(req: Request, reason: string): void;
  /** Writes out whatever is held back (summed-up datagram and drop counts); called when the guest's
   *  network closes. */
  flush(): void;
}
