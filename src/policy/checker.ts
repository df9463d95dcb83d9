// Per-guest front of the policy: decides, audits, reports denials, and keeps the pin table that
// lets host-name rules apply to the addresses a lookup of that name returned.
import { normalizeAddress, normalizeName } from './address.ts';
import type { Policy } from './policy.ts';
import { AuditSummary } from './audit-summary.ts';
import type { AuditEvent, AuditSink, Decision, PolicyChecker, Request } from './types.ts';

export interface CheckerOptions {
  guest: string;
  audit?: AuditSink;
  /** Called for every denial (the network core counts them). */
  onDeny?: (req: Request, d: Decision) => void;
  /** Clock in ms, injectable for tests. */
  now?: () => number;
}

const NO_NAMES: readonly string[] = [];
/** Sweep the whole pin table every this many pins, so names never connected to do not pile up. */
const SWEEP_EVERY = 256;

export class Checker implements PolicyChecker {
  readonly policy: Policy;
  readonly guest: string;
  readonly #audit: AuditSink | undefined;
  readonly #onDeny: ((req: Request, d: Decision) => void) | undefined;
  readonly #now: () => number;
  /** address → (name → expiry ms). */
  readonly #pins = new Map<string, Map<string, number>>();
  #pinsSinceSweep = 0;
  /** Datagram decisions and drops, summed up (see audit-summary.ts). */
  readonly #summary: AuditSummary | undefined;

  constructor(policy: Policy, opts: CheckerOptions) {
    this.policy = policy;
    this.guest = opts.guest;
    this.#audit = opts.audit;
    this.#onDeny = opts.onDeny;
    this.#now = opts.now ?? Date.now;
    this.#summary = opts.audit && new AuditSummary(opts.audit, this.#now);
  }

  check(req: Request): Decision {
    const d = this.policy.decide(req, this.#namesFor);
    if (this.#audit !== undefined) {
      const event = this.#event(req, d.allow ? 'allow' : 'deny', d.rule, d.name);
      // every UDP datagram is judged: those lines are summed up per peer, decision and rule
      if (req.transport === 'udp' && (req.direction === 'send' || req.direction === 'receive')) {
        this.#summary!.record(`${event.decision}|${req.direction}|${event.address}|${req.port}|${d.rule}`, event);
      } else {
        this.#audit.record(event);
      }
    }
    if (!d.allow) this.#onDeny?.(req, d);
    return d;
  }

  /** Drops are summed up per direction, transport and reason (the address is the latest one's). */
  dropped(req: Request, reason: string): void {
    this.#summary?.record(`drop|${req.direction}|${req.transport ?? ''}|${reason}`, this.#event(req, 'drop', reason, undefined));
  }

  flush(): void {
    this.#summary?.flush();
  }

  #event(req: Request, decision: AuditEvent['decision'], rule: string, pinned: string | undefined): AuditEvent {
    // Absent fields are left out rather than set to undefined, so events compare and print cleanly.
    const event: AuditEvent = { time: new Date(this.#now()).toISOString(), guest: this.guest, op: req.direction } as AuditEvent;
    if (req.transport !== undefined) event.transport = req.transport;
    if (req.address !== undefined) event.address = normalizeAddress(req.address) ?? req.address;
    if (req.port !== undefined) event.port = req.port;
    const name = req.name !== undefined ? normalizeName(req.name) : pinned;
    if (name !== undefined) event.name = name;
    event.decision = decision;
    event.rule = rule;
    return event;
  }

  pin(name: string, addresses: readonly string[], ttlMs: number): void {
    const n = normalizeName(name);
    const expiry = this.#now() + ttlMs;
    for (const a of addresses) {
      const address = normalizeAddress(a);
      if (address === null) continue;
      let names = this.#pins.get(address);
      if (names === undefined) this.#pins.set(address, (names = new Map()));
      // A later answer replaces the expiry, even if shorter: the newest TTL is the truth.
      names.set(n, expiry);
    }
    if (++this.#pinsSinceSweep >= SWEEP_EVERY) this.#sweep();
  }

  /** Unexpired names pinned for a normalised address; expired ones are pruned on the way. */
  readonly #namesFor = (address: string): readonly string[] => {
    const names = this.#pins.get(address);
    if (names === undefined) return NO_NAMES;
    const now = this.#now();
    let out: string[] | undefined;
    for (const [name, expiry] of names) {
      if (expiry <= now) names.delete(name);
      else (out ??= []).push(name);
    }
    if (names.size === 0) this.#pins.delete(address);
    return out ?? NO_NAMES;
  };

  #sweep(): void {
    this.#pinsSinceSweep = 0;
    const now = this.#now();
    for (const [address, names] of this.#pins) {
      for (const [name, expiry] of names) if (expiry <= now) names.delete(name);
      if (names.size === 0) this.#pins.delete(address);
    }
  }
}
